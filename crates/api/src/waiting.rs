//! "Why isn't it running?": a structured reason for every queued job, from what holds it back
//! right now (a time, everything paused, its queue paused or full, power), and for a running
//! job that power paused. What holds a job, and in which order, is the engine's decision
//! (`EngineHandle::holds`, the same order dispatch follows); this puts it in words.

use crate::dto::{JobView, Waiting, WaitingKind};
use crate::error::ApiError;
use nightshift_core::{Job, JobId, JobState};
use nightshift_engine::{EngineHandle, Hold, PausedForPower, PowerHold, QueueHold, WorkersHold};
use std::collections::BTreeMap;

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
    let jobs: Vec<&Job> = views.iter().map(|v| &v.job).collect();
    let holds = engine.holds(&jobs).await?;
    for (view, hold) in views.iter_mut().zip(holds) {
        if let Some(hold) = hold {
            view.waiting = Some(describe(engine, &view.job, hold, &paused_for_power).await?);
        }
    }
    Ok(views)
}

/// The engine's reason in words, with what a person can do about it.
async fn describe(
    engine: &EngineHandle,
    job: &Job,
    hold: Hold,
    paused_for_power: &BTreeMap<JobId, PausedForPower>,
) -> Result<Waiting, ApiError> {
    let name = &job.spec.queue;
    Ok(match hold {
        Hold::Scheduled { at } => {
            let mut waiting = reason(
                WaitingKind::Scheduled,
                format!("scheduled: starts {}", when(at, engine.now_ms())),
            );
            waiting.until = Some(at);
            waiting
        }
        Hold::Backoff { at, attempt } => {
            let mut waiting = reason(
                WaitingKind::Backoff,
                format!(
                    "backing off after attempt {attempt} failed: retrying {}",
                    when(at, engine.now_ms())
                ),
            );
            waiting.until = Some(at);
            waiting
        }
        Hold::Dependency => {
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
        }
        Hold::JobPower(hold) => power_reason(&hold, "the job"),
        Hold::Queue(QueueHold::AllPaused) => reason(
            WaitingKind::AllPaused,
            "every queue is paused (nightshift resume)".into(),
        ),
        Hold::Queue(QueueHold::Paused) => reason(
            WaitingKind::QueuePaused,
            format!("queue {name} is paused (nightshift queue resume {name})"),
        ),
        Hold::Queue(QueueHold::Power(hold)) => power_reason(&hold, "the queue"),
        Hold::Queue(QueueHold::NoSlots) => reason(
            WaitingKind::QueueHeld,
            format!("queue {name} has a concurrency of 0, which holds it"),
        ),
        Hold::Queue(QueueHold::Full {
            busy,
            limit,
            battery_limit,
        }) => {
            let on_battery = if battery_limit {
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
        }
        Hold::Queue(QueueHold::Cpu(cpu)) => reason(
            WaitingKind::CpuBusy,
            cpu.map_or_else(
                || "measuring the CPU use before starting more jobs".into(),
                |cpu| cpu.to_string(),
            ),
        ),
        Hold::Workers(hold) => reason(WaitingKind::Workers, workers_reason(engine, name, &hold)),
        Hold::Next => reason(WaitingKind::Next, "next in line for a free slot".into()),
    })
}

/// Why no worker of the queue's pool takes the job, with what to do about it.
fn workers_reason(engine: &EngineHandle, queue: &str, hold: &WorkersHold) -> String {
    let pool = engine.pool_serving(queue).unwrap_or_else(|| "?".into());
    if hold.stopped {
        return format!("pool {pool} is stopped (nightshift worker start {pool})");
    }
    if hold.count == 0 {
        return format!("pool {pool} has no workers (nightshift worker scale {pool} N)");
    }
    if hold.crash_looping {
        return format!(
            "pool {pool} is crash-looping: its workers exit soon after they start \
             (nightshift workers says why)"
        );
    }
    if hold.busy == hold.count {
        let all = if hold.count == 1 {
            "its worker is"
        } else {
            "all its workers are"
        };
        return format!("pool {pool}: {all} busy ({} of {})", hold.busy, hold.count);
    }
    let mut parts = Vec::new();
    for (n, what) in [
        (hold.busy, "busy"),
        (hold.starting, "starting"),
        (hold.restarting, "restarting"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!(
        "pool {pool}: no worker is free ({} of {})",
        parts.join(", "),
        hold.count
    )
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
