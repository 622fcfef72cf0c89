//! Worker pools declared in the config file (`[pools.NAME]`), as a process manager's
//! ecosystem file declares its apps: at each start Nightshift creates each one, or brings the
//! stored pool of that name in line with it, and removes the pools the file no longer names
//! (see the store's `sync_config_pools`). Checked with the same rules as `worker add`.

use crate::worker::pool::PoolSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One `[pools.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// The queue whose jobs its workers take.
    pub queue: String,
    /// How many workers run.
    #[serde(default = "one")]
    pub count: u32,
    /// The worker's program and its arguments.
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The workers' working directory (absolute); unset: Nightshift's own, so set it when the
    /// command names files by a relative path.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// A busy worker must say something at least this often.
    #[serde(default, with = "crate::duration::serde_human_opt")]
    pub heartbeat: Option<Duration>,
}

fn one() -> u32 {
    1
}

impl PoolConfig {
    /// The pool as the engine defines it.
    pub fn spec(&self, name: &str) -> PoolSpec {
        let (program, args) = match self.command.split_first() {
            Some((program, args)) => (program.clone(), args.to_vec()),
            None => (String::new(), Vec::new()),
        };
        PoolSpec {
            name: name.to_string(),
            queue: self.queue.clone(),
            count: self.count,
            program,
            args,
            env: self.env.clone(),
            cwd: self.cwd.clone(),
            heartbeat_ms: self
                .heartbeat
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }
}

/// Checks every pool as `worker add` would, and that no two serve one queue; the message
/// names the table.
pub(super) fn check(pools: &BTreeMap<String, PoolConfig>) -> Result<(), String> {
    let mut queues: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, pool) in pools {
        if pool.command.is_empty() {
            return Err(format!(
                "[pools.{name}] command is empty: give the worker's program and its arguments, \
                 as in command = [\"python3\", \"worker.py\"]"
            ));
        }
        pool.spec(name)
            .validate()
            .map_err(|e| format!("[pools.{name}]: {}", e.0))?;
        if let Some(other) = queues.insert(&pool.queue, name) {
            return Err(format!(
                "[pools.{name}] and [pools.{other}] both serve queue '{}': a queue has one pool",
                pool.queue
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::time::Duration;

    #[test]
    fn a_pool_table_gives_the_pool_worker_add_would() {
        let config = Config::parse(
            "[pools.embedders]\nqueue = \"embed\"\ncount = 2\n\
             command = [\"python3\", \"worker.py\", \"--small\"]\n\
             env = { MODEL = \"small\" }\ncwd = \"/srv/embed\"\nheartbeat = \"10s\"\n\
             [pools.thumbs]\nqueue = \"thumbs\"\ncommand = [\"thumbnailer\"]\n",
        )
        .unwrap();
        let spec = config.pools["embedders"].spec("embedders");
        assert_eq!(spec.queue, "embed");
        assert_eq!(spec.count, 2);
        assert_eq!(spec.program, "python3");
        assert_eq!(spec.args, ["worker.py", "--small"]);
        assert_eq!(spec.env["MODEL"], "small");
        assert_eq!(
            spec.cwd.as_deref(),
            Some(std::path::Path::new("/srv/embed"))
        );
        assert_eq!(spec.silence_limit(), Some(Duration::from_secs(30)));
        let thumbs = config.pools["thumbs"].spec("thumbs");
        assert_eq!((thumbs.count, thumbs.heartbeat_ms), (1, None));
    }

    #[test]
    fn a_bad_pool_table_is_refused_with_its_name() {
        let err = |text: &str| Config::parse(text).unwrap_err();
        assert!(
            err("[pools.a]\nqueue = \"q\"\ncommand = []\n").contains("[pools.a] command is empty")
        );
        assert!(err("[pools.\"a b\"]\nqueue = \"q\"\ncommand = [\"w\"]\n").contains("pool name"));
        assert!(
            err("[pools.a]\nqueue = \"q\"\ncommand = [\"w\"]\ncount = 300\n")
                .contains("at most 256")
        );
        assert!(
            err("[pools.a]\nqueue = \"q\"\ncommand = [\"w\"]\ncwd = \"rel\"\n")
                .contains("absolute")
        );
        assert!(
            err("[pools.a]\nqueue = \"q\"\ncommand = [\"w\"]\nheartbeat = \"1ms\"\n")
                .contains("[pools.a]: a heartbeat interval")
        );
        assert!(
            err("[pools.a]\nqueue = \"q\"\ncommand = [\"w\"]\nworkers = 2\n").contains("workers")
        );
        let both = err(
            "[pools.a]\nqueue = \"q\"\ncommand = [\"w\"]\n[pools.b]\nqueue = \"q\"\ncommand = [\"w\"]\n",
        );
        assert!(both.contains("both serve queue 'q'"), "{both}");
    }
}
