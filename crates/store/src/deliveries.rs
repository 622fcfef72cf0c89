//! The delivery log of alerts sent to webhooks (`crates/alerts` sends them): each alert and
//! receiver is a row, pending until it is delivered or given up.

use crate::{Result, StoreError};
pub use nightshift_core::incident::Delivery;
use rusqlite::{Connection, params};

/// A new delivery to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub incident: i64,
    pub alert: String,
    pub url: String,
    pub body: String,
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempted {
    Delivered {
        status: u16,
    },
    /// Tried again at `next_at`.
    Retry {
        status: Option<u16>,
        error: String,
        next_at: i64,
    },
    /// Given up.
    Failed {
        status: Option<u16>,
        error: String,
    },
}

const COLUMNS: &str = "id, incident, alert, url, state, attempts, last_status, last_error, \
                       created_at, next_at, done_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        incident: r.get(1)?,
        alert: r.get(2)?,
        url: r.get(3)?,
        state: r.get(4)?,
        attempts: r.get(5)?,
        last_status: r.get(6)?,
        last_error: r.get(7)?,
        created_at: r.get(8)?,
        next_at: r.get(9)?,
        done_at: r.get(10)?,
    })
}

pub(crate) fn insert(c: &Connection, new: &[NewDelivery], now: i64) -> Result<Vec<i64>> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO alert_deliveries (incident, alert, url, body, state, created_at, next_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
    )?;
    let mut ids = Vec::with_capacity(new.len());
    for d in new {
        stmt.execute(params![d.incident, d.alert, d.url, d.body, now])?;
        ids.push(c.last_insert_rowid());
    }
    Ok(ids)
}

/// Records an attempt at delivery `id`.
pub(crate) fn attempted(c: &Connection, id: i64, how: &Attempted, now: i64) -> Result<()> {
    let (state, status, error, next_at, done_at) = match how {
        Attempted::Delivered { status } => ("delivered", Some(*status), None, None, Some(now)),
        Attempted::Retry {
            status,
            error,
            next_at,
        } => (
            "pending",
            *status,
            Some(error.as_str()),
            Some(*next_at),
            None,
        ),
        Attempted::Failed { status, error } => {
            ("failed", *status, Some(error.as_str()), None, Some(now))
        }
    };
    let n = c
        .prepare_cached(
            "UPDATE alert_deliveries SET state = ?2, attempts = attempts + 1, last_status = ?3,
                 last_error = ?4, next_at = ?5, done_at = ?6
             WHERE id = ?1",
        )?
        .execute(params![id, state, status, error, next_at, done_at])?;
    if n == 0 {
        return Err(StoreError::Corrupt(format!("delivery {id} vanished")));
    }
    Ok(())
}

/// Pending deliveries with their bodies, soonest first.
pub(crate) fn pending(c: &Connection) -> Result<Vec<(Delivery, String)>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS}, body FROM alert_deliveries WHERE state = 'pending' ORDER BY next_at, id"
    ))?;
    Ok(stmt
        .query_map([], |r| Ok((row(r)?, r.get(11)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The deliveries of one incident, oldest first.
pub(crate) fn of_incident(c: &Connection, incident: i64) -> Result<Vec<Delivery>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM alert_deliveries WHERE incident = ?1 ORDER BY id"
    ))?;
    Ok(stmt
        .query_map([incident], row)?
        .collect::<rusqlite::Result<_>>()?)
}
