//! Where Nightshift keeps its files.
//!
//! By default the platform's conventions (XDG on Linux: config in `~/.config/nightshift`, data in
//! `~/.local/share/nightshift`). `NIGHTSHIFT_HOME` puts everything under one folder instead; the
//! tests and end-to-end runs always use it.

use std::path::{Path, PathBuf};

/// The environment variable that puts every Nightshift file under one folder.
pub const HOME_ENV: &str = "NIGHTSHIFT_HOME";

/// Every file and folder Nightshift reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    pub db_file: PathBuf,
    pub logs_dir: PathBuf,
    pub payloads_dir: PathBuf,
    /// Per-attempt files (a job's payload, decompressed for it to read); emptied at start-up.
    pub run_dir: PathBuf,
    /// The bearer token for the local API (mode 0600).
    pub token_file: PathBuf,
    /// Held with an exclusive lock by the one running instance.
    pub lock_file: PathBuf,
    /// Written by the running instance: its API address and pid. The CLI finds it here.
    pub address_file: PathBuf,
    /// The id of the database that belongs to this data folder (see the store's `folder`
    /// module): a database from elsewhere is refused.
    pub identity_file: PathBuf,
    /// Outcomes of ended attempts that the database could not take yet (see the engine's
    /// `outcomes` module).
    pub outcomes_file: PathBuf,
}

impl Paths {
    /// Every path under one folder (what `NIGHTSHIFT_HOME` does).
    pub fn under(home: &Path) -> Paths {
        Paths::split(home.join("config.toml"), home.to_path_buf())
    }

    fn split(config_file: PathBuf, data_dir: PathBuf) -> Paths {
        Paths {
            config_file,
            db_file: data_dir.join("nightshift.db"),
            logs_dir: data_dir.join("logs"),
            payloads_dir: data_dir.join("payloads"),
            run_dir: data_dir.join("run"),
            token_file: data_dir.join("token"),
            lock_file: data_dir.join("nightshift.lock"),
            address_file: data_dir.join("daemon.json"),
            identity_file: data_dir.join("folder-id"),
            outcomes_file: data_dir.join("outcomes.pending"),
            data_dir,
        }
    }

    /// `NIGHTSHIFT_HOME` if set, otherwise the platform's folders.
    pub fn from_env() -> Result<Paths, String> {
        if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
            let home = PathBuf::from(home);
            let home = if home.is_absolute() {
                home
            } else {
                std::env::current_dir()
                    .map_err(|e| format!("cannot resolve {HOME_ENV}: {e}"))?
                    .join(home)
            };
            return Ok(Paths::under(&home));
        }
        let config = dirs::config_dir().ok_or_else(|| {
            format!("cannot find a config folder for this user; set {HOME_ENV} to choose one")
        })?;
        let data = dirs::data_local_dir().ok_or_else(|| {
            format!("cannot find a data folder for this user; set {HOME_ENV} to choose one")
        })?;
        Ok(Paths::split(
            config.join("nightshift").join("config.toml"),
            data.join("nightshift"),
        ))
    }

    /// Creates the folders (private to the user), so later writes need no checks.
    pub fn ensure_dirs(&self) -> std::io::Result<()> {
        let mut dirs: Vec<&Path> = vec![
            &self.data_dir,
            &self.logs_dir,
            &self.payloads_dir,
            &self.run_dir,
        ];
        if let Some(parent) = self.config_file.parent() {
            dirs.push(parent);
        }
        for dir in dirs {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_puts_everything_under_one_folder() {
        let home = Path::new("/tmp/ns-home");
        let p = Paths::under(home);
        for path in [
            &p.config_file,
            &p.db_file,
            &p.logs_dir,
            &p.payloads_dir,
            &p.run_dir,
            &p.token_file,
            &p.lock_file,
            &p.address_file,
            &p.identity_file,
            &p.outcomes_file,
        ] {
            assert!(path.starts_with(home), "{} outside home", path.display());
        }
    }
}
