//! Checks every request passes before it reaches a route: Host, token, Origin.

use crate::error::error;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use nightshift_api::ErrorKind;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub(crate) struct Guard {
    inner: Arc<GuardInner>,
}

#[derive(Debug)]
struct GuardInner {
    hosts: [String; 2],
    origins: [String; 2],
    bearer: String,
}

impl Guard {
    pub(crate) fn new(port: u16, token: String) -> Guard {
        Guard {
            inner: Arc::new(GuardInner {
                hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
                origins: [
                    format!("http://127.0.0.1:{port}"),
                    format!("http://localhost:{port}"),
                ],
                bearer: format!("Bearer {token}"),
            }),
        }
    }
}

/// Compares without stopping at the first difference, so timing does not leak the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A refusal answers before the request's body was read. The connection is closed after it
/// (`Connection: close`), so a client never sends its next request after an unread body.
fn refuse(kind: ErrorKind, message: String) -> Response {
    let mut response = error(kind, message);
    response.headers_mut().insert(
        header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}

pub(crate) async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let g = &guard.inner;
    let headers = request.headers();
    // 1. Host: a page on another domain that rebinds its name to 127.0.0.1 still sends its own
    //    name here, so only our loopback names are served.
    let host = header(headers, header::HOST).unwrap_or("");
    if !g.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return refuse(
            ErrorKind::MisdirectedRequest,
            format!(
                "this server answers only to {} or {}",
                g.hosts[0], g.hosts[1]
            ),
        );
    }
    // 2. Origin: a browser page elsewhere may send a request but not read the answer; refuse
    //    it anything that changes state.
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes_state {
        if let Some(origin) = header(headers, header::ORIGIN)
            && !g.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
        {
            return refuse(
                ErrorKind::Forbidden,
                format!("requests from origin {origin} are not allowed"),
            );
        }
        if header(headers, header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site")
        {
            return refuse(
                ErrorKind::Forbidden,
                "cross-site requests are not allowed".into(),
            );
        }
    }
    // 3. Token, for the whole API.
    if request.uri().path().starts_with("/api") {
        let given = header(headers, header::AUTHORIZATION).unwrap_or("");
        if !same(given.as_bytes(), g.bearer.as_bytes()) {
            return refuse(
                ErrorKind::Unauthorized,
                "missing or wrong bearer token; it is in the file `token` in the data folder"
                    .into(),
            );
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares_whole_strings() {
        assert!(super::same(b"abc", b"abc"));
        assert!(!super::same(b"abc", b"abd"));
        assert!(!super::same(b"abc", b"ab"));
    }
}
