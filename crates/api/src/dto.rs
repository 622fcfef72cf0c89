//! What goes over the wire: requests and answers of the facade, all serde types.

use crate::schema;
use nightshift_core::{Attempt, AttemptOutcome, Job, JobId, JobState, OnPowerLoss, whole};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::path::PathBuf;
use utoipa::{IntoParams, ToSchema};

/// A duration given as a human string ("30m") or as milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DurationValue {
    Millis(#[serde(deserialize_with = "whole::integer")] u64),
    Human(String),
}

/// A point in time given as Unix milliseconds or as RFC 3339 text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeValue {
    Millis(#[serde(deserialize_with = "whole::integer")] i64),
    Text(String),
}

/// One job to enqueue: the body of `POST /api/jobs` and each line of a batch.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnqueueRequest {
    /// Program and arguments; with `shell`, the words are joined into one `sh -c` line.
    #[schema(schema_with = schema::command)]
    pub cmd: Vec<String>,
    #[serde(default)]
    pub shell: bool,
    #[serde(default)]
    #[schema(schema_with = schema::env)]
    pub env: BTreeMap<String, String>,
    /// Absolute working directory.
    #[schema(schema_with = schema::cwd)]
    pub cwd: Option<PathBuf>,
    /// Queue name; "default" when absent.
    #[schema(schema_with = schema::queue)]
    pub queue: Option<String>,
    #[serde(default, deserialize_with = "whole::integer")]
    pub priority: i32,
    #[schema(schema_with = schema::positive_duration)]
    pub timeout: Option<DurationValue>,
    /// Not before this time: Unix milliseconds, or RFC 3339 ("2026-11-22T23:00:00Z").
    pub run_at: Option<TimeValue>,
    /// Not before this long from now ("10m"); the same as `run_at` = now + delay.
    #[schema(schema_with = schema::delay)]
    pub delay: Option<DurationValue>,
    /// Attempts the job gets; the config's `jobs.max_attempts` when absent.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(schema_with = schema::max_attempts)]
    pub max_attempts: Option<u32>,
    #[serde(default)]
    pub notify: bool,
    /// A key: while a job with it is queued or running, this returns that job instead.
    #[schema(schema_with = schema::unique_key)]
    pub unique: Option<String>,
    /// Any JSON value, handed to the job as a file named in `NIGHTSHIFT_PAYLOAD_FILE`.
    #[schema(value_type = Option<Value>)]
    pub payload: Option<Box<RawValue>>,
    /// Start only on AC power (in addition to what its queue asks).
    #[serde(default)]
    pub require_ac: bool,
    /// On battery, start only while the battery is at least this full (percent, 0 to 100).
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(schema_with = schema::percent)]
    pub min_battery: Option<u8>,
    /// When power is lost while it runs: "finish", "pause" or "requeue"; its queue's when absent.
    pub on_power_loss: Option<OnPowerLoss>,
    /// Ids of jobs that must succeed first; if one fails or is cancelled, so is this job.
    #[serde(default)]
    pub after: Vec<JobId>,
    /// Leave processes that left the job's process group running after each attempt.
    #[serde(default)]
    pub leave_running: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Enqueued {
    pub id: JobId,
    /// The job was already queued or running under the same unique key; nothing was added.
    #[serde(default)]
    pub existing: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BatchEnqueued {
    pub count: usize,
    pub ids: Vec<JobId>,
}

/// Filters and paging for `GET /api/jobs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub state: Option<JobState>,
    #[param(schema_with = schema::queue)]
    pub queue: Option<String>,
    /// Jobs older than this id (the `next_before` of the previous page).
    pub before: Option<JobId>,
    /// Page size, 1 to 1000 (default 100).
    #[param(schema_with = schema::page_size)]
    pub limit: Option<u32>,
}

/// A job as shown to people and scripts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    #[serde(flatten)]
    pub job: Job,
    /// The command as a person would type it.
    pub command: String,
    /// Why it is not running: for a queued job what holds it back, for a running job that
    /// power paused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    /// For a running job, what its process group uses now (sampled every second; absent
    /// until the first sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageView>,
}

/// What a running job's process group uses, from the latest sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UsageView {
    /// CPU time so far, in milliseconds.
    pub cpu_ms: u64,
    /// CPU use over the last second, in percent of one core (above 100 with several busy).
    pub cpu_percent: Option<f64>,
    /// Resident memory of the group's processes now, summed, in bytes.
    pub rss_bytes: u64,
    /// The most it has held at once so far.
    pub peak_rss_bytes: u64,
    /// Live processes in the group.
    pub processes: u32,
}

