//! The job store: one SQLite file in WAL mode, and the only code in Nightshift that talks SQL
//! (invariant 1). Writes go through one writer thread that commits many requests per
//! transaction (`BEGIN IMMEDIATE`, one savepoint per request so a request that fails undoes
//! only itself; if SQLite drops the whole transaction, every request in it is told so); reads use their own connections on blocking threads (invariant 4). Large
//! payloads live in compressed files beside the database, written before their row commits.

mod counts;
mod deliveries;
mod deps;
mod error;
mod folder;
mod history;
mod incidents;
mod instance;
mod jobs;
mod migrate;
mod open;
mod payload;
mod pools;
mod power_hold;
mod queues;
mod read;
mod report;
mod rows;
mod schedules;
mod writer;

use nightshift_core::incident::{Incident, TimelineEntry};
use nightshift_core::{Attempt, Job, JobId, JobState, Synchronous};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use deliveries::{Attempted, Delivery, NewDelivery};
pub use deps::{CancelledDependant, Dependants};
pub use error::StoreError;
pub use folder::Folder;
pub use history::{QueueDepth, Resolution, RollUp, WindowRows};
pub use incidents::IncidentFilter;
pub use jobs::{
    CancelResult, ClaimAsk, Claimed, Ended, Finish, Inserted, ListFilter, NewJob, QueueCount,
};
pub use migrate::{latest_version, migrate_to};
pub use payload::INLINE_LIMIT;
pub use pools::{ConfigPools, PoolChange, PoolRow};
pub use power_hold::PowerNow;
pub use queues::{QueueChange, QueueRow};
pub use schedules::{NewSchedule, ScheduleRow};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle to the store; cheap to clone. The writer thread ends when the last clone drops.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

struct Inner {
    path: PathBuf,
    /// This database's random id (migration 0011).
    instance: String,
    payloads: payload::PayloadDir,
    writer: writer::Writer,
    readers: read::ReadPool,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date. A database
    /// written by a newer Nightshift, a damaged one and one that cannot be written are refused
    /// and left untouched.
    pub fn open(db: &Path, payloads_dir: &Path, sync: Synchronous) -> Result<Store> {
        Store::open_with(db, payloads_dir, sync, None)
    }

    /// As [`Store::open`], for a whole data folder: also refuses a database missing beside the
    /// folder's job data and one from another folder (see the `folder` module), and records
    /// the database's id for the folder.
    pub fn open_folder(folder: &Folder, sync: Synchronous) -> Result<Store> {
        folder::check_present(folder)?;
        Store::open_with(&folder.db, &folder.payloads, sync, Some(folder))
    }

    fn open_with(
        db: &Path,
        payloads_dir: &Path,
        sync: Synchronous,
        folder: Option<&Folder>,
    ) -> Result<Store> {
        // Nothing is written before every check has passed: a refused database is left as it
        // was (only its mode may lose group and other bits).
        folder::make_private(db)?;
        let conn = open::writer(db)?;
        folder::check_whole(&conn, db)?;
        migrate::refuse_newer(&conn, db)?;
        folder::check_writable(&conn, db)?;
        if let Some(folder) = folder {
            folder::check_identity(folder, folder::stored_id(&conn)?.as_deref())?;
        }
        open::configure_writer(&conn, sync).map_err(|e| match e {
            StoreError::Sqlite(e) => StoreError::ReadOnly {
                path: db.to_path_buf(),
                detail: e.to_string(),
            },
            other => other,
        })?;
        migrate::migrate_to(&conn, latest_version())?;
        let instance = instance::id_for(&conn, db)?;
        if let Some(folder) = folder {
            folder::record_identity(folder, &instance)?;
        }
        Ok(Store {
            inner: Arc::new(Inner {
                path: db.to_path_buf(),
                instance,
                payloads: payload::PayloadDir::new(payloads_dir.to_path_buf()),
                writer: writer::Writer::start(conn)?,
                readers: read::ReadPool::new(db.to_path_buf()),
            }),
        })
    }

