//! Worker pools as defined (`nightshift worker add|scale|stop|start|rm`); the engine keeps
//! what runs.

use crate::{Result, StoreError};
use nightshift_core::worker::pool::PoolSpec;
use rusqlite::{Connection, OptionalExtension, params};

/// A pool as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolRow {
    pub spec: PoolSpec,
    /// Defined but with no worker running (`worker stop`).
    pub stopped: bool,
    /// Declared in the config file (`[pools.NAME]`), which owns its definition.
    pub from_config: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolChange {
    pub count: Option<u32>,
    pub stopped: Option<bool>,
}

const COLUMNS: &str = "name, queue, count, program, args, env, cwd, heartbeat_ms, stopped, \
                       created_at, updated_at, from_config";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PoolRow> {
    let json = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    let corrupt = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    Ok(PoolRow {
        spec: PoolSpec {
            name: r.get(0)?,
            queue: r.get(1)?,
            count: r.get(2)?,
            program: r.get(3)?,
            args: serde_json::from_str(&json(4)?).map_err(|e| corrupt(4, e))?,
            env: serde_json::from_str(&json(5)?).map_err(|e| corrupt(5, e))?,
            cwd: r.get::<_, Option<String>>(6)?.map(Into::into),
            heartbeat_ms: r.get::<_, Option<i64>>(7)?.map(|ms| ms.max(0) as u64),
        },
        stopped: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        from_config: r.get(11)?,
    })
}

pub(crate) fn list(c: &Connection) -> Result<Vec<PoolRow>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {COLUMNS} FROM pools ORDER BY name"))?;
    Ok(stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn get(c: &Connection, name: &str) -> Result<Option<PoolRow>> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM pools WHERE name = ?1"))?
            .query_row([name], row)
            .optional()?,
    )
}

/// The pool serving `queue`, if any.
pub(crate) fn serving(c: &Connection, queue: &str) -> Result<Option<PoolRow>> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM pools WHERE queue = ?1"))?
            .query_row([queue], row)
            .optional()?,
    )
}

pub(crate) fn insert(c: &Connection, spec: &PoolSpec, now: i64) -> Result<PoolRow> {
    if get(c, &spec.name)?.is_some() {
        return Err(StoreError::Exists(format!(
            "there is already a pool named '{}' (nightshift worker rm {0} first, or pick another name)",
            spec.name
        )));
    }
    if let Some(other) = serving(c, &spec.queue)? {
        return Err(StoreError::Exists(format!(
            "queue '{}' is already served by pool '{}': a queue has one pool",
            spec.queue, other.spec.name
        )));
    }
    write(c, spec, false, now)
}

/// Inserts the pool, or replaces the definition of the pool of that name (keeping whether it is
/// stopped and when it was made).
fn write(c: &Connection, spec: &PoolSpec, from_config: bool, now: i64) -> Result<PoolRow> {
    let args = serde_json::to_string(&spec.args).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let env = serde_json::to_string(&spec.env).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    c.prepare_cached(
        "INSERT INTO pools (name, queue, count, program, args, env, cwd, heartbeat_ms, stopped,
                            created_at, updated_at, from_config)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?9, ?10)
         ON CONFLICT (name) DO UPDATE SET
             queue = excluded.queue, count = excluded.count, program = excluded.program,
             args = excluded.args, env = excluded.env, cwd = excluded.cwd,
             heartbeat_ms = excluded.heartbeat_ms, updated_at = excluded.updated_at,
             from_config = excluded.from_config",
    )?
    .execute(params![
        spec.name,
        spec.queue,
        spec.count,
        spec.program,
        args,
        env,
        spec.cwd.as_ref().map(|p| p.to_string_lossy().into_owned()),
        spec.heartbeat_ms
            .map(|ms| i64::try_from(ms).unwrap_or(i64::MAX)),
        now,
        from_config
    ])?;
    get(c, &spec.name)?
        .ok_or_else(|| StoreError::Corrupt("a pool vanished as it was stored".into()))
}

/// What bringing the stored pools in line with the config file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPools {
    /// Pools the file names that were not stored, or stored differently.
    pub written: Vec<String>,
    /// Pools made from the file that it no longer names.
    pub removed: Vec<String>,
    /// Pools made from the file that it no longer names, kept because jobs wait or run in
    /// their queues; they are now ordinary pools (`worker rm` removes them).
    pub kept: Vec<String>,
}

/// Makes the stored pools match the config file's (`specs`, checked by the caller), in one
/// transaction: each is created or its definition replaced (a pool of the same name added with
/// `worker add` is taken over), and the pools once made from the file that it no longer names
/// are removed, or kept as ordinary pools while jobs wait or run in their queues. A pool of
/// another name serving the same queue is a conflict, and nothing changes.
pub(crate) fn sync_config(c: &Connection, specs: &[PoolSpec], now: i64) -> Result<ConfigPools> {
    let mut done = ConfigPools::default();
    // Removals first: a table renamed in the file frees its queue for its new name.
    for row in list(c)? {
        if !row.from_config || specs.iter().any(|s| s.name == row.spec.name) {
            continue;
        }
        let busy: i64 = c
            .prepare_cached(
                "SELECT COALESCE(SUM(n), 0) FROM queue_counts
                 WHERE queue = ?1 AND state IN ('queued', 'running')",
            )?
            .query_row([&row.spec.queue], |r| r.get(0))?;
        if busy > 0 {
            c.prepare_cached("UPDATE pools SET from_config = 0, updated_at = ?2 WHERE name = ?1")?
                .execute(params![row.spec.name, now])?;
            done.kept.push(row.spec.name);
        } else {
            remove(c, &row.spec.name)?;
            done.removed.push(row.spec.name);
        }
    }
    for spec in specs {
        if let Some(other) = serving(c, &spec.queue)?
            && other.spec.name != spec.name
        {
            return Err(StoreError::Exists(format!(
                "[pools.{}] in the config file serves queue '{}', which pool '{}' already \
                 serves, and a queue has one pool: change or remove the table (or remove it, \
                 start Nightshift, run `nightshift worker rm {2}`, and put it back)",
                spec.name, spec.queue, other.spec.name
            )));
        }
        let before = get(c, &spec.name)?;
        if before
            .as_ref()
            .is_some_and(|row| row.from_config && row.spec == *spec)
        {
            continue;
        }
        write(c, spec, true, now)?;
        done.written.push(spec.name.clone());
    }
    Ok(done)
}

pub(crate) fn update(
    c: &Connection,
    name: &str,
    change: &PoolChange,
    now: i64,
) -> Result<Option<PoolRow>> {
    if let Some(count) = change.count {
        c.prepare_cached("UPDATE pools SET count = ?2, updated_at = ?3 WHERE name = ?1")?
            .execute(params![name, count, now])?;
    }
    if let Some(stopped) = change.stopped {
        c.prepare_cached("UPDATE pools SET stopped = ?2, updated_at = ?3 WHERE name = ?1")?
            .execute(params![name, stopped, now])?;
    }
    get(c, name)
}

/// Removes the pool; false if there was none.
pub(crate) fn remove(c: &Connection, name: &str) -> Result<bool> {
    Ok(c.prepare_cached("DELETE FROM pools WHERE name = ?1")?
        .execute([name])?
        > 0)
}
