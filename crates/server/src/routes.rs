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
use axum::{Router, middleware};
use nightshift_api::{
    Api, ApiError, BatchEnqueued, EnqueueRequest, Enqueued, ErrorKind, Health, JobDetail, JobPage,
    JobView, ListQuery, MetricsFormat, MetricsSummary, PowerView, QueueUpdate, QueueView,
    ScheduleRequest, ScheduleView, Summary, Trends, WaitRequest, WaitResult,
};
use nightshift_core::JobId;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Body limit of a wait request (100,000 ids fit).
const WAIT_BODY: usize = 8 << 20;
/// Body limit of a batch enqueue.
const BATCH_BODY: usize = 256 << 20;

pub(crate) type Reply<T> = Result<T, HttpError>;

/// Every route of the API, each with its description: the router and the OpenAPI document
/// are made from this one list, so a route cannot be served without being described.
pub(crate) fn api_routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(crate::openapi::openapi_json))
        .routes(routes!(enqueue, list))
        .routes(routes!(enqueue_batch))
        .routes(routes!(wait))
        .routes(routes!(show, remove))
        .routes(routes!(cancel))
        .routes(routes!(retry))
        .routes(routes!(logs))
        .routes(routes!(queues))
        .routes(routes!(update_queue))
        .routes(routes!(pause_queue))
        .routes(routes!(resume_queue))
        .routes(routes!(schedules, add_schedule))
        .routes(routes!(remove_schedule))
        .routes(routes!(pause_schedule))
        .routes(routes!(resume_schedule))
        .routes(routes!(run_schedule))
        .routes(routes!(summary))
        .routes(routes!(power))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(events))
        .routes(routes!(metrics))
        .routes(routes!(metrics_summary))
        .routes(routes!(metrics_trends))
        .routes(routes!(metrics_history))
        .routes(routes!(report))
        .merge(crate::pool_routes::pool_routes())
        .merge(crate::incident_routes::incident_routes())
}

pub(crate) fn router(api: Api, guard: Guard) -> Router {
    let (routes, _) = api_routes().split_for_parts();
    routes
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

#[utoipa::path(get, path = "/api/events", tag = "status",
    responses((status = 200, description = "Server-sent events: `event: changed` when the stream opens and whenever something changed", body = String, content_type = "text/event-stream")))]
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
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, HttpError> {
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

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, HttpError> {
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

#[utoipa::path(get, path = "/api/health", tag = "status",
    responses((status = 200, description = "How the daemon is", body = Health)))]
async fn health(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.health().await?))
}

#[utoipa::path(post, path = "/api/jobs", tag = "jobs",
    request_body(content = EnqueueRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Added (or, with `unique`, the job already there)", body = Enqueued),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found: a job in `after` does not exist", body = ApiError),
        (status = 409, description = "conflict: a job in `after` failed or was cancelled", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn enqueue(State(api): State<Api>, body: Body) -> Reply<impl IntoResponse> {
    let bytes = read_body(body, api.max_enqueue_body()).await?;
    let request = parse_json(&bytes)?;
    Ok((StatusCode::CREATED, Json(api.enqueue(request).await?)))
}

/// `cwd` of a batch: an absolute path to a directory.
fn directory() -> utoipa::openapi::Object {
    nightshift_api::directory_schema()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct BatchQuery {
    /// Working directory of lines that give none.
    #[param(schema_with = directory)]
    cwd: Option<std::path::PathBuf>,
}

#[utoipa::path(post, path = "/api/jobs/batch", tag = "jobs",
    params(BatchQuery),
    request_body(
        content = Vec<EnqueueRequest>,
        content_type = "application/x-ndjson",
        description = "JSON Lines: one enqueue request (as `POST /api/jobs` takes) per line; all are added or none."
    ),
    responses(
        (status = 201, description = "All added", body = BatchEnqueued),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found: a job in `after` does not exist", body = ApiError),
        (status = 409, description = "conflict: a job in `after` failed or was cancelled", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
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

#[utoipa::path(get, path = "/api/jobs", tag = "jobs",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of jobs, newest first", body = JobPage),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
    ))]
async fn list(
    State(api): State<Api>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.list(query(q)?).await?))
}

#[utoipa::path(get, path = "/api/jobs/{id}", tag = "jobs",
    params(("id" = JobId, Path, description = "A job id: a whole number from 1 to 9223372036854775807.")),
    responses(
        (status = 200, description = "The job, its attempts and the jobs it runs after", body = JobDetail),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
    ))]
async fn show(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.show(job_id(id)?).await?))
}

#[utoipa::path(post, path = "/api/jobs/{id}/cancel", tag = "jobs",
    params(("id" = JobId, Path, description = "A job id: a whole number from 1 to 9223372036854775807.")),
    responses(
        (status = 200, description = "The job, cancelled (a running group is gone)", body = JobView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 409, description = "conflict", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn cancel(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.cancel(job_id(id)?).await?))
}

