//! The kept job counts per queue and state (`queue_counts`), written by the code that changes
//! a job's state, in the same transaction (migrations 0016 and 0017 say why not triggers).
//! Every statement that inserts, deletes or changes the `state` of a row of `jobs` calls one
//! of these; the store's tests compare the counts with a GROUP BY after each such path.

use crate::Result;
use nightshift_core::JobState;
use rusqlite::{Connection, params};

/// `n` jobs of `queue` entered `state`.
pub(crate) fn add(c: &Connection, queue: &str, state: JobState, n: u64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    c.prepare_cached(
        "INSERT INTO queue_counts (queue, state, n) VALUES (?1, ?2, ?3)
         ON CONFLICT (queue, state) DO UPDATE SET n = n + excluded.n",
    )?
    .execute(params![queue, state.as_str(), n])?;
    Ok(())
}

/// `n` jobs of `queue` left `state` (by a change of state or a delete).
pub(crate) fn take(c: &Connection, queue: &str, state: JobState, n: u64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    c.prepare_cached("UPDATE queue_counts SET n = n - ?3 WHERE queue = ?1 AND state = ?2")?
        .execute(params![queue, state.as_str(), n])?;
    Ok(())
}

/// `n` jobs of `queue` went from `from` to `to`.
pub(crate) fn moved(
    c: &Connection,
    queue: &str,
    from: JobState,
    to: JobState,
    n: u64,
) -> Result<()> {
    if from != to {
        take(c, queue, from, n)?;
        add(c, queue, to, n)?;
    }
    Ok(())
}
