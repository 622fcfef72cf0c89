//! An attempt's end, recorded by the owner of its slot (as pueue's task handler finishes a
//! task): the attempt's task only says how it ended; the scheduler works out what that means
//! for the job (the retry time), records it, and only once it is recorded frees the slot and
//! tells listeners.
//!
//! The slot an ended attempt leaves is filled in the same transaction as its end is recorded,
//! when the queue may start a job then: one commit per job instead of two for a busy queue.
//! That first write is awaited on the scheduler's task, as dispatch awaits its claims, so no
//! command (a pause, a cancel, a stop, a new limit) and no power change comes between the
//! decision to claim, the claim and the start of what it claimed. An end that cannot be written
//! then (a full disk) is retried off the scheduler's task, alone, so other work goes on; the
//! slot stays taken until it lands.

use super::Scheduler;
use super::power::claim_power;
use crate::Event;
use crate::runner::Outcome;
use nightshift_core::{AttemptOutcome, JobState};
use nightshift_store::{ClaimAsk, Finish, StoreError};
use nightshift_supervisor::Exit;
use std::sync::atomic::Ordering;
use tokio::task::JoinError;

/// An end as recorded, with the jobs claimed in the same transaction (and how many it set
/// aside for their power needs) when a claim went with it.
type Landed = (
    nightshift_store::Ended,
    Option<(Vec<nightshift_store::Claimed>, usize)>,
);

/// An attempt's end, as recorded (or not).
pub(super) struct Recorded {
    attempt: i64,
    /// When the attempt's end was seen.
    ended_at: i64,
    outcome: Outcome,
    retry_at: i64,
    result: Result<Landed, StoreError>,
}

impl Scheduler {
    /// An attempt's task returned (or failed): records how the attempt ended.
    pub(super) async fn attempt_ended(
        &mut self,
        ended: Result<(tokio::task::Id, Outcome), JoinError>,
    ) {
        let (attempt, outcome) = match ended {
            Ok((task, outcome)) => (self.attempt_of.remove(&task), outcome),
            // A panic outside the attempt's own guard (a bug): the attempt fails rather than
            // keep its slot forever.
            Err(e) => {
                let message = if e.is_panic() {
                    "its task panicked"
                } else {
                    "its task was cancelled"
                };
                tracing::error!(error = %e, "the supervision of an attempt failed");
                let outcome = Outcome {
                    outcome: AttemptOutcome::Failed,
                    consume: true,
                    exit: None,
                    reason: Some(format!(
                        "Nightshift failed while supervising this attempt ({message})"
                    )),
                    crash: false,
                    result: None,
                };
                (self.attempt_of.remove(&e.id()), outcome)
            }
        };
        let Some(attempt) = attempt else { return };
        let Some(slot) = self.running.get_mut(&attempt) else {
            return;
        };
        slot.ending = true;
        let (job, queue, worker) = (slot.job, slot.queue.clone(), slot.worker.clone());
        let now = self.ctx.clock.now_ms();
        // Counted in attempts that failed, not in all attempts: cancels and restarts do not make
        // the next wait longer.
        let backoff =
            crate::queues::settings(&self.ctx.config, &self.ctx.queues, &queue).retry_backoff;
        let wait = crate::backoff::delay(
            slot.attempts_used.saturating_add(2),
            backoff,
            self.ctx.config.jobs.retry_backoff_max,
            crate::backoff::jitter(job.0 as u64 ^ now as u64),
        );
        let retry_at = nightshift_core::timestamp::later(now, wait);
        let finish = Finish {
            job,
            attempt,
            outcome: outcome.outcome,
            consume: outcome.consume,
            exit_code: outcome.exit.and_then(Exit::code),
            signal: outcome.exit.and_then(Exit::signal),
            reason: outcome.reason.clone(),
            now,
            retry_at: Some(retry_at),
            // A worker that died mid-job: an interruption in a row, so a job that kills its
            // worker every time fails after `jobs.max_interruptions` instead of looping.
            crash_limit: outcome
                .crash
                .then_some(self.ctx.config.jobs.max_interruptions),
            usage: self.ctx.usage.finish(attempt),
            result: outcome.result.clone(),
            worker,
        };
        let claim = self.claim_with_end(&queue, now);
        let store = &self.ctx.store;
        let first = match claim {
            Some(claim) => store
                .finish_then_claim(finish.clone(), claim)
                .await
                .map(|(ended, claimed)| (ended, Some(claimed))),
            None => store
                .finish(finish.clone())
                .await
                .map(|ended| (ended, None)),
        };
        match first {
            Ok(landed) => {
                self.recorded(Recorded {
                    attempt,
                    ended_at: now,
                    outcome,
                    retry_at,
                    result: Ok(landed),
                })
                .await;
            }
            // Retried alone, whatever the failure: a claim that failed must not hold back the
            // end it went with. `outcomes::record` keeps retrying a storage failure (and keeps
            // the end in the journal meanwhile) and gives up on anything else.
            Err(e) => {
                tracing::debug!(job = %job, error = %e, "the end of an attempt is retried alone");
                let ctx = self.ctx.clone();
                let task = self.recording.spawn(async move {
                    let result = crate::outcomes::record(&ctx, finish)
                        .await
                        .map(|ended| (ended, None));
                    Recorded {
                        attempt,
                        ended_at: now,
                        outcome,
                        retry_at,
                        result,
                    }
                });
                self.recording_of.insert(task.id(), attempt);
            }
        }
    }

