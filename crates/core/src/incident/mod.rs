//! Incidents: when someone should look. Rules (`rules`) turn what the engine measures
//! (`evaluate::Inputs`, read from the metrics history, the pools, the disk and recovery) into
//! findings; the lifecycle (`lifecycle`) turns findings over time into incidents that go
//! pending, active and resolved, one open per rule and queue, with a timeline. Baselines
//! (`baseline`) are learned from the hourly history. All of it is plain values and the clock
//! it is given, so every rule and transition is tested without waiting.

pub mod baseline;
pub mod evaluate;
pub mod lifecycle;
pub mod rules;

use crate::JobId;
use serde::{Deserialize, Serialize};

pub use rules::{Rule, RuleId, Unit};

/// How urgent an incident is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    /// The condition holds, not yet for the rule's `for`: nobody is told.
    Pending,
    /// The condition has held for the rule's `for`: the user is told.
    Active,
    /// Over: the condition cleared for `resolve_after`, or someone resolved it.
    Resolved,
}

impl IncidentState {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Pending => "pending",
            IncidentState::Active => "active",
            IncidentState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<IncidentState> {
        [
            IncidentState::Pending,
            IncidentState::Active,
            IncidentState::Resolved,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// Who did something to an incident: Nightshift itself, or a person through one of its doors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Door {
    Nightshift,
    Tray,
    Window,
    Cli,
    Api,
    Notification,
}

impl Door {
    pub const ALL: [Door; 6] = [
        Door::Nightshift,
        Door::Tray,
        Door::Window,
        Door::Cli,
        Door::Api,
        Door::Notification,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Door::Nightshift => "nightshift",
            Door::Tray => "tray",
            Door::Window => "window",
            Door::Cli => "cli",
            Door::Api => "api",
            Door::Notification => "notification",
        }
    }

    pub fn parse(s: &str) -> Option<Door> {
        Door::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What happened to an incident, in its timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The condition was first seen.
    Opened,
    /// It held for the rule's `for`.
    Active,
    /// Its value moved (by a fifth or more since the last such entry).
    Value,
    /// It came back within the cooldown after it had resolved.
    Reopened,
    Acknowledged,
    Snoozed,
    /// A snooze ran out with the incident still open.
    SnoozeEnded,
    Resolved,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::Opened,
        EventKind::Active,
        EventKind::Value,
        EventKind::Reopened,
        EventKind::Acknowledged,
        EventKind::Snoozed,
        EventKind::SnoozeEnded,
        EventKind::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Opened => "opened",
            EventKind::Active => "active",
            EventKind::Value => "value",
            EventKind::Reopened => "reopened",
            EventKind::Acknowledged => "acknowledged",
            EventKind::Snoozed => "snoozed",
            EventKind::SnoozeEnded => "snooze_ended",
            EventKind::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// Unix ms.
    pub at: i64,
    pub kind: EventKind,
    pub door: Door,
    /// The rule's value then, for the entries that carry one.
    pub value: Option<f64>,
    /// Words: the snooze's end, a value in its unit.
    pub note: Option<String>,
}

/// An incident as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: i64,
    pub rule: RuleId,
    /// The queue it is about; absent for Nightshift as a whole (the disk, a restart).
    pub queue: Option<String>,
    /// The pool it is about (worker down).
    pub pool: Option<String>,
    pub severity: Severity,
    pub state: IncidentState,
    pub title: String,
    /// What triggered it, with its values.
    pub description: String,
    /// What to do about it.
    pub action: String,
    /// The rule's value when last evaluated, in `unit`.
    pub value: f64,
    /// The line it crossed, in `unit`.
    pub threshold: f64,
    pub unit: Unit,
    /// Jobs it is about (the failed, the stuck, the long-running), newest first, at most
    /// `MAX_AFFECTED`.
    pub jobs: Vec<JobId>,
    pub opened_at: i64,
    pub active_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    /// Reminders and attention wait until then (Unix ms).
    pub snoozed_until: Option<i64>,
    /// When the user was last told (its activation, or a reminder).
    pub notified_at: Option<i64>,
    pub updated_at: i64,
    /// Its timeline, oldest first (only in the detail).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
}

/// Affected jobs kept with an incident.
pub const MAX_AFFECTED: usize = 20;

impl Incident {
    /// Open and calling for the user: active, not acknowledged, not snoozed at `now`.
    pub fn needs_attention(&self, now: i64) -> bool {
        self.state == IncidentState::Active
            && self.acknowledged_at.is_none()
            && self.snoozed_until.is_none_or(|until| until <= now)
    }
}

/// One delivery of one alert to one receiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub incident: i64,
    /// active, reopened, reminder or resolved.
    pub alert: String,
    pub url: String,
    /// pending, delivered or failed (given up).
    pub state: String,
    pub attempts: u32,
    /// The receiver's HTTP status at the last attempt, if it answered.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// While pending: when it is sent next (Unix ms).
    pub next_at: Option<i64>,
    pub done_at: Option<i64>,
}
