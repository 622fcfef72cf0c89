//! What the report reads of the jobs table: the commands that failed most in a window, and the
//! jobs that ran longest. Each reads the jobs of the state it asks for (through the state
//! index), checks when they finished, and keeps a few: a report's cost, not a dispatch's.

use crate::Result;
use nightshift_core::JobId;
use rusqlite::{Connection, params};

/// Failed jobs that finished from `since` on, grouped by command (program, arguments, shell):
/// each group's count and its newest job, most failures first.
pub(crate) fn failed_commands(
    c: &Connection,
    since: i64,
    limit: usize,
) -> Result<Vec<(u64, JobId)>> {
    let mut stmt = c.prepare_cached(
        "SELECT count(*), max(id) FROM jobs INDEXED BY jobs_state
         WHERE state = 'failed' AND finished_at >= ?1
         GROUP BY program, args, shell
         ORDER BY count(*) DESC, max(id) DESC
         LIMIT CAST(?2 AS INTEGER)",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![since, limit], |r| {
        Ok((r.get::<_, i64>(0)?.max(0) as u64, JobId(r.get(1)?)))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Jobs that succeeded or failed from `since` on, longest first, with how long they ran (from
/// their last start to their end), in milliseconds.
pub(crate) fn slowest(c: &Connection, since: i64, limit: usize) -> Result<Vec<(JobId, u64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, finished_at - started_at AS took FROM jobs INDEXED BY jobs_state
         WHERE state IN ('succeeded', 'failed') AND finished_at >= ?1 AND started_at IS NOT NULL
         ORDER BY took DESC, id DESC
         LIMIT CAST(?2 AS INTEGER)",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![since, limit], |r| {
        Ok((JobId(r.get(0)?), r.get::<_, i64>(1)?.max(0) as u64))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Jobs of `queue` that failed from `since` on, newest first, among the latest 2,000 failed.
pub(crate) fn recent_failed(
    c: &Connection,
    queue: &str,
    since: i64,
    limit: usize,
) -> Result<Vec<JobId>> {
    let mut stmt = c.prepare_cached(
        "SELECT id FROM (SELECT id, queue, finished_at FROM jobs INDEXED BY jobs_state
                         WHERE state = 'failed' ORDER BY id DESC LIMIT 2000)
         WHERE queue = ?1 AND finished_at >= ?2 ORDER BY id DESC LIMIT CAST(?3 AS INTEGER)",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![queue, since, limit], |r| Ok(JobId(r.get(0)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every running job with its queue and start.
pub(crate) fn running(c: &Connection) -> Result<Vec<(JobId, String, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, queue, COALESCE(started_at, created_at) FROM jobs INDEXED BY jobs_state
         WHERE state = 'running'",
    )?;
    let rows = stmt.query_map([], |r| Ok((JobId(r.get(0)?), r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
