//! The scheduler: one task that owns "what runs where" and reacts to commands. It never polls:
//! an enqueue, an attempt's end, a cancel or a shutdown wakes it, and it fills free slots by
//! claiming from the store.

use crate::power_gate::{self, PowerHold, PowerNeeds};
use crate::runner::{self, Context, Control, Stop};
use crate::{CancelAck, EngineError, Event};
use nightshift_core::{JobId, JobState, OnPowerLoss};
use nightshift_store::{CancelResult, PowerNow, QueueChange, QueueRow};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, oneshot};

/// How long to wait before trying the store again after it failed.
const STORE_RETRY_MS: i64 = 1000;

pub(crate) enum Command {
    /// These queues may have new queued jobs.
    Work(Vec<String>),
    /// A job waits until this time (Unix ms): wake up then.
    Due(i64),
    /// An attempt ended; its slot is free.
    Finished {
        attempt: i64,
        job: JobId,
        queue: String,
    },
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

/// The CPU ceiling's state in the scheduler (present only with `jobs.max_cpu`).
struct CpuCeiling {
    ceiling: u8,
    system: Arc<std::sync::Mutex<sysinfo::System>>,
    last: Option<crate::cpu::Reading>,
    measuring: bool,
    /// Look again then (Unix ms): the ceiling holds work back.
    recheck_at: Option<i64>,
}

struct Slot {
    job: JobId,
    queue: String,
    /// The job's own power needs and power-loss action (its queue's are read when needed:
    /// they may change while it runs).
    needs: PowerNeeds,
    on_power_loss: Option<OnPowerLoss>,
    control: mpsc::UnboundedSender<Control>,
    /// A stop was sent; nothing more is.
    stopping: bool,
    /// Paused for power (also the hysteresis memory: it goes on a few points above its minimum).
    power_paused: bool,
}

impl Slot {
    /// Sends a stop, once.
    fn stop(&mut self, stop: Stop) {
        if !self.stopping {
            self.stopping = true;
            let _ = self.control.send(Control::Stop(stop));
        }
    }
}

pub(crate) struct Scheduler {
    ctx: Arc<Context>,
    rx: mpsc::UnboundedReceiver<Command>,
    /// Running attempts by attempt id. Not by job id: a retried job's next attempt can be
    /// claimed before its previous attempt's `Finished` arrives, and must not take its slot.
    running: HashMap<i64, Slot>,
    per_queue: HashMap<String, u32>,
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

/// The power side of scheduling, shared with readers (the API's reasons, the tray).
#[derive(Clone)]
pub(crate) struct PowerView {
    pub(crate) state: tokio::sync::watch::Receiver<nightshift_power::PowerState>,
    /// Queues with work that power holds back, and why (also the hysteresis memory: a queue
    /// held for a low battery needs a few points more to start again).
    pub(crate) held: Arc<RwLock<HashMap<String, PowerHold>>>,
}

/// The power reading as the store's claim takes it.
fn claim_power(power: nightshift_power::PowerState) -> PowerNow {
    PowerNow {
        on_ac: power.on_ac,
        battery_percent: power.battery_percent,
    }
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
            dirty: BTreeSet::new(),
            paused,
            shutdown: None,
            cancel_pending: HashMap::new(),
            next_due: None,
            cpu: ctx.config.jobs.max_cpu.map(|ceiling| CpuCeiling {
                ceiling,
                system: Arc::new(std::sync::Mutex::new(sysinfo::System::new())),
                last: None,
                measuring: false,
                recheck_at: None,
            }),
            power,
            ctx,
            release_pending: false,
        }
    }

