//! What holds a queued job back, in one place: the order in which dispatch holds a queue back
//! ([`queue_gate`], which the scheduler acts on) and the reason a reader is given for one
//! waiting job ([`Hold`], from [`hold_of`]), so the explanation cannot drift from the decision.
//!
//! A job's own gates come first: its start time, the jobs it runs after and its own power
//! needs. The store's claim applies exactly these (`run_at`, `waiting_on`, `power_held`), so
//! they are read from the same columns here. Then its queue's, as dispatch meets them: every
//! queue paused, the queue paused, power for the queue, no slot free, and the CPU ceiling.

use crate::cpu::CpuHold;
use crate::power_gate::{PowerHold, PowerNeeds};
use crate::queues::QueueSettings;
use nightshift_core::Job;
use nightshift_power::PowerState;

/// Why a queued job does not start now (or that it is next).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hold {
    /// It starts at `at` (Unix ms): its first start, when nothing has failed yet.
    Scheduled { at: i64 },
    /// It waits out the backoff after its attempt `attempt` failed, until `at`.
    Backoff { at: i64, attempt: u32 },
    /// It runs after jobs that have not all succeeded yet.
    Dependency,
    /// Its own power needs hold it (`--require-ac`, `--min-battery`).
    JobPower(PowerHold),
    /// Something holds its whole queue.
    Queue(QueueHold),
    /// Its queue is served by a worker pool with no worker free to take it.
    Workers(WorkersHold),
    /// Nothing holds it: it starts when a slot is free and jobs before it have started.
    Next,
}

/// A pool's workers when none of them is free for its queue's next job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkersHold {
    /// The workers it should run (0 when scaled to none).
    pub count: u32,
    pub busy: u32,
    /// Started and not ready yet.
    pub starting: u32,
    /// Exited (or ended as unresponsive) and waiting out their backoff.
    pub restarting: u32,
    /// Stopped with `worker stop`.
    pub stopped: bool,
    pub crash_looping: bool,
}

/// What holds a whole queue back, in dispatch's order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum QueueHold {
    /// Every queue is paused.
    AllPaused,
    /// This queue is paused.
    Paused,
    /// Power holds the queue (it needs AC, or more battery than there is).
    Power(PowerHold),
    /// A concurrency of 0 holds the queue.
    NoSlots,
    /// Every slot is taken: `busy` of `limit`; `battery_limit` when the limit is the one on
    /// battery, lower than the queue's concurrency.
    Full {
        busy: u64,
        limit: u32,
        battery_limit: bool,
    },
    /// The CPU ceiling holds every queue; `None` while the first reading is being taken.
    Cpu(Option<CpuHold>),
}

/// Whether `queue` may start jobs now and how many, or what holds it, in dispatch's order.
/// `power` and `cpu` are asked only when everything before them lets the queue go (dispatch
/// records the power hold for readers, and takes a CPU reading only when a job could start).
pub(crate) fn queue_gate(
    queue: &QueueSettings,
    all_paused: bool,
    busy: u64,
    on_ac: bool,
    power: impl FnOnce() -> Option<PowerHold>,
    cpu: impl FnOnce() -> Option<Option<CpuHold>>,
) -> Result<u32, QueueHold> {
    if all_paused {
        return Err(QueueHold::AllPaused);
    }
    if queue.paused {
        return Err(QueueHold::Paused);
    }
    if let Some(hold) = power() {
        return Err(QueueHold::Power(hold));
    }
    let limit = queue.limit(on_ac);
    if limit == 0 {
        return Err(QueueHold::NoSlots);
    }
    if busy >= u64::from(limit) {
        return Err(QueueHold::Full {
            busy,
            limit,
            battery_limit: limit < queue.concurrency,
        });
    }
    if let Some(hold) = cpu() {
        return Err(QueueHold::Cpu(hold));
    }
    // `busy < limit`, so the difference fits.
    Ok(limit - busy as u32)
}

