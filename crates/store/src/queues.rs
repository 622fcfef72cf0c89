//! Queue settings changed at run time, and running counts per queue.

use crate::Result;
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// A queue's stored settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    pub name: String,
    /// `None`: the config file decides.
    pub concurrency: Option<u32>,
    pub paused: bool,
}

/// What to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueChange {
    /// `Some(None)` clears the stored limit (back to the config file's).
    pub concurrency: Option<Option<u32>>,
    pub paused: Option<bool>,
}

pub(crate) fn list(c: &Connection) -> Result<Vec<QueueRow>> {
    let mut stmt =
        c.prepare_cached("SELECT name, concurrency, paused FROM queues ORDER BY name")?;
    let rows = stmt.query_map([], |r| {
        Ok(QueueRow {
            name: r.get(0)?,
            concurrency: r.get(1)?,
            paused: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn upsert(
    c: &Connection,
    name: &str,
    change: &QueueChange,
    now: i64,
) -> Result<QueueRow> {
    c.prepare_cached(
        "INSERT INTO queues (name, concurrency, paused, created_at, updated_at)
         VALUES (?1, NULL, 0, ?2, ?2) ON CONFLICT (name) DO NOTHING",
    )?
    .execute(params![name, now])?;
    if let Some(concurrency) = change.concurrency {
        c.prepare_cached("UPDATE queues SET concurrency = ?2, updated_at = ?3 WHERE name = ?1")?
            .execute(params![name, concurrency, now])?;
    }
    if let Some(paused) = change.paused {
        c.prepare_cached("UPDATE queues SET paused = ?2, updated_at = ?3 WHERE name = ?1")?
            .execute(params![name, paused, now])?;
    }
    Ok(
        c.prepare_cached("SELECT name, concurrency, paused FROM queues WHERE name = ?1")?
            .query_row([name], |r| {
                Ok(QueueRow {
                    name: r.get(0)?,
                    concurrency: r.get(1)?,
                    paused: r.get(2)?,
                })
            })?,
    )
}

/// Running jobs per queue, through the state index (there are few running jobs).
pub(crate) fn running_by_queue(c: &Connection) -> Result<HashMap<String, u64>> {
    let mut stmt = c.prepare_cached(
        "SELECT queue, count(*) FROM jobs WHERE state = 'running' GROUP BY queue",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
