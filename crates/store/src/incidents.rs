//! Incidents and their timelines, as the engine's lifecycle decides them
//! (`nightshift_core::incident::lifecycle`): stored, changed, dropped and read.

use crate::{Result, StoreError};
use nightshift_core::JobId;
use nightshift_core::incident::{
    Door, EventKind, Incident, IncidentState, RuleId, Severity, TimelineEntry, Unit,
};
use rusqlite::{Connection, OptionalExtension, params};

/// Which incidents to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentFilter {
    /// Only these states; empty: every state.
    pub states: Vec<IncidentState>,
    pub queue: Option<String>,
    /// Only ids under this (the next page).
    pub before: Option<i64>,
    pub limit: usize,
}

const COLUMNS: &str = "id, rule, queue, pool, severity, state, title, description, action, value, \
                       threshold, unit, jobs, opened_at, active_at, resolved_at, acknowledged_at, \
                       snoozed_until, notified_at, updated_at";

fn corrupt(i: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        Box::new(StoreError::Corrupt(what)),
    )
}

fn unit_str(u: Unit) -> &'static str {
    match u {
        Unit::Percent => "percent",
        Unit::Jobs => "jobs",
        Unit::Workers => "workers",
        Unit::Processes => "processes",
        Unit::Milliseconds => "milliseconds",
        Unit::Times => "times",
    }
}

fn parse_unit(s: &str) -> Option<Unit> {
    [
        Unit::Percent,
        Unit::Jobs,
        Unit::Workers,
        Unit::Processes,
        Unit::Milliseconds,
        Unit::Times,
    ]
    .into_iter()
    .find(|u| unit_str(*u) == s)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Incident> {
    let text = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    let rule = text(1)?;
    let severity = text(4)?;
    let state = text(5)?;
    let unit = text(11)?;
    let jobs: Vec<i64> =
        serde_json::from_str(&text(12)?).map_err(|e| corrupt(12, format!("incident jobs: {e}")))?;
    Ok(Incident {
        id: r.get(0)?,
        rule: RuleId::parse(&rule).ok_or_else(|| corrupt(1, format!("unknown rule {rule}")))?,
        queue: r.get(2)?,
        pool: r.get(3)?,
        severity: Severity::parse(&severity)
            .ok_or_else(|| corrupt(4, format!("unknown severity {severity}")))?,
        state: IncidentState::parse(&state)
            .ok_or_else(|| corrupt(5, format!("unknown incident state {state}")))?,
        title: r.get(6)?,
        description: r.get(7)?,
        action: r.get(8)?,
        value: r.get(9)?,
        threshold: r.get(10)?,
        unit: parse_unit(&unit).ok_or_else(|| corrupt(11, format!("unknown unit {unit}")))?,
        jobs: jobs.into_iter().map(JobId).collect(),
        opened_at: r.get(13)?,
        active_at: r.get(14)?,
        resolved_at: r.get(15)?,
        acknowledged_at: r.get(16)?,
        snoozed_until: r.get(17)?,
        notified_at: r.get(18)?,
        updated_at: r.get(19)?,
        timeline: Vec::new(),
    })
}

fn scope(i: &Incident) -> String {
    i.pool
        .clone()
        .or_else(|| i.queue.clone())
        .unwrap_or_default()
}

fn jobs_json(i: &Incident) -> Result<String> {
    serde_json::to_string(&i.jobs.iter().map(|j| j.0).collect::<Vec<_>>())
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Stores a new incident with its timeline; returns its id.
pub(crate) fn insert(c: &Connection, i: &Incident) -> Result<i64> {
    c.prepare_cached(
        "INSERT INTO incidents (rule, scope, queue, pool, severity, state, title, description,
             action, value, threshold, unit, jobs, opened_at, active_at, resolved_at,
             acknowledged_at, snoozed_until, notified_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20)",
    )?
    .execute(params![
        i.rule.as_str(),
        scope(i),
        i.queue,
        i.pool,
        i.severity.as_str(),
        i.state.as_str(),
        i.title,
        i.description,
        i.action,
        i.value,
        i.threshold,
        unit_str(i.unit),
        jobs_json(i)?,
        i.opened_at,
        i.active_at,
        i.resolved_at,
        i.acknowledged_at,
        i.snoozed_until,
        i.notified_at,
        i.updated_at,
    ])?;
    let id = c.last_insert_rowid();
    for e in &i.timeline {
        add_entry(c, id, e)?;
    }
    Ok(id)
}

/// Writes an incident's changed fields, and `entry` into its timeline.
pub(crate) fn update(c: &Connection, i: &Incident, entry: Option<&TimelineEntry>) -> Result<()> {
    let n = c
        .prepare_cached(
            "UPDATE incidents SET severity = ?2, state = ?3, title = ?4, description = ?5,
                 action = ?6, value = ?7, threshold = ?8, jobs = ?9, active_at = ?10,
                 resolved_at = ?11, acknowledged_at = ?12, snoozed_until = ?13,
                 notified_at = ?14, updated_at = ?15
             WHERE id = ?1",
        )?
        .execute(params![
            i.id,
            i.severity.as_str(),
            i.state.as_str(),
            i.title,
            i.description,
            i.action,
            i.value,
            i.threshold,
            jobs_json(i)?,
            i.active_at,
            i.resolved_at,
            i.acknowledged_at,
            i.snoozed_until,
            i.notified_at,
            i.updated_at,
        ])?;
    if n == 0 {
        return Err(StoreError::Corrupt(format!(
            "incident {} vanished while it was open",
            i.id
        )));
    }
    if let Some(e) = entry {
        add_entry(c, i.id, e)?;
    }
    Ok(())
}

fn add_entry(c: &Connection, id: i64, e: &TimelineEntry) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO incident_events (incident, at, kind, door, value, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        e.at,
        e.kind.as_str(),
        e.door.as_str(),
        e.value,
        e.note
    ])?;
    Ok(())
}

