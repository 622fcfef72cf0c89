//! Worker pools: for each pool, `count` long-running worker processes that Nightshift starts,
//! feeds with the jobs of the pool's queue over their standard input and output
//! (`nightshift_core::worker::protocol`), restarts with a backoff when they exit, and stops.
//!
//! Each worker slot is one task (`worker`) that owns its process for as long as it runs. The
//! scheduler sees a pool only through this registry: how many workers of a queue are idle, and
//! taking one (`checkout`) for a job it claimed; the job's attempt (`attempt`) then hands the
//! job to that worker's task and waits for its outcome, so cancels, power, timeouts and the
//! recording of the end go through the scheduler exactly as for a job run as a process.
//!
//! What is stored is the definition (the store's `pools` table); what runs is kept here. After
//! a crash of Nightshift, start-up finds the previous instance's workers by the tag every
//! worker carries (`ENV_WORKER_OF`) and ends them before any new one starts.

mod attempt;
mod handle;
mod job;
mod lines;
mod worker;

pub(crate) use attempt::run as run_attempt;

use crate::context::Context;
use crate::runner::{Control, Outcome};
use nightshift_core::worker::pool::PoolSpec;
pub use nightshift_core::worker::view::{PoolView, WorkerState, WorkerView};
use nightshift_store::{Claimed, PoolRow};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};

/// Every worker's environment: this database's instance id, so start-up recovery finds the
/// workers a killed instance left (`NIGHTSHIFT_INSTANCE` alone would also match jobs).
pub const ENV_WORKER_OF: &str = "NIGHTSHIFT_WORKER_OF";
/// The worker's pool and slot (0 to count − 1), for the worker's own use.
pub const ENV_POOL: &str = "NIGHTSHIFT_POOL";
pub const ENV_WORKER: &str = "NIGHTSHIFT_WORKER";

/// A job handed to a worker, with what its attempt hears from the scheduler, and where the
/// outcome goes.
pub(crate) struct Feed {
    pub claimed: Box<Claimed>,
    pub control: mpsc::UnboundedReceiver<Control>,
    pub reply: oneshot::Sender<Outcome>,
}

/// A worker taken for one job by the scheduler.
pub(crate) struct WorkerHandle {
    /// "pool/slot", kept with the attempt.
    pub name: String,
    pub identity: nightshift_supervisor::Identity,
    pub feed: mpsc::Sender<Feed>,
}

/// What a slot's task is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    Run,
    /// Stop the process once its job (if any) is done, then start it again at once.
    Restart(u64),
    /// Stop once its job (if any) is done, and stay stopped.
    Stop,
}

struct Slot {
    view: WorkerView,
    /// The running process's feed, while it is idle or busy.
    feed: Option<mpsc::Sender<Feed>>,
    identity: Option<nightshift_supervisor::Identity>,
    wanted: watch::Sender<Wanted>,
}

struct Pool {
    spec: PoolSpec,
    stopped: bool,
    from_config: bool,
    slots: Vec<Slot>,
    crash_looping: Option<String>,
}

/// The pools that run, by name.
#[derive(Default)]
pub(crate) struct Pools {
    pools: Mutex<BTreeMap<String, Pool>>,
    /// Bumped by every `Restart`, so each restart is a change the tasks see.
    restarts: std::sync::atomic::AtomicU64,
    /// Every slot's task, to wait for at shutdown.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Pools {
    /// Whether a pool serves `queue` (then its jobs go to workers only).
    pub(crate) fn serves(&self, queue: &str) -> bool {
        crate::locks::lock(&self.pools)
            .values()
            .any(|p| p.spec.queue == queue)
    }

    /// The name of the pool serving `queue`, if any.
    pub(crate) fn serving(&self, queue: &str) -> Option<String> {
        crate::locks::lock(&self.pools)
            .values()
            .find(|p| p.spec.queue == queue)
            .map(|p| p.spec.name.clone())
    }

    /// Idle workers of the pool serving `queue`.
    pub(crate) fn idle(&self, queue: &str) -> u32 {
        crate::locks::lock(&self.pools)
            .values()
            .filter(|p| p.spec.queue == queue)
            .flat_map(|p| &p.slots)
            .filter(|s| {
                s.view.state == WorkerState::Idle && s.feed.is_some() && s.identity.is_some()
            })
            .count() as u32
    }

    /// What keeps `queue`'s next job from a worker, when its queue has a pool and none of the
    /// pool's workers is idle.
    pub(crate) fn hold(&self, queue: &str) -> Option<crate::gate::WorkersHold> {
        let pools = crate::locks::lock(&self.pools);
        let pool = pools.values().find(|p| p.spec.queue == queue)?;
        let live = &pool.slots[..pool.slots.len().min(pool.spec.count as usize)];
        let count = |state: WorkerState| live.iter().filter(|s| s.view.state == state).count();
        if count(WorkerState::Idle) > 0 && !pool.stopped {
            return None;
        }
        let n = |k: usize| u32::try_from(k).unwrap_or(u32::MAX);
        Some(crate::gate::WorkersHold {
            count: pool.spec.count,
            busy: n(count(WorkerState::Busy)),
            starting: n(count(WorkerState::Starting)),
            restarting: n(count(WorkerState::BackingOff) + count(WorkerState::Unresponsive)),
            stopped: pool.stopped,
            crash_looping: pool.crash_looping.is_some(),
        })
    }

