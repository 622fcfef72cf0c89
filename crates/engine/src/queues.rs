//! A queue's effective settings: what was set at run time (stored), else the config file's
//! `[queues.<name>]`, else `[jobs]`.

use nightshift_core::Config;
use nightshift_store::QueueRow;
use std::collections::HashMap;
use std::sync::RwLock;

/// Where a queue's concurrency limit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// `nightshift queue set` (kept in the database).
    Set,
    /// The config file's `[queues.<name>]`.
    Config,
    /// `jobs.concurrency` (or the number of cores).
    Default,
}

/// A queue's settings as the scheduler applies them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueSettings {
    pub name: String,
    pub concurrency: u32,
    pub limit_source: LimitSource,
    pub paused: bool,
    /// Jobs start only on AC power.
    pub require_ac: bool,
    /// On battery, jobs start only while the battery is at least this full.
    pub min_battery: Option<u8>,
}

pub(crate) fn settings(
    config: &Config,
    rows: &RwLock<HashMap<String, QueueRow>>,
    name: &str,
) -> QueueSettings {
    let rows = rows.read().unwrap_or_else(|p| p.into_inner());
    let row = rows.get(name);
    let (concurrency, limit_source) = match (
        row.and_then(|r| r.concurrency),
        config.queues.get(name).and_then(|q| q.concurrency),
    ) {
        (Some(n), _) => (n, LimitSource::Set),
        (None, Some(n)) => (n, LimitSource::Config),
        (None, None) => (config.default_concurrency(), LimitSource::Default),
    };
    let configured = config.queues.get(name);
    QueueSettings {
        name: name.to_string(),
        concurrency,
        limit_source,
        paused: row.is_some_and(|r| r.paused),
        require_ac: row
            .and_then(|r| r.require_ac)
            .or_else(|| configured.and_then(|q| q.require_ac))
            .unwrap_or(false),
        min_battery: row
            .and_then(|r| r.min_battery)
            .or_else(|| configured.and_then(|q| q.min_battery))
            .filter(|p| *p > 0),
    }
}
