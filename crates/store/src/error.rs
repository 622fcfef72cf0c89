//! The store's errors.

use nightshift_core::{JobId, JobState};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // Not `#[from]`: that would also make the SQLite error this error's source, and a report
    // that prints the chain (`{:#}`) would then say it twice.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The data folder does not add up (a database missing beside job data, or one that belongs
    /// to another folder); the message says what to do. Nothing was written.
    #[error("{0}")]
    Folder(String),
    /// The database failed SQLite's integrity check, or is not a database at all.
    #[error(
        "the database {path} is damaged ({detail}); nothing was written to it. Restore it \
         from a backup, or recover what can be read with `sqlite3 {path} .recover`; to start \
         afresh, move the data folder aside"
    )]
    Damaged { path: PathBuf, detail: String },
    /// The database (or the folder its journal lives in) cannot be written.
    #[error(
        "the database {path} cannot be written ({detail}); nothing was run. Give this user \
         write access to it and to its folder, or point NIGHTSHIFT_HOME elsewhere"
    )]
    ReadOnly { path: PathBuf, detail: String },
    #[error("{context}: {error}")]
    Io {
        context: String,
        error: std::io::Error,
    },
    #[error(
        "the database {path} has schema version {found}, newer than this Nightshift understands \
         (up to {supported}); it was left untouched. Run the newer Nightshift that wrote it, or \
         point NIGHTSHIFT_HOME elsewhere"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("no job {0}")]
    NotFound(JobId),
    #[error("there is no schedule named '{0}' (nightshift schedule ls lists them)")]
    NoSchedule(String),
    #[error("job {id} is {state}: {message}")]
    WrongState {
        id: JobId,
        state: JobState,
        message: String,
    },
    /// The request cannot be stored as asked: a dependency that can never be met, since it
    /// failed or was cancelled (a conflict with the state of that job).
    #[error("{0}")]
    Invalid(String),
    /// A job to run after (`--after`) that does not exist.
    #[error("--after {0}: there is no job {0}")]
    NoDependency(JobId),
    /// Something with this name is already stored.
    #[error("{0}")]
    Exists(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the store is shut down: {0}")]
    Closed(String),
    /// The write ran but did not commit (the commit failed, or SQLite rolled the transaction
    /// back under it). `disk_full` carries the cause's kind, which the message alone would hide.
    #[error("the write was not saved: {message}")]
    NotSaved { message: String, disk_full: bool },
    /// The writer could not even begin a transaction (the database is locked, unwritable, or
    /// its disk full); nothing ran.
    #[error("cannot begin a transaction: {message}")]
    NotBegun { message: String, disk_full: bool },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Sqlite(e)
    }
}

impl StoreError {
    /// The error a write gets when its commit failed (or its transaction was lost) for `cause`.
    pub(crate) fn not_saved(cause: &StoreError) -> StoreError {
        StoreError::NotSaved {
            message: cause.to_string(),
            disk_full: cause.is_disk_full(),
        }
    }

    /// Whether the failure is the storage's (full, unwritable, failing or damaged, or locked by
    /// another program), not the request's: the same write may land later, and until it does
    /// the store is not healthy.
    pub fn is_storage_failure(&self) -> bool {
        use rusqlite::ErrorCode as C;
        if self.is_disk_full() || self.is_damaged() {
            return true;
        }
        match self {
            StoreError::Io { .. }
            | StoreError::NotSaved { .. }
            | StoreError::NotBegun { .. }
            | StoreError::ReadOnly { .. } => true,
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(
                    C::SystemIoFailure
                        | C::ReadOnly
                        | C::CannotOpen
                        | C::DatabaseBusy
                        | C::DatabaseLocked
                        | C::OutOfMemory
                )
            ),
            _ => false,
        }
    }

    /// Whether SQLite found the database damaged (or not a database at all).
    pub fn is_damaged(&self) -> bool {
        match self {
            StoreError::Damaged { .. } | StoreError::Corrupt(_) => true,
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ),
            _ => false,
        }
    }

    /// Whether the write failed for want of disk space (SQLite's SQLITE_FULL, or ENOSPC or
    /// EDQUOT from a file the store writes), whatever wraps it.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            StoreError::Io { error, .. } => matches!(
                error.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            StoreError::NotSaved { disk_full, .. } | StoreError::NotBegun { disk_full, .. } => {
                *disk_full
            }
            _ => false,
        }
    }

    pub(crate) fn io(context: impl Into<String>, error: std::io::Error) -> StoreError {
        StoreError::Io {
            context: context.into(),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report that prints the chain (`{:#}`, as the CLI does) names the cause once.
    #[test]
    fn the_cause_is_said_once() {
        let io = StoreError::io("cannot write x", std::io::Error::from_raw_os_error(28));
        let sqlite = StoreError::from(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(13),
            Some("database or disk is full".into()),
        ));
        for (e, cause) in [(io, "os error 28"), (sqlite, "disk is full")] {
            assert!(e.is_disk_full(), "{e}");
            let report = format!("{:#}", anyhow_like(&e));
            assert_eq!(report.matches(cause).count(), 1, "{report}");
        }
    }

    /// What anyhow's `{:#}` prints: the error, then each source after ": ".
    fn anyhow_like(e: &dyn std::error::Error) -> String {
        let mut text = e.to_string();
        let mut next = e.source();
        while let Some(source) = next {
            text.push_str(": ");
            text.push_str(&source.to_string());
            next = source.source();
        }
        text
    }
}
