//! The power side of scheduling: jobs set aside for power brought back when it allows,
//! running jobs paused, stopped or continued by their policy when it changes, and which queues
//! power holds back (and why) for readers.

use super::Scheduler;
use crate::Event;
use crate::power_gate::{self, PowerHold, PowerNeeds};
use crate::runner::{Control, Stop};
use nightshift_core::OnPowerLoss;
use nightshift_store::PowerNow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

/// The power side of scheduling, shared with readers (the API's reasons, the tray).
#[derive(Clone)]
pub(crate) struct PowerView {
    pub(crate) state: tokio::sync::watch::Receiver<nightshift_power::PowerState>,
    /// Queues with work that power holds back, and why (also the hysteresis memory: a queue
    /// held for a low battery needs a few points more to start again).
    pub(crate) held: Arc<RwLock<HashMap<String, PowerHold>>>,
}

/// The power reading as the store's claim takes it.
pub(super) fn claim_power(power: nightshift_power::PowerState) -> PowerNow {
    PowerNow {
        on_ac: power.on_ac,
        battery_percent: power.battery_percent,
    }
}

impl Scheduler {
    pub(super) fn power_now(&self) -> nightshift_power::PowerState {
        *self.power.state.borrow()
    }

    /// Power changed: bring back the jobs set aside for it that may start now, pause, stop or
    /// continue running jobs by their policy, start what may start, and say so when work that
    /// power held goes on.
    pub(super) async fn power_changed(&mut self) {
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
    pub(super) async fn release_power_held(&mut self) -> BTreeSet<String> {
        let now = claim_power(self.power_now());
        match self
            .ctx
            .store
            .release_power_held(now, power_gate::HYSTERESIS)
            .await
        {
            Ok(queues) => {
                self.release_pending = false;
                self.mark(queues.iter().cloned());
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
    pub(super) fn apply_power_to_running(&mut self) -> usize {
        let state = self.power_now();
        let mut continued = 0;
        for slot in self.running.values_mut() {
            if slot.stopping || slot.ending {
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

    /// What power holds `queue` back for now, if it does; recorded for readers.
    pub(super) fn power_hold(&mut self, queue: &crate::queues::QueueSettings) -> Option<PowerHold> {
        let state = *self.power.state.borrow();
        let mut held = crate::locks::write(&self.power.held);
        let for_battery = matches!(held.get(&queue.name), Some(PowerHold::BatteryLow { .. }));
        let hold = power_gate::hold(queue, state, for_battery);
        let changed = match hold {
            Some(reason) => held.insert(queue.name.clone(), reason).is_none(),
            None => held.remove(&queue.name).is_some(),
        };
        drop(held);
        // Whoever shows "waiting for power" (the tray, the window) looks again.
        if changed {
            let _ = self.ctx.events.send(Event::QueueChanged {
                name: queue.name.clone(),
            });
        }
        hold
    }
}
