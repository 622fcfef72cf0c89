//! A queue's effective settings: what was set at run time (stored), else the config file's
//! `[queues.<name>]`, else `[jobs]`.

use nightshift_core::{Config, OnPowerLoss};
use nightshift_store::QueueRow;
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

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
    /// What happens to its running jobs when power is lost (a job may choose otherwise).
    pub on_power_loss: OnPowerLoss,
    /// On battery, at most this many of its jobs start (when lower than `concurrency`).
    pub battery_concurrency: Option<u32>,
    /// Defaults for jobs added without their own.
    pub timeout_ms: Option<u64>,
    pub max_attempts: Option<u32>,
    /// The first retry's wait.
    #[serde(with = "nightshift_core::duration::serde_human")]
    pub retry_backoff: Duration,
}

impl QueueSettings {
    /// How many of its jobs may run at once with this power supply.
    pub fn limit(&self, on_ac: bool) -> u32 {
        match self.battery_concurrency {
            Some(battery) if !on_ac => battery.min(self.concurrency),
            _ => self.concurrency,
        }
    }
}

pub(crate) fn settings(
    config: &Config,
    rows: &RwLock<HashMap<String, QueueRow>>,
    name: &str,
) -> QueueSettings {
    let rows = crate::locks::read(rows);
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
        on_power_loss: row
            .and_then(|r| r.on_power_loss)
            .or_else(|| configured.and_then(|q| q.on_power_loss))
            .unwrap_or_default(),
        battery_concurrency: row
            .and_then(|r| r.battery_concurrency)
            .or_else(|| configured.and_then(|q| q.battery_concurrency)),
        timeout_ms: row.and_then(|r| r.timeout_ms).or_else(|| {
            configured
                .and_then(|q| q.timeout)
                .map(|t| t.as_millis() as u64)
        }),
        max_attempts: row
            .and_then(|r| r.max_attempts)
            .or_else(|| configured.and_then(|q| q.max_attempts)),
        retry_backoff: row
            .and_then(|r| r.retry_backoff_ms)
            .map(Duration::from_millis)
            .or_else(|| configured.and_then(|q| q.retry_backoff))
            .unwrap_or(config.jobs.retry_backoff),
    }
}
