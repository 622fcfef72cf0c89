//! The engine's door for pools: define, scale, stop, start, restart and remove them. Each
//! change is stored first, then applied to what runs.

use crate::{EngineError, EngineHandle};
use nightshift_core::worker::pool::{PoolSpec, validate_pool_name};
use nightshift_store::{PoolChange, PoolRow};

use super::PoolView;

impl EngineHandle {
    /// Every pool and its workers, by name.
    pub fn pools(&self) -> Vec<PoolView> {
        self.inner.ctx.pools.views()
    }

    /// Every pool and its workers, with what each running worker's process group uses now
    /// (one pass over the process table, only when asked: idle workers are never sampled).
    pub async fn pools_with_usage(&self) -> Vec<PoolView> {
        let mut views = self.pools();
        let pids: Vec<i32> = views
            .iter()
            .flat_map(|p| &p.workers)
            .filter_map(|w| w.pid)
            .collect();
        if pids.is_empty() {
            return views;
        }
        let Ok(found) =
            tokio::task::spawn_blocking(move || nightshift_supervisor::usage::sample(&pids)).await
        else {
            return views;
        };
        for worker in views.iter_mut().flat_map(|p| &mut p.workers) {
            // A worker is the leader of its group: its pid is the group's id.
            if let Some(group) = worker.pid.and_then(|pid| found.get(&pid)) {
                worker.cpu_ms = Some(group.cpu_ms);
                worker.rss_bytes = Some(group.rss_bytes);
            }
        }
        views
    }

    /// One pool and its workers.
    pub fn pool(&self, name: &str) -> Result<PoolView, EngineError> {
        self.pools()
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| EngineError::NoPool(name.to_string()))
    }

    /// One pool and its workers, with their use of CPU and memory (`pools_with_usage`).
    pub async fn pool_with_usage(&self, name: &str) -> Result<PoolView, EngineError> {
        validate_pool_name(name).map_err(|e| EngineError::Invalid(e.0))?;
        self.pools_with_usage()
            .await
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| EngineError::NoPool(name.to_string()))
    }

    /// The pool serving `queue`, if any (its jobs go to workers).
    pub fn pool_serving(&self, queue: &str) -> Option<String> {
        self.inner.ctx.pools.serving(queue)
    }

    /// Defines a pool and starts its workers.
    pub async fn add_pool(&self, spec: PoolSpec) -> Result<PoolView, EngineError> {
        spec.validate().map_err(|e| EngineError::Invalid(e.0))?;
        if let Some(cwd) = &spec.cwd
            && !tokio::fs::metadata(cwd).await.is_ok_and(|m| m.is_dir())
        {
            return Err(EngineError::Invalid(format!(
                "working directory '{}' is not a folder that exists",
                cwd.display()
            )));
        }
        let name = spec.name.clone();
        let row = self.inner.store.add_pool(spec, self.now_ms()).await?;
        self.apply_pool(&row);
        self.pool(&name)
    }

    /// Sets how many workers the pool runs (extra ones stop after their job).
    pub async fn scale_pool(&self, name: &str, count: u32) -> Result<PoolView, EngineError> {
        let mut probe = self.pool_row(name).await?.spec;
        probe.count = count;
        probe.validate().map_err(|e| EngineError::Invalid(e.0))?;
        self.change_pool(
            name,
            PoolChange {
                count: Some(count),
                stopped: None,
            },
        )
        .await
    }

    /// Stops every worker of the pool (each after its job) and keeps them stopped; `start`
    /// undoes it.
    pub async fn stop_pool(&self, name: &str, stopped: bool) -> Result<PoolView, EngineError> {
        self.change_pool(
            name,
            PoolChange {
                count: None,
                stopped: Some(stopped),
            },
        )
        .await
    }

    /// Restarts every worker of the pool, each once its job is done.
    pub fn restart_pool(&self, name: &str) -> Result<PoolView, EngineError> {
        validate_pool_name(name).map_err(|e| EngineError::Invalid(e.0))?;
        if !self.inner.ctx.pools.restart(name) {
            return Err(EngineError::NoPool(name.to_string()));
        }
        self.pool(name)
    }

    /// Removes the pool: its workers stop (each after its job). Refused while jobs wait in
    /// its queue, which nothing else could run.
    pub async fn remove_pool(&self, name: &str) -> Result<(), EngineError> {
        let row = self.pool_row(name).await?;
        if row.from_config {
            return Err(EngineError::Conflict(format!(
                "pool '{name}' is declared in the config file ([pools.{name}]): remove it there \
                 and restart Nightshift"
            )));
        }
        let queue = &row.spec.queue;
        let depths = self.inner.store.queue_depths().await?;
        if let Some(depth) = depths.get(queue)
            && depth.queued + depth.running > 0
        {
            return Err(EngineError::Conflict(format!(
                "queue '{queue}' still has {} waiting and {} running jobs for pool '{name}', \
                 which nothing else can run: cancel them (nightshift cancel), or stop the pool \
                 instead (nightshift worker stop {name})",
                depth.queued, depth.running
            )));
        }
        self.inner.store.remove_pool(name).await?;
        self.inner.ctx.pools.remove(name);
        let _ = self.inner.ctx.events.send(crate::Event::PoolChanged {
            name: name.to_string(),
        });
        Ok(())
    }

    async fn pool_row(&self, name: &str) -> Result<PoolRow, EngineError> {
        validate_pool_name(name).map_err(|e| EngineError::Invalid(e.0))?;
        self.inner
            .store
            .pool(name)
            .await?
            .ok_or_else(|| EngineError::NoPool(name.to_string()))
    }

    async fn change_pool(&self, name: &str, change: PoolChange) -> Result<PoolView, EngineError> {
        validate_pool_name(name).map_err(|e| EngineError::Invalid(e.0))?;
        let row = self
            .inner
            .store
            .change_pool(name, change, self.now_ms())
            .await?
            .ok_or_else(|| EngineError::NoPool(name.to_string()))?;
        self.apply_pool(&row);
        self.pool(name)
    }

    fn apply_pool(&self, row: &PoolRow) {
        self.inner.ctx.pools.apply(&self.inner.ctx, row);
        let _ = self.inner.ctx.events.send(crate::Event::PoolChanged {
            name: row.spec.name.clone(),
        });
        // Jobs may wait in its queue already.
        let _ = self
            .inner
            .ctx
            .scheduler
            .send(crate::scheduler::Command::Work(vec![
                row.spec.queue.clone(),
            ]));
    }
}