    /// Takes an idle worker of `queue`'s pool for a job (it counts as busy from now).
    pub(crate) fn checkout(&self, queue: &str) -> Option<WorkerHandle> {
        let mut pools = crate::locks::lock(&self.pools);
        let pool = pools.values_mut().find(|p| p.spec.queue == queue)?;
        let name = pool.spec.name.clone();
        let slot = pool.slots.iter_mut().find(|s| {
            s.view.state == WorkerState::Idle && s.feed.is_some() && s.identity.is_some()
        })?;
        let handle = WorkerHandle {
            name: format!("{name}/{}", slot.view.slot),
            identity: slot.identity.clone()?,
            feed: slot.feed.clone()?,
        };
        // Busy only once it is surely handed out: a worker marked busy is fed nothing else.
        slot.view.state = WorkerState::Busy;
        Some(handle)
    }

    /// Every pool and its workers, by name.
    pub(crate) fn views(&self) -> Vec<PoolView> {
        crate::locks::lock(&self.pools)
            .values()
            .map(|p| PoolView {
                name: p.spec.name.clone(),
                queue: p.spec.queue.clone(),
                count: p.spec.count,
                stopped: p.stopped,
                from_config: p.from_config,
                program: p.spec.program.clone(),
                args: p.spec.args.clone(),
                heartbeat_ms: p.spec.heartbeat_ms,
                crash_looping: p.crash_looping.clone(),
                workers: p.slots.iter().map(|s| s.view.clone()).collect(),
            })
            .collect()
    }

    /// Makes what runs match `row` (a new pool, a scale, a stop or start): slots are added and
    /// started, or told to stop, as needed.
    pub(crate) fn apply(&self, ctx: &Arc<Context>, row: &PoolRow) {
        let mut pools = crate::locks::lock(&self.pools);
        let pool = pools.entry(row.spec.name.clone()).or_insert_with(|| Pool {
            spec: row.spec.clone(),
            stopped: row.stopped,
            from_config: row.from_config,
            slots: Vec::new(),
            crash_looping: None,
        });
        pool.spec = row.spec.clone();
        pool.stopped = row.stopped;
        pool.from_config = row.from_config;
        let want = if row.stopped {
            0
        } else {
            row.spec.count as usize
        };
        for (i, slot) in pool.slots.iter_mut().enumerate() {
            let wanted = if i < want { Wanted::Run } else { Wanted::Stop };
            if !matches!(*slot.wanted.borrow(), Wanted::Restart(_)) || wanted == Wanted::Stop {
                slot.wanted.send_replace(wanted);
            }
        }
        while pool.slots.len() < want {
            let index = pool.slots.len() as u32;
            let (wanted, watch) = watch::channel(Wanted::Run);
            pool.slots.push(Slot {
                view: WorkerView {
                    slot: index,
                    state: WorkerState::Starting,
                    pid: None,
                    started_at: None,
                    restarts: 0,
                    job: None,
                    jobs_done: 0,
                    jobs_failed: 0,
                    last_heard: None,
                    restart_at: None,
                    cpu_ms: None,
                    rss_bytes: None,
                },
                feed: None,
                identity: None,
                wanted,
            });
            let task = tokio::spawn(worker::supervise(
                ctx.clone(),
                row.spec.name.clone(),
                index,
                watch,
            ));
            crate::locks::lock(&self.tasks).push(task);
        }
        // A slot stopped earlier and wanted again runs again.
        for slot in pool.slots.iter_mut().take(want) {
            if slot.view.state == WorkerState::Stopped {
                slot.wanted.send_replace(Wanted::Run);
            }
        }
    }

    /// Restarts every worker of the pool (each once its job, if any, is done).
    pub(crate) fn restart(&self, name: &str) -> bool {
        let n = self
            .restarts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pools = crate::locks::lock(&self.pools);
        let Some(pool) = pools.get(name) else {
            return false;
        };
        for slot in &pool.slots {
            if *slot.wanted.borrow() == Wanted::Run {
                slot.wanted.send_replace(Wanted::Restart(n));
            }
        }
        true
    }

    /// Stops every worker of the pool (each after its job) and forgets it.
    pub(crate) fn remove(&self, name: &str) {
        // Dropping a slot's sender ends its task once the worker is stopped.
        drop(crate::locks::lock(&self.pools).remove(name));
    }

    /// Stops every worker and waits until each one's group is gone (the engine is stopping;
    /// the jobs they ran were stopped first). Forgetting the pools closes each slot's channel,
    /// which is what ends its task.
    pub(crate) async fn shutdown(&self) {
        drop(std::mem::take(&mut *crate::locks::lock(&self.pools)));
        let tasks = std::mem::take(&mut *crate::locks::lock(&self.tasks));
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Changes a slot's view (and its feed) under the lock; false if the slot is gone.
    fn update(
        &self,
        pool: &str,
        slot: u32,
        f: impl FnOnce(
            &mut WorkerView,
            &mut Option<mpsc::Sender<Feed>>,
            &mut Option<nightshift_supervisor::Identity>,
        ),
    ) -> bool {
        let mut pools = crate::locks::lock(&self.pools);
        let Some(s) = pools
            .get_mut(pool)
            .and_then(|p| p.slots.get_mut(slot as usize))
        else {
            return false;
        };
        f(&mut s.view, &mut s.feed, &mut s.identity);
        true
    }

    /// The pool's definition now (it may have changed since the slot started).
    fn spec(&self, pool: &str) -> Option<PoolSpec> {
        crate::locks::lock(&self.pools)
            .get(pool)
            .map(|p| p.spec.clone())
    }

    fn set_crash_looping(&self, pool: &str, why: Option<String>) {
        if let Some(p) = crate::locks::lock(&self.pools).get_mut(pool) {
            p.crash_looping = why;
        }
    }
}
