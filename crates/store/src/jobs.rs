//! Queries on jobs and attempts. Every statement here is prepared once per connection.

use crate::payload::{Prepared, Stored};
use crate::rows::{ATTEMPT_COLUMNS, JOB_COLUMNS, attempt, job};
use crate::{Dependants, PowerNow, Result, StoreError};
use nightshift_core::{Attempt, AttemptOutcome, Job, JobId, JobSpec, JobState};
use rusqlite::{Connection, OptionalExtension, params};

/// A job to store.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub spec: JobSpec,
    /// Not before this time (Unix ms); `None` runs as soon as a slot is free.
    pub run_at: Option<i64>,
    /// The JSON payload's bytes; the caller has checked its size against the configured cap.
    pub payload: Option<Vec<u8>>,
    /// Jobs that must succeed before this one may start (`--after`).
    pub after: Vec<JobId>,
}

/// A job just claimed for running, with its new attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub job: Job,
    pub attempt_id: i64,
    pub attempt_number: u32,
    /// When the job became ready to run (added, due, released by its dependencies, retried or
    /// sent back): its wait for a slot is measured from here.
    pub ready_at: i64,
}

impl Claimed {
    /// When the claim was made (the job's `started_at`, which the claim sets).
    pub fn claimed_at(&self) -> i64 {
        self.job.started_at.unwrap_or(self.ready_at)
    }

    /// How long the job waited for a slot, from ready to claimed, in milliseconds.
    pub fn waited_ms(&self) -> u64 {
        self.claimed_at().saturating_sub(self.ready_at).max(0) as u64
    }
}

