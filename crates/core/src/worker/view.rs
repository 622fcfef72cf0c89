//! Pools and their workers as people see them (`nightshift workers`, the API, the window).

use crate::JobId;
use serde::{Deserialize, Serialize};

/// What a worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Started, not yet ready (it has not sent `ready`).
    Starting,
    Idle,
    Busy,
    /// Exited; started again when its backoff ends.
    BackingOff,
    /// It went silent while busy (past its heartbeat limit): it is ended, and started again
    /// when its backoff ends.
    Unresponsive,
    /// Not running, and not to be (the pool is stopped or scaled down).
    Stopped,
}

/// One worker as `nightshift workers` and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkerView {
    pub slot: u32,
    pub state: WorkerState,
    /// The leader of its process group, while it runs.
    pub pid: Option<i32>,
    /// When the running process started (Unix ms).
    pub started_at: Option<i64>,
    /// Restarts after exits (a pool's own restarts and scaling do not count).
    pub restarts: u32,
    /// The job it works on.
    pub job: Option<JobId>,
    pub jobs_done: u64,
    pub jobs_failed: u64,
    /// When it last sent anything (Unix ms).
    pub last_heard: Option<i64>,
    /// While backing off (or unresponsive): when it starts again (Unix ms).
    pub restart_at: Option<i64>,
    /// CPU time its process group has used since it started (ms), read when listed; absent
    /// while it does not run, and in the live updates of the window.
    #[serde(default)]
    pub cpu_ms: Option<u64>,
    /// Resident memory of its process group now (bytes), read when listed.
    #[serde(default)]
    pub rss_bytes: Option<u64>,
}

/// One pool as shown: its definition and its workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PoolView {
    pub name: String,
    pub queue: String,
    pub count: u32,
    pub stopped: bool,
    /// Declared in the config file (`[pools.NAME]`), which owns its definition: `worker rm`
    /// refuses it, and a `worker scale` lasts until the next start.
    #[serde(default)]
    pub from_config: bool,
    pub program: String,
    pub args: Vec<String>,
    pub heartbeat_ms: Option<u64>,
    /// Workers keep exiting soon after they start: why, in words (the last exit and the last
    /// lines of its error output). Absent while the pool is healthy.
    pub crash_looping: Option<String>,
    pub workers: Vec<WorkerView>,
}
