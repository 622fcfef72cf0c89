//! The event bus: what the engine tells whoever listens (the API's waiters and streams, the
//! desktop shell's tray and notifications). Sent on a broadcast channel; a slow listener that
//! falls behind is told it lagged and re-reads state from the store.

use nightshift_core::{AttemptOutcome, JobId, JobState};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// Jobs were stored and are waiting for a slot.
    Queued { ids: Vec<JobId> },
    /// An attempt's process group is running and its identity is stored.
    Started { id: JobId, attempt: u32, pid: i32 },
    /// A job left the running or queued state: finished for good, or back in its queue.
    Ended {
        id: JobId,
        state: JobState,
        attempt: Option<u32>,
        outcome: Option<AttemptOutcome>,
        exit_code: Option<i32>,
        signal: Option<i32>,
        reason: Option<String>,
        /// The job asked for a notification when it ends.
        notify: bool,
    },
    /// Dispatch in every queue was held (`paused`) or released.
    Paused { paused: bool },
    /// A queue's settings changed (limit, paused).
    QueueChanged { name: String },
    /// A worker pool's workers changed (started, ready, busy, exited, stopped).
    PoolChanged { name: String },
    /// The power source changed (AC plugged or unplugged, battery percent moved).
    PowerChanged { state: nightshift_power::PowerState },
    /// A running job was paused because power was lost (`paused`), or goes on again.
    PowerPaused {
        id: JobId,
        paused: bool,
        reason: Option<String>,
    },
    /// Power came back and work it held goes on: jobs that waited for it started, and jobs it
    /// had paused continue.
    PowerResumed { started: usize, continued: usize },
    /// The engine's health changed: what needs a person now (empty when all is well again).
    Health { problems: Vec<String> },
    /// An incident was opened or changed (stored first). `notice`: the user is to be told now
    /// (it became active, came back, a reminder, or it resolved by itself).
    Incident {
        incident: Box<nightshift_core::incident::Incident>,
        notice: Option<nightshift_core::incident::lifecycle::Notice>,
        /// Who made the change: Nightshift itself, or a person through a door.
        door: nightshift_core::incident::Door,
    },
    /// A pending incident whose condition cleared before it became active was forgotten.
    IncidentDropped { id: i64 },
    /// Start-up found attempts left running by an instance that did not stop cleanly.
    Recovered {
        requeued: Vec<JobId>,
        failed: Vec<JobId>,
    },
}

/// Counts, and tells listeners about, jobs cancelled because a job they run after failed or
/// was cancelled.
pub(crate) fn dependants_cancelled(
    events: &tokio::sync::broadcast::Sender<Event>,
    metrics: &crate::metrics::Metrics,
    dependants: &nightshift_store::Dependants,
) {
    for nightshift_store::CancelledDependant { id, queue, reason } in &dependants.cancelled {
        metrics.cancelled(queue);
        let _ = events.send(Event::Ended {
            id: *id,
            state: JobState::Cancelled,
            attempt: None,
            outcome: None,
            exit_code: None,
            signal: None,
            reason: Some(reason.clone()),
            notify: false,
        });
    }
}
