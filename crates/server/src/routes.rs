//! Routes: each parses its input, makes one call onto the facade, and renders the answer.

use crate::error::{HttpError, error};
use crate::guard::{Guard, check};
use crate::serve::BodyTimeout;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Router, middleware};
use nightshift_api::{Api, ApiError, ErrorKind, ListQuery};
use nightshift_core::JobId;
use serde::Deserialize;

/// Body limit of a wait request (100,000 ids fit).
const WAIT_BODY: usize = 8 << 20;
/// Body limit of a batch enqueue.
const BATCH_BODY: usize = 256 << 20;

type Reply<T> = Result<T, HttpError>;

pub(crate) fn router(api: Api, guard: Guard) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/jobs", post(enqueue).get(list))
        .route("/api/jobs/batch", post(enqueue_batch))
        .route("/api/jobs/wait", post(wait))
        .route("/api/jobs/{id}", get(show).delete(remove))
        .route("/api/jobs/{id}/cancel", post(cancel))
        .route("/api/jobs/{id}/retry", post(retry))
        .route("/api/jobs/{id}/logs", get(logs))
        .route("/api/queues", get(queues))
        .route("/api/queues/{name}", post(update_queue))
        .route("/api/queues/{name}/pause", post(pause_queue))
        .route("/api/queues/{name}/resume", post(resume_queue))
        .route("/api/schedules", get(schedules).post(add_schedule))
        .route("/api/schedules/{name}", delete(remove_schedule))
        .route("/api/schedules/{name}/pause", post(pause_schedule))
        .route("/api/schedules/{name}/resume", post(resume_schedule))
        .route("/api/schedules/{name}/run", post(run_schedule))
        .route("/api/summary", get(summary))
        .route("/api/power", get(power))
        .route("/api/pause", post(pause))
        .route("/api/resume", post(resume))
        .route("/api/events", get(events))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(api)
        .layer(middleware::from_fn_with_state(guard, check))
}

/// Unknown `/api` routes are JSON 404s; everything else is the web UI, which only GET and
/// HEAD may read.
async fn fallback(method: Method, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api") {
        error(ErrorKind::NotFound, "no such route; see docs/api.md")
    } else if method == Method::GET || method == Method::HEAD {
        crate::ui::serve(uri).await
    } else {
        let mut response = error(
            ErrorKind::MethodNotAllowed,
            format!("the web UI is only read: {method} is not allowed here, GET and HEAD are"),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        response
    }
}

const CHANGED: &[u8] = b"event: changed\ndata: {}\n\n";

/// Server-sent events: `changed` when the stream opens and whenever something happened
/// (coalesced to a few a second); the page refetches what it shows.
async fn events(State(api): State<Api>) -> Response {
    let changes = api.changes();
    let first =
        futures_util::stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(CHANGED)) });
    let rest = futures_util::stream::unfold(changes, |mut changes| async move {
        changes.next().await?;
        Some((Ok(Bytes::from_static(CHANGED)), changes))
    });
    let body = Body::from_stream(futures_util::StreamExt::chain(first, rest));
    let headers = [
        (header::CONTENT_TYPE, "text/event-stream"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, body).into_response()
}

/// A known route with a method it does not take (axum adds the `Allow` header).
async fn method_not_allowed() -> Response {
    error(
        ErrorKind::MethodNotAllowed,
        "this method is not allowed on this route",
    )
}

/// The first `T` in `e`'s chain of errors, `e` included.
fn cause<'e, T: std::error::Error + 'static>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    std::iter::successors(Some(e), |e| e.source()).find_map(|e| e.downcast_ref::<T>())
}

/// Reads a whole body up to `limit` bytes: 413 past it, 408 if it does not arrive within
/// `server.body_timeout`.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, HttpError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if let Some(timeout) = cause::<BodyTimeout>(&e) {
            return HttpError::timed_out(format!("{timeout} (server.body_timeout)"));
        }
        let too_large = cause::<http_body_util::LengthLimitError>(&e).is_some()
            || e.to_string().contains("length limit");
        if too_large {
            HttpError::from(ApiError::new(
                ErrorKind::PayloadTooLarge,
                format!("the request body is over the limit of {limit} bytes"),
            ))
        } else {
            HttpError::from(ApiError::bad_request(format!(
                "cannot read the request body: {e}"
            )))
        }
    })
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice(bytes)
        .map_err(|e| HttpError::from(ApiError::bad_request(format!("invalid JSON body: {e}"))))
}

