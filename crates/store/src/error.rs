//! The store's errors.

use nightshift_core::{JobId, JobState};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
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
    /// The request cannot be stored as asked (a dependency that can never be met).
    #[error("{0}")]
    Invalid(String),
    /// Something with this name is already stored.
    #[error("{0}")]
    Exists(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the store is shut down: {0}")]
    Closed(String),
    #[error("the write was not saved: {0}")]
    NotSaved(String),
}

impl StoreError {
    /// Whether the write failed for want of disk space (SQLite's SQLITE_FULL, or ENOSPC or
    /// EDQUOT from a file the store writes), whatever wraps it.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull),
            StoreError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            // The writer reports a rolled-back batch by its message only.
            StoreError::NotSaved(message) | StoreError::Closed(message) => {
                message.contains("database or disk is full")
                    || message.contains("No space left on device")
            }
            _ => false,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            context: context.into(),
            source,
        }
    }
}