/// A claim to run with an attempt's end (`Store::finish_then_claim`): up to `limit` jobs of
/// `queue` that may start under `power`, as `Store::claim_or_hold` takes them.
#[derive(Debug, Clone)]
pub struct ClaimAsk {
    pub queue: String,
    pub limit: u32,
    pub now: i64,
    pub power: PowerNow,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub struct Finish {
    pub job: JobId,
    pub attempt: i64,
    pub outcome: AttemptOutcome,
    /// Whether this attempt counts against the job's max attempts.
    pub consume: bool,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub reason: Option<String>,
    pub now: i64,
    /// When a failed job goes back to its queue, not before this time (the retry backoff).
    pub retry_at: Option<i64>,
    /// Set when Nightshift's own crash ended the attempt (start-up recovery found it open): the
    /// attempt is not charged, it counts as an interruption in a row instead, and the job fails
    /// when this many have happened in a row.
    pub crash_limit: Option<u32>,
    /// What the attempt's process group used, if it was sampled.
    pub usage: Option<nightshift_core::AttemptUsage>,
    /// The value a worker's result carried (JSON), kept with the attempt.
    pub result: Option<String>,
    /// For an attempt a worker ran: the worker ("pool/slot") and its pid, recorded with the
    /// end (the worker's own tag, not the attempt's identity, is what recovery ends it by).
    pub worker: Option<(String, i32)>,
}

/// Listing filters, newest first, with keyset pagination on the id.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub state: Option<JobState>,
    pub queue: Option<String>,
    /// Only jobs with a smaller id (the last id of the previous page).
    pub before: Option<JobId>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelResult {
    /// Cancelled, with its queue and what that did to the jobs that run after it.
    Cancelled {
        queue: String,
        dependants: Dependants,
    },
    /// The job was not queued (it is running or already finished).
    NotQueued(JobState),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCount {
    pub queue: String,
    pub state: JobState,
    pub count: u64,
}

/// One job handed to the store, as it was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    /// The new job's id, or the existing job's when `existing`.
    pub id: JobId,
    /// An existing job (queued or running, or earlier in the same batch) had the job's unique
    /// key, so nothing was inserted for it. Known inside the insert's transaction, so callers
    /// need not guess from timestamps afterwards.
    pub existing: bool,
}

/// Inserts the jobs; returns for each its id (an existing job's for a unique key already queued
/// or running) and the payload files of the jobs not inserted, to be removed.
pub(crate) fn insert(
    c: &Connection,
    jobs: &[Prepared],
    now: i64,
) -> Result<(Vec<Inserted>, Vec<String>)> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO jobs (state, queue, priority, program, args, shell, env, cwd, timeout_ms,
             max_attempts, notify, payload, payload_file, payload_size, created_at, updated_at,
             run_at, unique_key, require_ac, min_battery, on_power_loss, leave_running)
         VALUES ('queued', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?15, ?16,
                 ?17, ?18, ?19, ?20)",
    )?;
    let mut existing = c.prepare_cached(
        "SELECT id FROM jobs WHERE unique_key = ?1 AND state IN ('queued', 'running')",
    )?;
    let mut ids = Vec::with_capacity(jobs.len());
    let mut unused = Vec::new();
    let mut added: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for p in jobs {
        let s = &p.spec;
        // Same transaction as the insert, so two adds of one key cannot both get through.
        if let Some(key) = &s.unique_key
            && let Some(id) = existing
                .query_row([key], |r| r.get::<_, i64>(0))
                .optional()?
        {
            ids.push(Inserted {
                id: JobId(id),
                existing: true,
            });
            if let Some(Stored::File { name, .. }) = &p.payload {
                unused.push(name.clone());
            }
            continue;
        }
        let (inline, file, size) = match &p.payload {
            None => (None, None, None),
            Some(Stored::Inline(b)) => (Some(b.as_slice()), None, Some(b.len() as i64)),
            Some(Stored::File { name, size }) => (None, Some(name.as_str()), Some(*size as i64)),
        };
        let args = serde_json::to_string(&s.args).expect("strings serialise");
        let env = serde_json::to_string(&s.env).expect("strings serialise");
        stmt.execute(params![
            s.queue,
            s.priority,
            s.program,
            args,
            s.shell,
            env,
            s.cwd.as_ref().map(|p| p.to_string_lossy().to_string()),
            s.timeout_ms.map(|t| t as i64),
            s.max_attempts,
            s.notify,
            inline,
            file,
            size,
            now,
            p.run_at.filter(|at| *at > now),
            s.unique_key,
            s.require_ac,
            s.min_battery.filter(|m| *m > 0),
            s.on_power_loss.map(|a| a.as_str()),
            s.leave_running,
        ])?;
        let id = JobId(c.last_insert_rowid());
        crate::deps::add(c, id, &p.after)?;
        ids.push(Inserted {
            id,
            existing: false,
        });
        *added.entry(s.queue.as_str()).or_default() += 1;
    }
    // The counts of new jobs, once per queue for the whole batch.
    for (queue, n) in added {
        crate::counts::add(c, queue, JobState::Queued, n)?;
    }
    Ok((ids, unused))
}