fn job_id(path: Result<Path<String>, PathRejection>) -> Result<JobId, HttpError> {
    let Path(raw) = path.map_err(|e| HttpError::from(ApiError::bad_request(e.body_text())))?;
    raw.parse()
        .map_err(|e: String| HttpError::from(ApiError::bad_request(e)))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, HttpError> {
    q.map(|Query(q)| q)
        .map_err(|e| HttpError::from(ApiError::bad_request(e.body_text())))
}

async fn health(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.health().await?))
}

async fn enqueue(State(api): State<Api>, body: Body) -> Reply<impl IntoResponse> {
    let bytes = read_body(body, api.max_enqueue_body()).await?;
    let request = parse_json(&bytes)?;
    Ok((StatusCode::CREATED, Json(api.enqueue(request).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchQuery {
    /// Working directory of lines that give none.
    cwd: Option<std::path::PathBuf>,
}

async fn enqueue_batch(
    State(api): State<Api>,
    q: Result<Query<BatchQuery>, QueryRejection>,
    body: Body,
) -> Reply<impl IntoResponse> {
    let q = query(q)?;
    let bytes = read_body(body, BATCH_BODY).await?;
    Ok((
        StatusCode::CREATED,
        Json(api.enqueue_batch(&bytes, q.cwd).await?),
    ))
}

async fn list(
    State(api): State<Api>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.list(query(q)?).await?))
}

async fn show(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.show(job_id(id)?).await?))
}

async fn cancel(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.cancel(job_id(id)?).await?))
}

async fn retry(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.retry(job_id(id)?).await?))
}

async fn remove(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    api.remove(job_id(id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogsQuery {
    /// Only the last N lines.
    tail: Option<usize>,
    /// Keep the response open and stream output until the job finishes.
    #[serde(default)]
    follow: bool,
}

async fn logs(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<LogsQuery>, QueryRejection>,
) -> Reply<Response> {
    let id = job_id(id)?;
    let q = query(q)?;
    let text = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    if !q.follow {
        return Ok((text, api.logs(id, q.tail).await?).into_response());
    }
    let stream = api.follow_logs(id, q.tail).await?.into_receiver();
    let body = futures_util::stream::unfold(stream, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map(Bytes::from).map_err(std::io::Error::other), rx))
    });
    Ok((text, Body::from_stream(body)).into_response())
}

async fn wait(State(api): State<Api>, body: Body) -> Reply<impl IntoResponse> {
    let bytes = read_body(body, WAIT_BODY).await?;
    Ok(Json(api.wait(parse_json(&bytes)?).await?))
}

async fn queues(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.queues().await?))
}

async fn summary(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.summary().await?))
}

async fn pause(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.pause_all().await?))
}

async fn resume(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.resume_all().await?))
}

async fn power(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.power().await?))
}

/// A queue's or a schedule's name from the path.
fn queue_name(path: Result<Path<String>, PathRejection>) -> Result<String, HttpError> {
    let Path(name) = path.map_err(|e| HttpError::from(ApiError::bad_request(e.body_text())))?;
    Ok(name)
}

async fn update_queue(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
    body: Body,
) -> Reply<impl IntoResponse> {
    let name = queue_name(name)?;
    let bytes = read_body(body, WAIT_BODY).await?;
    let update = if bytes.is_empty() {
        Default::default()
    } else {
        parse_json(&bytes)?
    };
    Ok(Json(api.update_queue(&name, update).await?))
}

async fn schedules(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.schedules().await?))
}

async fn add_schedule(State(api): State<Api>, body: Body) -> Reply<impl IntoResponse> {
    let bytes = read_body(body, api.max_enqueue_body()).await?;
    let request = parse_json(&bytes)?;
    Ok((StatusCode::CREATED, Json(api.add_schedule(request).await?)))
}

async fn remove_schedule(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    api.remove_schedule(&queue_name(name)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pause_schedule(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.pause_schedule(&queue_name(name)?, true).await?))
}

async fn resume_schedule(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.pause_schedule(&queue_name(name)?, false).await?))
}

async fn run_schedule(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(api.run_schedule(&queue_name(name)?).await?),
    ))
}

async fn pause_queue(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    let update = nightshift_api::QueueUpdate {
        paused: Some(true),
        ..Default::default()
    };
    Ok(Json(api.update_queue(&queue_name(name)?, update).await?))
}

async fn resume_queue(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    let update = nightshift_api::QueueUpdate {
        paused: Some(false),
        ..Default::default()
    };
    Ok(Json(api.update_queue(&queue_name(name)?, update).await?))
}
