//! The history of the work (migration 0018): minute rows written by the engine's snapshot,
//! rolled up into hours and pruned a few hours at a time, and read back for a window by the
//! plan of `nightshift_core::metrics::history`.

use crate::{Result, StoreError};
use nightshift_core::metrics::Histogram;
use nightshift_core::metrics::history::{
    self as plan, Gauges, HOUR_MS, MINUTE_MS, Marks, Row, floor_to,
};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

/// Hours rolled up by one step (after a long stop the backlog goes a day per minute).
const ROLL_UP_HOURS_PER_STEP: i64 = 24;
/// The most minutes and hours one step prunes, as a span of time (so one step deletes at most
/// a few hours of minute rows, and a week of hour rows, however much has piled up).
const PRUNE_MINUTES_SPAN: i64 = 6 * HOUR_MS;
const PRUNE_HOURS_SPAN: i64 = 7 * 24 * HOUR_MS;

/// The columns of both tables, in the order `row_params` binds and `row_of` reads them.
const COLUMNS: &str = "at, queue, queued, scheduled, held, running, paused, power_held, added, \
    started, succeeded, failed, cancelled, retried, failed_exit_code, failed_signal, timed_out, \
    spawn_failed, interrupted, run, wait";

/// Which table: the minutes or the hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Minute,
    Hour,
}

impl Resolution {
    fn table(self) -> &'static str {
        match self {
            Resolution::Minute => "metrics_minutes",
            Resolution::Hour => "metrics_hours",
        }
    }
}

/// What one roll-up step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollUp {
    pub hours_rolled: usize,
    pub minutes_pruned: usize,
    pub hours_pruned: usize,
}

/// What the snapshot needs of the jobs table: per queue, jobs queued in all, running, waiting
/// for their time, held for power and waiting on their dependencies (the last three through
/// their partial indexes, so the cost follows those jobs, not the table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub queued: u64,
    pub running: u64,
    pub scheduled: u64,
    pub held: u64,
    /// Queued behind dependencies not yet succeeded, with no start time or power hold besides.
    pub waiting: u64,
}

pub(crate) fn depths(c: &Connection) -> Result<BTreeMap<String, QueueDepth>> {
    let mut out: BTreeMap<String, QueueDepth> = BTreeMap::new();
    let mut counts = c.prepare_cached(
        "SELECT queue, state, n FROM queue_counts WHERE n > 0 AND state IN ('queued', 'running')",
    )?;
    for row in counts.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, count(r, 2)?))
    })? {
        let (queue, state, n) = row?;
        let depth = out.entry(queue).or_default();
        if state == "queued" {
            depth.queued = n;
        } else {
            depth.running = n;
        }
    }
    type Field = fn(&mut QueueDepth) -> &mut u64;
    let parts: [(&str, Field); 3] = [
        (
            "SELECT queue, count(*) FROM jobs INDEXED BY jobs_due
             WHERE state = 'queued' AND run_at IS NOT NULL GROUP BY queue",
            |d| &mut d.scheduled,
        ),
        (
            "SELECT queue, count(*) FROM jobs INDEXED BY jobs_power_held
             WHERE state = 'queued' AND power_held = 1 GROUP BY queue",
            |d| &mut d.held,
        ),
        (
            "SELECT queue, count(*) FROM jobs INDEXED BY jobs_waiting
             WHERE state = 'queued' AND waiting_on > 0 AND run_at IS NULL AND power_held = 0
             GROUP BY queue",
            |d| &mut d.waiting,
        ),
    ];
    for (sql, field) in parts {
        let mut stmt = c.prepare_cached(sql)?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, count(r, 1)?)))? {
            let (queue, n) = row?;
            *field(out.entry(queue).or_default()) = n;
        }
    }
    Ok(out)
}

fn count(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(r.get::<_, i64>(i)?.max(0) as u64)
}