pub(crate) fn claim(
    c: &Connection,
    queue: &str,
    limit: u32,
    now: i64,
    power: PowerNow,
) -> Result<(Vec<Claimed>, usize)> {
    if limit == 0 {
        return Ok((Vec::new(), 0));
    }
    let held = crate::power_hold::hold_for_power(c, queue, limit, power)?;
    // Read, then marked running one by one: an `UPDATE ... WHERE id IN (SELECT ...) RETURNING`
    // builds two temporary tables on every claim (the subquery's and RETURNING's), which made
    // the claim a fifth of the store's work per job. The transaction makes the two steps one.
    // `CAST(?2 ...)`, not a bare `?2`: SQLite prepares a statement anew each time a bare LIMIT
    // parameter is bound (see xtask's tidy test `no_store_statement_binds_a_bare_limit`).
    let mut next = c.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs INDEXED BY jobs_claim
         WHERE state = 'queued' AND run_at IS NULL AND power_held = 0 AND waiting_on = 0
           AND queue = ?1
         ORDER BY priority DESC, id LIMIT CAST(?2 AS INTEGER)"
    ))?;
    let mut jobs: Vec<Job> = next
        .query_map(params![queue, limit], job)?
        .collect::<rusqlite::Result<_>>()?;
    let mut start = c.prepare_cached(
        "UPDATE jobs SET state = 'running', updated_at = ?2, started_at = ?2,
             attempt_count = attempt_count + 1, reason = NULL, exit_code = NULL, signal = NULL
         WHERE id = ?1",
    )?;
    // Before the update below: the row's last change is when it became ready (see
    // `promote_due` and `deps::settle`, which stamp it).
    let ready: Vec<i64> = jobs.iter().map(|j| j.updated_at.min(now)).collect();
    for job in &mut jobs {
        start.execute(params![job.id.0, now])?;
        // What the update did, without reading the row again.
        job.state = JobState::Running;
        job.updated_at = now;
        job.started_at = Some(now);
        job.attempt_count = job.attempt_count.saturating_add(1);
        job.reason = None;
        job.exit_code = None;
        job.signal = None;
    }
    crate::counts::moved(
        c,
        queue,
        JobState::Queued,
        JobState::Running,
        jobs.len() as u64,
    )?;
    let mut open = c.prepare_cached(
        "INSERT INTO attempts (job_id, number, started_at, outcome) VALUES (?1, ?2, ?3, 'starting')",
    )?;
    let mut claimed = Vec::with_capacity(jobs.len());
    for (job, ready_at) in jobs.into_iter().zip(ready) {
        open.execute(params![job.id.0, job.attempt_count, now])?;
        claimed.push(Claimed {
            attempt_id: c.last_insert_rowid(),
            attempt_number: job.attempt_count,
            ready_at,
            job,
        });
    }
    Ok((claimed, held))
}

pub(crate) fn set_identity(
    c: &Connection,
    attempt: i64,
    pid: i32,
    start_ticks: Option<u64>,
    boot_id: Option<&str>,
) -> Result<()> {
    let changed = c
        .prepare_cached(
            "UPDATE attempts SET pid = ?2, pgid = ?2, start_ticks = ?3, boot_id = ?4, outcome = 'running'
             WHERE id = ?1 AND outcome = 'starting'",
        )?
        .execute(params![attempt, pid, start_ticks.map(|t| t as i64), boot_id])?;
    if changed == 0 {
        return Err(StoreError::Corrupt(format!(
            "attempt {attempt} is not starting"
        )));
    }
    Ok(())
}

/// A recorded end of an attempt: where the job is now, and what that did to its dependants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub state: JobState,
    pub dependants: Dependants,
}

