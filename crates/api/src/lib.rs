//! The one facade onto the engine (invariant 3). An HTTP handler, a Tauri command and a CLI
//! subcommand each make one call here; this crate validates input, turns it into engine and
//! store calls, and answers with serialisable DTOs or an `ApiError` that names the problem.
//! It knows nothing of HTTP, Tauri or terminals.

mod changes;
mod dto;
mod enqueue;
mod error;
mod history;
mod incidents;
mod logs;
mod pools;
mod prometheus;
mod report;
mod schedules;
mod schema;
mod wait;
mod waiting;

use nightshift_core::{JobId, JobState};
use nightshift_engine::{CancelAck, EngineHandle, Event};
use nightshift_store::ListFilter;
use std::collections::BTreeMap;

pub use changes::{Changes, TICK_EVERY};
pub use dto::*;
pub use enqueue::human_bytes;
pub use error::{ApiError, ErrorKind};
pub use history::{
    ExportPages, ExportQuery, MetricsSummary, Percentiles, QueueSummary, Resolution, Series,
    SummaryQuery, Trends, TrendsQuery,
};
pub use incidents::{
    Baseline, EventKind, IncidentAction, IncidentDetail, IncidentQuery, IncidentStates, MAX_SNOOZE,
    MIN_SNOOZE, Notice, QueueBaseline, RuleId, RuleValue, RuleView, RulesView, Severity,
    SnoozeRequest, TimelineEntry, Unit,
};
pub use logs::LogStream;
pub use nightshift_core::incident::{Door, Incident, IncidentState};
pub use pools::{PoolRequest, PoolUpdate, PoolView, WorkerState, WorkerView};
pub use prometheus::MetricsFormat;
pub use report::{FailingCommand, HourCount, MAX_REPORT_HOURS, Report, ReportQuery, SlowJob};
pub use schema::directory as directory_schema;

/// Version of the HTTP/JSON interface, reported by `health`.
pub const API_VERSION: u32 = 1;

/// Largest page `list` returns.
pub const MAX_PAGE: u32 = 1000;

/// The facade. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Api {
    engine: EngineHandle,
}

impl Api {
    pub fn new(engine: EngineHandle) -> Api {
        Api { engine }
    }

    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// The largest body an enqueue may need: the payload cap plus room for the rest of a spec.
    pub fn max_enqueue_body(&self) -> usize {
        // Twice the cap, so a payload somewhat over the cap still reaches the check that names
        // both sizes instead of a bare "body too large".
        (self.engine.config().jobs.max_payload_bytes as usize).saturating_mul(2) + (1 << 20)
    }

    pub async fn health(&self) -> Result<Health, ApiError> {
        let recovery = self.engine.recovery();
        let health = self.engine.health();
        Ok(Health {
            status: health.status.as_str().into(),
            problems: health.problems,
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: API_VERSION,
            pid: std::process::id(),
            uptime_ms: self.engine.uptime().as_millis() as u64,
            running: self.engine.running(),
            data_dir: self.engine.paths().data_dir.display().to_string(),
            max_payload_bytes: self.engine.config().jobs.max_payload_bytes,
            paused: self.engine.is_paused(),
            recovered_requeued: recovery.requeued.len(),
            recovered_failed: recovery.failed.len(),
        })
    }

    pub async fn enqueue(&self, request: EnqueueRequest) -> Result<Enqueued, ApiError> {
        let job = self.prepare(request, self.engine.now_ms())?;
        enqueue::check_working_dirs(std::slice::from_ref(&job)).await?;
        let stored = self.engine.enqueue_keyed(vec![job]).await?[0];
        Ok(Enqueued {
            id: stored.id,
            existing: stored.existing,
        })
    }

    /// Enqueues every line of a JSON Lines body (one `EnqueueRequest` per line) in one
    /// transaction, or none of them if any line is invalid; the error names the line.
    /// Lines without a `cwd` run in `default_cwd` (the directory the batch was sent from).
    pub async fn enqueue_batch(
        &self,
        body: &[u8],
        default_cwd: Option<std::path::PathBuf>,
    ) -> Result<BatchEnqueued, ApiError> {
        let jobs = enqueue::prepare_lines(
            self.engine.config(),
            &|queue| self.queue_defaults(queue),
            body,
            default_cwd,
            self.engine.now_ms(),
        )?;
        if jobs.is_empty() {
            return Err(ApiError::bad_request(
                "the batch is empty: send one job per line",
            ));
        }
        enqueue::check_working_dirs(&jobs).await?;
        let ids = self.engine.enqueue(jobs).await?;
        Ok(BatchEnqueued {
            count: ids.len(),
            ids,
        })
    }