    /// Folds the WAL back into the database file (and empties it), after every write sent
    /// before: a copy of the database file alone is then complete. Called on a graceful stop.
    pub async fn checkpoint(&self) -> Result<()> {
        self.inner.writer.checkpoint().await
    }

    /// The last write that failed for the storage's sake (disk full, unwritable, damaged,
    /// locked by another program), or `None` once a write has committed since.
    pub fn write_failure(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.inner.writer.failure()
    }

    /// A small real write (it touches one row), to learn whether writes land again.
    pub async fn probe_write(&self) -> Result<()> {
        self.write(|c| {
            c.execute("UPDATE instance SET id = id", [])?;
            Ok(())
        })
        .await
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// This database's random id, made when it was created (or upgraded to it) and never
    /// changed: it tells this Nightshift's job processes from another's.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance
    }

    /// Runs `f` in the writer thread's current transaction and waits for the commit.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.inner.writer.submit(f).await
    }

    /// Runs `f` on a read connection on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.readers.with(f))
            .await
            .map_err(|e| StoreError::Closed(format!("read task failed: {e}")))?
    }

    /// Stores new jobs in one transaction; all or none. Large payloads are written to files
    /// first and removed again if the transaction fails.
    pub async fn insert_jobs(&self, jobs: Vec<NewJob>, now: i64) -> Result<Vec<JobId>> {
        Ok(self
            .insert_jobs_keyed(jobs, now)
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect())
    }

    /// As [`Store::insert_jobs`], also saying for each job whether an existing job with its
    /// unique key was returned instead of a new one.
    pub async fn insert_jobs_keyed(&self, jobs: Vec<NewJob>, now: i64) -> Result<Vec<Inserted>> {
        self.insert_then(jobs, now, |_, _| Ok(())).await
    }

    /// Records a schedule's fire: its run (if it adds one) and its next fire time, in one
    /// transaction, so a crash cannot leave a run added without the schedule moving on.
    /// Returns the run (an existing run, marked so, if one with its key is still queued or
    /// running).
    pub async fn fire_schedule(
        &self,
        id: i64,
        run: Option<NewJob>,
        next_due: Option<i64>,
        now: i64,
    ) -> Result<Option<Inserted>> {
        match run {
            None => {
                self.write(move |c| schedules::fired(c, id, next_due, None, now))
                    .await?;
                Ok(None)
            }
            Some(run) => {
                let runs = self
                    .insert_then(vec![run], now, move |c, runs| {
                        schedules::fired(c, id, next_due, runs.first().map(|r| r.id), now)
                    })
                    .await?;
                Ok(runs.first().copied())
            }
        }
    }

    /// Stores jobs, then runs `then` with what was stored in the same transaction.
    async fn insert_then(
        &self,
        jobs: Vec<NewJob>,
        now: i64,
        then: impl FnOnce(&Connection, &[Inserted]) -> Result<()> + Send + 'static,
    ) -> Result<Vec<Inserted>> {
        // File writes need a blocking thread; without a large payload, skip the hop (it is a
        // tenth of a single enqueue's cost).
        let needs_files = jobs
            .iter()
            .any(|j| j.payload.as_ref().is_some_and(|p| p.len() >= INLINE_LIMIT));
        let (jobs, files) = if needs_files {
            let inner = self.inner.clone();
            tokio::task::spawn_blocking(move || inner.payloads.externalise(jobs))
                .await
                .map_err(|e| StoreError::Closed(format!("payload task failed: {e}")))??
        } else {
            self.inner.payloads.externalise(jobs)?
        };
        let result = self
            .write(move |c| {
                let inserted = jobs::insert(c, &jobs, now)?;
                then(c, &inserted.0)?;
                Ok(inserted)
            })
            .await;
        let leftover = match &result {
            Ok((_, unused)) => unused.clone(),
            Err(_) => files,
        };
        if !leftover.is_empty() {
            let inner = self.inner.clone();
            let _ = tokio::task::spawn_blocking(move || inner.payloads.remove_all(&leftover)).await;
        }
        result.map(|(ids, _)| ids)
    }

    /// Marks up to `limit` queued jobs of `queue` running and opens an attempt for each.
    /// Jobs whose own power needs `power` does not meet are set aside instead (see
    /// `release_power_held`).
    pub async fn claim(
        &self,
        queue: &str,
        limit: u32,
        now: i64,
        power: PowerNow,
    ) -> Result<Vec<Claimed>> {
        Ok(self.claim_or_hold(queue, limit, now, power).await?.0)
    }

    /// As `claim`, also saying how many jobs it set aside for their own power needs.
    pub async fn claim_or_hold(
        &self,
        queue: &str,
        limit: u32,
        now: i64,
        power: PowerNow,
    ) -> Result<(Vec<Claimed>, usize)> {
        let queue = queue.to_string();
        self.write(move |c| jobs::claim(c, &queue, limit, now, power))
            .await
    }

    /// Stores a schedule; its name must be new.
    pub async fn add_schedule(&self, schedule: NewSchedule, now: i64) -> Result<ScheduleRow> {
        self.write(move |c| schedules::insert(c, &schedule, now))
            .await
    }

    pub async fn schedule(&self, name: &str) -> Result<Option<ScheduleRow>> {
        let name = name.to_string();
        self.read(move |c| schedules::get(c, &name)).await
    }

    pub async fn schedules(&self) -> Result<Vec<ScheduleRow>> {
        self.read(schedules::list).await
    }

    pub async fn remove_schedule(&self, name: &str) -> Result<()> {
        let name = name.to_string();
        self.write(move |c| schedules::remove(c, &name)).await
    }

    /// Pauses or resumes a schedule; `next_due` applies on resume.
    pub async fn set_schedule_paused(
        &self,
        name: &str,
        paused: bool,
        next_due: Option<i64>,
        now: i64,
    ) -> Result<ScheduleRow> {
        let name = name.to_string();
        self.write(move |c| schedules::set_paused(c, &name, paused, next_due, now))
            .await
    }

    /// The earliest fire time of any schedule that is not paused.
    pub async fn next_schedule_due(&self) -> Result<Option<i64>> {
        self.read(schedules::next_due).await
    }

    /// The schedules due by `now`.
    pub async fn due_schedules(&self, now: i64) -> Result<Vec<ScheduleRow>> {
        self.read(move |c| schedules::due(c, now)).await
    }

    /// Whether any queued job waits aside for its own power needs.
    pub async fn any_power_held(&self) -> Result<bool> {
        self.read(power_hold::any_held).await
    }

    /// The jobs `id` runs after, with their states.
    pub async fn dependencies(&self, id: JobId) -> Result<Vec<(JobId, JobState)>> {
        self.read(move |c| deps::dependencies(c, id)).await
    }

    /// Brings back the jobs set aside for power that `power` lets start now (a job held for a
    /// low battery needs `hysteresis` points above its minimum); returns their queues.
    pub async fn release_power_held(&self, power: PowerNow, hysteresis: u8) -> Result<Vec<String>> {
        self.write(move |c| power_hold::release_power_held(c, power, hysteresis))
            .await
    }

    /// Records the process identity of an attempt; from then on it counts as running.
    pub async fn set_identity(
        &self,
        attempt: i64,
        pid: i32,
        start_ticks: Option<u64>,
        boot_id: Option<String>,
    ) -> Result<()> {
        self.write(move |c| jobs::set_identity(c, attempt, pid, start_ticks, boot_id.as_deref()))
            .await
    }

    /// Closes an attempt and moves its job to its next state, which is returned.
    pub async fn finish(&self, finish: Finish) -> Result<Ended> {
        self.write(move |c| jobs::finish(c, &finish)).await
    }

    /// Records an attempt's end, then, in the same transaction, claims the jobs `claim` asks
    /// for (the slot the attempt leaves is filled with one commit instead of two). The claim is
    /// `claim_or_hold`'s; if either part fails, neither is kept.
    pub async fn finish_then_claim(
        &self,
        finish: Finish,
        claim: ClaimAsk,
    ) -> Result<(Ended, (Vec<Claimed>, usize))> {
        self.write(move |c| {
            let ended = jobs::finish(c, &finish)?;
            let claimed = jobs::claim(c, &claim.queue, claim.limit, claim.now, claim.power)?;
            Ok((ended, claimed))
        })
        .await
    }

    /// Cancels a job that is still queued.
    pub async fn cancel_queued(&self, id: JobId, reason: String, now: i64) -> Result<CancelResult> {
        self.write(move |c| jobs::cancel_queued(c, id, &reason, now))
            .await
    }

    /// Puts a finished job back in its queue with a fresh set of attempts.
    pub async fn retry(&self, id: JobId, now: i64) -> Result<Job> {
        self.write(move |c| jobs::retry(c, id, now)).await
    }

    /// Deletes a finished job, its attempts and its payload file.
    pub async fn remove(&self, id: JobId) -> Result<()> {
        let file = self.write(move |c| jobs::remove(c, id)).await?;
        if let Some(file) = file {
            let inner = self.inner.clone();
            let _ = tokio::task::spawn_blocking(move || inner.payloads.remove_all(&[file])).await;
        }
        Ok(())
    }

    pub async fn job(&self, id: JobId) -> Result<Option<Job>> {
        self.read(move |c| jobs::get(c, id)).await
    }

    pub async fn attempts(&self, id: JobId) -> Result<Vec<Attempt>> {
        self.read(move |c| jobs::attempts(c, id)).await
    }

    pub async fn list(&self, filter: ListFilter) -> Result<Vec<Job>> {
        self.read(move |c| jobs::list(c, &filter)).await
    }

    /// The states of the given jobs; unknown ids are left out.
    pub async fn states(&self, ids: Vec<JobId>) -> Result<Vec<(JobId, JobState)>> {
        self.read(move |c| jobs::states(c, &ids)).await
    }

    /// Job counts per queue and state.
    pub async fn queue_counts(&self) -> Result<Vec<QueueCount>> {
        self.read(jobs::queue_counts).await
    }

    /// Job counts per state (all states present, zero or not), kept by the store's writes.
    pub async fn state_counts(&self) -> Result<std::collections::BTreeMap<JobState, u64>> {
        self.read(jobs::state_counts).await
    }

    /// Per queue, jobs queued, running, waiting for their time and held for power, for the
    /// minute snapshot of the history.
    pub async fn queue_depths(&self) -> Result<std::collections::BTreeMap<String, QueueDepth>> {
        self.read(history::depths).await
    }

    /// Stores the history rows of minute `at` and marks the minute covered (see the `history`
    /// module).
    pub async fn record_minute(
        &self,
        at: i64,
        rows: Vec<nightshift_core::metrics::history::Row>,
    ) -> Result<()> {
        self.write(move |c| history::write_minute(c, at, &rows))
            .await
    }

    /// One bounded step of the history's roll-up into hours and pruning.
    pub async fn roll_up_history(
        &self,
        now: i64,
        minutes_kept_ms: i64,
        hours_kept_ms: i64,
    ) -> Result<RollUp> {
        self.write(move |c| history::roll_up(c, now, minutes_kept_ms, hours_kept_ms))
            .await
    }

    /// The history rows and running spans for `[from, to)` at `step` ms, of one queue or all.
    pub async fn history_window(
        &self,
        from: i64,
        to: i64,
        step: i64,
        queue: Option<String>,
    ) -> Result<WindowRows> {
        self.read(move |c| history::window(c, from, to, step, queue.as_deref()))
            .await
    }

    /// History rows of one table from `since` on, after the row `(at, queue)` when given, of
    /// one queue or all, at most `limit` of them in time order: a page of an export.
    pub async fn history_page(
        &self,
        resolution: Resolution,
        since: i64,
        after: Option<(i64, String)>,
        queue: Option<String>,
        limit: usize,
    ) -> Result<Vec<nightshift_core::metrics::history::Row>> {
        self.read(move |c| history::page(c, resolution, since, after, queue.as_deref(), limit))
            .await
    }

    /// The spans of minutes Nightshift ran that touch `[from, to)`, as (first, last) minutes.
    pub async fn history_spans(&self, from: i64, to: i64) -> Result<Vec<(i64, i64)>> {
        self.read(move |c| history::spans(c, from, to)).await
    }

    /// For a report: commands whose jobs failed from `since` on, as (failures, newest job),
    /// most failures first.
    pub async fn report_failed_commands(
        &self,
        since: i64,
        limit: usize,
    ) -> Result<Vec<(u64, JobId)>> {
        self.read(move |c| report::failed_commands(c, since, limit))
            .await
    }

    /// For a report: jobs that finished from `since` on that ran longest, with their run time
    /// in milliseconds.
    pub async fn report_slowest(&self, since: i64, limit: usize) -> Result<Vec<(JobId, u64)>> {
        self.read(move |c| report::slowest(c, since, limit)).await
    }

    /// Queues whose settings were changed at run time.
    pub async fn queue_rows(&self) -> Result<Vec<QueueRow>> {
        self.read(queues::list).await
    }

    /// Creates a queue's row if needed and applies `change`.
    pub async fn set_queue(&self, name: &str, change: QueueChange, now: i64) -> Result<QueueRow> {
        let name = name.to_string();
        self.write(move |c| queues::upsert(c, &name, &change, now))
            .await
    }

    /// Stores a new incident with its timeline; returns its id.
    pub async fn insert_incident(&self, incident: Incident) -> Result<i64> {
        self.write(move |c| incidents::insert(c, &incident)).await
    }

    /// Writes an incident's changes, and `entry` into its timeline.
    pub async fn update_incident(
        &self,
        incident: Incident,
        entry: Option<TimelineEntry>,
    ) -> Result<()> {
        self.write(move |c| incidents::update(c, &incident, entry.as_ref()))
            .await
    }

    /// Forgets a pending incident whose condition cleared before it became active.
    pub async fn delete_incident(&self, id: i64) -> Result<()> {
        self.write(move |c| incidents::delete(c, id)).await
    }

    /// The open incidents, and those resolved from `resolved_since` on (the lifecycle's start).
    pub async fn incident_book(
        &self,
        resolved_since: i64,
    ) -> Result<(Vec<Incident>, Vec<Incident>)> {
        self.read(move |c| incidents::book(c, resolved_since)).await
    }

    /// Incidents newest first.
    pub async fn incidents(&self, filter: IncidentFilter) -> Result<Vec<Incident>> {
        self.read(move |c| incidents::list(c, &filter)).await
    }

    /// One incident with its timeline.
    pub async fn incident(&self, id: i64) -> Result<Option<Incident>> {
        self.read(move |c| incidents::get(c, id)).await
    }

    /// Stores new webhook deliveries, pending from `now`; returns their ids.
    pub async fn insert_deliveries(&self, new: Vec<NewDelivery>, now: i64) -> Result<Vec<i64>> {
        self.write(move |c| deliveries::insert(c, &new, now)).await
    }

    /// Records an attempt at a delivery.
    pub async fn delivery_attempted(&self, id: i64, how: Attempted, now: i64) -> Result<()> {
        self.write(move |c| deliveries::attempted(c, id, &how, now))
            .await
    }

    /// Deliveries still to make, with the bodies to send, soonest first.
    pub async fn pending_deliveries(&self) -> Result<Vec<(Delivery, String)>> {
        self.read(deliveries::pending).await
    }

    /// An incident's deliveries, oldest first.
    pub async fn deliveries(&self, incident: i64) -> Result<Vec<Delivery>> {
        self.read(move |c| deliveries::of_incident(c, incident))
            .await
    }

    /// Jobs of `queue` that failed from `since` on, newest first, at most `limit`: the jobs an
    /// incident about failures names. Looks only at the latest 2,000 failed jobs.
    pub async fn recent_failed(
        &self,
        queue: String,
        since: i64,
        limit: usize,
    ) -> Result<Vec<JobId>> {
        self.read(move |c| report::recent_failed(c, &queue, since, limit))
            .await
    }

    /// Every running job: its id, queue and when it started (running jobs are few: the
    /// queues' limits bound them).
    pub async fn running_jobs(&self) -> Result<Vec<(JobId, String, i64)>> {
        self.read(report::running).await
    }

    /// Every worker pool, by name.
    pub async fn pools(&self) -> Result<Vec<PoolRow>> {
        self.read(pools::list).await
    }

    /// The pool named `name`, if there is one.
    pub async fn pool(&self, name: &str) -> Result<Option<PoolRow>> {
        let name = name.to_string();
        self.read(move |c| pools::get(c, &name)).await
    }

    /// The pool serving `queue`, if any.
    pub async fn pool_serving(&self, queue: &str) -> Result<Option<PoolRow>> {
        let queue = queue.to_string();
        self.read(move |c| pools::serving(c, &queue)).await
    }

    /// Stores a new pool (checked by the caller); `Exists` if the name or the queue is taken.
    pub async fn add_pool(
        &self,
        spec: nightshift_core::worker::pool::PoolSpec,
        now: i64,
    ) -> Result<PoolRow> {
        self.write(move |c| pools::insert(c, &spec, now)).await
    }

    /// Changes a pool; `None` if there is no such pool.
    pub async fn change_pool(
        &self,
        name: &str,
        change: PoolChange,
        now: i64,
    ) -> Result<Option<PoolRow>> {
        let name = name.to_string();
        self.write(move |c| pools::update(c, &name, &change, now))
            .await
    }

    /// Makes the stored pools match the config file's (see `pools::sync_config`).
    pub async fn sync_config_pools(
        &self,
        specs: Vec<nightshift_core::worker::pool::PoolSpec>,
        now: i64,
    ) -> Result<ConfigPools> {
        self.write(move |c| pools::sync_config(c, &specs, now))
            .await
    }

    /// Removes a pool; false if there was none.
    pub async fn remove_pool(&self, name: &str) -> Result<bool> {
        let name = name.to_string();
        self.write(move |c| pools::remove(c, &name)).await
    }

    /// Running jobs per queue.
    pub async fn running_by_queue(&self) -> Result<std::collections::HashMap<String, u64>> {
        self.read(queues::running_by_queue).await
    }

    /// The earliest time a job waiting for a time becomes due.
    pub async fn next_due(&self) -> Result<Option<i64>> {
        self.read(jobs::next_due).await
    }

    /// Makes the jobs due by `now` claimable; returns the queues that gained work.
    pub async fn promote_due(&self, now: i64) -> Result<Vec<String>> {
        self.write(move |c| jobs::promote_due(c, now)).await
    }

    /// Queues that have at least one queued job.
    pub async fn queues_with_work(&self) -> Result<Vec<String>> {
        self.read(jobs::queues_with_work).await
    }

    /// Attempts a previous instance left open, with their jobs.
    pub async fn open_attempts(&self) -> Result<Vec<(Attempt, Job)>> {
        self.read(jobs::open_attempts).await
    }

    /// The job's payload bytes, if it has one.
    pub async fn payload(&self, id: JobId) -> Result<Option<Vec<u8>>> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let stored = inner.readers.with(|c| jobs::payload_ref(c, id))?;
            inner.payloads.load(stored)
        })
        .await
        .map_err(|e| StoreError::Closed(format!("payload task failed: {e}")))?
    }

    /// Removes payload files that no row refers to (left by a crash between file and commit).
    /// Call at start-up, before the API accepts work. Returns how many were removed.
    pub async fn remove_orphan_payloads(&self) -> Result<usize> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            inner
                .payloads
                .remove_orphans(|name| inner.readers.with(|c| jobs::payload_file_exists(c, name)))
        })
        .await
        .map_err(|e| StoreError::Closed(format!("payload task failed: {e}")))?
    }
}