/// Stores the rows of minute `at` (merged into any already there, should the clock have gone
/// back) and marks it covered: the span that holds it or ends the minute before is extended
/// to it, else a new span begins (after a gap: Nightshift was stopped, or the machine slept). A
/// minute of an hour already rolled up goes into the hour's row too, so the hour stays the sum
/// of its minutes.
pub(crate) fn write_minute(c: &Connection, at: i64, rows: &[Row]) -> Result<()> {
    let marks = marks(c)?;
    for row in rows {
        debug_assert_eq!(row.at, at);
        merge_into(c, Resolution::Minute, row)?;
        if marks.rolled_up_to.is_some_and(|r| at < r) {
            let mut hour = row.clone();
            hour.at = floor_to(at, HOUR_MS);
            merge_into(c, Resolution::Hour, &hour)?;
        }
    }
    // Extended rather than overlapped (a restart within the minute, a clock gone back), so no
    // minute counts as covered twice.
    let first: i64 = c
        .prepare_cached(
            "SELECT first FROM metrics_spans WHERE first <= ?1 AND last >= ?1 - ?2
             ORDER BY first DESC LIMIT 1",
        )?
        .query_row(params![at, MINUTE_MS], |r| r.get(0))
        .optional()?
        .unwrap_or(at);
    c.prepare_cached(
        "INSERT INTO metrics_spans (first, last) VALUES (?1, ?2)
         ON CONFLICT (first) DO UPDATE SET last = max(last, excluded.last)",
    )?
    .execute(params![first, at.max(first)])?;
    Ok(())
}

/// Adds `row` to the row of its time and queue, or stores it.
fn merge_into(c: &Connection, resolution: Resolution, row: &Row) -> Result<()> {
    let table = resolution.table();
    let existing = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM {table} WHERE at = ?1 AND queue = ?2"
        ))?
        .query_row(params![row.at, row.queue], row_of)
        .optional()?;
    let merged;
    let row = match existing {
        Some(existing) => {
            let mut sum = existing?;
            sum.merge(row);
            merged = sum;
            &merged
        }
        None => row,
    };
    put(c, resolution, row)
}

fn put(c: &Connection, resolution: Resolution, row: &Row) -> Result<()> {
    let table = resolution.table();
    let (run, wait) = (to_json(&row.tally.run)?, to_json(&row.tally.wait)?);
    let g = &row.gauges;
    let t = &row.tally;
    c.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} ({COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21)"
    ))?
    .execute(params![
        row.at,
        row.queue,
        sql_int(g.queued),
        sql_int(g.scheduled),
        sql_int(g.held),
        sql_int(g.running),
        sql_int(g.paused),
        sql_int(g.power_held),
        sql_int(t.added),
        sql_int(t.started),
        sql_int(t.succeeded),
        sql_int(t.failed),
        sql_int(t.cancelled),
        sql_int(t.retried),
        sql_int(t.failed_exit_code),
        sql_int(t.failed_signal),
        sql_int(t.timed_out),
        sql_int(t.spawn_failed),
        sql_int(t.interrupted),
        run,
        wait,
    ])?;
    Ok(())
}

/// SQLite integers are signed: a count past i64::MAX (which no real count reaches) is kept at
/// the largest it can hold rather than wrapped to a negative.
fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_json(h: &Histogram) -> Result<String> {
    serde_json::to_string(h).map_err(|e| StoreError::Corrupt(format!("histogram: {e}")))
}

