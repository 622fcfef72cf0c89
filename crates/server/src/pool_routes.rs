//! Routes for worker pools: each parses its input, makes one call onto the facade, and renders
//! the answer (as `routes.rs` does for the rest).

use crate::routes::{Reply, parse_json, queue_name, read_body};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nightshift_api::{Api, ApiError, PoolRequest, PoolUpdate, PoolView};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Body limit of a pool definition (a command line and an environment).
const POOL_BODY: usize = 4 << 20;

pub(crate) fn pool_routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(pools, add_pool))
        .routes(routes!(pool, scale_pool, remove_pool))
        .routes(routes!(stop_pool))
        .routes(routes!(start_pool))
        .routes(routes!(restart_pool))
}

#[utoipa::path(get, path = "/api/pools", tag = "pools",
    responses((status = 200, description = "Every worker pool with its workers", body = Vec<PoolView>)))]
async fn pools(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.pools().await))
}

#[utoipa::path(post, path = "/api/pools", tag = "pools",
    request_body(content = PoolRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The new pool; its workers are starting", body = PoolView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 409, description = "conflict: the name or the queue is taken", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn add_pool(State(api): State<Api>, body: Body) -> Reply<impl IntoResponse> {
    let bytes = read_body(body, POOL_BODY).await?;
    let request: PoolRequest = parse_json(&bytes)?;
    Ok((StatusCode::CREATED, Json(api.add_pool(request).await?)))
}

#[utoipa::path(get, path = "/api/pools/{name}", tag = "pools",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A pool name.")),
    responses(
        (status = 200, description = "The pool and its workers", body = PoolView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
    ))]
async fn pool(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.pool(&queue_name(name)?).await?))
}

#[utoipa::path(post, path = "/api/pools/{name}", tag = "pools",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A pool name.")),
    request_body(content = PoolUpdate, content_type = "application/json", description = "The number of workers."),
    responses(
        (status = 200, description = "The pool, scaled", body = PoolView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn scale_pool(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
    body: Body,
) -> Reply<impl IntoResponse> {
    let name = queue_name(name)?;
    let bytes = read_body(body, POOL_BODY).await?;
    let update: PoolUpdate = parse_json(&bytes)?;
    Ok(Json(api.scale_pool(&name, update).await?))
}

#[utoipa::path(delete, path = "/api/pools/{name}", tag = "pools",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A pool name.")),
    responses(
        (status = 204, description = "Removed; its workers stop after their jobs"),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 409, description = "conflict: jobs still wait in its queue", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn remove_pool(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    api.remove_pool(&queue_name(name)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/pools/{name}/stop", tag = "pools",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A pool name.")),
    responses(
        (status = 200, description = "The pool, stopping (each worker after its job)", body = PoolView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn stop_pool(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.stop_pool(&queue_name(name)?, true).await?))
}

#[utoipa::path(post, path = "/api/pools/{name}/start", tag = "pools",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A pool name.")),
    responses(
        (status = 200, description = "The pool, starting its workers", body = PoolView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn start_pool(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.stop_pool(&queue_name(name)?, false).await?))
}

#[utoipa::path(post, path = "/api/pools/{name}/restart", tag = "pools",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A pool name.")),
    responses(
        (status = 200, description = "The pool; each worker restarts after its job", body = PoolView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
    ))]
async fn restart_pool(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.restart_pool(&queue_name(name)?)?))
}