/// Why a job is not running, for people (`message`) and programs (`kind` and its details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Waiting {
    pub kind: WaitingKind,
    /// In words: "queue index is full: 4/4 running".
    pub message: String,
    /// For `scheduled` and `backoff`: when it becomes due (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// For `dependency`: the job it waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WaitingKind {
    /// Not before a time (`--at`, `--in`).
    Scheduled,
    /// Backing off before its next attempt.
    Backoff,
    /// Waiting for another job to succeed (`--after`).
    Dependency,
    /// Every queue is paused.
    AllPaused,
    QueuePaused,
    /// On battery, and it (or its queue) needs AC.
    OnBattery,
    /// The battery is under its (or its queue's) minimum.
    BatteryLow,
    /// Its queue's limit is 0.
    QueueHeld,
    /// Its queue runs as many jobs as it may.
    QueueFull,
    /// A running job stopped (SIGSTOP) until power is back.
    PausedForPower,
    /// The system's CPU use is over `jobs.max_cpu`.
    CpuBusy,
    /// Its queue's worker pool has no worker free: all busy, starting, restarting or stopped.
    Workers,
    /// Nothing holds it: it starts as soon as the scheduler gets to it.
    Next,
}

impl From<Job> for JobView {
    fn from(job: Job) -> JobView {
        JobView {
            waiting: None,
            usage: None,
            command: job.spec.display_command(),
            job,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<JobView>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next_before: Option<JobId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobDetail {
    pub job: JobView,
    pub attempts: Vec<Attempt>,
    /// The jobs it runs after (`--after`), with their states.
    #[serde(default)]
    pub after: Vec<Dependency>,
}

/// A job another runs after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Dependency {
    pub id: JobId,
    pub state: JobState,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitRequest {
    #[schema(min_items = 1, max_items = 100_000)]
    pub ids: Vec<JobId>,
    /// Return as soon as any one of the jobs has finished.
    #[serde(default)]
    pub any: bool,
    /// Give up after this long (milliseconds); wait without limit when absent.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(schema_with = schema::millis)]
    pub timeout_ms: Option<u64>,
}

/// A finished job's outcome, in brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobBrief {
    pub id: JobId,
    pub state: JobState,
    /// How the last attempt ended (absent if the job never ran).
    pub outcome: Option<AttemptOutcome>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WaitResult {
    pub finished: Vec<JobBrief>,
    pub pending: Vec<JobId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueueView {
    pub name: String,
    pub concurrency: u32,
    /// Where the limit comes from: "set" (nightshift queue set), "config" or "default".
    pub limit_source: String,
    pub paused: bool,
    /// Jobs start only on AC power.
    #[serde(default)]
    pub require_ac: bool,
    /// On battery, jobs start only while the battery is at least this full (percent).
    pub min_battery: Option<u8>,
    /// What happens to its running jobs when power is lost.
    #[serde(default)]
    pub on_power_loss: OnPowerLoss,
    /// On battery, at most this many of its jobs run at once.
    #[serde(default)]
    pub battery_concurrency: Option<u32>,
    /// Defaults for jobs added without their own: timeout (ms) and attempts.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// The first retry's wait (ms).
    #[serde(default)]
    pub retry_backoff_ms: u64,
    pub counts: BTreeMap<JobState, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// "ok"; "degraded" (it runs, but something needs a person: see `problems`); or "failed"
    /// (a task of the engine failed, and Nightshift is stopping to be restarted).
    pub status: String,
    /// Unless ok, what is wrong, in words.
    #[serde(default)]
    pub problems: Vec<String>,
    pub version: String,
    pub api_version: u32,
    pub pid: u32,
    pub uptime_ms: u64,
    pub running: usize,
    pub data_dir: String,
    pub max_payload_bytes: u64,
    /// Every queue is held (`nightshift pause`).
    pub paused: bool,
    /// Jobs that start-up recovery put back in their queue or failed.
    pub recovered_requeued: usize,
    pub recovered_failed: usize,
}

/// Counts per state and whether dispatch is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub counts: BTreeMap<JobState, u64>,
    /// Attempts running right now.
    pub running: usize,
    pub paused: bool,
    /// Queues whose waiting jobs only power holds back (on battery, or the battery is low).
    #[serde(default)]
    pub held_for_power: Vec<String>,
    /// Some jobs wait aside for their own power needs (`add --require-ac`, `--min-battery`).
    #[serde(default)]
    pub jobs_held_for_power: bool,
    /// What needs a person about Nightshift itself (writes to the database fail, outcomes wait
    /// to be recorded); empty when all is well. The same as `problems` in the health.
    #[serde(default)]
    pub problems: Vec<String>,
    /// Worker pools short of workers because they exited (backing off, or crash-looping), in
    /// words ("pool embed: 1 of 4 workers restarting"); empty when every pool is whole.
    #[serde(default)]
    pub pools_down: Vec<String>,
    /// Active incidents nobody acknowledged or snoozed, most severe first: what the tray calls
    /// attention to.
    #[serde(default)]
    pub incidents: Vec<IncidentBrief>,
}

/// An incident in a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentBrief {
    pub id: i64,
    pub severity: nightshift_core::incident::Severity,
    pub title: String,
}

/// The power source's latest reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PowerView {
    pub on_ac: bool,
    /// 0 to 100; absent without a battery.
    pub battery_percent: Option<f32>,
    /// "system", or "simulated (path)".
    pub source: String,
    /// In words: "on battery, 42%".
    pub description: String,
    /// Queues whose waiting jobs power holds back, each with the reason.
    pub holding: BTreeMap<String, String>,
    /// Some jobs wait aside for their own power needs (`add --require-ac`, `--min-battery`).
    #[serde(default)]
    pub jobs_held: bool,
    /// Running jobs paused because power was lost, each with the reason.
    #[serde(default)]
    pub paused: BTreeMap<JobId, String>,
}

/// Changes to a queue (`nightshift queue set|pause|resume`); absent fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueUpdate {
    /// New concurrency limit (0 holds the queue).
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(schema_with = schema::count)]
    pub concurrency: Option<u32>,
    /// Forget the limit set at run time; the config file's applies again.
    #[serde(default)]
    pub reset_concurrency: bool,
    #[schema(schema_with = schema::optional_bool)]
    pub paused: Option<bool>,
    /// Start jobs only on AC power (true), or regardless (false).
    #[schema(schema_with = schema::optional_bool)]
    pub require_ac: Option<bool>,
    /// On battery, start jobs only while the battery is at least this full; 0 for no minimum.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(schema_with = schema::percent)]
    pub min_battery: Option<u8>,
    /// What happens to running jobs when power is lost: "finish", "pause" or "requeue".
    pub on_power_loss: Option<OnPowerLoss>,
    /// On battery, at most this many jobs run at once.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(schema_with = schema::positive_count)]
    pub battery_concurrency: Option<u32>,
    /// Timeout for jobs added without one ("2h", or milliseconds).
    #[schema(schema_with = schema::positive_duration)]
    pub timeout: Option<DurationValue>,
    /// Attempts for jobs added without their own.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(schema_with = schema::max_attempts)]
    pub max_attempts: Option<u32>,
    /// The first retry's wait ("30s", or milliseconds).
    #[schema(schema_with = schema::positive_duration)]
    pub retry_backoff: Option<DurationValue>,
    /// Settings to forget (the config file's apply again): any of "concurrency",
    /// "require_ac", "min_battery", "on_power_loss", "battery_concurrency", "timeout",
    /// "max_attempts", "retry_backoff".
    #[serde(default)]
    #[schema(schema_with = schema::resettable)]
    pub reset: Vec<String>,
}

