//! Dependencies between jobs (`add --after`): recording them at insert, releasing dependants
//! when a job succeeds, and cancelling them (down the whole chain) when it fails or is
//! cancelled. Migration 0009 explains the `waiting_on` count that keeps blocked jobs out of
//! the claim index.

use crate::{Result, StoreError};
use nightshift_core::{JobId, JobState};
use rusqlite::{Connection, params};

/// Records that `id` runs after each of `after`: a dependency that already succeeded is met; one
/// that failed or was cancelled (or does not exist) refuses the whole insert, since the job
/// could never run.
pub(crate) fn add(c: &Connection, id: JobId, after: &[JobId]) -> Result<()> {
    if after.is_empty() {
        return Ok(());
    }
    let mut edge =
        c.prepare_cached("INSERT OR IGNORE INTO job_deps (job_id, after_id) VALUES (?1, ?2)")?;
    let mut open = 0u32;
    for dep in after {
        let state = crate::jobs::state_of(c, *dep).map_err(|e| match e {
            StoreError::NotFound(_) => StoreError::NoDependency(*dep),
            e => e,
        })?;
        match state {
            JobState::Succeeded => {}
            JobState::Failed | JobState::Cancelled => {
                return Err(StoreError::Invalid(format!(
                    "--after {dep}: job {dep} has {}, so a job after it would never run \
                     (retry it first: nightshift retry {dep})",
                    if state == JobState::Failed {
                        "failed"
                    } else {
                        "been cancelled"
                    }
                )));
            }
            JobState::Queued | JobState::Running => {
                open += u32::from(edge.execute(params![id.0, dep.0])? == 1);
            }
        }
    }
    if open > 0 {
        c.prepare_cached("UPDATE jobs SET waiting_on = ?2 WHERE id = ?1")?
            .execute(params![id.0, open])?;
    }
    Ok(())
}

/// What the end of a job did to the jobs that run after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependants {
    /// Queues with jobs that may start now (their last dependency succeeded).
    pub released: Vec<String>,
    /// Jobs cancelled because a job they run after failed or was cancelled.
    pub cancelled: Vec<CancelledDependant>,
}

/// A job cancelled because a job it runs after failed or was cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelledDependant {
    pub id: JobId,
    pub queue: String,
    pub reason: String,
}

/// Settles the dependants of a job that just reached `state`: a success counts down their
/// open dependencies; a failure or cancel cancels them, and theirs in turn, saying why.
pub(crate) fn settle(c: &Connection, id: JobId, state: JobState, now: i64) -> Result<Dependants> {
    let mut out = Dependants::default();
    // Most jobs have none: one look in the index, instead of a release whose `IN (SELECT ...)`
    // and `RETURNING` build two temporary tables for every job that ends.
    let any: bool = c
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM job_deps WHERE after_id = ?1)")?
        .query_row([id.0], |r| r.get(0))?;
    if !any {
        return Ok(out);
    }
    match state {
        JobState::Succeeded => {
            let mut release = c.prepare_cached(
                // The last dependency stamps the job as ready now (`Claimed::ready_at`).
                "UPDATE jobs SET waiting_on = waiting_on - 1,
                     updated_at = CASE WHEN waiting_on = 1 THEN ?2 ELSE updated_at END
                 WHERE id IN (SELECT job_id FROM job_deps WHERE after_id = ?1)
                   AND state = 'queued' AND waiting_on > 0
                 RETURNING queue, waiting_on",
            )?;
            let rows = release.query_map(params![id.0, now], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))
            })?;
            for row in rows {
                let (queue, left) = row?;
                if left == 0 {
                    out.released.push(queue);
                }
            }
            out.released.sort();
            out.released.dedup();
        }
        JobState::Failed | JobState::Cancelled => {
            let mut dependants = c.prepare_cached(
                "SELECT j.id, j.queue FROM job_deps d JOIN jobs j ON j.id = d.job_id
                 WHERE d.after_id = ?1 AND j.state = 'queued'",
            )?;
            let mut cancel = c.prepare_cached(
                "UPDATE jobs SET state = 'cancelled', reason = ?2, updated_at = ?3, finished_at = ?3
                 WHERE id = ?1 AND state = 'queued'",
            )?;
            // Breadth first through the dependants' dependants; each is cancelled once.
            let mut ended = vec![(
                id,
                if state == JobState::Failed {
                    "failed"
                } else {
                    "was cancelled"
                },
            )];
            while let Some((done, how)) = ended.pop() {
                let ids: Vec<(i64, String)> = dependants
                    .query_map([done.0], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                for (dependant, queue) in ids {
                    let reason = format!("job {done}, which it runs after, {how}");
                    if cancel.execute(params![dependant, reason, now])? == 1 {
                        crate::counts::moved(c, &queue, JobState::Queued, JobState::Cancelled, 1)?;
                        out.cancelled.push(CancelledDependant {
                            id: JobId(dependant),
                            queue,
                            reason,
                        });
                        ended.push((JobId(dependant), "was cancelled"));
                    }
                }
            }
        }
        JobState::Queued | JobState::Running => {}
    }
    Ok(out)
}

/// The jobs `id` runs after, with their states (a removed one is left out).
pub(crate) fn dependencies(c: &Connection, id: JobId) -> Result<Vec<(JobId, JobState)>> {
    let mut stmt = c.prepare_cached(
        "SELECT d.after_id, j.state FROM job_deps d JOIN jobs j ON j.id = d.after_id
         WHERE d.job_id = ?1 ORDER BY d.after_id",
    )?;
    let rows = stmt.query_map([id.0], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (dep, state) = row?;
        out.push((JobId(dep), state.parse().map_err(StoreError::Corrupt)?));
    }
    Ok(out)
}

/// How many of the jobs `id` runs after have not succeeded yet, for a retry; a removed one
/// counts as met. Refuses if one failed or was cancelled: the job could never run.
pub(crate) fn open_count(c: &Connection, id: JobId) -> Result<u32> {
    let mut open = 0;
    for (dep, state) in dependencies(c, id)? {
        match state {
            JobState::Succeeded => {}
            JobState::Queued | JobState::Running => open += 1,
            JobState::Failed | JobState::Cancelled => {
                return Err(StoreError::Invalid(format!(
                    "job {id} runs after job {dep}, which has {}; retry job {dep} first",
                    if state == JobState::Failed {
                        "failed"
                    } else {
                        "been cancelled"
                    }
                )));
            }
        }
    }
    Ok(open)
}