/// What the engine knows of a queue when it explains a job of it.
pub(crate) struct QueueNow<'a> {
    pub settings: &'a QueueSettings,
    pub all_paused: bool,
    /// Attempts of the queue running now.
    pub busy: u64,
    pub power: PowerState,
    /// The hold dispatch last recorded for the queue's power.
    pub power_hold: Option<PowerHold>,
    pub cpu: Option<CpuHold>,
}

/// Why the queued `job` does not start now, at `now` (Unix ms).
pub(crate) fn hold_of(job: &Job, now: i64, queue: &QueueNow) -> Hold {
    if let Some(at) = job.run_at.filter(|at| *at > now) {
        return if job.attempt_count > 0 {
            Hold::Backoff {
                at,
                attempt: job.attempt_count,
            }
        } else {
            Hold::Scheduled { at }
        };
    }
    if job.waiting_on > 0 {
        return Hold::Dependency;
    }
    // The claim sets a job aside for its own power needs before its queue's limit applies;
    // a job set aside goes on a few points above its minimum, so it is judged as held.
    let own_power = job
        .power_held
        .then(|| crate::power_gate::hold_for(PowerNeeds::of_job(&job.spec), queue.power, true))
        .flatten();
    let gate = queue_gate(
        queue.settings,
        queue.all_paused,
        queue.busy,
        queue.power.on_ac,
        || queue.power_hold,
        || queue.cpu.map(Some),
    );
    match (gate, own_power) {
        // A paused queue, or one held for power, is said first: the job's own needs matter
        // only once its queue may go.
        (Err(hold @ (QueueHold::AllPaused | QueueHold::Paused | QueueHold::Power(_))), _) => {
            Hold::Queue(hold)
        }
        (_, Some(hold)) => Hold::JobPower(hold),
        (Err(hold), None) => Hold::Queue(hold),
        (Ok(_), None) => Hold::Next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queues::LimitSource;

    fn queue(concurrency: u32) -> QueueSettings {
        QueueSettings {
            name: "q".into(),
            concurrency,
            limit_source: LimitSource::Config,
            paused: false,
            require_ac: false,
            min_battery: None,
            on_power_loss: nightshift_core::OnPowerLoss::Finish,
            battery_concurrency: None,
            timeout_ms: None,
            max_attempts: None,
            retry_backoff: std::time::Duration::from_secs(1),
        }
    }

    fn gate(q: &QueueSettings, all_paused: bool, busy: u64, cpu: bool) -> Result<u32, QueueHold> {
        queue_gate(q, all_paused, busy, true, || None, || cpu.then_some(None))
    }

    #[test]
    fn a_queue_is_held_in_dispatch_order() {
        let mut q = queue(2);
        assert_eq!(gate(&q, false, 0, false), Ok(2));
        assert_eq!(gate(&q, false, 1, false), Ok(1));
        assert_eq!(
            gate(&q, false, 2, false),
            Err(QueueHold::Full {
                busy: 2,
                limit: 2,
                battery_limit: false
            })
        );
        assert_eq!(gate(&q, false, 0, true), Err(QueueHold::Cpu(None)));
        q.paused = true;
        assert_eq!(gate(&q, false, 2, true), Err(QueueHold::Paused));
        assert_eq!(gate(&q, true, 2, true), Err(QueueHold::AllPaused));
        assert_eq!(gate(&queue(0), false, 0, false), Err(QueueHold::NoSlots));
    }

    #[test]
    fn power_and_cpu_are_asked_only_when_all_before_them_let_the_queue_go() {
        let q = queue(1);
        let asked = std::cell::Cell::new(0);
        let count = || {
            asked.set(asked.get() + 1);
            None
        };
        let _ = queue_gate(&q, true, 0, true, count, || {
            asked.set(asked.get() + 1);
            None
        });
        assert_eq!(asked.get(), 0, "every queue paused: nothing else is asked");
        let _ = queue_gate(
            &q,
            false,
            1,
            true,
            || None,
            || {
                asked.set(asked.get() + 1);
                None
            },
        );
        assert_eq!(asked.get(), 0, "full: no CPU reading is taken");
    }
}