/// Forgets a pending incident that never became active.
pub(crate) fn delete(c: &Connection, id: i64) -> Result<()> {
    c.prepare_cached("DELETE FROM incidents WHERE id = ?1 AND state = 'pending'")?
        .execute([id])?;
    Ok(())
}

/// The open incidents, and those resolved from `resolved_since` on.
pub(crate) fn book(c: &Connection, resolved_since: i64) -> Result<(Vec<Incident>, Vec<Incident>)> {
    let open = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM incidents WHERE state != 'resolved' ORDER BY id"
        ))?
        .query_map([], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // The latest resolution per rule and scope is the one a reopening takes.
    let recent = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM incidents WHERE resolved_at >= ?1 AND state = 'resolved'
             ORDER BY resolved_at"
        ))?
        .query_map([resolved_since], row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((open, recent))
}

/// Incidents newest first.
pub(crate) fn list(c: &Connection, f: &IncidentFilter) -> Result<Vec<Incident>> {
    let states: Vec<&str> = f.states.iter().map(|s| s.as_str()).collect();
    let states = serde_json::to_string(&states).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM incidents
         WHERE (?1 = '[]' OR state IN (SELECT value FROM json_each(?1)))
           AND (?2 IS NULL OR queue = ?2)
           AND (?3 IS NULL OR id < ?3)
         ORDER BY id DESC LIMIT CAST(?4 AS INTEGER)"
    ))?;
    let limit = i64::try_from(f.limit).unwrap_or(i64::MAX);
    Ok(stmt
        .query_map(params![states, f.queue, f.before, limit], row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// One incident with its timeline.
pub(crate) fn get(c: &Connection, id: i64) -> Result<Option<Incident>> {
    let Some(mut incident) = c
        .prepare_cached(&format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?
    else {
        return Ok(None);
    };
    let mut stmt = c.prepare_cached(
        "SELECT at, kind, door, value, note FROM incident_events WHERE incident = ?1
         ORDER BY at, rowid",
    )?;
    incident.timeline = stmt
        .query_map([id], |r| {
            let kind: String = r.get(1)?;
            let door: String = r.get(2)?;
            Ok(TimelineEntry {
                at: r.get(0)?,
                kind: EventKind::parse(&kind)
                    .ok_or_else(|| corrupt(1, format!("unknown incident event {kind}")))?,
                door: Door::parse(&door)
                    .ok_or_else(|| corrupt(2, format!("unknown door {door}")))?,
                value: r.get(3)?,
                note: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(incident))
}
