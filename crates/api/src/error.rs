//! Errors every front door can render: a kind (which maps to an HTTP status or an exit code)
//! and a message for a person.

use nightshift_core::JobId;
use nightshift_engine::EngineError;
use nightshift_store::StoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    MisdirectedRequest,
    NotFound,
    /// 405: the route exists, not with this method.
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    /// The disk is full: nothing was stored (HTTP 507).
    InsufficientStorage,
    Unavailable,
    Internal,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::MisdirectedRequest => "misdirected_request",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::InsufficientStorage => "insufficient_storage",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// `{code, message}` on the wire.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, utoipa::ToSchema,
)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::BadRequest, message)
    }
    pub fn no_job(id: JobId) -> ApiError {
        ApiError::new(ErrorKind::NotFound, format!("no job {id}"))
    }
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::new(ErrorKind::Internal, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let kind = match &e {
            e if e.is_disk_full() => ErrorKind::InsufficientStorage,
            StoreError::NotFound(_) | StoreError::NoSchedule(_) | StoreError::NoDependency(_) => {
                ErrorKind::NotFound
            }
            // A dependency that failed or was cancelled: the request is well formed, the state
            // of another job is in the way (as for a retry of a running job).
            StoreError::WrongState { .. } | StoreError::Exists(_) | StoreError::Invalid(_) => {
                ErrorKind::Conflict
            }
            StoreError::Closed(_) | StoreError::NotBegun { .. } => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        };
        ApiError::new(kind, e.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Store(e) => e.into(),
            EngineError::NotRunning(_) => ApiError::new(ErrorKind::Conflict, e.to_string()),
            EngineError::Invalid(message) => ApiError::bad_request(message),
            EngineError::NoPool(_) => ApiError::new(ErrorKind::NotFound, e.to_string()),
            EngineError::NoIncident(_) => ApiError::new(ErrorKind::NotFound, e.to_string()),
            EngineError::Conflict(message) => ApiError::new(ErrorKind::Conflict, message),
            EngineError::ShuttingDown => ApiError::new(ErrorKind::Unavailable, e.to_string()),
            other => ApiError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job to run after that does not exist is not found (as in a wait), and one that failed
    /// or was cancelled is a conflict with its state (as a retry of a running job): neither is
    /// malformed input, which is what a 400 says.
    #[test]
    fn dependencies_that_cannot_be_met_are_404_and_409() {
        let missing = ApiError::from(StoreError::NoDependency(JobId(9)));
        assert_eq!(missing.code, ErrorKind::NotFound);
        assert!(
            missing.message.contains("there is no job 9"),
            "{}",
            missing.message
        );
        let dead = ApiError::from(StoreError::Invalid("job 3 has failed".into()));
        assert_eq!(dead.code, ErrorKind::Conflict);
    }
}
