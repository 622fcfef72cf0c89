//! Cancelling: a queued job is cancelled in the store at once; a running one is asked to stop
//! (its latest attempt), and the cancel is made to stick once that attempt has ended.

use super::Scheduler;
use crate::runner::Stop;
use crate::{CancelAck, EngineError, Event};
use nightshift_core::{JobId, JobState};
use nightshift_store::CancelResult;

impl Scheduler {
    /// Sends a cancel to the job's latest running attempt; false if it has none.
    pub(super) fn stop_latest(&mut self, id: JobId, reason: &str) -> bool {
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
    pub(super) async fn settle_cancel(&mut self, id: JobId) {
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

    pub(super) async fn cancel(
        &mut self,
        id: JobId,
        reason: String,
    ) -> Result<CancelAck, EngineError> {
        if self.stop_latest(id, &reason) {
            self.cancel_pending.insert(id, reason);
            return Ok(CancelAck::Stopping);
        }
        self.cancel_queued(id, reason).await
    }

    pub(super) async fn cancel_queued(
        &mut self,
        id: JobId,
        reason: String,
    ) -> Result<CancelAck, EngineError> {
        let now = self.ctx.clock.now_ms();
        match self
            .ctx
            .store
            .cancel_queued(id, reason.clone(), now)
            .await?
        {
            CancelResult::Cancelled { queue, dependants } => {
                self.ctx.metrics.cancelled(&queue);
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
                crate::events::dependants_cancelled(
                    &self.ctx.events,
                    &self.ctx.metrics,
                    &dependants,
                );
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
}
