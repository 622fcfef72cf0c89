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
    token: String,
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
                token,
            }),
        }
    }
}

/// Compares without stopping at the first difference, so timing does not leak the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether an `Authorization` value is `Bearer` and `token`. The scheme is compared without
/// regard to case (RFC 7235: `bearer` and `BEARER` are the same scheme) and may be followed by
/// several spaces; the token must be exactly ours.
pub(crate) fn bearer_matches(given: &str, token: &str) -> bool {
    let Some((scheme, credentials)) = given.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && same(
            credentials.trim_start_matches(' ').as_bytes(),
            token.as_bytes(),
        )
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
        // Header values are case-insensitive tokens here (Fetch defines them lower case).
        if header(headers, header::HeaderName::from_static("sec-fetch-site"))
            .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"))
        {
            return refuse(
                ErrorKind::Forbidden,
                "cross-site requests are not allowed".into(),
            );
        }
    }
    // 3. Token, for the whole API and the metrics (Prometheus sends it from
    //    `authorization.credentials_file`).
    let path = request.uri().path();
    if path.starts_with("/api") || path == "/metrics" {
        let given = header(headers, header::AUTHORIZATION).unwrap_or("");
        if !bearer_matches(given, &g.token) {
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

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_is_not() {
        let token = "a1b2c3";
        for given in [
            "Bearer a1b2c3",
            "bearer a1b2c3",
            "BEARER a1b2c3",
            "Bearer   a1b2c3",
        ] {
            assert!(super::bearer_matches(given, token), "{given:?}");
        }
        for given in [
            "Bearer A1B2C3",
            "Bearer a1b2c",
            "Bearer a1b2c3 ",
            "Basic a1b2c3",
            "Bearera1b2c3",
            "a1b2c3",
            "Bearer",
            "",
        ] {
            assert!(!super::bearer_matches(given, token), "{given:?}");
        }
    }
}
