//! `ApiError` as an HTTP response: the right status and a JSON `{code, message}` body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nightshift_api::{ApiError, ErrorKind};

pub(crate) struct HttpError {
    error: ApiError,
    /// The status when it is not the one of the error's kind.
    status: Option<StatusCode>,
}

impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> HttpError {
        HttpError {
            error,
            status: None,
        }
    }
}

impl HttpError {
    /// 408: the request's body did not arrive in time. Its code is `bad_request`, the request
    /// being incomplete; the connection is closed after it, its body unread.
    pub(crate) fn timed_out(message: impl Into<String>) -> HttpError {
        HttpError {
            error: ApiError::bad_request(message),
            status: Some(StatusCode::REQUEST_TIMEOUT),
        }
    }
}

pub(crate) fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::MisdirectedRequest => StatusCode::MISDIRECTED_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if self.error.code == ErrorKind::Internal {
            tracing::error!(message = %self.error.message, "internal error");
        }
        // Past a body limit or a body timeout the rest of the body is unread: close rather
        // than let the client reuse a connection with bytes still in flight.
        let status = self.status.unwrap_or(status(self.error.code));
        let close =
            self.error.code == ErrorKind::PayloadTooLarge || status == StatusCode::REQUEST_TIMEOUT;
        let mut response = (status, axum::Json(self.error)).into_response();
        if close {
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

pub(crate) fn error(kind: ErrorKind, message: impl Into<String>) -> Response {
    HttpError::from(ApiError::new(kind, message)).into_response()
}
