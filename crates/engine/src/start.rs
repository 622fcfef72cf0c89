//! Starting an engine: the instance lock, the store, recovery of what a killed predecessor
//! left, and the tasks (scheduler, schedules, store watch, metrics history), in that order.

use crate::{
    EngineError, EngineHandle, EngineOptions, Inner, InstanceLock, context, health, history,
    incidents, metrics, outcomes, power, recovery, scheduler, schedules, usage,
};
use nightshift_store::Store;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use tokio::sync::{broadcast, mpsc};

/// Starts engines.
#[derive(Debug)]
pub struct Engine;

impl Engine {
    /// Takes the instance lock, opens the store, recovers, and starts dispatching, with the
    /// power source the config names.
    pub async fn start(options: EngineOptions) -> Result<EngineHandle, EngineError> {
        Engine::start_with_power(options, None).await
    }

    /// As `start`, with a given power source (tests inject a fake one).
    pub async fn start_with_power(
        options: EngineOptions,
        power: Option<Arc<dyn nightshift_power::PowerSource>>,
    ) -> Result<EngineHandle, EngineError> {
        let EngineOptions {
            paths,
            config,
            clock,
        } = options;
        let (power, power_name) = match power {
            Some(source) => (source, "injected".to_string()),
            None => power::source_for(&config, &paths),
        };
        paths
            .ensure_dirs()
            .map_err(|e| EngineError::io("cannot create the data folders", e))?;
        let lock = InstanceLock::acquire(&paths)?;
        warn_if_shared(&paths.data_dir);
        let store = {
            let paths = paths.clone();
            let sync = config.store.synchronous;
            tokio::task::spawn_blocking(move || {
                let folder = nightshift_store::Folder {
                    db: paths.db_file.clone(),
                    payloads: paths.payloads_dir.clone(),
                    logs: paths.logs_dir.clone(),
                    identity: paths.identity_file.clone(),
                };
                Store::open_folder(&folder, sync)
            })
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))??
        };
        let config = Arc::new(config);
        let paths = Arc::new(paths);
        // This first receiver exists before recovery and dispatch, so whoever takes it (the
        // desktop shell's notifier) misses no event of this run.
        let (events, startup_events) = broadcast::channel(4096);
        let pending = {
            let file = paths.outcomes_file.clone();
            tokio::task::spawn_blocking(move || outcomes::Pending::open(&file))
                .await
                .map_err(|e| EngineError::Internal(e.to_string()))?
                .map_err(|e| EngineError::io("cannot prepare the outcome journal", e))?
        };
        let pending = Arc::new(pending);
        let health = Arc::new(health::Health::new(events.clone(), &store));
        let metrics = Arc::new(metrics::Metrics::new(config.metrics.enabled));
        let recovery = recovery::run(
            &store, &paths, &config, &*clock, &events, &metrics, &pending,
        )
        .await?;
        let power = power::watch(power, config.power.poll, events.clone()).await;
        let power_view = scheduler::PowerView {
            state: power.clone(),
            held: Arc::new(std::sync::RwLock::new(std::collections::HashMap::new())),
        };
        let running = Arc::new(AtomicUsize::new(0));
        let paused = Arc::new(AtomicBool::new(false));
        let queue_rows: std::collections::HashMap<String, nightshift_store::QueueRow> = store
            .queue_rows()
            .await?
            .into_iter()
            .map(|row| (row.name.clone(), row))
            .collect();
        let queue_rows = Arc::new(std::sync::RwLock::new(queue_rows));
        // Before the first spawn: from here on, a job's process that leaves its group is
        // handed to us when orphaned, and ended with its attempt (see the supervisor).
        let orphans = nightshift_supervisor::adopt_orphans();
        let (tx, rx) = mpsc::unbounded_channel();
        let initial = store.queues_with_work().await?;
        let power_paused = Arc::new(std::sync::RwLock::new(std::collections::HashMap::new()));
        let ctx = Arc::new(context::Context {
            store: store.clone(),
            config: config.clone(),
            paths: paths.clone(),
            clock: clock.clone(),
            events: events.clone(),
            scheduler: tx.clone(),
            queues: queue_rows.clone(),
            power_paused: power_paused.clone(),
            cpu_held: Default::default(),
            running: running.clone(),
            health: health.clone(),
            pending,
            stopping: AtomicBool::new(false),
            metrics,
            usage: Arc::new(usage::Sampler::new(config.metrics.enabled)),
            logs_bytes: Default::default(),
            pools: Default::default(),
            time_moved: tokio::sync::watch::Sender::new(()),
            incidents: Arc::new(incidents::State::new(&config, clock.now_ms())),
        });
        // An unclean stop of the previous run is an incident of its own (`unclean_restart`).
        let reclaimed = recovery.requeued.len() + recovery.failed.len() + recovery.workers_stopped;
        if reclaimed > 0 {
            *crate::locks::lock(&ctx.incidents.recovered) = Some(incidents::Recovered {
                at: clock.now_ms(),
                processes: u64::try_from(reclaimed).unwrap_or(u64::MAX),
                jobs: [recovery.requeued.clone(), recovery.failed.clone()].concat(),
            });
        }
        let (schedules_wake, schedules_rx) = mpsc::unbounded_channel();
        let ticker = tokio::spawn(health::supervised(
            health.clone(),
            "schedules task",
            schedules::run(ctx.clone(), schedules_rx),
        ));
        // The config file's pools are stored (or brought in line) before any worker starts.
        let declared = config
            .pools
            .iter()
            .map(|(name, pool)| pool.spec(name))
            .collect();
        let synced = store.sync_config_pools(declared, clock.now_ms()).await?;
        if !synced.written.is_empty() || !synced.removed.is_empty() {
            tracing::info!(
                written = ?synced.written,
                removed = ?synced.removed,
                "worker pools brought in line with the config file"
            );
        }
        for name in &synced.kept {
            tracing::warn!(
                pool = name,
                "a pool removed from the config file is kept while jobs wait or run in its \
                 queue; `nightshift worker rm` removes it once they are done"
            );
        }
        // Every pool is known before the scheduler's first dispatch: a job of a pool's queue
        // must never be taken for a process of its own (it has no program), nor claimed for
        // a worker counted before its pool was. A worker that becomes ready asks the
        // scheduler for work through its channel, which holds the request until it runs.
        for pool in store.pools().await? {
            ctx.pools.apply(&ctx, &pool);
        }
        let task = tokio::spawn(health::supervised(
            health.clone(),
            "scheduler",
            scheduler::Scheduler::new(ctx.clone(), rx, paused.clone(), power_view.clone())
                .run(initial),
        ));
        let store_watch = tokio::spawn(health::watch_store(health.clone(), store.clone()));
        let history_sources = history::Sources {
            power_held: power_view.held.clone(),
            paused: paused.clone(),
            power: power.clone(),
        };
        let incidents_task = tokio::spawn(health::supervised(
            health.clone(),
            "incidents",
            incidents::run(ctx.clone(), history_sources.clone()),
        ));
        let sampler = tokio::spawn(health::supervised(
            health.clone(),
            "usage sampler",
            usage::run(ctx.usage.clone()),
        ));
        let recorder = Arc::new(tokio::sync::Mutex::new(history::Recorder));
        let history_task = tokio::spawn(health::supervised(
            health.clone(),
            "metrics history",
            history::run(ctx.clone(), history_sources.clone(), recorder.clone()),
        ));
        Ok(EngineHandle {
            inner: Arc::new(Inner {
                tx,
                store,
                events,
                config,
                paths,
                clock,
                running,
                paused,
                queue_rows,
                power,
                power_held: power_view.held.clone(),
                power_paused,
                power_name,
                recovery,
                started_at: std::time::Instant::now(),
                task: std::sync::Mutex::new(Some(task)),
                ctx,
                schedules_wake,
                ticker,
                store_watch,
                history_task,
                incidents_task,
                sampler,
                history_sources,
                recorder,
                health,
                startup_events: std::sync::Mutex::new(Some(startup_events)),
                _orphans: orphans,
                _lock: lock,
            }),
        })
    }
}

/// Says so when other users can look into the data folder. Nightshift's own files in it are
/// private (0600) whatever the folder's mode, but a folder the user made readable may hold
/// other things, and its listing shows which jobs exist.
fn warn_if_shared(dir: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    folder = %dir.display(),
                    mode = format!("{mode:o}"),
                    "the data folder is open to other users; its files are private, but \
                     `chmod 700` the folder to keep its listing private too"
                );
            }
        }
    }
}
