//! Worker pools through the facade: `nightshift worker …`, `GET/POST /api/pools…`.

use crate::{Api, ApiError, DurationValue};
use nightshift_core::worker::pool::PoolSpec;
use nightshift_core::{JobId, whole};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use utoipa::ToSchema;

pub use nightshift_core::worker::view::{PoolView, WorkerState, WorkerView};

/// `POST /api/pools`: a new pool.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolRequest {
    /// 1 to 64 letters, digits, '-', '_' or '.'.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub name: String,
    /// The queue whose jobs its workers take (a queue has one pool).
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub queue: String,
    /// How many workers run (0 to 256); default 1.
    #[serde(default, deserialize_with = "whole::optional")]
    #[schema(minimum = 0, maximum = 256)]
    pub count: Option<u32>,
    /// The worker's program and its arguments.
    #[schema(schema_with = crate::schema::command)]
    pub cmd: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::env)]
    pub env: BTreeMap<String, String>,
    /// An absolute path; default the data folder.
    #[serde(default)]
    #[schema(schema_with = crate::schema::cwd)]
    pub cwd: Option<PathBuf>,
    /// A busy worker must send something at least this often (1 s to 1 h); three intervals of
    /// silence make it unresponsive. Milliseconds, or a number with a unit ("10s").
    #[serde(default)]
    #[schema(schema_with = crate::schema::heartbeat)]
    pub heartbeat: Option<DurationValue>,
}

/// `POST /api/pools/{name}`: a change to a pool.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolUpdate {
    /// How many workers run, 0 to 256 (extra ones stop after their job).
    #[serde(deserialize_with = "whole::integer")]
    #[schema(minimum = 0, maximum = 256)]
    pub count: u32,
}

/// Pools short of workers because workers exited, in words: a crash-looping pool with its
/// reason, or how many workers are restarting. A pool still starting, or stopped on purpose,
/// is not down.
pub(crate) fn down(pools: &[PoolView]) -> Vec<String> {
    pools
        .iter()
        .filter_map(|p| {
            if let Some(why) = &p.crash_looping {
                return Some(format!("pool {} is crash-looping: {why}", p.name));
            }
            let restarting = p
                .workers
                .iter()
                .filter(|w| matches!(w.state, WorkerState::BackingOff | WorkerState::Unresponsive))
                .count();
            (restarting > 0).then(|| {
                format!(
                    "pool {}: {restarting} of {} workers restarting",
                    p.name, p.count
                )
            })
        })
        .collect()
}

/// The worker ("pool/slot") working on job `id`, and its pid.
pub(crate) fn working_on(pools: &[PoolView], id: JobId) -> Option<(String, Option<i32>)> {
    pools.iter().find_map(|p| {
        p.workers
            .iter()
            .find(|w| w.job == Some(id))
            .map(|w| (format!("{}/{}", p.name, w.slot), w.pid))
    })
}

impl Api {
    /// Every pool, with each running worker's CPU time and memory.
    pub async fn pools(&self) -> Vec<PoolView> {
        self.engine.pools_with_usage().await
    }

    pub async fn pool(&self, name: &str) -> Result<PoolView, ApiError> {
        Ok(self.engine.pool_with_usage(name).await?)
    }

    pub async fn add_pool(&self, request: PoolRequest) -> Result<PoolView, ApiError> {
        let PoolRequest {
            name,
            queue,
            count,
            cmd,
            env,
            cwd,
            heartbeat,
        } = request;
        let Some((program, args)) = cmd.split_first() else {
            return Err(ApiError::bad_request(
                "cmd is empty: give the worker's program and its arguments",
            ));
        };
        let heartbeat_ms = heartbeat
            .map(|h| {
                crate::enqueue::duration_of(&h)
                    .map_err(|e| ApiError::bad_request(format!("heartbeat: {e}")))
            })
            .transpose()?
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let spec = PoolSpec {
            name,
            queue,
            count: count.unwrap_or(1),
            program: program.clone(),
            args: args.to_vec(),
            env,
            cwd,
            heartbeat_ms,
        };
        Ok(self.engine.add_pool(spec).await?)
    }

    pub async fn scale_pool(&self, name: &str, update: PoolUpdate) -> Result<PoolView, ApiError> {
        Ok(self.engine.scale_pool(name, update.count).await?)
    }

    pub async fn stop_pool(&self, name: &str, stopped: bool) -> Result<PoolView, ApiError> {
        Ok(self.engine.stop_pool(name, stopped).await?)
    }

    pub fn restart_pool(&self, name: &str) -> Result<PoolView, ApiError> {
        Ok(self.engine.restart_pool(name)?)
    }

    pub async fn remove_pool(&self, name: &str) -> Result<(), ApiError> {
        Ok(self.engine.remove_pool(name).await?)
    }
}
