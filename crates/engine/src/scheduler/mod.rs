//! The scheduler: one task that owns "what runs where": the slots of running attempts. It
//! never polls: an enqueue, an attempt's end, a cancel or a shutdown wakes it. It fills free
//! slots by claiming from the store (`dispatch`), starts each attempt as a task of its own, and
//! as the owner of the slot records how the attempt ended (`finish`, pueue's model); cancels
//! (`cancel`), power (`power`) and the CPU ceiling (`cpu`) each have a module.

mod cancel;
mod cpu;
mod dispatch;
mod finish;
mod power;

pub(crate) use power::PowerView;

use crate::context::Context;
use crate::power_gate::PowerNeeds;
use crate::runner::{Control, Outcome, Stop};
use crate::{CancelAck, EngineError, Event};
use cpu::CpuCeiling;
use finish::Recorded;
use nightshift_core::{JobId, OnPowerLoss};
use nightshift_store::{QueueChange, QueueRow};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

pub(crate) enum Command {
    /// These queues may have new queued jobs.
    Work(Vec<String>),
    /// A job waits until this time (Unix ms): wake up then.
    Due(i64),
    Cancel {
        id: JobId,
        reason: String,
        reply: oneshot::Sender<Result<CancelAck, EngineError>>,
    },
    /// Hold (true) or release (false) dispatch in every queue. Running jobs go on. The reply
    /// comes once no further job can start (or the release has been dispatched).
    Pause(bool, oneshot::Sender<()>),
    /// Change one queue's settings (stored first, then applied).
    SetQueue {
        name: String,
        change: QueueChange,
        reply: oneshot::Sender<Result<QueueRow, EngineError>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// A CPU reading (percent) for the ceiling; `None` if it could not be taken.
    CpuReading(Option<f32>),
}

/// A running attempt's slot. It is taken from the claim until the attempt's end is recorded.
struct Slot {
    job: JobId,
    queue: String,
    /// The attempt's number, and the job's attempts used before it (for the retry backoff).
    attempt_number: u32,
    attempts_used: u32,
    /// When it was claimed (its run time is measured from here).
    started_at: i64,
    /// Whether the job asked for a notification when it ends.
    notify: bool,
    /// The job's own power needs and power-loss action (its queue's are read when needed:
    /// they may change while it runs).
    needs: PowerNeeds,
    on_power_loss: Option<OnPowerLoss>,
    control: mpsc::UnboundedSender<Control>,
    /// A stop was sent; nothing more is.
    stopping: bool,
    /// Paused for power (also the hysteresis memory: it goes on a few points above its minimum).
    power_paused: bool,
    /// The attempt has ended and its end is being recorded.
    ending: bool,
    /// The worker running it ("pool/slot") and its pid, for a job of a pool's queue.
    worker: Option<(String, i32)>,
}

impl Slot {
    /// Sends a stop, once.
    fn stop(&mut self, stop: Stop) {
        if !self.stopping && !self.ending {
            self.stopping = true;
            let _ = self.control.send(Control::Stop(stop));
        }
    }
}

pub(crate) struct Scheduler {
    ctx: Arc<Context>,
    rx: mpsc::UnboundedReceiver<Command>,
    /// Running attempts by attempt id. Not by job id: a retried job's next attempt can be
    /// claimed before its previous attempt's end is recorded, and must not take its slot.
    running: HashMap<i64, Slot>,
    per_queue: HashMap<String, u32>,
    /// The attempts' tasks, each returning how its attempt ended, and which attempt each is.
    attempts: JoinSet<Outcome>,
    attempt_of: HashMap<tokio::task::Id, i64>,
    /// Ends retried off the scheduler's task (each may wait for a full disk; other work goes on
    /// meanwhile), and which attempt each is.
    recording: JoinSet<Recorded>,
    recording_of: HashMap<tokio::task::Id, i64>,
    /// Queues that may have queued jobs. A queue leaves this set when a claim comes back short.
    dirty: BTreeSet<String>,
    paused: Arc<AtomicBool>,
    shutdown: Option<oneshot::Sender<()>>,
    /// Cancels asked of running jobs, until the job is known to be over: an attempt may end
    /// (and its job go back to the queue) just before the request reaches it.
    cancel_pending: HashMap<JobId, String>,
    /// The earliest time a waiting job becomes due: the only timer the scheduler keeps.
    next_due: Option<i64>,
    /// The power source's latest reading, and the queues it holds back.
    power: PowerView,
    cpu: Option<CpuCeiling>,
    /// Releasing jobs held for power failed; the timer tries again.
    release_pending: bool,
}

impl Scheduler {
    pub(crate) fn new(
        ctx: Arc<Context>,
        rx: mpsc::UnboundedReceiver<Command>,
        paused: Arc<AtomicBool>,
        power: PowerView,
    ) -> Self {
        Scheduler {
            rx,
            running: HashMap::new(),
            per_queue: HashMap::new(),
            attempts: JoinSet::new(),
            attempt_of: HashMap::new(),
            recording: JoinSet::new(),
            recording_of: HashMap::new(),
            dirty: BTreeSet::new(),
            paused,
            shutdown: None,
            cancel_pending: HashMap::new(),
            next_due: None,
            cpu: ctx.config.jobs.max_cpu.map(CpuCeiling::new),
            power,
            ctx,
            release_pending: false,
        }
    }

