//! The opt-in metrics listener (`[metrics] listen`): `GET /metrics` alone, on an address of the
//! user's choosing, for a Prometheus on another machine. Nothing else of the API is reachable
//! through it: every other path is a 404 and every other method a 405. With
//! `metrics.listen_token_file` set it asks for that file's bearer token (its own, not the API's,
//! so the Prometheus machine never holds a key to the API); without, it asks for none.
//!
//! It takes no Host or Origin check (it is meant to be reached by other names), which is why it
//! serves nothing that changes state and nothing beyond the counts.

use crate::error::error;
use crate::guard::bearer_matches;
use crate::{Limits, Server, ServerError};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use nightshift_api::{Api, ErrorKind};
use nightshift_core::{Config, Paths};
use std::sync::Arc;

/// Binds the listener `config.metrics.listen` names, if any, and loads or makes its token.
pub(crate) async fn bind(
    api: Api,
    paths: &Paths,
    config: &Config,
) -> Result<Option<Server>, ServerError> {
    let Some(addr) = config.metrics.listen else {
        return Ok(None);
    };
    let token = match &config.metrics.listen_token_file {
        Some(file) => {
            let path = paths.data_dir.join(file);
            let token =
                crate::ensure_token(&path).map_err(|error| ServerError::Token { path, error })?;
            Some(Arc::<str>::from(token))
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| ServerError::MetricsBind { addr, error })?;
    let addr = listener
        .local_addr()
        .map_err(|error| ServerError::MetricsBind { addr, error })?;
    let router = axum::Router::new()
        .route("/metrics", get(crate::routes::metrics))
        .fallback(|| async { error(ErrorKind::NotFound, "only /metrics is served here") })
        .method_not_allowed_fallback(|| async {
            let mut response = error(
                ErrorKind::MethodNotAllowed,
                "only GET /metrics is served here",
            );
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            response
        })
        .with_state(api)
        .layer(axum::middleware::from_fn_with_state(token, check_token));
    tracing::info!(%addr, token = config.metrics.listen_token_file.is_some(), "serving /metrics");
    Ok(Some(Server {
        listener,
        addr,
        router,
        limits: Limits::from_config(&config.server),
    }))
}

async fn check_token(
    State(token): State<Option<Arc<str>>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !bearer_matches(given, &token) {
            return error(
                ErrorKind::Unauthorized,
                "missing or wrong bearer token; it is in the file metrics.listen_token_file names",
            );
        }
    }
    next.run(request).await
}
