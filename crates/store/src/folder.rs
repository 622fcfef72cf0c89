//! The data folder as one unit. The database, the job logs (named from job ids alone) and the
//! payload files belong together: a database missing beside existing job data, or one that
//! belongs to another folder, would hand out ids again and let a new job write into an old
//! job's log. So before anything is written, start-up checks (following SQLite's own rule that
//! a damaged database is never written to) that:
//!
//! - the database exists, or the folder holds no job data yet (a fresh folder);
//! - it is a database SQLite can read and `PRAGMA quick_check` finds whole;
//! - it can be written (a read-only file opens read-only without a word otherwise);
//! - its instance id matches the one the folder recorded (`folder-id`), unless the folder has
//!   none yet (a folder from before this check, which then records it).
//!
//! Each refusal leaves the files as they were and says what to do. The files that hold job
//! data are also made private to the user here (0600), whatever the umask.

use crate::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// Where the parts of a data folder are.
#[derive(Debug, Clone)]
pub struct Folder {
    pub db: PathBuf,
    pub payloads: PathBuf,
    pub logs: PathBuf,
    /// The file that records the database's instance id for this folder.
    pub identity: PathBuf,
}

/// Refuses a folder whose database is missing while its job data is not.
pub(crate) fn check_present(folder: &Folder) -> Result<()> {
    if folder.db.exists() {
        return Ok(());
    }
    let logs = count_entries(&folder.logs);
    let payloads = count_entries(&folder.payloads);
    let recorded = folder.identity.exists();
    if logs == 0 && payloads == 0 && !recorded {
        return Ok(());
    }
    Err(StoreError::Folder(format!(
        "the database {} is missing, but this data folder holds the data of earlier jobs \
         ({logs} log files, {payloads} payload files{}). A new database would reuse their job \
         ids and write into their logs, so Nightshift did not start. Restore the database \
         from a backup; or, to start afresh, move {} and {} aside (and remove {})",
        folder.db.display(),
        if recorded { ", and its folder-id" } else { "" },
        folder.logs.display(),
        folder.payloads.display(),
        folder.identity.display(),
    )))
}

fn count_entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.flatten().count())
}

/// Creates the database file private to the user, so SQLite (which gives its journal files the
/// database's mode) never makes a readable one; an existing one loses any group and other bits
/// (and keeps its own, so a read-only file stays read-only and is refused as such).
pub(crate) fn make_private(db: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !db.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(db)
                .map_err(|e| StoreError::io(format!("cannot create {}", db.display()), e))?;
        }
        let name = db.file_name().map(|n| n.to_string_lossy().to_string());
        let journals = name
            .iter()
            .flat_map(|n| [format!("{n}-wal"), format!("{n}-shm")])
            .map(|n| db.with_file_name(n));
        for file in std::iter::once(db.to_path_buf()).chain(journals) {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))
                    .map_err(|e| {
                        StoreError::io(format!("cannot make {} private", file.display()), e)
                    })?;
            }
        }
    }
    Ok(())
}

/// Refuses a database SQLite cannot read, or one `PRAGMA quick_check` finds damaged. Reads
/// only. `quick_check` is the O(N) check of SQLite's own (`integrity_check` without the index
/// cross-checks): every page, every record's format, every constraint.
pub(crate) fn check_whole(conn: &Connection, db: &Path) -> Result<()> {
    let damaged = |detail: String| StoreError::Damaged {
        path: db.to_path_buf(),
        detail,
    };
    let mut stmt = conn
        .prepare("PRAGMA quick_check(5)")
        .map_err(|e| damaged(e.to_string()))?;
    let found: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
        .map_err(|e| damaged(e.to_string()))?;
    if found.len() == 1 && found[0] == "ok" {
        Ok(())
    } else {
        Err(damaged(found.join("; ")))
    }
}

/// Refuses a database this process cannot write. SQLite opens a read-only file read-only
/// without an error, and every write would then fail later, one by one.
pub(crate) fn check_writable(conn: &Connection, db: &Path) -> Result<()> {
    let read_only = conn
        .is_readonly(rusqlite::MAIN_DB)
        .map_err(StoreError::from)?;
    if read_only {
        return Err(StoreError::ReadOnly {
            path: db.to_path_buf(),
            detail: "SQLite could open it only for reading".into(),
        });
    }
    Ok(())
}

/// The instance id the database holds, if it has one yet (migration 0011).
pub(crate) fn stored_id(conn: &Connection) -> Result<Option<String>> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'instance')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(None);
    }
    Ok(conn
        .query_row("SELECT id FROM instance", [], |r| r.get(0))
        .optional()?)
}

/// Refuses a database whose id is not the one this folder recorded: it came from another data
/// folder, and its job ids would clash with this folder's logs.
pub(crate) fn check_identity(folder: &Folder, id: Option<&str>) -> Result<()> {
    let recorded = match std::fs::read_to_string(&folder.identity) {
        Ok(text) => text.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::io(
                format!("cannot read {}", folder.identity.display()),
                e,
            ));
        }
    };
    match id {
        Some(id) if id == recorded => Ok(()),
        _ => Err(StoreError::Folder(format!(
            "the database {} does not belong to this data folder: the folder recorded database \
             {recorded} (in {}), but this one is {}. Its job ids would clash with this folder's \
             logs and payloads, so Nightshift did not start. Put back this folder's own \
             database, or use the other database with its own folder (NIGHTSHIFT_HOME)",
            folder.db.display(),
            folder.identity.display(),
            id.unwrap_or("from before instance ids"),
        ))),
    }
}

/// Records the database's id for this folder (atomically, private), if it is not already.
pub(crate) fn record_identity(folder: &Folder, id: &str) -> Result<()> {
    if std::fs::read_to_string(&folder.identity).is_ok_and(|t| t.trim() == id) {
        return Ok(());
    }
    let err = |e| StoreError::io(format!("cannot write {}", folder.identity.display()), e);
    let tmp = folder.identity.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(err)?;
        file.write_all(format!("{id}\n").as_bytes()).map_err(err)?;
        file.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, &folder.identity).map_err(err)
}
