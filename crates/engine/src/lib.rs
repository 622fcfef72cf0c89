//! The engine: everything that happens between "a job was stored" and "its process group is
//! gone and its outcome recorded". `Engine::start` takes the data directory's instance lock,
//! opens the store, reclaims what a killed predecessor left running (before any dispatch), and
//! starts the scheduler: one task that reacts to events (a job queued, an attempt ended, a
//! cancel) and never polls. Each attempt runs in its own task that owns the process group until
//! it has ended. Anything that wants to know what happens subscribes to the event bus.
//!
//! Invariants (see `nightshift-core`): no SQL here (the store does it), no UI or transport
//! crates, time from the injected `Clock`, and no timer except real deadlines.

mod backoff;
mod context;
mod cpu;
mod enqueue;
mod error;
mod events;
mod gate;
mod health;
mod history;
mod incidents;
mod instance;
mod locks;
pub mod metrics;
pub use self_stats::SelfStats;
mod outcomes;
mod pools;
mod power;
mod power_gate;
mod queues;
mod recovery;
mod runner;
mod scheduler;
mod schedules;
mod self_stats;
mod start;
pub mod usage;

use nightshift_core::{Clock, Config, Job, JobId, JobState, Paths};
use nightshift_store::{NewJob, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use cpu::CpuHold;
pub use error::EngineError;
pub use events::Event;
pub use gate::{Hold, QueueHold, WorkersHold};
pub use health::{HealthReport, Status as HealthStatus};
pub use incidents::RuleNow;
pub use instance::{InstanceLock, RunningInstance};
pub use power::{POWER_FILE_ENV, source_for as power_source_for};
pub use power_gate::{HYSTERESIS, PowerHold, PowerNeeds, hold_for as power_gate_hold};
pub use queues::{LimitSource, QueueSettings};
pub use recovery::RecoveryReport;
pub use schedules::run_key as schedule_run_key;

pub use pools::{PoolView, WorkerState, WorkerView};
pub use start::Engine;

/// Everything the engine needs to start.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub paths: Paths,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
}

/// A running engine; cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle")
            .field("data", &self.inner.paths.data_dir)
            .finish()
    }
}

struct Inner {
    tx: mpsc::UnboundedSender<scheduler::Command>,
    store: Store,
    events: broadcast::Sender<Event>,
    config: Arc<Config>,
    paths: Arc<Paths>,
    clock: Arc<dyn Clock>,
    running: Arc<AtomicUsize>,
    paused: Arc<AtomicBool>,
    queue_rows:
        Arc<std::sync::RwLock<std::collections::HashMap<String, nightshift_store::QueueRow>>>,
    power: tokio::sync::watch::Receiver<nightshift_power::PowerState>,
    power_name: String,
    power_held: Arc<std::sync::RwLock<std::collections::HashMap<String, PowerHold>>>,
    power_paused: Arc<std::sync::RwLock<std::collections::HashMap<JobId, PausedForPower>>>,
    recovery: RecoveryReport,
    started_at: std::time::Instant,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    ctx: Arc<context::Context>,
    /// Tells the schedules task to look again.
    schedules_wake: mpsc::UnboundedSender<()>,
    ticker: tokio::task::JoinHandle<()>,
    /// Follows the store's write failures for the health (see `health::watch_store`).
    store_watch: tokio::task::JoinHandle<()>,
    /// The minute snapshot of the metrics history, and what it reads and keeps.
    history_task: tokio::task::JoinHandle<()>,
    incidents_task: tokio::task::JoinHandle<()>,
    /// Samples what running attempts use (see `usage`).
    sampler: tokio::task::JoinHandle<()>,
    history_sources: history::Sources,
    recorder: Arc<tokio::sync::Mutex<history::Recorder>>,
    health: Arc<health::Health>,
    startup_events: std::sync::Mutex<Option<broadcast::Receiver<Event>>>,
    /// The reaper of orphaned job processes; stops with the engine.
    _orphans: nightshift_supervisor::Orphans,
    _lock: InstanceLock,
}