#[utoipa::path(post, path = "/api/jobs/{id}/retry", tag = "jobs",
    params(("id" = JobId, Path, description = "A job id: a whole number from 1 to 9223372036854775807.")),
    responses(
        (status = 200, description = "The job, back in its queue", body = JobView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 409, description = "conflict", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn retry(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.retry(job_id(id)?).await?))
}

#[utoipa::path(delete, path = "/api/jobs/{id}", tag = "jobs",
    params(("id" = JobId, Path, description = "A job id: a whole number from 1 to 9223372036854775807.")),
    responses(
        (status = 204, description = "Deleted with its payload and logs"),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 409, description = "conflict", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn remove(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    api.remove(job_id(id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LogsQuery {
    /// Only the last N lines.
    #[param(schema_with = tail_lines)]
    tail: Option<usize>,
    /// Keep the response open and stream output until the job finishes.
    #[serde(default)]
    follow: bool,
}

/// `tail`: any count of lines.
fn tail_lines() -> utoipa::openapi::Object {
    nightshift_core::schema::unsigned(0, usize::MAX as u64).build()
}

#[utoipa::path(get, path = "/api/jobs/{id}/logs", tag = "jobs",
    params(("id" = JobId, Path, description = "A job id: a whole number from 1 to 9223372036854775807."), LogsQuery),
    responses(
        (status = 200, description = "The job's kept output", body = String, content_type = "text/plain"),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
    ))]
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

#[utoipa::path(post, path = "/api/jobs/wait", tag = "jobs",
    request_body(content = WaitRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The jobs that finished and those still pending", body = WaitResult),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
    ))]
async fn wait(State(api): State<Api>, body: Body) -> Reply<impl IntoResponse> {
    let bytes = read_body(body, WAIT_BODY).await?;
    Ok(Json(api.wait(parse_json(&bytes)?).await?))
}

#[utoipa::path(get, path = "/api/queues", tag = "queues",
    responses((status = 200, description = "Every queue", body = Vec<QueueView>)))]
async fn queues(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.queues().await?))
}

#[utoipa::path(get, path = "/api/summary", tag = "status",
    responses((status = 200, description = "Counts per state, and whether dispatch is held", body = Summary)))]
async fn summary(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.summary().await?))
}

#[utoipa::path(get, path = "/api/metrics/summary", tag = "metrics",
    params(nightshift_api::SummaryQuery),
    description = "What happened over a window ending now, for all queues and for each: jobs \
        added, started, succeeded, failed, cancelled, retried, failures by cause, success and \
        error rate, throughput, and p50/p95/p99 of run and wait time. From the metrics history \
        (docs/metrics.md), never from the jobs table.",
    responses(
        (status = 200, description = "The window's summary", body = MetricsSummary),
        (status = 400, description = "bad_request: a window that is not a duration, or a bad queue name", body = ApiError),
    ))]
async fn metrics_summary(
    State(api): State<Api>,
    q: Result<Query<nightshift_api::SummaryQuery>, QueryRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.metrics_summary(query(q)?).await?))
}

#[utoipa::path(get, path = "/api/metrics/trends", tag = "metrics",
    params(nightshift_api::TrendsQuery),
    description = "Series over a window ending now in steps (columnar, one value per step; null \
        where Nightshift was not running): counts, run and wait percentiles and mean depth, for \
        all queues together and for each.",
    responses(
        (status = 200, description = "The window's series", body = Trends),
        (status = 400, description = "bad_request: a window or step that is not a duration, or a bad queue name", body = ApiError),
    ))]
async fn metrics_trends(
    State(api): State<Api>,
    q: Result<Query<nightshift_api::TrendsQuery>, QueryRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.metrics_trends(query(q)?).await?))
}

#[utoipa::path(get, path = "/api/metrics/history", tag = "metrics",
    params(nightshift_api::ExportQuery),
    description = "The stored history rows from a time on, as JSON Lines in (time, queue) order: \
        one row per queue per minute (or hour) with its counts, depth and run- and wait-time \
        buckets. Streamed: any size of history is sent a page at a time.",
    responses(
        (status = 200, description = "One history row per line", content_type = "application/x-ndjson", body = Vec<nightshift_core::metrics::history::Row>),
        (status = 400, description = "bad_request: a time out of range, or a bad queue name", body = ApiError),
    ))]
async fn metrics_history(
    State(api): State<Api>,
    q: Result<Query<nightshift_api::ExportQuery>, QueryRejection>,
) -> Reply<Response> {
    let mut pages = api.metrics_export(query(q)?)?;
    // The first page is read before answering, so a damaged history is an error status, not a
    // cut stream. A later page that fails ends the stream with one last line, `{"error": …}`,
    // so a reader never takes a cut export for a whole one.
    let first = pages.next().await?;
    let rest = futures_util::stream::unfold(Some(pages), |pages| async move {
        let mut pages = pages?;
        match pages.next().await {
            Ok(Some(text)) => Some((Ok::<_, std::io::Error>(Bytes::from(text)), Some(pages))),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e.message, "the history export stopped early");
                let line = serde_json::json!({ "error": e }).to_string() + "\n";
                Some((Ok(Bytes::from(line)), None))
            }
        }
    });
    let first = futures_util::stream::iter(first.map(|t| Ok(Bytes::from(t))));
    let body = Body::from_stream(futures_util::StreamExt::chain(first, rest));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

