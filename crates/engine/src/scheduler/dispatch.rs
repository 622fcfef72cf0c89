//! Dispatch: starting what may start. A queue marked as possibly having work is claimed from
//! when nothing holds it back; what holds a queue back, and in which order, is `crate::gate`'s,
//! which also tells readers why a job waits.

use super::{Scheduler, Slot, power::claim_power};
use crate::Event;
use crate::gate::QueueHold;
use crate::power_gate::PowerNeeds;
use crate::runner;
use nightshift_store::Claimed;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;

/// How long to wait before trying the store again after it failed.
pub(super) const STORE_RETRY_MS: i64 = 1000;

impl Scheduler {
    /// Makes the jobs due by now claimable and finds the next due time.
    pub(super) async fn promote_due(&mut self) {
        if self
            .next_due
            .is_none_or(|due| due > self.ctx.clock.now_ms())
        {
            return;
        }
        match self.ctx.store.promote_due(self.ctx.clock.now_ms()).await {
            Ok(queues) => self.mark(queues),
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
    pub(super) fn retry_soon(&mut self) {
        let at = self.ctx.clock.now_ms().saturating_add(STORE_RETRY_MS);
        self.next_due = Some(self.next_due.map_or(at, |d| d.min(at)));
    }

    /// Starts what may start; returns how many jobs each queue started.
    pub(super) async fn dispatch(&mut self) -> HashMap<String, usize> {
        let mut started = HashMap::new();
        // Nothing new starts while paused, or once a shutdown has begun (a due time or a power
        // change may still wake the loop then).
        if self.paused.load(Ordering::Relaxed) || self.shutdown.is_some() {
            return started;
        }
        let power = self.power_now();
        let queues: Vec<String> = self.dirty.iter().cloned().collect();

        for queue in queues {
            let free = match self.free_slots(&queue, power, 0) {
                Ok(free) => free,
                // Nothing starts until the CPU reading allows it, in any queue.
                Err(QueueHold::Cpu(_)) => break,
                // Stays marked: a power change, a freed slot or a resume looks again.
                Err(_) => continue,
            };
            // A pool's queue starts no more jobs than it has idle workers. Stays marked: a
            // worker that becomes idle asks for work.
            let free = if self.ctx.pools.serves(&queue) {
                free.min(self.ctx.pools.idle(&queue))
            } else {
                free
            };
            if free == 0 {
                continue;
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
            if (claimed.len() as u32) < free {
                self.dirty.remove(&queue);
            }
            *started.entry(queue.clone()).or_default() += claimed.len();
            self.start_claimed(&queue, claimed, set_aside);
        }
        started
    }

    /// How many jobs of `queue` may start now, counting `freeing` slots of it as free already
    /// (an attempt whose end is being recorded with a claim, see `finish`); or what holds it
    /// back, in the order `crate::gate` keeps for dispatch and for readers alike.
    pub(super) fn free_slots(
        &mut self,
        queue: &str,
        power: nightshift_power::PowerState,
        freeing: u32,
    ) -> Result<u32, QueueHold> {
        let settings = crate::queues::settings(&self.ctx.config, &self.ctx.queues, queue);
        let busy = self
            .per_queue
            .get(queue)
            .copied()
            .unwrap_or(0)
            .saturating_sub(freeing);
        let all_paused = self.paused.load(Ordering::Relaxed);
        // The two closures each need the scheduler; they run one after the other.
        let this = std::cell::RefCell::new(self);
        crate::gate::queue_gate(
            &settings,
            all_paused,
            u64::from(busy),
            power.on_ac,
            || this.borrow_mut().power_hold(&settings),
            || this.borrow_mut().cpu_hold(),
        )
    }

    /// Takes the slots of jobs just claimed from `queue` and starts their attempts.
    pub(super) fn start_claimed(&mut self, queue: &str, claimed: Vec<Claimed>, set_aside: usize) {
        if set_aside > 0 {
            // Whoever shows "waiting for power" looks again.
            let _ = self.ctx.events.send(Event::QueueChanged {
                name: queue.to_string(),
            });
        }
        crate::locks::write(&self.power.held).remove(queue);
        let pooled = self.ctx.pools.serves(queue);
        for job in claimed {
            let (control, control_rx) = mpsc::unbounded_channel();
            *self.per_queue.entry(queue.to_string()).or_default() += 1;
            let attempt = job.attempt_id;
            self.running.insert(
                attempt,
                Slot {
                    job: job.job.id,
                    queue: queue.to_string(),
                    attempt_number: job.attempt_number,
                    attempts_used: job.job.attempts_used,
                    started_at: job.claimed_at(),
                    notify: job.job.spec.notify,
                    needs: PowerNeeds::of_job(&job.job.spec),
                    on_power_loss: job.job.spec.on_power_loss,
                    control,
                    stopping: false,
                    power_paused: false,
                    ending: false,
                    worker: None,
                },
            );
            self.ctx.running.fetch_add(1, Ordering::Relaxed);
            let task = if pooled {
                // Taken now, on the scheduler's task, so two jobs never get one worker. None if
                // it went away since `idle` counted it: the job then goes straight back.
                let worker = self.ctx.pools.checkout(queue);
                if let (Some(slot), Some(w)) = (self.running.get_mut(&attempt), &worker) {
                    slot.worker = Some((w.name.clone(), w.identity.pid));
                }
                self.attempts.spawn(crate::pools::run_attempt(
                    self.ctx.clone(),
                    job,
                    control_rx,
                    worker,
                ))
            } else {
                self.attempts
                    .spawn(runner::run(self.ctx.clone(), job, control_rx))
            };
            self.attempt_of.insert(task.id(), attempt);
        }
    }
}