/// A running job paused because power was lost. It keeps its queue slot, so it can go on the
/// moment power returns without the queue running more than its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PausedForPower {
    pub queue: String,
    pub reason: String,
}

/// What a cancel request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelAck {
    /// The job was queued and is now cancelled.
    Cancelled,
    /// The job is running; its group is being stopped and `Event::Ended` will follow.
    Stopping,
}

impl EngineHandle {
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn paths(&self) -> &Paths {
        &self.inner.paths
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Nightshift's own footprint now: memory, CPU, open files, database and WAL size.
    pub async fn self_stats(&self) -> SelfStats {
        let mut stats = self_stats::read(&self.inner.paths).await;
        stats.logs_bytes = *crate::locks::lock(&self.inner.ctx.logs_bytes);
        stats
    }

    /// What each running job's process group uses now (see `usage`); jobs not sampled yet
    /// are absent.
    pub fn usage(&self) -> std::collections::HashMap<JobId, usage::LiveUsage> {
        let mut live = self.inner.ctx.usage.live();
        live.retain(|_, u| u.sampled);
        live
    }

    /// The live counts of the work (see `metrics`).
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.ctx.metrics
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// A receiver that has held every event since the engine began starting (recovery's
    /// included), for the one listener that must not miss the first moments; `None` once
    /// taken. Later listeners use `subscribe`.
    pub fn take_startup_events(&self) -> Option<broadcast::Receiver<Event>> {
        crate::locks::lock(&self.inner.startup_events).take()
    }

    /// Attempts running right now.
    pub fn running(&self) -> usize {
        self.inner.running.load(Ordering::Relaxed)
    }

    pub fn uptime(&self) -> std::time::Duration {
        self.inner.started_at.elapsed()
    }

    /// What start-up recovery found.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.inner.recovery
    }

    /// Stores jobs (all or none) and wakes the scheduler at once.
    pub async fn enqueue(&self, jobs: Vec<NewJob>) -> Result<Vec<JobId>, EngineError> {
        Ok(self
            .enqueue_keyed(jobs)
            .await?
            .into_iter()
            .map(|j| j.id)
            .collect())
    }

    /// As `enqueue`, also saying for each job whether an existing job with its unique key was
    /// returned instead of a new one (the store knows inside its transaction; nobody need
    /// guess afterwards).
    pub async fn enqueue_keyed(
        &self,
        jobs: Vec<NewJob>,
    ) -> Result<Vec<nightshift_store::Inserted>, EngineError> {
        enqueue::enqueue(&self.inner.ctx, jobs, self.now_ms()).await
    }

    /// Stores a recurring job. An interval schedule runs first at `start` (or now), then every
    /// period from there; a cron schedule first at its first time from `start` (or now).
    pub async fn add_schedule(
        &self,
        name: &str,
        recurrence: &nightshift_core::recurrence::Recurrence,
        job: NewJob,
        catch_up: bool,
        start: Option<i64>,
    ) -> Result<nightshift_store::ScheduleRow, EngineError> {
        nightshift_core::job::validate_queue_name(name)
            .map_err(|e| EngineError::Invalid(e.0.replace("queue name", "schedule name")))?;
        // A job without a program is a worker pool's (the API made it so for a pool's queue).
        if job.spec.program.is_empty() {
            job.spec.validate_for_worker()
        } else {
            job.spec.validate()
        }
        .map_err(|e| EngineError::Invalid(e.0))?;
        let now = self.now_ms();
        let first = start.unwrap_or(now);
        let next_due = match recurrence {
            nightshift_core::recurrence::Recurrence::Every(_) => Some(first),
            // The first cron time at or after `first`.
            cron => cron.next_after(first, first - 1),
        };
        let row = self
            .inner
            .store
            .add_schedule(
                nightshift_store::NewSchedule {
                    name: name.to_string(),
                    recurrence: recurrence.to_text(),
                    job: job.spec,
                    payload: job.payload,
                    catch_up,
                    anchor: first,
                    next_due,
                },
                now,
            )
            .await?;
        self.check_schedules();
        Ok(row)
    }