    /// The claim to run with an attempt's end in `queue`: one job to take the slot, when
    /// dispatch would start one there now (counting that slot as free).
    fn claim_with_end(&mut self, queue: &str, now: i64) -> Option<ClaimAsk> {
        if self.shutdown.is_some() {
            return None;
        }
        // A pool's worker says it is idle before its job's outcome arrives here, so the next
        // job is claimed with this end when a worker is free to take it.
        if self.ctx.pools.serves(queue) && self.ctx.pools.idle(queue) == 0 {
            return None;
        }
        let power = self.power_now();
        self.free_slots(queue, power, 1).ok().map(|_| ClaimAsk {
            queue: queue.to_string(),
            limit: 1,
            now,
            power: claim_power(power),
        })
    }

    /// An end retried off the scheduler's task landed (or could not).
    pub(super) async fn retried(
        &mut self,
        recorded: Result<(tokio::task::Id, Recorded), JoinError>,
    ) {
        match recorded {
            Ok((task, recorded)) => {
                self.recording_of.remove(&task);
                self.recorded(recorded).await;
            }
            Err(e) => {
                // Cannot happen short of a bug in recording. The end is unknown to the store
                // (the row stays 'running', and the next start settles it); the slot is freed
                // so that the queue and a stop go on.
                tracing::error!(error = %e, "recording the end of an attempt failed");
                if let Some(attempt) = self.recording_of.remove(&e.id())
                    && let Some(slot) = self.running.remove(&attempt)
                {
                    if let Some(n) = self.per_queue.get_mut(&slot.queue) {
                        *n = n.saturating_sub(1);
                    }
                    self.ctx.running.fetch_sub(1, Ordering::Relaxed);
                    self.mark([slot.queue]);
                }
            }
        }
    }

    /// An end was recorded (or could not be): frees the slot, tells listeners, and starts what
    /// was claimed with it.
    async fn recorded(&mut self, recorded: Recorded) {
        let Recorded {
            attempt,
            ended_at,
            outcome,
            retry_at,
            result,
        } = recorded;
        let Some(slot) = self.running.remove(&attempt) else {
            return;
        };
        if let Some(n) = self.per_queue.get_mut(&slot.queue) {
            *n = n.saturating_sub(1);
        }
        let id = slot.job;
        match result {
            Ok((ended, claimed)) => {
                let state = ended.state;
                let ran = (outcome.outcome != AttemptOutcome::SpawnFailed)
                    .then(|| ended_at.saturating_sub(slot.started_at).max(0) as u64);
                self.ctx.metrics.ended(
                    &slot.queue,
                    outcome.outcome,
                    outcome.exit.and_then(Exit::signal),
                    state,
                    ran,
                );
                crate::events::dependants_cancelled(
                    &self.ctx.events,
                    &self.ctx.metrics,
                    &ended.dependants,
                );
                self.mark(ended.dependants.released);
                if state == JobState::Queued && outcome.consume {
                    self.next_due = Some(self.next_due.map_or(retry_at, |d| d.min(retry_at)));
                }
                self.ctx.running.fetch_sub(1, Ordering::Relaxed);
                let _ = self.ctx.events.send(Event::Ended {
                    id,
                    state,
                    attempt: Some(slot.attempt_number),
                    outcome: Some(outcome.outcome),
                    exit_code: outcome.exit.and_then(Exit::code),
                    signal: outcome.exit.and_then(Exit::signal),
                    reason: outcome.reason,
                    notify: slot.notify && state.is_final(),
                });
                match claimed {
                    // As in dispatch: a short claim means the queue has nothing more to start
                    // (a job added since wakes it again through its own `Work`).
                    Some((claimed, set_aside)) => {
                        if claimed.is_empty() {
                            self.dirty.remove(&slot.queue);
                        }
                        self.start_claimed(&slot.queue, claimed, set_aside);
                    }
                    // The freed slot may let the next job of this queue start (or the job
                    // itself, if it went back to its queue).
                    None => self.mark([slot.queue.clone()]),
                }
            }
            // The store refused it (the attempt was closed meanwhile), or the engine stopped
            // while the disk stayed full: the row stays 'running', and the next start settles it
            // (from the outcome journal when it holds the outcome).
            Err(e) => {
                self.ctx.running.fetch_sub(1, Ordering::Relaxed);
                tracing::error!(job = %id, error = %e, "cannot record the end of an attempt");
                self.mark([slot.queue.clone()]);
            }
        }
        self.settle_cancel(id).await;
    }
}