    pub(crate) async fn run(mut self, initial: Vec<String>) {
        self.dirty.extend(initial);
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
            let command = tokio::select! {
                command = self.rx.recv() => command,
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
                    self.dispatch().await;
                    continue;
                }
                // Power changed: the queues it held are still marked as having work, so this
                // looks at them (and only them) again; no table scan.
                Ok(()) = power.changed() => {
                    self.power_changed().await;
                    continue;
                }
            };
            let Some(command) = command else { break };
            self.handle(command).await;
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

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Work(queues) => self.dirty.extend(queues),
            Command::Due(at) => self.next_due = Some(self.next_due.map_or(at, |d| d.min(at))),
            Command::Finished {
                attempt,
                job,
                queue,
            } => {
                if self.running.remove(&attempt).is_some()
                    && let Some(n) = self.per_queue.get_mut(&queue)
                {
                    *n = n.saturating_sub(1);
                }
                // A freed slot may let the next job of this queue start (or the job itself,
                // if it went back to its queue).
                self.dirty.insert(queue);
                self.settle_cancel(job).await;
            }
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
                self.dirty.insert(name);
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

    /// Makes the jobs due by now claimable and finds the next due time.
    async fn promote_due(&mut self) {
        if self
            .next_due
            .is_none_or(|due| due > self.ctx.clock.now_ms())
        {
            return;
        }
        match self.ctx.store.promote_due(self.ctx.clock.now_ms()).await {
            Ok(queues) => self.dirty.extend(queues),
            Err(e) => {
                tracing::error!(error = %e, "cannot release jobs that are due; trying again in a second");
                self.retry_soon();
                return;
            }
        }
        self.next_due = match self.ctx.store.next_due().await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the next due time; trying again in a second");
                Some(self.ctx.clock.now_ms().saturating_add(STORE_RETRY_MS))
            }
        };
    }

    /// After a store error, look again in a second (a real deadline: work is waiting), rather
    /// than leave jobs waiting for an unrelated event.
    fn retry_soon(&mut self) {
        let at = self.ctx.clock.now_ms().saturating_add(STORE_RETRY_MS);
        self.next_due = Some(self.next_due.map_or(at, |d| d.min(at)));
    }

    /// Sends a cancel to the job's latest running attempt; false if it has none.
    fn stop_latest(&mut self, id: JobId, reason: &str) -> bool {
        // The latest attempt: an earlier one may still be reporting its end.
        let latest = self
            .running
            .iter_mut()
            .filter(|(_, slot)| slot.job == id)
            .max_by_key(|(attempt, _)| **attempt)
            .map(|(_, slot)| slot);
        match latest {
            Some(slot) => {
                slot.stop(Stop::Cancel(reason.to_string()));
                true
            }
            None => false,
        }
    }

    /// After an attempt of a job with a pending cancel ended: make the cancel stick.
    async fn settle_cancel(&mut self, id: JobId) {
        let Some(reason) = self.cancel_pending.get(&id).cloned() else {
            return;
        };
        if self.stop_latest(id, &reason) {
            return; // a newer attempt runs; it has the request now
        }
        match self.cancel_queued(id, reason).await {
            // Back in its queue (it failed with attempts left, or Nightshift is stopping):
            // cancelled now. Or already over: nothing left to do.
            Ok(_) | Err(_) => {
                self.cancel_pending.remove(&id);
            }
        }
    }

    async fn cancel(&mut self, id: JobId, reason: String) -> Result<CancelAck, EngineError> {
        if self.stop_latest(id, &reason) {
            self.cancel_pending.insert(id, reason);
            return Ok(CancelAck::Stopping);
        }
        self.cancel_queued(id, reason).await
    }

    async fn cancel_queued(&mut self, id: JobId, reason: String) -> Result<CancelAck, EngineError> {
        let now = self.ctx.clock.now_ms();
        match self
            .ctx
            .store
            .cancel_queued(id, reason.clone(), now)
            .await?
        {
            CancelResult::Cancelled(dependants) => {
                let _ = self.ctx.events.send(Event::Ended {
                    id,
                    state: JobState::Cancelled,
                    attempt: None,
                    outcome: None,
                    exit_code: None,
                    signal: None,
                    reason: Some(reason),
                    notify: false,
                });
                crate::events::dependants_cancelled(&self.ctx.events, &dependants);
                Ok(CancelAck::Cancelled)
            }
            CancelResult::NotQueued(state) if state.is_final() => Err(EngineError::Store(
                nightshift_store::StoreError::WrongState {
                    id,
                    state,
                    message: "it has already finished".into(),
                },
            )),
            CancelResult::NotQueued(_) => Err(EngineError::NotRunning(id)),
        }
    }

    fn power_now(&self) -> nightshift_power::PowerState {
        *self.power.state.borrow()
    }

    /// Power changed: bring back the jobs set aside for it that may start now, pause, stop or
    /// continue running jobs by their policy, start what may start, and say so when work that
    /// power held goes on.
    async fn power_changed(&mut self) {
        let held_before: BTreeSet<String> = crate::locks::read(&self.power.held)
            .keys()
            .cloned()
            .collect();
        let released = self.release_power_held().await;
        let continued = self.apply_power_to_running();
        let started = self.dispatch().await;
        let started: usize = started
            .iter()
            .filter(|(queue, _)| held_before.contains(*queue) || released.contains(*queue))
            .map(|(_, n)| n)
            .sum();
        if started + continued > 0 {
            let _ = self
                .ctx
                .events
                .send(Event::PowerResumed { started, continued });
        }
    }

    /// Brings back the jobs set aside for their own power needs that may start now.
    async fn release_power_held(&mut self) -> BTreeSet<String> {
        let now = claim_power(self.power_now());
        match self
            .ctx
            .store
            .release_power_held(now, power_gate::HYSTERESIS)
            .await
        {
            Ok(queues) => {
                self.release_pending = false;
                self.dirty.extend(queues.iter().cloned());
                queues.into_iter().collect()
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot release jobs held for power; trying again in a second");
                self.release_pending = true;
                self.retry_soon();
                BTreeSet::new()
            }
        }
    }

    /// Pauses, stops or continues running jobs by their power policy; returns how many
    /// continue after a pause.
    fn apply_power_to_running(&mut self) -> usize {
        let state = self.power_now();
        let mut continued = 0;
        for slot in self.running.values_mut() {
            if slot.stopping {
                continue;
            }
            let queue = crate::queues::settings(&self.ctx.config, &self.ctx.queues, &slot.queue);
            let needs = PowerNeeds::of_queue(&queue).and(slot.needs);
            let hold = power_gate::hold_for(needs, state, slot.power_paused);
            let action = slot.on_power_loss.unwrap_or(queue.on_power_loss);
            let by_queue =
                power_gate::hold_for(PowerNeeds::of_queue(&queue), state, slot.power_paused)
                    .is_some();
            let whose = if by_queue { "the queue" } else { "the job" };
            match (hold, action) {
                (Some(hold), OnPowerLoss::Pause) if !slot.power_paused => {
                    slot.power_paused = true;
                    let _ = slot.control.send(Control::Pause(hold.describe(whose)));
                }
                (Some(hold), OnPowerLoss::Requeue) => {
                    slot.stop(Stop::PowerLost(hold.describe(whose)));
                }
                // Power is back, or the policy no longer pauses (a queue set to finish).
                (None, _) | (Some(_), OnPowerLoss::Finish) if slot.power_paused => {
                    slot.power_paused = false;
                    continued += 1;
                    let _ = slot.control.send(Control::Resume);
                }
                _ => {}
            }
        }
        continued
    }

    /// Whether the CPU ceiling holds new jobs back now. Without a fresh reading it starts one
    /// (its arrival dispatches again) and holds until then.
    fn cpu_holds(&mut self) -> bool {
        let Some(cpu) = self.cpu.as_mut() else {
            return false;
        };
        let hold = match cpu.last {
            Some(reading) if reading.is_fresh() => crate::cpu::holds(reading.percent, cpu.ceiling),
            _ => {
                if !cpu.measuring {
                    cpu.measuring = true;
                    let system = cpu.system.clone();
                    let scheduler = self.ctx.scheduler.clone();
                    tokio::spawn(async move {
                        let percent = crate::cpu::measure(system).await;
                        let _ = scheduler.send(Command::CpuReading(percent));
                    });
                }
                return true;
            }
        };
        if hold.is_some() {
            let at =
                nightshift_core::timestamp::later(self.ctx.clock.now_ms(), crate::cpu::RECHECK);
            cpu.recheck_at = Some(cpu.recheck_at.map_or(at, |r| r.min(at)));
        }
        *crate::locks::write(&self.ctx.cpu_held) = hold;
        hold.is_some()
    }

    /// Whether power holds `queue` back now; records it (and why) for readers.
    fn power_holds(&mut self, queue: &crate::queues::QueueSettings) -> bool {
        let state = *self.power.state.borrow();
        let mut held = crate::locks::write(&self.power.held);
        let for_battery = matches!(held.get(&queue.name), Some(PowerHold::BatteryLow { .. }));
        let (holds, changed) = match power_gate::hold(queue, state, for_battery) {
            Some(reason) => (true, held.insert(queue.name.clone(), reason).is_none()),
            None => (false, held.remove(&queue.name).is_some()),
        };
        drop(held);
        // Whoever shows "waiting for power" (the tray, the window) looks again.
        if changed {
            let _ = self.ctx.events.send(Event::QueueChanged {
                name: queue.name.clone(),
            });
        }
        holds
    }

    /// Starts what may start; returns how many jobs each queue started.
    async fn dispatch(&mut self) -> HashMap<String, usize> {
        let mut started = HashMap::new();
        // Nothing new starts while paused, or once a shutdown has begun (a due time or a power
        // change may still wake the loop then).
        if self.paused.load(Ordering::Relaxed) || self.shutdown.is_some() {
            return started;
        }
        let power = self.power_now();
        let queues: Vec<String> = self.dirty.iter().cloned().collect();

        for queue in queues {
            let settings = crate::queues::settings(&self.ctx.config, &self.ctx.queues, &queue);
            if settings.paused {
                continue;
            }
            let limit = settings.limit(power.on_ac);
            if self.power_holds(&settings) {
                continue; // stays marked: a power change looks again
            }
            let busy = self.per_queue.get(&queue).copied().unwrap_or(0);
            if busy >= limit {
                continue;
            }
            let free = limit - busy;
            // Looked at only when a job could start now: no reading is taken otherwise.
            if self.cpu_holds() {
                break;
            }
            let (claimed, set_aside) = match self
                .ctx
                .store
                .claim_or_hold(&queue, free, self.ctx.clock.now_ms(), claim_power(power))
                .await
            {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::error!(queue, error = %e, "cannot claim jobs; trying again in a second");
                    self.retry_soon();
                    continue;
                }
            };
            if set_aside > 0 {
                // Whoever shows "waiting for power" looks again.
                let _ = self.ctx.events.send(Event::QueueChanged {
                    name: queue.clone(),
                });
            }
            if (claimed.len() as u32) < free {
                self.dirty.remove(&queue);
            }
            crate::locks::write(&self.power.held).remove(&queue);
            *started.entry(queue.clone()).or_default() += claimed.len();
            for job in claimed {
                let (control, control_rx) = mpsc::unbounded_channel();
                *self.per_queue.entry(queue.clone()).or_default() += 1;
                self.running.insert(
                    job.attempt_id,
                    Slot {
                        job: job.job.id,
                        queue: queue.clone(),
                        needs: PowerNeeds::of_job(&job.job.spec),
                        on_power_loss: job.job.spec.on_power_loss,
                        control,
                        stopping: false,
                        power_paused: false,
                    },
                );
                self.ctx.running.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(runner::run(self.ctx.clone(), job, control_rx));
            }
        }
        started
    }
}
