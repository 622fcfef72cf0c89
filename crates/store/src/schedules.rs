//! Recurring jobs' schedules: stored templates with their next fire time. The engine decides
//! when and whether to fire (nightshift-core's recurrence rules); this only keeps the rows.

use crate::{Result, StoreError};
use nightshift_core::{JobId, JobSpec};
use rusqlite::{Connection, OptionalExtension, params};

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    pub id: i64,
    pub name: String,
    /// `Recurrence::to_text`: "every <ms>" or "cron <expression>".
    pub recurrence: String,
    /// What each run is.
    pub job: JobSpec,
    pub payload: Option<Vec<u8>>,
    pub catch_up: bool,
    pub paused: bool,
    pub anchor: i64,
    /// The next planned fire time; `None` once there is none.
    pub next_due: Option<i64>,
    pub last_run: Option<i64>,
    pub last_job: Option<JobId>,
    pub created_at: i64,
}

/// A schedule to store.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    pub name: String,
    pub recurrence: String,
    pub job: JobSpec,
    pub payload: Option<Vec<u8>>,
    pub catch_up: bool,
    pub anchor: i64,
    pub next_due: Option<i64>,
}

const COLUMNS: &str = "id, name, recurrence, job, payload, catch_up, paused, anchor, next_due, \
    last_run, last_job, created_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScheduleRow> {
    let job: String = r.get(3)?;
    Ok(ScheduleRow {
        id: r.get(0)?,
        name: r.get(1)?,
        recurrence: r.get(2)?,
        job: serde_json::from_str(&job).map_err(|e| crate::rows::corrupt("schedule's job", e))?,
        payload: r.get(4)?,
        catch_up: r.get(5)?,
        paused: r.get(6)?,
        anchor: r.get(7)?,
        next_due: r.get(8)?,
        last_run: r.get(9)?,
        last_job: r.get::<_, Option<i64>>(10)?.map(JobId),
        created_at: r.get(11)?,
    })
}

pub(crate) fn insert(c: &Connection, s: &NewSchedule, now: i64) -> Result<ScheduleRow> {
    let job = serde_json::to_string(&s.job).expect("a job spec serialises");
    let inserted = c
        .prepare_cached(
            "INSERT INTO schedules (name, recurrence, job, payload, catch_up, anchor, next_due,
                 created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT (name) DO NOTHING",
        )?
        .execute(params![
            s.name,
            s.recurrence,
            job,
            s.payload,
            s.catch_up,
            s.anchor,
            s.next_due,
            now
        ])?;
    if inserted == 0 {
        return Err(StoreError::Exists(format!(
            "a schedule named '{}' already exists (nightshift schedule rm {} first, or pick \
             another --name)",
            s.name, s.name
        )));
    }
    get(c, &s.name)?.ok_or_else(|| StoreError::Corrupt("a new schedule vanished".into()))
}

pub(crate) fn get(c: &Connection, name: &str) -> Result<Option<ScheduleRow>> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM schedules WHERE name = ?1"))?
            .query_row([name], row)
            .optional()?,
    )
}

pub(crate) fn list(c: &Connection) -> Result<Vec<ScheduleRow>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {COLUMNS} FROM schedules ORDER BY name"))?;
    Ok(stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
}

fn no_schedule(name: &str) -> StoreError {
    StoreError::NoSchedule(name.to_string())
}

pub(crate) fn remove(c: &Connection, name: &str) -> Result<()> {
    let removed = c
        .prepare_cached("DELETE FROM schedules WHERE name = ?1")?
        .execute([name])?;
    if removed == 0 {
        return Err(no_schedule(name));
    }
    Ok(())
}

/// Pauses or resumes; a resume sets the next fire time (passed ones are not caught up: the
/// pause was deliberate).
pub(crate) fn set_paused(
    c: &Connection,
    name: &str,
    paused: bool,
    next_due: Option<i64>,
    now: i64,
) -> Result<ScheduleRow> {
    let changed = c
        .prepare_cached(
            "UPDATE schedules SET paused = ?2, next_due = CASE WHEN ?2 THEN next_due ELSE ?3 END,
                 updated_at = ?4
             WHERE name = ?1",
        )?
        .execute(params![name, paused, next_due, now])?;
    if changed == 0 {
        return Err(no_schedule(name));
    }
    get(c, name)?.ok_or_else(|| no_schedule(name))
}

/// The earliest fire time of a schedule that is not paused.
pub(crate) fn next_due(c: &Connection) -> Result<Option<i64>> {
    Ok(c.prepare_cached(
        "SELECT min(next_due) FROM schedules INDEXED BY schedules_due
             WHERE paused = 0 AND next_due IS NOT NULL",
    )?
    .query_row([], |r| r.get(0))?)
}

/// The schedules due by `now`.
pub(crate) fn due(c: &Connection, now: i64) -> Result<Vec<ScheduleRow>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM schedules INDEXED BY schedules_due
         WHERE paused = 0 AND next_due IS NOT NULL AND next_due <= ?1 ORDER BY next_due"
    ))?;
    Ok(stmt
        .query_map([now], row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// Records a fire (or a skip): the next fire time, and the job it added, if any.
pub(crate) fn fired(
    c: &Connection,
    id: i64,
    next_due: Option<i64>,
    job: Option<JobId>,
    now: i64,
) -> Result<()> {
    c.prepare_cached(
        "UPDATE schedules SET next_due = ?2, updated_at = ?4,
             last_run = CASE WHEN ?3 IS NULL THEN last_run ELSE ?4 END,
             last_job = coalesce(?3, last_job)
         WHERE id = ?1",
    )?
    .execute(params![id, next_due, job.map(|j| j.0), now])?;
    Ok(())
}
