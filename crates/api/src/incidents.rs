//! Incidents through the facade: `nightshift incidents …`, `GET/POST /api/incidents…`.

use crate::{Api, ApiError, DurationValue};
use nightshift_core::incident::{Door, Incident, IncidentState};
use nightshift_store::IncidentFilter;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

pub use nightshift_core::incident::baseline::Baseline;
pub use nightshift_core::incident::{
    EventKind, RuleId, Severity, TimelineEntry, Unit, lifecycle::Notice,
};

/// The shortest and longest snooze.
pub const MIN_SNOOZE: Duration = Duration::from_secs(60);
pub const MAX_SNOOZE: Duration = Duration::from_secs(30 * 86400);

/// Which incidents `GET /api/incidents` lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStates {
    /// Pending and active (the default).
    #[default]
    Open,
    Pending,
    Active,
    Resolved,
    All,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// open (pending and active, the default), pending, active, resolved or all.
    #[param(inline)]
    pub state: Option<IncidentStates>,
    /// Only this queue's.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub queue: Option<String>,
    /// Only incidents older than this id (the next page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// At most this many (1 to 1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Who acts: the body of acknowledge and resolve (optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentAction {
    /// The door the person used, kept in the timeline: cli, window (the admin page), tray,
    /// notification or api (the default).
    #[serde(default)]
    pub door: Option<Door>,
}

/// The body of a snooze.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeRequest {
    /// How long, from 1 minute to 30 days: milliseconds, or a number with a unit ("1h").
    #[serde(rename = "for")]
    #[schema(schema_with = crate::schema::snooze)]
    pub for_: DurationValue,
    /// The door the person used, as for acknowledge.
    #[serde(default)]
    pub door: Option<Door>,
}

/// `GET /api/incidents/{id}`: the incident with its timeline, and its webhook deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: Incident,
    /// Each alert sent to each webhook receiver: pending, delivered or failed (given up).
    pub deliveries: Vec<nightshift_core::incident::Delivery>,
}

/// A rule as `incidents rules` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleView {
    pub rule: RuleId,
    pub enabled: bool,
    pub severity: Severity,
    /// The line, in `unit`.
    pub threshold: f64,
    pub unit: Unit,
    /// What the threshold means.
    pub meaning: String,
    /// How long the condition must hold before the incident is active (ms).
    pub for_ms: u64,
    /// The queues it looks at; empty: every queue.
    pub queues: Vec<String>,
    /// The span its figures are taken over (ms), for the rules that take one.
    pub window_ms: Option<u64>,
    pub min_jobs: Option<u64>,
    /// The absolute floor under a learned line (ms).
    pub floor_ms: Option<u64>,
    /// Where its condition held at the last evaluation: the scope (queue, pool, or "" for
    /// Nightshift) and the value.
    pub holding: Vec<RuleValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RuleValue {
    pub scope: String,
    pub value: f64,
}

/// What a queue's history taught the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueBaseline {
    pub queue: String,
    /// Absent until 24 hours with 5 finished jobs or more are in the history.
    pub baseline: Option<Baseline>,
    /// The queue's usual run time (ms): the learned p95, or the last day's.
    pub usual_ms: Option<f64>,
}

/// `GET /api/incidents/rules`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RulesView {
    pub rules: Vec<RuleView>,
    pub baselines: Vec<QueueBaseline>,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Api {
    pub async fn incidents(&self, q: IncidentQuery) -> Result<Vec<Incident>, ApiError> {
        if let Some(queue) = &q.queue {
            nightshift_core::job::validate_queue_name(queue)
                .map_err(|e| ApiError::bad_request(e.0))?;
        }
        let limit = q.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(ApiError::bad_request(format!(
                "limit must be from 1 to 1000, not {limit}"
            )));
        }
        if q.before.is_some_and(|b| b < 1) {
            return Err(ApiError::bad_request(
                "before must be an incident id (1 or more)",
            ));
        }
        use IncidentState::*;
        let states = match q.state.unwrap_or_default() {
            IncidentStates::Open => vec![Pending, Active],
            IncidentStates::Pending => vec![Pending],
            IncidentStates::Active => vec![Active],
            IncidentStates::Resolved => vec![Resolved],
            IncidentStates::All => vec![],
        };
        Ok(self
            .engine
            .incidents(IncidentFilter {
                states,
                queue: q.queue,
                before: q.before,
                limit: limit as usize,
            })
            .await?)
    }

    pub async fn incident(&self, id: i64) -> Result<IncidentDetail, ApiError> {
        let incident = self.engine.incident(id).await?;
        let deliveries = self
            .engine
            .store()
            .deliveries(id)
            .await
            .map_err(nightshift_engine::EngineError::from)?;
        Ok(IncidentDetail {
            incident,
            deliveries,
        })
    }

    pub async fn acknowledge_incident(
        &self,
        id: i64,
        action: IncidentAction,
    ) -> Result<Incident, ApiError> {
        Ok(self
            .engine
            .acknowledge_incident(id, action.door.unwrap_or(Door::Api))
            .await?)
    }

    pub async fn resolve_incident(
        &self,
        id: i64,
        action: IncidentAction,
    ) -> Result<Incident, ApiError> {
        Ok(self
            .engine
            .resolve_incident(id, action.door.unwrap_or(Door::Api))
            .await?)
    }

    pub async fn snooze_incident(
        &self,
        id: i64,
        request: SnoozeRequest,
    ) -> Result<Incident, ApiError> {
        // An unknown incident is a 404 whatever the duration.
        self.engine.incident(id).await?;
        let value = &request.for_;
        let d = crate::enqueue::duration_of(value)
            .map_err(|e| ApiError::bad_request(format!("for: {e}")))?;
        if !(MIN_SNOOZE..=MAX_SNOOZE).contains(&d) {
            return Err(ApiError::bad_request(format!(
                "for: a snooze lasts from 1m to 30d, not {}",
                nightshift_core::duration::format_short(d)
            )));
        }
        let until = self
            .engine
            .now_ms()
            .checked_add(i64::try_from(millis(d)).unwrap_or(i64::MAX))
            .ok_or_else(|| {
                ApiError::bad_request("for: the snooze would end past the end of time")
            })?;
        Ok(self
            .engine
            .snooze_incident(id, until, request.door.unwrap_or(Door::Api))
            .await?)
    }

    pub fn incident_rules(&self) -> RulesView {
        let rules = self
            .engine
            .incident_rules()
            .into_iter()
            .map(|now| {
                let r = now.rule;
                let takes = r.id.takes();
                RuleView {
                    rule: r.id,
                    enabled: r.enabled,
                    severity: r.severity,
                    threshold: r.threshold,
                    unit: r.id.unit(),
                    meaning: r.id.meaning().to_string(),
                    for_ms: millis(r.for_),
                    queues: r.queues,
                    window_ms: takes.contains(&"window").then(|| millis(r.window)),
                    min_jobs: takes.contains(&"min_jobs").then_some(r.min_jobs),
                    floor_ms: r.floor.map(millis),
                    holding: now
                        .values
                        .into_iter()
                        .map(|(scope, value)| RuleValue { scope, value })
                        .collect(),
                }
            })
            .collect();
        let baselines = self
            .engine
            .baselines()
            .into_iter()
            .map(|(queue, (baseline, usual_ms))| QueueBaseline {
                queue,
                baseline,
                usual_ms,
            })
            .collect();
        RulesView { rules, baselines }
    }
}
