//! The one facade onto the engine (invariant 3). An HTTP handler, a Tauri command and a CLI
//! subcommand each make one call here; this crate validates input, turns it into engine and
//! store calls, and answers with serialisable DTOs or an `ApiError` that names the problem.
//! It knows nothing of HTTP, Tauri or terminals.

mod changes;
mod dto;
mod enqueue;
mod error;
mod logs;
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
pub use logs::LogStream;

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
        Ok(Health {
            status: "ok".into(),
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
        let started = self.engine.now_ms();
        let job = enqueue::prepare(self.engine.config(), request, started)?;
        let unique = job.spec.unique_key.is_some();
        let id = self.engine.enqueue(vec![job]).await?[0];
        // A job made by this request was created now; one found by its unique key, before.
        let existing = unique
            && self
                .engine
                .store()
                .job(id)
                .await?
                .is_some_and(|j| j.created_at < started);
        Ok(Enqueued { id, existing })
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
            body,
            default_cwd,
            self.engine.now_ms(),
        )?;
        if jobs.is_empty() {
            return Err(ApiError::bad_request(
                "the batch is empty: send one job per line",
            ));
        }
        let ids = self.engine.enqueue(jobs).await?;
        Ok(BatchEnqueued {
            count: ids.len(),
            ids,
        })
    }

    pub async fn list(&self, query: ListQuery) -> Result<JobPage, ApiError> {
        let limit = query.limit.unwrap_or(100).clamp(1, MAX_PAGE);
        if let Some(queue) = &query.queue {
            nightshift_core::job::validate_queue_name(queue)
                .map_err(|e| ApiError::bad_request(e.0))?;
        }
        let jobs = self
            .engine
            .store()
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
            jobs: waiting::explain(&self.engine, jobs.into_iter().map(JobView::from).collect())
                .await?,
            next_before,
        })
    }

    pub async fn show(&self, id: JobId) -> Result<JobDetail, ApiError> {
        let job = self.view(id).await?;
        let attempts = self.engine.store().attempts(id).await?;
        Ok(JobDetail { job, attempts })
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
        self.engine.store().remove(id).await?;
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
        for count in self.engine.store().queue_counts().await? {
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
        if update.reset_concurrency && update.concurrency.is_some() {
            return Err(ApiError::bad_request(
                "give either concurrency or reset_concurrency, not both",
            ));
        }
        if update.min_battery.is_some_and(|p| p > 100) {
            return Err(ApiError::bad_request(
                "min_battery is a percent: give 0 to 100 (0 for no minimum)",
            ));
        }
        let change = nightshift_store::QueueChange {
            concurrency: if update.reset_concurrency {
                Some(None)
            } else {
                update.concurrency.map(Some)
            },
            paused: update.paused,
            require_ac: update.require_ac.map(Some),
            min_battery: update.min_battery.map(Some),
        };
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

    /// What the power source says now.
    pub fn power(&self) -> PowerView {
        let state = self.engine.power();
        PowerView {
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
        }
    }

    /// Counts per state and whether dispatch is held: what a tray or a status line shows.
    pub async fn summary(&self) -> Result<Summary, ApiError> {
        Ok(Summary {
            counts: self.engine.counts().await?,
            running: self.engine.running(),
            paused: self.engine.is_paused(),
            held_for_power: self.engine.power_holds().into_keys().collect(),
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
        Ok(waiting::explain(&self.engine, vec![view]).await?.remove(0))
    }

    async fn view_plain(&self, id: JobId) -> Result<JobView, ApiError> {
        let job = self
            .engine
            .store()
            .job(id)
            .await?
            .ok_or(ApiError::no_job(id))?;
        Ok(JobView::from(job))
    }
}
