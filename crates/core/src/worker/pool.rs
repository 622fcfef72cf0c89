//! What a pool is: a name, the queue it serves, how many workers, the command each runs, and
//! whether its workers must send heartbeats. Checked when it is defined, with the same rules
//! as a job's command (a worker is started the way an attempt is).

use crate::job::{JobSpec, SpecError, validate_queue_name};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The most workers one pool may have.
pub const MAX_WORKERS: u32 = 256;
/// Heartbeat intervals a pool may ask for.
pub const MIN_HEARTBEAT: Duration = Duration::from_secs(1);
pub const MAX_HEARTBEAT: Duration = Duration::from_secs(3600);
/// A busy worker that has said nothing for this many heartbeat intervals is unresponsive.
pub const MISSED_HEARTBEATS: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSpec {
    /// Letters, digits, '-', '_' or '.', like a queue's.
    pub name: String,
    /// The queue whose jobs its workers take; a queue has at most one pool.
    pub queue: String,
    /// How many workers run (0: none, the pool kept).
    pub count: u32,
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// A busy worker must say something at least this often (ms); none: no such check.
    #[serde(default)]
    pub heartbeat_ms: Option<u64>,
}

impl PoolSpec {
    /// Checks the pool as it would be started; the message names the field.
    pub fn validate(&self) -> Result<(), SpecError> {
        validate_queue_name(&self.name).map_err(|_| SpecError(pool_name_error(&self.name)))?;
        validate_queue_name(&self.queue)?;
        if self.count > MAX_WORKERS {
            return Err(SpecError(format!(
                "a pool has at most {MAX_WORKERS} workers, not {}",
                self.count
            )));
        }
        // The worker's command obeys a job's rules: what a spawn would refuse is refused now.
        let mut as_job = JobSpec::command(&[], &self.queue);
        as_job.program = self.program.clone();
        as_job.args = self.args.clone();
        as_job.env = self.env.clone();
        as_job.cwd = self.cwd.clone();
        as_job.validate()?;
        if let Some(ms) = self.heartbeat_ms {
            let every = Duration::from_millis(ms);
            if !(MIN_HEARTBEAT..=MAX_HEARTBEAT).contains(&every) {
                return Err(SpecError(format!(
                    "a heartbeat interval must be from {}s to {}s, not {}",
                    MIN_HEARTBEAT.as_secs(),
                    MAX_HEARTBEAT.as_secs(),
                    crate::duration::format_short(every)
                )));
            }
        }
        Ok(())
    }

    /// How long a busy worker may stay silent before it is unresponsive.
    pub fn silence_limit(&self) -> Option<Duration> {
        self.heartbeat_ms
            .map(|ms| Duration::from_millis(ms).saturating_mul(MISSED_HEARTBEATS))
    }
}

/// Checks a pool name alone (for the commands that take one).
pub fn validate_pool_name(name: &str) -> Result<(), SpecError> {
    validate_queue_name(name).map_err(|_| SpecError(pool_name_error(name)))
}

fn pool_name_error(name: &str) -> String {
    format!(
        "invalid pool name '{}': use 1 to {} letters, digits, '-', '_' or '.'",
        name.escape_debug(),
        crate::job::MAX_QUEUE_NAME
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> PoolSpec {
        PoolSpec {
            name: "embedders".into(),
            queue: "embed".into(),
            count: 4,
            program: "python3".into(),
            args: vec!["worker.py".into()],
            env: BTreeMap::new(),
            cwd: None,
            heartbeat_ms: Some(10_000),
        }
    }

    #[test]
    fn a_good_pool_passes_and_each_bad_field_is_named() {
        assert_eq!(pool().validate(), Ok(()));
        assert_eq!(pool().silence_limit(), Some(Duration::from_secs(30)));
        let err = |f: fn(&mut PoolSpec)| {
            let mut p = pool();
            f(&mut p);
            p.validate().unwrap_err().0
        };
        assert!(err(|p| p.name = "a b".into()).contains("pool name 'a b'"));
        assert!(err(|p| p.queue = "".into()).contains("queue name"));
        assert!(err(|p| p.count = 257).contains("at most 256"));
        assert!(err(|p| p.program = "".into()).contains("command is empty"));
        assert!(err(|p| p.cwd = Some("rel".into())).contains("absolute"));
        assert!(err(|p| p.heartbeat_ms = Some(500)).contains("heartbeat"));
        assert!(
            err(|p| {
                p.env.insert("A=B".into(), "1".into());
            })
            .contains("environment")
        );
    }
}