    /// Every schedule, by name.
    pub async fn schedules(&self) -> Result<Vec<nightshift_store::ScheduleRow>, EngineError> {
        Ok(self.inner.store.schedules().await?)
    }

    pub async fn remove_schedule(&self, name: &str) -> Result<(), EngineError> {
        self.inner.store.remove_schedule(name).await?;
        self.check_schedules();
        Ok(())
    }

    /// Pauses a schedule, or resumes it from its next fire time after now (times passed while
    /// it was paused are not caught up: the pause was deliberate).
    pub async fn set_schedule_paused(
        &self,
        name: &str,
        paused: bool,
    ) -> Result<nightshift_store::ScheduleRow, EngineError> {
        let store = &self.inner.store;
        let row = self.schedule_row(name).await?;
        let now = self.now_ms();
        let next_due = nightshift_core::recurrence::Recurrence::from_text(&row.recurrence)
            .map_err(|e| EngineError::Invalid(e.to_string()))?
            .next_after(row.anchor, now);
        let row = store
            .set_schedule_paused(name, paused, next_due, now)
            .await?;
        self.check_schedules();
        Ok(row)
    }

    /// Adds one run of a schedule now, outside its times (or returns the run still queued or
    /// running, marked `existing`); its next fire time stays.
    pub async fn run_schedule(
        &self,
        name: &str,
    ) -> Result<nightshift_store::Inserted, EngineError> {
        let row = self.schedule_row(name).await?;
        schedules::add_run(&self.inner.ctx, &row, self.now_ms()).await
    }

    async fn schedule_row(&self, name: &str) -> Result<nightshift_store::ScheduleRow, EngineError> {
        Ok(self
            .inner
            .store
            .schedule(name)
            .await?
            .ok_or_else(|| nightshift_store::StoreError::NoSchedule(name.to_string()))?)
    }

    /// Makes the schedules task look at the wall clock now: after the clock jumped (a resume
    /// from sleep, a test's clock), rather than at its next timer.
    pub fn check_schedules(&self) {
        let _ = self.inner.schedules_wake.send(());
    }

    /// The engine's clock moved other than by the passing of time (a test's clock set by hand,
    /// a machine that woke from sleep): schedules and the waits kept on that clock (a worker's
    /// restart backoff) look at it again.
    pub fn clock_moved(&self) {
        self.check_schedules();
        self.inner.ctx.time_moved.send_modify(|_| {});
    }

