//! The engine's errors.

use nightshift_core::JobId;
use nightshift_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    AlreadyRunning(crate::instance::RunningInstance),
    #[error("{context}: {error}")]
    Io {
        context: String,
        error: std::io::Error,
    },
    #[error("job {0} is not running here")]
    NotRunning(JobId),
    #[error("{0}")]
    Invalid(String),
    #[error("there is no worker pool named '{0}' (nightshift workers lists them)")]
    NoPool(String),
    #[error("there is no incident {0} (nightshift incidents lists them)")]
    NoIncident(i64),
    /// The request conflicts with what is there now; the message says what.
    #[error("{0}")]
    Conflict(String),
    #[error("Nightshift is shutting down")]
    ShuttingDown,
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    pub(crate) fn io(context: impl Into<String>, error: std::io::Error) -> EngineError {
        EngineError::Io {
            context: context.into(),
            error,
        }
    }
}
