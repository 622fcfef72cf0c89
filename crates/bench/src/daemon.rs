//! The real headless daemon, as people run it: `nightshift daemon --port 0` on a fresh home with
//! a given config, started as a child of the bench and stopped with SIGTERM. The idle figures
//! watch it; the throughput figure feeds it over HTTP and reads its CPU time.

use crate::child::{Reaped, tail};
use crate::harness::Client;
use anyhow::{Context, bail, ensure};
use nightshift_core::Paths;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long the daemon may take to write its address file.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long it may take to stop after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// A daemon on its own temporary home (removed when this drops, after the daemon stops).
pub struct Daemon {
    pub child: Reaped,
    pub paths: Paths,
    log: PathBuf,
    _home: TempDir,
}

impl Daemon {
    /// Starts `bin daemon --port 0` with `config` as its config file and `env` added, and waits
    /// until it has announced itself (its address file: the last step of start-up).
    pub fn start(bin: &Path, config: &str, env: &[(&str, &OsStr)]) -> anyhow::Result<Daemon> {
        ensure!(
            bin.is_file(),
            "no nightshift binary at {} (build it with `cargo build --release -p \
             nightshift-cli`, or pass --bin)",
            bin.display()
        );
        let home = tempfile::Builder::new()
            .prefix("nightshift-bench-home-")
            .tempdir()
            .context("cannot create a temporary home")?;
        let paths = Paths::under(home.path());
        std::fs::write(&paths.config_file, config).context("cannot write the config")?;
        let log = home.path().join("bench-daemon.log");
        let out = std::fs::File::create(&log).context("cannot create the daemon's log")?;
        let child = Command::new(bin)
            .args(["daemon", "--port", "0"])
            .env("NIGHTSHIFT_HOME", home.path())
            // Only what `env` says: not a power file this program may have been given.
            .env_remove(nightshift_engine::POWER_FILE_ENV)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut daemon = Daemon {
            child: Reaped(child),
            paths,
            log,
            _home: home,
        };
        let deadline = Instant::now() + START_LIMIT;
        while !daemon.paths.address_file.exists() {
            if let Some(status) = daemon.child.exited()? {
                bail!(
                    "the daemon exited ({status}) before it was ready: {}",
                    daemon.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the daemon wrote no {} within {START_LIMIT:?}: {}",
                    daemon.paths.address_file.display(),
                    daemon.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(daemon)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn home(&self) -> &Path {
        &self.paths.data_dir
    }

    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    /// A client for its API, with the address and token it wrote.
    pub fn client(&self) -> anyhow::Result<Client> {
        let address = std::fs::read_to_string(&self.paths.address_file)
            .with_context(|| format!("cannot read {}", self.paths.address_file.display()))?;
        let address: serde_json::Value =
            serde_json::from_str(&address).context("the address file is not JSON")?;
        let url = address["url"]
            .as_str()
            .context("the address file names no url")?
            .trim_end_matches('/')
            .to_string();
        let host = url
            .strip_prefix("http://")
            .context("the daemon's url is not http://")?
            .to_string();
        let token = nightshift_server::read_token(&self.paths.token_file)
            .with_context(|| format!("cannot read {}", self.paths.token_file.display()))?;
        Ok(Client::to(url, host, format!("Bearer {token}")))
    }

    /// CPU time the daemon has used so far (user and system, all its threads, not its
    /// children's), in milliseconds.
    pub fn cpu_ms(&self) -> anyhow::Result<f64> {
        crate::procfs::cpu_ms(self.pid())
    }

    /// SIGTERM, and a warning with its log if it did not stop cleanly.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let status = self
            .child
            .terminate(STOP_LIMIT)
            .context("cannot stop the daemon")?;
        if !status.success() {
            eprintln!(
                "warning: the daemon stopped with {status}: {}",
                self.log_tail()
            );
        }
        Ok(())
    }
}
