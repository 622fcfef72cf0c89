//! "Why isn't it running?": a reason for every queued job, in words, from what holds it back
//! right now (everything paused, its queue paused or full).

use crate::dto::JobView;
use crate::error::ApiError;
use nightshift_core::JobState;
use nightshift_engine::EngineHandle;

/// Fills `waiting` on the queued jobs of `views`.
pub(crate) async fn explain(
    engine: &EngineHandle,
    mut views: Vec<JobView>,
) -> Result<Vec<JobView>, ApiError> {
    if !views.iter().any(|v| v.job.state == JobState::Queued) {
        return Ok(views);
    }
    let running = engine.store().running_by_queue().await?;
    let all_paused = engine.is_paused();
    let now = engine.now_ms();
    let power = engine.power_holds();
    for view in views.iter_mut().filter(|v| v.job.state == JobState::Queued) {
        let name = &view.job.spec.queue;
        let queue = engine.queue(name);
        let busy = running.get(name).copied().unwrap_or(0);
        let due = view.job.run_at.filter(|at| *at > now);
        view.waiting = Some(if let Some(at) = due {
            let when = when(at, now);
            if view.job.attempt_count > 0 {
                format!(
                    "backing off after attempt {} failed: retrying {when}",
                    view.job.attempt_count
                )
            } else {
                format!("scheduled: starts {when}")
            }
        } else if all_paused {
            "every queue is paused (nightshift resume)".to_string()
        } else if queue.paused {
            format!("queue {name} is paused (nightshift queue resume {name})")
        } else if let Some(hold) = power.get(name) {
            hold.to_string()
        } else if queue.concurrency == 0 {
            format!("queue {name} has a concurrency of 0, which holds it")
        } else if busy >= u64::from(queue.concurrency) {
            format!("queue {name} is full: {busy}/{} running", queue.concurrency)
        } else {
            "next in line for a free slot".to_string()
        });
    }
    Ok(views)
}

/// "at 2026-11-22T23:00:00Z (in 2h 5m)".
fn when(at: i64, now: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(at.max(0) as u64);
    let left = std::time::Duration::from_millis((at - now).max(0) as u64);
    format!(
        "at {} (in {})",
        humantime::format_rfc3339_seconds(time),
        nightshift_core::duration::format_short(left)
    )
}