pub(crate) fn finish(c: &Connection, f: &Finish) -> Result<Ended> {
    // Only an open attempt of a running job can end: anything else is a bug or a race, and
    // must not overwrite the job's state.
    let (used, max, state, interruptions, queue): (u32, u32, String, u32, String) = c
        .prepare_cached(
            "SELECT attempts_used, max_attempts, state, interruptions, queue FROM jobs WHERE id = ?1",
        )?
        .query_row([f.job.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?
        .ok_or(StoreError::NotFound(f.job))?;
    let closed = c
        .prepare_cached(
            "UPDATE attempts SET ended_at = ?2, exit_code = ?3, signal = ?4, outcome = ?5,
                                 cpu_ms = ?7, peak_rss_bytes = ?8, result = ?9,
                                 worker = coalesce(?10, worker), pid = coalesce(?11, pid),
                                 pgid = coalesce(?11, pgid)
             WHERE id = ?1 AND job_id = ?6 AND outcome IN ('starting', 'running')",
        )?
        .execute(params![
            f.attempt,
            f.now,
            f.exit_code,
            f.signal,
            f.outcome.as_str(),
            f.job.0,
            f.usage.map(|u| i64::try_from(u.cpu_ms).unwrap_or(i64::MAX)),
            f.usage
                .map(|u| i64::try_from(u.peak_rss_bytes).unwrap_or(i64::MAX)),
            f.result,
            f.worker.as_ref().map(|(name, _)| name.as_str()),
            f.worker.as_ref().map(|(_, pid)| *pid),
        ])?;
    if closed == 0 || state != "running" {
        return Err(StoreError::WrongState {
            id: f.job,
            state: state.parse().map_err(StoreError::Corrupt)?,
            message: format!("attempt {} is not open", f.attempt),
        });
    }
    let used = used.saturating_add(u32::from(f.consume));
    // Nightshift's own crashes in a row; a graceful stop or a power-loss requeue (interrupted,
    // but no crash) leaves the count as it was, any other end clears it.
    let interruptions = match (f.crash_limit, f.outcome) {
        (Some(_), _) => interruptions.saturating_add(1),
        (None, AttemptOutcome::Interrupted) => interruptions,
        (None, _) => 0,
    };
    let too_many_crashes = f.crash_limit.is_some_and(|limit| interruptions >= limit);
    let next = match f.outcome {
        AttemptOutcome::Succeeded => JobState::Succeeded,
        AttemptOutcome::Cancelled => JobState::Cancelled,
        _ if f.consume && used >= max => JobState::Failed,
        _ if too_many_crashes => JobState::Failed,
        _ => JobState::Queued,
    };
    let reason = if too_many_crashes && next == JobState::Failed {
        // What interrupted the last attempt (Nightshift's crash, or its worker's death), then
        // why the job stops here.
        let last = f
            .reason
            .as_deref()
            .map(|r| r.trim_end_matches("; the job went back to its queue"))
            .unwrap_or("interrupted");
        Some(format!(
            "{last}; after {interruptions} interruptions of this job in a row it is not run \
             again, in case it is what brings Nightshift, its worker or the machine down \
             (jobs.max_interruptions; `nightshift retry` runs it again)"
        ))
    } else {
        f.reason.clone()
    };
    let finished_at = next.is_final().then_some(f.now);
    // Only a failure that goes back to its queue waits out the backoff.
    let run_at = (next == JobState::Queued && f.consume)
        .then_some(f.retry_at)
        .flatten();
    c.prepare_cached(
        "UPDATE jobs SET state = ?2, attempts_used = ?3, updated_at = ?4, finished_at = ?5,
             exit_code = ?6, signal = ?7, reason = ?8, run_at = ?9, interruptions = ?10
         WHERE id = ?1",
    )?
    .execute(params![
        f.job.0,
        next.as_str(),
        used,
        f.now,
        finished_at,
        f.exit_code,
        f.signal,
        reason,
        run_at,
        interruptions
    ])?;
    crate::counts::moved(c, &queue, JobState::Running, next, 1)?;
    let dependants = crate::deps::settle(c, f.job, next, f.now)?;
    Ok(Ended {
        state: next,
        dependants,
    })
}

pub(crate) fn state_of(c: &Connection, id: JobId) -> Result<JobState> {
    Ok(state_and_queue(c, id)?.0)
}

/// A job's state and queue: what the counts need before its state changes.
fn state_and_queue(c: &Connection, id: JobId) -> Result<(JobState, String)> {
    let (state, queue): (String, String) = c
        .prepare_cached("SELECT state, queue FROM jobs WHERE id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or(StoreError::NotFound(id))?;
    Ok((state.parse().map_err(StoreError::Corrupt)?, queue))
}

pub(crate) fn cancel_queued(
    c: &Connection,
    id: JobId,
    reason: &str,
    now: i64,
) -> Result<CancelResult> {
    let (state, queue) = state_and_queue(c, id)?;
    if state == JobState::Queued {
        c.prepare_cached(
            "UPDATE jobs SET state = 'cancelled', reason = ?2, updated_at = ?3, finished_at = ?3
             WHERE id = ?1",
        )?
        .execute(params![id.0, reason, now])?;
        crate::counts::moved(c, &queue, state, JobState::Cancelled, 1)?;
        let dependants = crate::deps::settle(c, id, JobState::Cancelled, now)?;
        Ok(CancelResult::Cancelled { queue, dependants })
    } else {
        Ok(CancelResult::NotQueued(state))
    }
}

pub(crate) fn retry(c: &Connection, id: JobId, now: i64) -> Result<Job> {
    let (state, queue) = state_and_queue(c, id)?;
    if !state.is_final() {
        return Err(StoreError::WrongState {
            id,
            state,
            message: "only a finished job can be retried".into(),
        });
    }
    // Its unique key may belong to a newer job now (a schedule's next run, say).
    let clash: Option<i64> = c
        .prepare_cached(
            "SELECT other.id FROM jobs me JOIN jobs other ON other.unique_key = me.unique_key
             WHERE me.id = ?1 AND other.id <> ?1 AND other.state IN ('queued', 'running')",
        )?
        .query_row([id.0], |r| r.get(0))
        .optional()?;
    if let Some(other) = clash {
        return Err(StoreError::WrongState {
            id,
            state,
            message: format!(
                "job {other} with the same unique key is queued or running; retry this one \
                 when it has finished"
            ),
        });
    }
    // The jobs it runs after as they are now: one that can no longer succeed refuses the retry.
    let waiting_on = crate::deps::open_count(c, id)?;
    c.prepare_cached(
        "UPDATE jobs SET state = 'queued', attempts_used = 0, interruptions = 0, updated_at = ?2, finished_at = NULL,
             exit_code = NULL, signal = NULL, reason = NULL, run_at = NULL, power_held = 0,
             waiting_on = ?3
         WHERE id = ?1",
    )?
    .execute(params![id.0, now, waiting_on])?;
    crate::counts::moved(c, &queue, state, JobState::Queued, 1)?;
    get(c, id)?.ok_or(StoreError::NotFound(id))
}

pub(crate) fn remove(c: &Connection, id: JobId) -> Result<Option<String>> {
    let (state, queue) = state_and_queue(c, id)?;
    if !state.is_final() {
        return Err(StoreError::WrongState {
            id,
            state,
            message: "cancel it before removing it".into(),
        });
    }
    let file: Option<String> = c
        .prepare_cached("DELETE FROM jobs WHERE id = ?1 RETURNING payload_file")?
        .query_row([id.0], |r| r.get(0))?;
    crate::counts::take(c, &queue, state, 1)?;
    Ok(file)
}

pub(crate) fn get(c: &Connection, id: JobId) -> Result<Option<Job>> {
    Ok(
        c.prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"))?
            .query_row([id.0], job)
            .optional()?,
    )
}

pub(crate) fn attempts(c: &Connection, id: JobId) -> Result<Vec<Attempt>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE job_id = ?1 ORDER BY number"
    ))?;
    Ok(stmt
        .query_map([id.0], attempt)?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn list(c: &Connection, f: &ListFilter) -> Result<Vec<Job>> {
    // One statement per filter combination: an `(?1 IS NULL OR state = ?1)` form plans as a
    // full table scan, where these walk the (state, id) or (queue, id) index backwards. Each
    // names ?4, so all four parameters bind whichever are used.
    let filter = match (f.state.is_some(), f.queue.is_some()) {
        (false, false) => "",
        (true, false) => "state = ?1 AND",
        (false, true) => "queue = ?2 AND",
        (true, true) => "state = ?1 AND queue = ?2 AND",
    };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE {filter} id < ?3 ORDER BY id DESC LIMIT CAST(?4 AS INTEGER)"
    ))?;
    let before = f.before.map_or(i64::MAX, |b| b.0);
    let rows = stmt.query_map(
        params![f.state.map(|s| s.as_str()), f.queue, before, f.limit],
        job,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn states(c: &Connection, ids: &[JobId]) -> Result<Vec<(JobId, JobState)>> {
    let mut stmt = c.prepare_cached("SELECT state FROM jobs WHERE id = ?1")?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(state) = stmt
            .query_row([id.0], |r| r.get::<_, String>(0))
            .optional()?
        {
            out.push((*id, state.parse().map_err(StoreError::Corrupt)?));
        }
    }
    Ok(out)
}

/// Jobs per queue and state, kept by the store's writes (`counts.rs`): a few rows, whatever the size
/// of the table. Pairs whose jobs have all been removed are left out.
pub(crate) fn queue_counts(c: &Connection) -> Result<Vec<QueueCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT queue, state, n FROM queue_counts WHERE n > 0 ORDER BY queue, state",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (queue, state, count) = row?;
        out.push(QueueCount {
            queue,
            state: state.parse().map_err(StoreError::Corrupt)?,
            count: count as u64,
        });
    }
    Ok(out)
}