/// Reads a row; `Err` inside when a histogram's text is damaged (named with its row).
fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Row>> {
    let at: i64 = r.get(0)?;
    let queue: String = r.get(1)?;
    let hist = |i: usize, name: &str| -> rusqlite::Result<Result<Histogram>> {
        let text: String = r.get(i)?;
        Ok(serde_json::from_str(&text).map_err(|e| {
            StoreError::Corrupt(format!(
                "the {name} times of queue {queue} at {at} in the metrics history: {e}"
            ))
        }))
    };
    let (run, wait) = (hist(19, "run")?, hist(20, "wait")?);
    let (run, wait) = match (run, wait) {
        (Ok(run), Ok(wait)) => (run, wait),
        (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
    };
    Ok(Ok(Row {
        at,
        gauges: Gauges {
            queued: count(r, 2)?,
            scheduled: count(r, 3)?,
            held: count(r, 4)?,
            running: count(r, 5)?,
            paused: count(r, 6)?,
            power_held: count(r, 7)?,
        },
        tally: nightshift_core::metrics::Tally {
            added: count(r, 8)?,
            started: count(r, 9)?,
            succeeded: count(r, 10)?,
            failed: count(r, 11)?,
            cancelled: count(r, 12)?,
            retried: count(r, 13)?,
            failed_exit_code: count(r, 14)?,
            failed_signal: count(r, 15)?,
            timed_out: count(r, 16)?,
            spawn_failed: count(r, 17)?,
            interrupted: count(r, 18)?,
            run,
            wait,
        },
        queue,
    }))
}

pub(crate) fn marks(c: &Connection) -> Result<Marks> {
    let mark = |name: &str| -> Result<Option<i64>> {
        Ok(
            c.prepare_cached("SELECT at FROM metrics_marks WHERE name = ?1")?
                .query_row([name], |r| r.get(0))
                .optional()?,
        )
    };
    Ok(Marks {
        rolled_up_to: mark("rolled_up_to")?,
        minutes_from: mark("minutes_from")?,
    })
}

fn set_mark(c: &Connection, name: &str, at: i64) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO metrics_marks (name, at) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET at = excluded.at",
    )?
    .execute(params![name, at])?;
    Ok(())
}

/// One bounded step of upkeep at `now`: rolls the finished hours up (at most a day of them)
/// and prunes minutes older than `minutes_kept` whose hour is rolled up, hours older than
/// `hours_kept` and the spans that ended before them (each at most a few hours' or days' worth).
pub(crate) fn roll_up(
    c: &Connection,
    now: i64,
    minutes_kept_ms: i64,
    hours_kept_ms: i64,
) -> Result<RollUp> {
    let mut done = RollUp::default();
    let marks = marks(c)?;
    let current_hour = floor_to(now, HOUR_MS);
    let oldest_minute = |from: i64| -> Result<Option<i64>> {
        Ok(
            c.prepare_cached("SELECT min(at) FROM metrics_minutes WHERE at >= ?1")?
                .query_row([from], |r| r.get(0))?,
        )
    };
    let mut hour = match marks.rolled_up_to {
        Some(h) => h,
        None => match oldest_minute(i64::MIN)? {
            Some(m) => floor_to(m, HOUR_MS),
            None => current_hour,
        },
    };
    while hour < current_hour && (done.hours_rolled as i64) < ROLL_UP_HOURS_PER_STEP {
        // Hours without a minute (Nightshift was not running) are stepped over at once.
        match oldest_minute(hour)? {
            Some(m) if floor_to(m, HOUR_MS) < current_hour => hour = floor_to(m, HOUR_MS),
            _ => {
                hour = current_hour;
                break;
            }
        }
        let end = hour.saturating_add(HOUR_MS);
        let mut sums: BTreeMap<String, Row> = BTreeMap::new();
        for row in read_rows(c, Resolution::Minute, hour, end, None)? {
            sums.entry(row.queue.clone())
                .or_insert_with(|| Row {
                    at: hour,
                    queue: row.queue.clone(),
                    ..Row::default()
                })
                .merge(&row);
        }
        for row in sums.values() {
            put(c, Resolution::Hour, row)?;
        }
        done.hours_rolled += 1;
        hour = end;
    }
    if marks.rolled_up_to != Some(hour) {
        set_mark(c, "rolled_up_to", hour)?;
    }

    // Minutes: older than minutes_kept and rolled up, a few hours of them per step.
    let cutoff = floor_to(now.saturating_sub(minutes_kept_ms), HOUR_MS).min(hour);
    if let Some(oldest) = oldest_minute(i64::MIN)?.filter(|&m| m < cutoff) {
        let bound = cutoff.min(floor_to(oldest, HOUR_MS).saturating_add(PRUNE_MINUTES_SPAN));
        done.minutes_pruned = c
            .prepare_cached("DELETE FROM metrics_minutes WHERE at < ?1")?
            .execute([bound])?;
        set_mark(c, "minutes_from", bound)?;
    }

    // Hours and spans: older than hours_kept, a week of them per step.
    let cutoff = floor_to(now.saturating_sub(hours_kept_ms), HOUR_MS);
    let oldest_hour: Option<i64> = c
        .prepare_cached("SELECT min(at) FROM metrics_hours")?
        .query_row([], |r| r.get(0))?;
    if let Some(oldest) = oldest_hour.filter(|&h| h < cutoff) {
        let bound = cutoff.min(oldest.saturating_add(PRUNE_HOURS_SPAN));
        done.hours_pruned = c
            .prepare_cached("DELETE FROM metrics_hours WHERE at < ?1")?
            .execute([bound])?;
    }
    c.prepare_cached("DELETE FROM metrics_spans WHERE last < ?1")?
        .execute([cutoff])?;
    Ok(done)
}