#[utoipa::path(get, path = "/api/report", tag = "metrics",
    params(nightshift_api::ReportQuery),
    description = "The report of the last hours (24 by default): the window's summary, jobs finished \
        per hour, the commands that failed most with their last output lines, the slowest jobs, \
        minutes held for power, and Nightshift's starts, gaps and interrupted attempts.",
    responses(
        (status = 200, description = "The report", body = nightshift_api::Report),
        (status = 400, description = "bad_request: hours out of range", body = ApiError),
    ))]
async fn report(
    State(api): State<Api>,
    q: Result<Query<nightshift_api::ReportQuery>, QueryRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.report(query(q)?).await?))
}

#[utoipa::path(get, path = "/metrics", tag = "status",
    description = "Every metric, in the Prometheus text format (0.0.4), or OpenMetrics when the \
        Accept header asks for `application/openmetrics-text`. Takes the API token. The families \
        are described in docs/metrics.md.",
    responses((status = 200, description = "The metrics", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(
    State(api): State<Api>,
    headers: axum::http::HeaderMap,
) -> Reply<Response> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = MetricsFormat::from_accept(accept);
    let text = api.metrics_text(format).await?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], text).into_response())
}

#[utoipa::path(post, path = "/api/pause", tag = "status",
    responses(
        (status = 200, description = "Every queue held; the summary", body = Summary),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn pause(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.pause_all().await?))
}

#[utoipa::path(post, path = "/api/resume", tag = "status",
    responses(
        (status = 200, description = "Every queue released; the summary", body = Summary),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn resume(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.resume_all().await?))
}

#[utoipa::path(get, path = "/api/power", tag = "status",
    responses((status = 200, description = "The power source's latest reading", body = PowerView)))]
async fn power(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.power().await?))
}

/// A queue's or a schedule's name from the path.
pub(crate) fn queue_name(path: Result<Path<String>, PathRejection>) -> Result<String, HttpError> {
    let Path(name) = path.map_err(|e| HttpError::from(ApiError::bad_request(e.body_text())))?;
    Ok(name)
}

#[utoipa::path(post, path = "/api/queues/{name}", tag = "queues",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A queue name: 1 to 64 letters, digits, '-', '_' or '.'.")),
    request_body(content = QueueUpdate, content_type = "application/json", description = "Absent fields stay as they are; no body at all creates the queue as it is."),
    responses(
        (status = 200, description = "The queue", body = QueueView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
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

#[utoipa::path(get, path = "/api/schedules", tag = "schedules",
    responses((status = 200, description = "Every recurring job", body = Vec<ScheduleView>)))]
async fn schedules(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.schedules().await?))
}

#[utoipa::path(post, path = "/api/schedules", tag = "schedules",
    request_body(content = ScheduleRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The new schedule", body = ScheduleView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 409, description = "conflict", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn add_schedule(State(api): State<Api>, body: Body) -> Reply<impl IntoResponse> {
    let bytes = read_body(body, api.max_enqueue_body()).await?;
    let request = parse_json(&bytes)?;
    Ok((StatusCode::CREATED, Json(api.add_schedule(request).await?)))
}

#[utoipa::path(delete, path = "/api/schedules/{name}", tag = "schedules",
    params(("name" = String, Path, description = "A schedule's name.")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn remove_schedule(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    api.remove_schedule(&queue_name(name)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/schedules/{name}/pause", tag = "schedules",
    params(("name" = String, Path, description = "A schedule's name.")),
    responses(
        (status = 200, description = "The schedule, paused", body = ScheduleView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn pause_schedule(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.pause_schedule(&queue_name(name)?, true).await?))
}

#[utoipa::path(post, path = "/api/schedules/{name}/resume", tag = "schedules",
    params(("name" = String, Path, description = "A schedule's name.")),
    responses(
        (status = 200, description = "The schedule, resumed", body = ScheduleView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn resume_schedule(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.pause_schedule(&queue_name(name)?, false).await?))
}

#[utoipa::path(post, path = "/api/schedules/{name}/run", tag = "schedules",
    params(("name" = String, Path, description = "A schedule's name.")),
    responses(
        (status = 201, description = "One run added now (or the one still queued or running)", body = Enqueued),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn run_schedule(
    State(api): State<Api>,
    name: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(api.run_schedule(&queue_name(name)?).await?),
    ))
}

#[utoipa::path(post, path = "/api/queues/{name}/pause", tag = "queues",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A queue name: 1 to 64 letters, digits, '-', '_' or '.'.")),
    responses(
        (status = 200, description = "The queue, held", body = QueueView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
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

#[utoipa::path(post, path = "/api/queues/{name}/resume", tag = "queues",
    params(("name" = String, Path, pattern = "^[A-Za-z0-9._-]{1,64}$", description = "A queue name: 1 to 64 letters, digits, '-', '_' or '.'.")),
    responses(
        (status = 200, description = "The queue, released", body = QueueView),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
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
