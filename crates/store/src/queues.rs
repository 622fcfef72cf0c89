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
    /// `None`: the config file decides.
    pub require_ac: Option<bool>,
    /// `None`: the config file decides.
    pub min_battery: Option<u8>,
}

/// What to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueChange {
    /// `Some(None)` clears the stored limit (back to the config file's).
    pub concurrency: Option<Option<u32>>,
    pub paused: Option<bool>,
    /// `Some(None)` clears the stored value (back to the config file's).
    pub require_ac: Option<Option<bool>>,
    pub min_battery: Option<Option<u8>>,
}

const COLUMNS: &str = "name, concurrency, paused, require_ac, min_battery";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueueRow> {
    Ok(QueueRow {
        name: r.get(0)?,
        concurrency: r.get(1)?,
        paused: r.get(2)?,
        require_ac: r.get(3)?,
        min_battery: r.get(4)?,
    })
}

pub(crate) fn list(c: &Connection) -> Result<Vec<QueueRow>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {COLUMNS} FROM queues ORDER BY name"))?;
    Ok(stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
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
    if let Some(require_ac) = change.require_ac {
        c.prepare_cached("UPDATE queues SET require_ac = ?2, updated_at = ?3 WHERE name = ?1")?
            .execute(params![name, require_ac, now])?;
    }
    if let Some(min_battery) = change.min_battery {
        c.prepare_cached("UPDATE queues SET min_battery = ?2, updated_at = ?3 WHERE name = ?1")?
            .execute(params![name, min_battery, now])?;
    }
    Ok(
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM queues WHERE name = ?1"))?
            .query_row([name], row)?,
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
