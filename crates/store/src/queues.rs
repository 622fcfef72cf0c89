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
    /// `None`: the config file decides (the rest too).
    pub on_power_loss: Option<nightshift_core::OnPowerLoss>,
    pub battery_concurrency: Option<u32>,
    pub timeout_ms: Option<u64>,
    pub max_attempts: Option<u32>,
    pub retry_backoff_ms: Option<u64>,
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
    pub on_power_loss: Option<Option<nightshift_core::OnPowerLoss>>,
    pub battery_concurrency: Option<Option<u32>>,
    pub timeout_ms: Option<Option<u64>>,
    pub max_attempts: Option<Option<u32>>,
    pub retry_backoff_ms: Option<Option<u64>>,
}

const COLUMNS: &str = "name, concurrency, paused, require_ac, min_battery, on_power_loss, \
    battery_concurrency, timeout_ms, max_attempts, retry_backoff_ms";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueueRow> {
    Ok(QueueRow {
        name: r.get(0)?,
        concurrency: r.get(1)?,
        paused: r.get(2)?,
        require_ac: r.get(3)?,
        min_battery: r.get(4)?,
        on_power_loss: crate::rows::on_power_loss(r, 5)?,
        battery_concurrency: r.get(6)?,
        timeout_ms: r.get::<_, Option<i64>>(7)?.map(|t| t as u64),
        max_attempts: r.get(8)?,
        retry_backoff_ms: r.get::<_, Option<i64>>(9)?.map(|t| t as u64),
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
    // One statement per column (a fixed set, so no SQL is built from input).
    let set = |column: &str, value: &dyn rusqlite::ToSql| -> Result<()> {
        c.prepare_cached(&format!(
            "UPDATE queues SET {column} = ?2, updated_at = ?3 WHERE name = ?1"
        ))?
        .execute(params![name, value, now])?;
        Ok(())
    };
    if let Some(v) = change.concurrency {
        set("concurrency", &v)?;
    }
    if let Some(v) = change.paused {
        set("paused", &v)?;
    }
    if let Some(v) = change.require_ac {
        set("require_ac", &v)?;
    }
    if let Some(v) = change.min_battery {
        set("min_battery", &v)?;
    }
    if let Some(v) = change.on_power_loss {
        set("on_power_loss", &v.map(|a| a.as_str()))?;
    }
    if let Some(v) = change.battery_concurrency {
        set("battery_concurrency", &v)?;
    }
    if let Some(v) = change.timeout_ms {
        set("timeout_ms", &v.map(|t| t as i64))?;
    }
    if let Some(v) = change.max_attempts {
        set("max_attempts", &v)?;
    }
    if let Some(v) = change.retry_backoff_ms {
        set("retry_backoff_ms", &v.map(|t| t as i64))?;
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