    pub(crate) async fn run(mut self, initial: Vec<String>) {
        self.mark(initial);
        // Jobs set aside for power by the previous run: the power now may let them start.
        self.release_power_held().await;
        self.next_due = self.ctx.store.next_due().await.unwrap_or(None);
        self.promote_due().await;
        self.dispatch().await;
        let mut power = self.power.state.clone();
        loop {
            // No timer without a due time (a job's, or the CPU ceiling's next look): `pending`
            // never completes.
            let recheck = self.cpu.as_ref().and_then(|c| c.recheck_at);
            let due = match (self.next_due, recheck) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
            // Saturating: a stored time may lie anywhere in i64 (a row from before times were
            // checked at the door), and a subtraction must not panic the scheduler.
            .map(|due| nightshift_core::timestamp::until(self.ctx.clock.now_ms(), due));
            let timer = async {
                match due {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = self.rx.recv() => {
                    let Some(command) = command else { break };
                    self.handle(command).await;
                }
                Some(ended) = self.attempts.join_next_with_id(), if !self.attempts.is_empty() => {
                    self.attempt_ended(ended).await;
                }
                Some(recorded) = self.recording.join_next_with_id(), if !self.recording.is_empty() => {
                    self.retried(recorded).await;
                }
                () = timer => {
                    let now = self.ctx.clock.now_ms();
                    if let Some(cpu) = self.cpu.as_mut()
                        && cpu.recheck_at.is_some_and(|at| at <= now)
                    {
                        cpu.recheck_at = None;
                    }
                    if self.release_pending {
                        self.release_power_held().await;
                    }
                    self.promote_due().await;
                }
                // Power changed: the queues it held are still marked as having work, so this
                // looks at them (and only them) again; no table scan.
                Ok(()) = power.changed() => {
                    self.power_changed().await;
                    continue;
                }
            }
            // Take everything already waiting before dispatching, so a burst of enqueues
            // becomes one claim per queue.
            while let Ok(command) = self.rx.try_recv() {
                self.handle(command).await;
            }
            if self.shutdown.is_some() {
                if self.running.is_empty() {
                    if let Some(reply) = self.shutdown.take() {
                        let _ = reply.send(());
                    }
                    return;
                }
            } else {
                self.dispatch().await;
            }
        }
    }

    /// Marks `queues` as possibly having queued jobs.
    fn mark(&mut self, queues: impl IntoIterator<Item = String>) {
        self.dirty.extend(queues);
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Work(queues) => self.mark(queues),
            Command::Due(at) => self.next_due = Some(self.next_due.map_or(at, |d| d.min(at))),
            Command::Cancel { id, reason, reply } => {
                let _ = reply.send(self.cancel(id, reason).await);
            }
            Command::Pause(paused, reply) => {
                if self.paused.swap(paused, Ordering::Relaxed) != paused {
                    let _ = self.ctx.events.send(Event::Paused { paused });
                }
                let _ = reply.send(());
            }
            Command::SetQueue {
                name,
                change,
                reply,
            } => {
                let now = self.ctx.clock.now_ms();
                let result = self.ctx.store.set_queue(&name, change, now).await;
                let result = result.map_err(EngineError::from).inspect(|row| {
                    crate::locks::write(&self.ctx.queues).insert(name.clone(), row.clone());
                    let _ = self
                        .ctx
                        .events
                        .send(Event::QueueChanged { name: name.clone() });
                });
                // A raised limit or a resume may let jobs start now; a new power policy may
                // pause, stop or continue running jobs.
                self.mark([name]);
                self.apply_power_to_running();
                let _ = reply.send(result);
            }
            Command::CpuReading(percent) => {
                if let Some(cpu) = self.cpu.as_mut() {
                    cpu.measuring = false;
                    if percent.is_none() {
                        tracing::warn!("cannot read the CPU use; the ceiling does not hold");
                    }
                    cpu.last = Some(crate::cpu::Reading {
                        percent: percent.unwrap_or(0.0),
                        at: std::time::Instant::now(),
                    });
                }
            }
            Command::Shutdown { reply } => {
                self.shutdown = Some(reply);
                for slot in self.running.values_mut() {
                    slot.stop(Stop::Shutdown);
                }
            }
        }
    }
}