/// Rows of one table with `lo <= at < hi`, of one queue or all, in time order.
pub(crate) fn read_rows(
    c: &Connection,
    resolution: Resolution,
    lo: i64,
    hi: i64,
    queue: Option<&str>,
) -> Result<Vec<Row>> {
    let table = resolution.table();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {table}
         WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR queue = ?3) ORDER BY at, queue"
    ))?;
    let rows = stmt.query_map(params![lo, hi, queue], row_of)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

/// A page of rows from `since` on, after `(at, queue)`, in (at, queue) order.
pub(crate) fn page(
    c: &Connection,
    resolution: Resolution,
    since: i64,
    after: Option<(i64, String)>,
    queue: Option<&str>,
    limit: usize,
) -> Result<Vec<Row>> {
    let table = resolution.table();
    let (after_at, after_queue) = match after {
        Some((at, queue)) => (Some(at), queue),
        None => (None, String::new()),
    };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {table}
         WHERE at >= ?1 AND (?2 IS NULL OR at > ?2 OR (at = ?2 AND queue > ?3))
           AND (?5 IS NULL OR queue = ?5)
         ORDER BY at, queue LIMIT CAST(?4 AS INTEGER)"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![since, after_at, after_queue, limit, queue], row_of)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row??);
    }
    Ok(out)
}

/// The spans of minutes Nightshift was running that touch `[lo, hi)`, as (first, last) minutes.
pub(crate) fn spans(c: &Connection, lo: i64, hi: i64) -> Result<Vec<(i64, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT first, last FROM metrics_spans WHERE last >= ?1 AND first < ?2 ORDER BY first",
    )?;
    let rows = stmt.query_map(params![lo.saturating_sub(MINUTE_MS), hi], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What a window's read gives: its rows (from the tables its plan names) and its spans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowRows {
    pub rows: Vec<Row>,
    pub spans: Vec<(i64, i64)>,
}

/// Reads `[from, to)` at `step` for one queue or all, in one read transaction so the marks,
/// the rows and the spans agree.
pub(crate) fn window(
    c: &Connection,
    from: i64,
    to: i64,
    step: i64,
    queue: Option<&str>,
) -> Result<WindowRows> {
    let tx = c.unchecked_transaction()?;
    let plan = plan::plan(from, to, step, marks(&tx)?);
    let mut rows = Vec::new();
    if let Some((lo, hi)) = plan.hours {
        rows.extend(read_rows(&tx, Resolution::Hour, lo, hi, queue)?);
    }
    for (lo, hi) in plan.minutes {
        rows.extend(read_rows(&tx, Resolution::Minute, lo, hi, queue)?);
    }
    let spans = spans(&tx, from, to)?;
    tx.finish()?;
    Ok(WindowRows { rows, spans })
}