/// A recurring job to create: `POST /api/schedules`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// Letters, digits, '-', '_', '.'; from the program's name when absent.
    #[schema(schema_with = schema::queue)]
    pub name: Option<String>,
    /// Run every this long ("1h", or milliseconds; at least 1s). The first run is at once, or
    /// at the job's `run_at` / `delay`.
    #[schema(schema_with = schema::interval)]
    pub every: Option<DurationValue>,
    /// Or at the times of this five-field cron expression, in local time ("30 2 * * *").
    #[schema(schema_with = schema::cron)]
    pub cron: Option<String>,
    /// One run for fire times missed while Nightshift was not running or the machine slept
    /// (default); false skips them.
    #[serde(default = "yes")]
    pub catch_up: bool,
    /// What each run is, as in an enqueue (`after` and `unique` are not allowed).
    pub job: EnqueueRequest,
}

fn yes() -> bool {
    true
}

/// A recurring job as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleView {
    pub name: String,
    /// "every 1h" or "cron 30 2 * * *".
    pub recurrence: String,
    pub catch_up: bool,
    pub paused: bool,
    /// The next fire time (Unix ms); absent while paused or when there is none.
    pub next_run: Option<i64>,
    /// When it last added a run, that run's id and state.
    pub last_run: Option<i64>,
    pub last_job: Option<JobId>,
    pub last_state: Option<JobState>,
    /// Each run's command and queue.
    pub command: String,
    pub queue: String,
    pub created_at: i64,
}