/// Jobs per state (every state present), the sums of the per-queue counts.
pub(crate) fn state_counts(c: &Connection) -> Result<std::collections::BTreeMap<JobState, u64>> {
    let mut counts: std::collections::BTreeMap<JobState, u64> =
        JobState::ALL.into_iter().map(|s| (s, 0)).collect();
    let mut stmt = c.prepare_cached("SELECT state, sum(n) FROM queue_counts GROUP BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (state, n) = row?;
        counts.insert(state.parse().map_err(StoreError::Corrupt)?, n as u64);
    }
    Ok(counts)
}

pub(crate) fn queues_with_work(c: &Connection) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT DISTINCT queue FROM jobs
         WHERE state = 'queued' AND run_at IS NULL AND power_held = 0 AND waiting_on = 0",
    )?;
    Ok(stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn open_attempts(c: &Connection) -> Result<Vec<(Attempt, Job)>> {
    let cols: String = ATTEMPT_COLUMNS
        .split(", ")
        .map(|col| format!("a.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {cols} FROM attempts a WHERE a.outcome IN ('starting', 'running') ORDER BY a.id"
    ))?;
    let open: Vec<Attempt> = stmt
        .query_map([], attempt)?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(open.len());
    for a in open {
        let job = get(c, a.job_id)?.ok_or(StoreError::NotFound(a.job_id))?;
        out.push((a, job));
    }
    Ok(out)
}

/// A row's payload columns: inline bytes, file name, size.
type PayloadColumns = (Option<Vec<u8>>, Option<String>, Option<i64>);

pub(crate) fn payload_ref(c: &Connection, id: JobId) -> Result<Option<Stored>> {
    let row: Option<PayloadColumns> = c
        .prepare_cached("SELECT payload, payload_file, payload_size FROM jobs WHERE id = ?1")?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (inline, file, size) = row.ok_or(StoreError::NotFound(id))?;
    Ok(match (inline, file) {
        (Some(bytes), _) => Some(Stored::Inline(bytes)),
        (None, Some(name)) => Some(Stored::File {
            name,
            size: size.unwrap_or(0) as u64,
        }),
        (None, None) => None,
    })
}

pub(crate) fn payload_file_exists(c: &Connection, name: &str) -> Result<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM jobs WHERE payload_file = ?1")?
            .query_row([name], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

/// The earliest time a waiting job becomes due.
pub(crate) fn next_due(c: &Connection) -> Result<Option<i64>> {
    Ok(c
        // INDEXED BY: without statistics the planner may prefer the state index, which would
        // walk every queued job; this one is ordered by run_at.
        .prepare_cached(
            "SELECT min(run_at) FROM jobs INDEXED BY jobs_due WHERE state = 'queued' AND run_at IS NOT NULL",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Makes every job due by `now` claimable; returns the queues that gained work.
pub(crate) fn promote_due(c: &Connection, now: i64) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        // Stamped with when it became due, the start of its wait for a slot (`Claimed::ready_at`).
        "UPDATE jobs INDEXED BY jobs_due SET run_at = NULL, updated_at = run_at
         WHERE state = 'queued' AND run_at IS NOT NULL AND run_at <= ?1
         RETURNING queue",
    )?;
    let mut queues: Vec<String> = stmt
        .query_map([now], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    queues.sort();
    queues.dedup();
    Ok(queues)
}
