//! `ApiError` as an HTTP response: the right status and a JSON `{code, message}` body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nightshift_api::{ApiError, ErrorKind};

pub(crate) struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> HttpError {
        HttpError(e)
    }
}

pub(crate) fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::MisdirectedRequest => StatusCode::MISDIRECTED_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        if self.0.code == ErrorKind::Internal {
            tracing::error!(message = %self.0.message, "internal error");
        }
        // Past a body limit the rest of the body is unread: close rather than let the client
        // reuse a connection with bytes still in flight.
        let close = self.0.code == ErrorKind::PayloadTooLarge;
        let mut response = (status(self.0.code), axum::Json(self.0)).into_response();
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
    HttpError(ApiError::new(kind, message)).into_response()
}
