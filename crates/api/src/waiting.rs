//! "Why isn't it running?": a structured reason for every queued job, from what holds it back
//! right now (a time, everything paused, its queue paused or full, power), and for a running
//! job that power paused.

use crate::dto::{JobView, Waiting, WaitingKind};
use crate::error::ApiError;
use nightshift_core::JobState;
use nightshift_engine::{EngineHandle, PowerHold, PowerNeeds};

/// Fills `waiting` on the queued and power-paused jobs of `views`.
pub(crate) async fn explain(
    engine: &EngineHandle,
    mut views: Vec<JobView>,
) -> Result<Vec<JobView>, ApiError> {
    let paused_for_power = engine.power_paused();
    for view in views.iter_mut() {
        if let Some(paused) = paused_for_power.get(&view.job.id) {
            view.waiting = Some(reason(
                WaitingKind::PausedForPower,
                format!("paused: {}", paused.reason),
            ));
        }
    }
    if !views.iter().any(|v| v.job.state == JobState::Queued) {
        return Ok(views);
    }
    let running = engine.running_by_queue().await?;
    let all_paused = engine.is_paused();
    let now = engine.now_ms();
    let power = engine.power();
    let held = engine.power_holds();
    let cpu = engine.cpu_hold();
    for view in views.iter_mut().filter(|v| v.job.state == JobState::Queued) {
        let job = &view.job;
        let name = &job.spec.queue;
        let queue = engine.queue(name);
        let busy = running.get(name).copied().unwrap_or(0);
        let limit = queue.limit(power.on_ac);
        let due = job.run_at.filter(|at| *at > now);
        view.waiting = Some(if let Some(at) = due {
            let when = when(at, now);
            let mut waiting = if job.attempt_count > 0 {
                reason(
                    WaitingKind::Backoff,
                    format!(
                        "backing off after attempt {} failed: retrying {when}",
                        job.attempt_count
                    ),
                )
            } else {
                reason(WaitingKind::Scheduled, format!("scheduled: starts {when}"))
            };
            waiting.until = Some(at);
            waiting
        } else if job.waiting_on > 0 {
            // The first dependency not yet succeeded (a page has few such jobs: one read each).
            let deps = engine.dependencies(job.id).await?;
            let open: Vec<_> = deps
                .iter()
                .filter(|(_, state)| *state != JobState::Succeeded)
                .collect();
            let mut waiting = match open.first() {
                Some((first, state)) => reason(
                    WaitingKind::Dependency,
                    format!(
                        "waiting for job {first} ({state}) to succeed{}",
                        if open.len() > 1 {
                            format!(" and {} more", open.len() - 1)
                        } else {
                            String::new()
                        }
                    ),
                ),
                None => reason(
                    WaitingKind::Dependency,
                    "waiting for the jobs it runs after".into(),
                ),
            };
            waiting.job = open.first().map(|(id, _)| *id);
            waiting
        } else if all_paused {
            reason(
                WaitingKind::AllPaused,
                "every queue is paused (nightshift resume)".into(),
            )
        } else if queue.paused {
            reason(
                WaitingKind::QueuePaused,
                format!("queue {name} is paused (nightshift queue resume {name})"),
            )
        } else if let Some(hold) = held.get(name) {
            power_reason(hold, "the queue")
        } else if let Some(hold) = job
            .power_held
            .then(|| {
                // Held jobs go on a few points above the minimum: judge as held.
                nightshift_engine::power_gate_hold(PowerNeeds::of_job(&job.spec), power, true)
            })
            .flatten()
        {
            power_reason(&hold, "the job")
        } else if limit == 0 {
            reason(
                WaitingKind::QueueHeld,
                format!("queue {name} has a concurrency of 0, which holds it"),
            )
        } else if busy >= u64::from(limit) {
            let on_battery = if limit < queue.concurrency {
                " (its limit on battery)"
            } else {
                ""
            };
            // A job paused for power keeps its slot (it goes on when power returns).
            let paused = paused_for_power
                .values()
                .filter(|p| &p.queue == name)
                .count();
            let paused = if paused > 0 {
                format!(", {paused} of them paused for power")
            } else {
                String::new()
            };
            reason(
                WaitingKind::QueueFull,
                format!("queue {name} is full: {busy}/{limit} running{on_battery}{paused}"),
            )
        } else if let Some(cpu) = cpu {
            reason(WaitingKind::CpuBusy, cpu.to_string())
        } else {
            reason(WaitingKind::Next, "next in line for a free slot".into())
        });
    }
    Ok(views)
}

fn reason(kind: WaitingKind, message: String) -> Waiting {
    Waiting {
        kind,
        message,
        until: None,
        job: None,
    }
}

fn power_reason(hold: &PowerHold, whose: &str) -> Waiting {
    let kind = match hold {
        PowerHold::NeedsAc => WaitingKind::OnBattery,
        PowerHold::BatteryLow { .. } => WaitingKind::BatteryLow,
    };
    reason(kind, hold.describe(whose))
}

/// "at 2026-11-22T23:00:00.000Z (in 2h 5m)". Any stored time formats, however far out.
fn when(at: i64, now: i64) -> String {
    use nightshift_core::timestamp;
    format!(
        "at {} (in {})",
        timestamp::format(at),
        nightshift_core::duration::format_short(timestamp::until(now, at))
    )
}
