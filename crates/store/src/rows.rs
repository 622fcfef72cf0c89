//! Turning rows into domain types.

use crate::StoreError;
use nightshift_core::{Attempt, AttemptOutcome, Job, JobId, JobSpec, JobState};
use rusqlite::Row;
use std::path::PathBuf;

pub(crate) const JOB_COLUMNS: &str = "id, state, queue, priority, program, args, shell, env, cwd, \
    timeout_ms, max_attempts, notify, payload_size, attempts_used, attempt_count, created_at, \
    updated_at, started_at, finished_at, exit_code, signal, reason, run_at, unique_key, \
    require_ac, min_battery, on_power_loss, power_held, waiting_on, leave_running";

pub(crate) const ATTEMPT_COLUMNS: &str = "id, job_id, number, pid, pgid, start_ticks, boot_id, \
    started_at, ended_at, exit_code, signal, outcome, cpu_ms, peak_rss_bytes, worker, result";

/// An optional power-loss action column (jobs and queues store it the same way).
pub(crate) fn on_power_loss(
    row: &Row<'_>,
    column: usize,
) -> rusqlite::Result<Option<nightshift_core::OnPowerLoss>> {
    row.get::<_, Option<String>>(column)?
        .map(|a| a.parse().map_err(|e| corrupt("power-loss action", e)))
        .transpose()
}

/// A stored value that does not read back, as the row mapper's error.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::new(StoreError::Corrupt(format!("{what}: {e}"))),
    )
}

/// A job from a row selected with `JOB_COLUMNS`.
pub(crate) fn job(row: &Row<'_>) -> rusqlite::Result<Job> {
    let state: String = row.get(1)?;
    let args: String = row.get(5)?;
    let env: String = row.get(7)?;
    Ok(Job {
        id: JobId(row.get(0)?),
        state: state
            .parse::<JobState>()
            .map_err(|e| corrupt("job state", e))?,
        spec: JobSpec {
            queue: row.get(2)?,
            priority: row.get(3)?,
            program: row.get(4)?,
            args: serde_json::from_str(&args).map_err(|e| corrupt("job args", e))?,
            shell: row.get(6)?,
            env: serde_json::from_str(&env).map_err(|e| corrupt("job env", e))?,
            cwd: row.get::<_, Option<String>>(8)?.map(PathBuf::from),
            timeout_ms: row.get::<_, Option<i64>>(9)?.map(|t| t as u64),
            max_attempts: row.get(10)?,
            notify: row.get(11)?,
            unique_key: row.get(23)?,
            require_ac: row.get(24)?,
            min_battery: row.get(25)?,
            on_power_loss: on_power_loss(row, 26)?,
            leave_running: row.get(29)?,
        },
        payload_size: row.get::<_, Option<i64>>(12)?.map(|s| s as u64),
        attempts_used: row.get(13)?,
        attempt_count: row.get(14)?,
        created_at: row.get(15)?,
        updated_at: row.get(16)?,
        started_at: row.get(17)?,
        finished_at: row.get(18)?,
        exit_code: row.get(19)?,
        signal: row.get(20)?,
        reason: row.get(21)?,
        run_at: row.get(22)?,
        power_held: row.get(27)?,
        waiting_on: row.get(28)?,
    })
}

pub(crate) fn attempt(row: &Row<'_>) -> rusqlite::Result<Attempt> {
    let outcome: String = row.get(11)?;
    Ok(Attempt {
        id: row.get(0)?,
        job_id: JobId(row.get(1)?),
        number: row.get(2)?,
        pid: row.get(3)?,
        pgid: row.get(4)?,
        start_ticks: row.get::<_, Option<i64>>(5)?.map(|t| t as u64),
        boot_id: row.get(6)?,
        started_at: row.get(7)?,
        ended_at: row.get(8)?,
        exit_code: row.get(9)?,
        signal: row.get(10)?,
        outcome: AttemptOutcome::parse(&outcome)
            .ok_or_else(|| corrupt("attempt outcome", &outcome))?,
        cpu_ms: row.get::<_, Option<i64>>(12)?.map(|n| n.max(0) as u64),
        peak_rss_bytes: row.get::<_, Option<i64>>(13)?.map(|n| n.max(0) as u64),
        worker: row.get(14)?,
        // A value that does not parse (it was stored as the worker sent it) reads as its text.
        result: row
            .get::<_, Option<String>>(15)?
            .map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))),
    })
}
