//! The web UI, embedded at build time, served at `/` to any page on our own Host (the Host
//! check still applies; the files are not secret, the API behind them needs the token).

use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/ui_files.rs"));

/// The page's policy, in the browser and the desktop window alike (the window shows this same
/// page): nothing from anywhere else, no inline script or style, no eval.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Nightshift</title>\
    <p>The web UI was not built into this binary. Build it with <code>npm ci &amp;&amp; npm run \
    build</code> in <code>ui/</code>, then rebuild Nightshift (<code>cargo xtask run</code> does \
    both).</p>";

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn with_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Serves `/` as index.html and any other embedded file by its path.
pub(crate) async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if UI_FILES.is_empty() && path == "index.html" {
        return with_headers(
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                NOT_BUILT,
            )
                .into_response(),
        );
    }
    match UI_FILES.iter().find(|(name, _)| *name == path) {
        Some((name, bytes)) => {
            with_headers(([(header::CONTENT_TYPE, content_type(name))], *bytes).into_response())
        }
        None => crate::error::error(nightshift_api::ErrorKind::NotFound, "no such page"),
    }
}
