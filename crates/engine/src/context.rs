//! The engine's shared state: what the scheduler, each attempt, the schedules task and the
//! handle read and write. Owned by no one of them (an `Arc` each), so none of them reaches into
//! another's module for it.

use crate::Event;
use crate::scheduler::Command;
use nightshift_core::{Clock, Config, JobId, Paths};
use nightshift_store::Store;
use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, RwLock};
use tokio::sync::{broadcast, mpsc};

pub(crate) struct Context {
    pub store: Store,
    pub config: Arc<Config>,
    pub paths: Arc<Paths>,
    pub clock: Arc<dyn Clock>,
    pub events: broadcast::Sender<Event>,
    pub scheduler: mpsc::UnboundedSender<Command>,
    /// Queue settings changed at run time (the retry backoff is read from them).
    pub queues: Arc<RwLock<HashMap<String, nightshift_store::QueueRow>>>,
    /// Running jobs paused for power, and why (readers show it).
    pub power_paused: Arc<RwLock<HashMap<JobId, crate::PausedForPower>>>,
    /// The CPU ceiling holding new jobs back, if it does (readers show it).
    pub cpu_held: Arc<RwLock<Option<crate::cpu::CpuHold>>>,
    /// Attempts started and not yet recorded as ended (readers show it). Counted up before an
    /// attempt can announce `Started` and down before it announces `Ended`, so whoever
    /// refreshes a count on those events reads the count they imply.
    pub running: Arc<AtomicUsize>,
    pub health: Arc<crate::health::Health>,
    /// Outcomes the database could not take yet.
    pub pending: Arc<crate::outcomes::Pending>,
    /// The engine is stopping: an outcome that cannot be written is retried only briefly.
    pub stopping: std::sync::atomic::AtomicBool,
    /// The live counts of the work, recorded where each event is made.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// What each running attempt's process group uses, sampled.
    pub usage: Arc<crate::usage::Sampler>,
    /// The size of the logs folder, as the minute snapshot last measured it.
    pub logs_bytes: std::sync::Mutex<Option<u64>>,
    /// The worker pools that run.
    pub pools: crate::pools::Pools,
    /// Told when the clock was moved by hand (`EngineHandle::clock_moved`), so that waits kept
    /// on the engine's clock look at it again.
    pub time_moved: tokio::sync::watch::Sender<()>,
    /// The incident rules, their book and what they learned.
    pub incidents: Arc<crate::incidents::State>,
}