    /// Cancels a queued job, or starts stopping a running one.
    pub async fn cancel(&self, id: JobId, reason: String) -> Result<CancelAck, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .tx
            .send(scheduler::Command::Cancel { id, reason, reply })
            .map_err(|_| EngineError::ShuttingDown)?;
        answer.await.map_err(|_| EngineError::ShuttingDown)?
    }

    /// Puts a finished job back in its queue.
    pub async fn retry(&self, id: JobId) -> Result<Job, EngineError> {
        let job = self.inner.store.retry(id, self.now_ms()).await?;
        let _ = self
            .inner
            .tx
            .send(scheduler::Command::Work(vec![job.spec.queue.clone()]));
        let _ = self.inner.events.send(Event::Queued { ids: vec![id] });
        Ok(job)
    }

    /// Holds every queue: nothing new starts until `resume_all`. Running jobs go on. Returns
    /// once the scheduler holds (a dispatch under way when it was asked may still finish).
    pub async fn pause_all(&self) {
        self.set_paused(true).await;
    }

    /// Releases every queue; waiting jobs start at once.
    pub async fn resume_all(&self) {
        self.set_paused(false).await;
    }

    async fn set_paused(&self, paused: bool) {
        let (reply, done) = oneshot::channel();
        if self
            .inner
            .tx
            .send(scheduler::Command::Pause(paused, reply))
            .is_ok()
        {
            let _ = done.await;
        }
    }

    /// Changes a queue's settings (kept in the database) and applies them at once.
    pub async fn set_queue(
        &self,
        name: &str,
        change: nightshift_store::QueueChange,
    ) -> Result<QueueSettings, EngineError> {
        nightshift_core::job::validate_queue_name(name).map_err(|e| EngineError::Invalid(e.0))?;
        let (reply, answer) = oneshot::channel();
        self.inner
            .tx
            .send(scheduler::Command::SetQueue {
                name: name.to_string(),
                change,
                reply,
            })
            .map_err(|_| EngineError::ShuttingDown)?;
        answer.await.map_err(|_| EngineError::ShuttingDown)??;
        Ok(self.queue(name))
    }

    /// A queue's effective settings.
    pub fn queue(&self, name: &str) -> QueueSettings {
        queues::settings(&self.inner.config, &self.inner.queue_rows, name)
    }

    /// Names of queues with settings changed at run time.
    pub fn set_queue_names(&self) -> Vec<String> {
        let rows = crate::locks::read(&self.inner.queue_rows);
        rows.keys().cloned().collect()
    }

    /// The power source's latest reading.
    pub fn power(&self) -> nightshift_power::PowerState {
        *self.inner.power.borrow()
    }

    /// Queues whose waiting work power holds back, and why.
    pub fn power_holds(&self) -> std::collections::BTreeMap<String, PowerHold> {
        let held = crate::locks::read(&self.inner.power_held);
        held.iter().map(|(q, h)| (q.clone(), *h)).collect()
    }

    /// Running jobs paused because power was lost, and why.
    pub fn power_paused(&self) -> std::collections::BTreeMap<JobId, PausedForPower> {
        let paused = crate::locks::read(&self.inner.power_paused);
        paused.iter().map(|(id, p)| (*id, p.clone())).collect()
    }

    /// The CPU ceiling (`jobs.max_cpu`) holding new jobs back, if it does.
    pub fn cpu_hold(&self) -> Option<CpuHold> {
        *crate::locks::read(&self.inner.ctx.cpu_held)
    }

    /// Which power source is read ("system", or "simulated (path)").
    pub fn power_source_name(&self) -> &str {
        &self.inner.power_name
    }

    /// Whether all queues are held.
    pub fn is_paused(&self) -> bool {
        self.inner.paused.load(Ordering::Relaxed)
    }

    /// Whether the engine can be trusted right now, and if not, why.
    pub fn health(&self) -> HealthReport {
        self.inner.health.report()
    }

    /// Changes to `Some(what failed)` once a task of the engine panicked: the host then stops
    /// Nightshift with a non-zero exit code (see the `health` module).
    pub fn failure(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.inner.health.failure()
    }

    /// Stops gracefully: no new dispatch; running groups get SIGTERM, then SIGKILL after the
    /// grace period; their jobs go back to the queue without using up an attempt.
    pub async fn shutdown(&self) {
        // Outcomes that cannot be written are now retried only briefly (the journal keeps them).
        self.inner.ctx.stopping.store(true, Ordering::Relaxed);
        // No schedule adds work to an engine that is stopping.
        self.inner.ticker.abort();
        self.inner.store_watch.abort();
        self.inner.history_task.abort();
        self.inner.incidents_task.abort();
        self.inner.sampler.abort();
        let (reply, done) = oneshot::channel();
        if self
            .inner
            .tx
            .send(scheduler::Command::Shutdown { reply })
            .is_ok()
        {
            let _ = done.await;
        }
        let task = crate::locks::lock(&self.inner.task).take();
        if let Some(task) = task {
            let _ = task.await;
        }
        // The workers' jobs have ended with the scheduler; now the workers themselves.
        self.inner.ctx.pools.shutdown().await;
        // Every outcome is recorded by now, and counted: the unfinished minute joins the history.
        if let Err(e) = self.flush_history().await {
            tracing::warn!(error = %e, "cannot write the last minute's metrics history on stop");
        }
        // Leave the database file complete on its own, so a
        // copy of it alone (a backup) is up to date.
        if let Err(e) = self.inner.store.checkpoint().await {
            tracing::warn!(error = %e, "cannot fold the write-ahead log into the database on stop");
        }
    }

    /// How many jobs are in each state.
    pub async fn counts(&self) -> Result<std::collections::BTreeMap<JobState, u64>, EngineError> {
        Ok(self.inner.store.state_counts().await?)
    }

    /// A job's current state, if it exists.
    pub async fn state(&self, id: JobId) -> Result<Option<JobState>, EngineError> {
        Ok(self.states(vec![id]).await?.first().map(|(_, s)| *s))
    }

    // Reads (and one removal) for the facade, so it needs no handle on the store itself.

    /// The states of the given jobs; unknown ids are left out.
    pub async fn states(&self, ids: Vec<JobId>) -> Result<Vec<(JobId, JobState)>, EngineError> {
        Ok(self.inner.store.states(ids).await?)
    }

    /// A job, if it exists.
    pub async fn job(&self, id: JobId) -> Result<Option<Job>, EngineError> {
        Ok(self.inner.store.job(id).await?)
    }

    /// A job's attempts, oldest first.
    pub async fn attempts(&self, id: JobId) -> Result<Vec<nightshift_core::Attempt>, EngineError> {
        Ok(self.inner.store.attempts(id).await?)
    }

    /// A page of jobs, newest first.
    pub async fn list(
        &self,
        filter: nightshift_store::ListFilter,
    ) -> Result<Vec<Job>, EngineError> {
        Ok(self.inner.store.list(filter).await?)
    }

    /// Deletes a finished job, its attempts and its payload file (not its log).
    pub async fn remove(&self, id: JobId) -> Result<(), EngineError> {
        Ok(self.inner.store.remove(id).await?)
    }

    /// Job counts per queue and state.
    pub async fn queue_counts(&self) -> Result<Vec<nightshift_store::QueueCount>, EngineError> {
        Ok(self.inner.store.queue_counts().await?)
    }

    /// Whether any queued job waits aside for its own power needs.
    pub async fn any_power_held(&self) -> Result<bool, EngineError> {
        Ok(self.inner.store.any_power_held().await?)
    }

    /// The jobs `id` runs after, with their states.
    pub async fn dependencies(&self, id: JobId) -> Result<Vec<(JobId, JobState)>, EngineError> {
        Ok(self.inner.store.dependencies(id).await?)
    }

    /// Running jobs per queue, as the store counts them.
    pub async fn running_by_queue(
        &self,
    ) -> Result<std::collections::HashMap<String, u64>, EngineError> {
        Ok(self.inner.store.running_by_queue().await?)
    }

    /// Why each queued job of `jobs` does not start now (`None` for a job in another state),
    /// by the order dispatch follows (see the `gate` module).
    pub async fn holds(&self, jobs: &[&Job]) -> Result<Vec<Option<Hold>>, EngineError> {
        if !jobs.iter().any(|j| j.state == JobState::Queued) {
            return Ok(vec![None; jobs.len()]);
        }
        let running = self.running_by_queue().await?;
        let power = self.power();
        let held = self.power_holds();
        let cpu = self.cpu_hold();
        let all_paused = self.is_paused();
        let now = self.now_ms();
        Ok(jobs
            .iter()
            .map(|job| {
                (job.state == JobState::Queued).then(|| {
                    let name = &job.spec.queue;
                    let settings = self.queue(name);
                    let queue = gate::QueueNow {
                        settings: &settings,
                        all_paused,
                        busy: running.get(name).copied().unwrap_or(0),
                        power,
                        power_hold: held.get(name).copied(),
                        cpu,
                    };
                    match gate::hold_of(job, now, &queue) {
                        // Nothing else holds it: a pool's queue waits for a free worker.
                        Hold::Next => self
                            .inner
                            .ctx
                            .pools
                            .hold(name)
                            .map_or(Hold::Next, Hold::Workers),
                        hold => hold,
                    }
                })
            })
            .collect())
    }
}