    pub async fn list(&self, query: ListQuery) -> Result<JobPage, ApiError> {
        let limit = query.limit.unwrap_or(100);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::bad_request(format!(
                "limit must be between 1 and {MAX_PAGE}, got {limit}"
            )));
        }
        if let Some(queue) = &query.queue {
            nightshift_core::job::validate_queue_name(queue)
                .map_err(|e| ApiError::bad_request(e.0))?;
        }
        let jobs = self
            .engine
            .list(ListFilter {
                state: query.state,
                queue: query.queue,
                before: query.before,
                limit,
            })
            .await?;
        let next_before = (jobs.len() as u32 == limit)
            .then(|| jobs.last().map(|j| j.id))
            .flatten();
        Ok(JobPage {
            jobs: self.with_usage(
                waiting::explain(&self.engine, jobs.into_iter().map(JobView::from).collect())
                    .await?,
            ),
            next_before,
        })
    }

    /// Running jobs' live use of CPU and memory, where sampled.
    fn with_usage(&self, mut views: Vec<JobView>) -> Vec<JobView> {
        if views.iter().any(|v| v.job.state == JobState::Running) {
            let live = self.engine.usage();
            for view in &mut views {
                view.usage = live.get(&view.job.id).map(|u| UsageView {
                    cpu_ms: u.cpu_ms,
                    cpu_percent: u.cpu_percent,
                    rss_bytes: u.rss_bytes,
                    peak_rss_bytes: u.peak_rss_bytes,
                    processes: u.processes,
                });
            }
        }
        views
    }

    pub async fn show(&self, id: JobId) -> Result<JobDetail, ApiError> {
        let job = self.view(id).await?;
        let mut attempts = self.engine.attempts(id).await?;
        // An attempt on a worker stores its worker only when it ends (it saves a commit per
        // job, see docs/workers.md); while it runs, the worker working on it is named here.
        if job.job.state == JobState::Running
            && let Some(last) = attempts.last_mut()
            && last.outcome == nightshift_core::AttemptOutcome::Starting
            && last.worker.is_none()
            && let Some((name, pid)) = pools::working_on(&self.engine.pools(), id)
        {
            last.worker = Some(name);
            last.pid = pid;
            last.pgid = pid;
            last.outcome = nightshift_core::AttemptOutcome::Running;
        }
        let after = self
            .engine
            .dependencies(id)
            .await?
            .into_iter()
            .map(|(id, state)| Dependency { id, state })
            .collect();
        Ok(JobDetail {
            job,
            attempts,
            after,
        })
    }

    /// Cancels a job; for a running one, returns once its whole group is gone.
    pub async fn cancel(&self, id: JobId) -> Result<JobView, ApiError> {
        let mut events = self.engine.subscribe();
        match self.engine.cancel(id, "cancelled by user".into()).await? {
            CancelAck::Cancelled => {}
            CancelAck::Stopping => wait::until_final(&self.engine, &mut events, id).await?,
        }
        self.view(id).await
    }

    pub async fn retry(&self, id: JobId) -> Result<JobView, ApiError> {
        Ok(JobView::from(self.engine.retry(id).await?))
    }

    /// Deletes a finished job with its attempts, payload and logs.
    pub async fn remove(&self, id: JobId) -> Result<(), ApiError> {
        self.engine.remove(id).await?;
        let dir = self.engine.paths().logs_dir.clone();
        tokio::task::spawn_blocking(move || nightshift_supervisor::logfile::remove(&dir, id.0))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::internal(format!("job {id} removed, but not its log: {e}")))?;
        Ok(())
    }

    /// The job's kept output, or its last `tail` lines.
    pub async fn logs(&self, id: JobId, tail: Option<usize>) -> Result<Vec<u8>, ApiError> {
        self.view_plain(id).await?;
        let dir = self.engine.paths().logs_dir.clone();
        tokio::task::spawn_blocking(move || nightshift_supervisor::logfile::read(&dir, id.0, tail))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::internal(format!("cannot read the log of job {id}: {e}")))
    }

    /// The job's output as it is written, until the job has finished.
    pub async fn follow_logs(&self, id: JobId, tail: Option<usize>) -> Result<LogStream, ApiError> {
        self.view_plain(id).await?;
        Ok(logs::follow(self.engine.clone(), id, tail))
    }

    /// Waits until all (or, with `any`, at least one) of the jobs have finished, or the
    /// timeout passes; reports the finished ones and which are still pending.
    pub async fn wait(&self, request: WaitRequest) -> Result<WaitResult, ApiError> {
        wait::wait(&self.engine, request).await
    }

    /// One enqueue request as a job to store, with its queue's defaults.
    pub(crate) fn prepare(
        &self,
        request: EnqueueRequest,
        now: i64,
    ) -> Result<nightshift_store::NewJob, ApiError> {
        enqueue::prepare(
            self.engine.config(),
            &|queue| self.queue_defaults(queue),
            request,
            now,
        )
    }

    fn queue_defaults(&self, queue: &str) -> enqueue::QueueDefaults {
        let q = self.engine.queue(queue);
        enqueue::QueueDefaults {
            timeout_ms: q.timeout_ms,
            max_attempts: q.max_attempts,
            pool: self.engine.pool_serving(queue),
        }
    }

    pub async fn queues(&self) -> Result<Vec<QueueView>, ApiError> {
        let config = self.engine.config();
        let mut queues: BTreeMap<String, QueueView> = BTreeMap::new();
        let view = |name: &str| {
            let q = self.engine.queue(name);
            QueueView {
                name: name.to_string(),
                concurrency: q.concurrency,
                limit_source: serde_json::to_value(q.limit_source)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                paused: q.paused,
                require_ac: q.require_ac,
                min_battery: q.min_battery,
                on_power_loss: q.on_power_loss,
                battery_concurrency: q.battery_concurrency,
                timeout_ms: q.timeout_ms,
                max_attempts: q.max_attempts,
                retry_backoff_ms: q.retry_backoff.as_millis() as u64,
                counts: BTreeMap::new(),
            }
        };
        for name in config
            .queues
            .keys()
            .cloned()
            .chain(self.engine.set_queue_names())
        {
            queues.insert(name.clone(), view(&name));
        }
        for count in self.engine.queue_counts().await? {
            queues
                .entry(count.queue.clone())
                .or_insert_with(|| view(&count.queue))
                .counts
                .insert(count.state, count.count);
        }
        for q in queues.values_mut() {
            for state in JobState::ALL {
                q.counts.entry(state).or_insert(0);
            }
        }
        Ok(queues.into_values().collect())
    }

    /// Creates or changes a queue; the change is kept across restarts.
    pub async fn update_queue(
        &self,
        name: &str,
        update: QueueUpdate,
    ) -> Result<QueueView, ApiError> {
        let change = queue_change(update)?;
        self.engine.set_queue(name, change).await?;
        let queues = self.queues().await?;
        queues
            .into_iter()
            .find(|q| q.name == name)
            .ok_or_else(|| ApiError::internal(format!("queue {name} vanished")))
    }

    /// Holds every queue (running jobs go on) and returns the new summary.
    pub async fn pause_all(&self) -> Result<Summary, ApiError> {
        self.engine.pause_all().await;
        self.summary().await
    }

    /// Releases every queue and returns the new summary.
    pub async fn resume_all(&self) -> Result<Summary, ApiError> {
        self.engine.resume_all().await;
        self.summary().await
    }

    /// What the power source says now, and the work it holds back.
    pub async fn power(&self) -> Result<PowerView, ApiError> {
        let state = self.engine.power();
        Ok(PowerView {
            on_ac: state.on_ac,
            battery_percent: state.battery_percent,
            source: self.engine.power_source_name().to_string(),
            description: state.to_string(),
            holding: self
                .engine
                .power_holds()
                .into_iter()
                .map(|(q, h)| (q, h.to_string()))
                .collect(),
            jobs_held: self.engine.any_power_held().await?,
            paused: self
                .engine
                .power_paused()
                .into_iter()
                .map(|(id, p)| (id, p.reason))
                .collect(),
        })
    }

    /// Counts per state and whether dispatch is held: what a tray or a status line shows.
    pub async fn summary(&self) -> Result<Summary, ApiError> {
        Ok(Summary {
            counts: self.engine.counts().await?,
            running: self.engine.running(),
            paused: self.engine.is_paused(),
            held_for_power: self.engine.power_holds().into_keys().collect(),
            jobs_held_for_power: self.engine.any_power_held().await?,
            problems: self.engine.health().problems,
            pools_down: pools::down(&self.engine.pools()),
            incidents: self
                .engine
                .incidents_needing_attention()
                .await
                .into_iter()
                .map(|i| IncidentBrief {
                    id: i.id,
                    severity: i.severity,
                    title: i.title,
                })
                .collect(),
        })
    }

    /// Coalesced "something changed" ticks, for views that refetch what they show.
    pub fn changes(&self) -> Changes {
        changes::watch(&self.engine)
    }

    /// Every event since the engine began starting, for the one listener that must not miss
    /// the first moments (see `EngineHandle::take_startup_events`); later calls fall back to a
    /// fresh subscription.
    pub fn subscribe_from_start(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.engine
            .take_startup_events()
            .unwrap_or_else(|| self.engine.subscribe())
    }

    /// Engine events, for live views (SSE, the desktop shell).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.engine.subscribe()
    }

    async fn view(&self, id: JobId) -> Result<JobView, ApiError> {
        let view = self.view_plain(id).await?;
        Ok(self
            .with_usage(waiting::explain(&self.engine, vec![view]).await?)
            .remove(0))
    }

    async fn view_plain(&self, id: JobId) -> Result<JobView, ApiError> {
        let job = self.engine.job(id).await?.ok_or(ApiError::no_job(id))?;
        Ok(JobView::from(job))
    }
}

