//! Routes for incidents: each parses its input, makes one call onto the facade, and renders
//! the answer (as `routes.rs` does for the rest).

use crate::routes::{Reply, parse_json, read_body};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use nightshift_api::{
    Api, ApiError, Incident, IncidentAction, IncidentDetail, IncidentQuery, RulesView,
    SnoozeRequest,
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Body limit of an action (a door and a duration).
const ACTION_BODY: usize = 64 << 10;

pub(crate) fn incident_routes() -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(routes!(incidents))
        .routes(routes!(rules))
        .routes(routes!(incident))
        .routes(routes!(acknowledge))
        .routes(routes!(snooze))
        .routes(routes!(resolve))
}

fn incident_id(path: Result<Path<String>, PathRejection>) -> Result<i64, crate::error::HttpError> {
    let Path(raw) = path.map_err(|e| ApiError::bad_request(e.body_text()))?;
    match raw.parse::<i64>() {
        Ok(id) if id >= 1 => Ok(id),
        _ => Err(ApiError::bad_request(format!(
            "'{}' is not an incident id: a whole number from 1 to 9223372036854775807",
            raw.escape_debug()
        ))
        .into()),
    }
}

/// An action's body: empty or `null` (`{}` implied), or JSON.
async fn action(body: Body) -> Result<IncidentAction, crate::error::HttpError> {
    let bytes = read_body(body, ACTION_BODY).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(IncidentAction::default());
    }
    // `null` is an empty body too (the description says the body is optional).
    Ok(parse_json::<Option<IncidentAction>>(&bytes)?.unwrap_or_default())
}

#[utoipa::path(get, path = "/api/incidents", tag = "incidents", params(IncidentQuery),
    responses(
        (status = 200, description = "Incidents, newest first", body = Vec<Incident>),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
    ))]
async fn incidents(
    State(api): State<Api>,
    q: Result<Query<IncidentQuery>, QueryRejection>,
) -> Reply<impl IntoResponse> {
    let q = q
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad_request(e.body_text()))?;
    Ok(Json(api.incidents(q).await?))
}

#[utoipa::path(get, path = "/api/incidents/rules", tag = "incidents",
    responses((status = 200, description = "Every rule with its settings and where its condition holds, and each queue's learned baseline", body = RulesView)))]
async fn rules(State(api): State<Api>) -> Reply<impl IntoResponse> {
    Ok(Json(api.incident_rules()))
}

#[utoipa::path(get, path = "/api/incidents/{id}", tag = "incidents",
    params(("id" = i64, Path, minimum = 1, description = "An incident id.")),
    responses(
        (status = 200, description = "The incident with its timeline and its webhook deliveries", body = IncidentDetail),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
    ))]
async fn incident(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
) -> Reply<impl IntoResponse> {
    Ok(Json(api.incident(incident_id(id)?).await?))
}

#[utoipa::path(post, path = "/api/incidents/{id}/acknowledge", tag = "incidents",
    params(("id" = i64, Path, minimum = 1, description = "An incident id.")),
    request_body(content = Option<IncidentAction>, content_type = "application/json", description = "Optional: the door used."),
    responses(
        (status = 200, description = "Acknowledged: no more reminders; it stays open", body = Incident),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 409, description = "conflict: the incident is resolved, or incidents are off", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn acknowledge(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Reply<impl IntoResponse> {
    let id = incident_id(id)?;
    Ok(Json(
        api.acknowledge_incident(id, action(body).await?).await?,
    ))
}

#[utoipa::path(post, path = "/api/incidents/{id}/snooze", tag = "incidents",
    params(("id" = i64, Path, minimum = 1, description = "An incident id.")),
    request_body(content = SnoozeRequest, content_type = "application/json", description = "`for`: how long; and the door used."),
    responses(
        (status = 200, description = "Snoozed: no reminders and no attention until then", body = Incident),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 409, description = "conflict: the incident is resolved, or incidents are off", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn snooze(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Reply<impl IntoResponse> {
    let id = incident_id(id)?;
    let bytes = read_body(body, ACTION_BODY).await?;
    let request: SnoozeRequest = parse_json(&bytes)?;
    Ok(Json(api.snooze_incident(id, request).await?))
}

#[utoipa::path(post, path = "/api/incidents/{id}/resolve", tag = "incidents",
    params(("id" = i64, Path, minimum = 1, description = "An incident id.")),
    request_body(content = Option<IncidentAction>, content_type = "application/json", description = "Optional: the door used."),
    responses(
        (status = 200, description = "Resolved; while its condition holds no new incident opens for it", body = Incident),
        (status = 400, description = "bad_request: malformed input or an invalid value", body = ApiError),
        (status = 404, description = "not_found", body = ApiError),
        (status = 408, description = "the body did not arrive within server.body_timeout", body = ApiError),
        (status = 409, description = "conflict: the incident is resolved already, or incidents are off", body = ApiError),
        (status = 413, description = "payload_too_large", body = ApiError),
        (status = 507, description = "insufficient_storage: the disk holding the data folder is full; nothing was stored", body = ApiError),
    ))]
async fn resolve(
    State(api): State<Api>,
    id: Result<Path<String>, PathRejection>,
    body: Body,
) -> Reply<impl IntoResponse> {
    let id = incident_id(id)?;
    Ok(Json(api.resolve_incident(id, action(body).await?).await?))
}