/// The settings of a queue that `reset` forgets.
pub const QUEUE_RESETTABLE: [&str; 8] = [
    "concurrency",
    "require_ac",
    "min_battery",
    "on_power_loss",
    "battery_concurrency",
    "timeout",
    "max_attempts",
    "retry_backoff",
];

/// A queue update as the store applies it, every value checked.
fn queue_change(update: QueueUpdate) -> Result<nightshift_store::QueueChange, ApiError> {
    let mut reset: Vec<&str> = Vec::new();
    for field in &update.reset {
        match QUEUE_RESETTABLE.iter().find(|f| **f == field.as_str()) {
            Some(f) => reset.push(f),
            None => {
                return Err(ApiError::bad_request(format!(
                    "cannot reset '{field}'; expected any of {}",
                    QUEUE_RESETTABLE.join(", ")
                )));
            }
        }
    }
    if update.reset_concurrency {
        reset.push("concurrency");
    }
    let given = [
        ("concurrency", update.concurrency.is_some()),
        ("require_ac", update.require_ac.is_some()),
        ("min_battery", update.min_battery.is_some()),
        ("on_power_loss", update.on_power_loss.is_some()),
        ("battery_concurrency", update.battery_concurrency.is_some()),
        ("timeout", update.timeout.is_some()),
        ("max_attempts", update.max_attempts.is_some()),
        ("retry_backoff", update.retry_backoff.is_some()),
    ];
    if let Some((field, _)) = given.iter().find(|(f, set)| *set && reset.contains(f)) {
        return Err(ApiError::bad_request(format!(
            "give either {field} or a reset of it, not both"
        )));
    }
    if let Some(p) = update.min_battery {
        nightshift_core::power_policy::validate_min_battery(p)
            .map_err(|e| ApiError::bad_request(format!("min_battery: {e}")))?;
    }
    if update.battery_concurrency == Some(0) {
        return Err(ApiError::bad_request(
            "battery_concurrency must be at least 1 (to hold a queue on battery, set require_ac)",
        ));
    }
    let limit = nightshift_core::job::MAX_ATTEMPTS_LIMIT;
    if update.max_attempts.is_some_and(|n| n == 0 || n > limit) {
        return Err(ApiError::bad_request(format!(
            "max_attempts must be between 1 and {limit}"
        )));
    }
    let millis = |field: &str, value: Option<DurationValue>| -> Result<Option<u64>, ApiError> {
        let ms = match value {
            None => return Ok(None),
            Some(DurationValue::Millis(ms)) => ms,
            Some(DurationValue::Human(text)) => nightshift_core::duration::parse(&text)
                .map_err(|e| ApiError::bad_request(format!("{field}: {e}")))?
                .as_millis() as u64,
        };
        if ms == 0 {
            return Err(ApiError::bad_request(format!(
                "{field} must be longer than zero"
            )));
        }
        Ok(Some(ms))
    };
    let timeout = millis("timeout", update.timeout)?;
    let retry_backoff = millis("retry_backoff", update.retry_backoff)?;
    // Given: set it; reset: clear it; neither: leave it.
    fn pick<T>(value: Option<T>, reset: bool) -> Option<Option<T>> {
        match value {
            Some(v) => Some(Some(v)),
            None if reset => Some(None),
            None => None,
        }
    }
    let r = |f: &str| reset.contains(&f);
    Ok(nightshift_store::QueueChange {
        concurrency: pick(update.concurrency, r("concurrency")),
        paused: update.paused,
        require_ac: pick(update.require_ac, r("require_ac")),
        min_battery: pick(update.min_battery, r("min_battery")),
        on_power_loss: pick(update.on_power_loss, r("on_power_loss")),
        battery_concurrency: pick(update.battery_concurrency, r("battery_concurrency")),
        timeout_ms: pick(timeout, r("timeout")),
        max_attempts: pick(update.max_attempts, r("max_attempts")),
        retry_backoff_ms: pick(retry_backoff, r("retry_backoff")),
    })
}
