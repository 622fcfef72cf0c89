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
    for view in views.iter_mut().filter(|v| v.job.state == JobState::Queued) {
        let name = &view.job.spec.queue;
        let queue = engine.queue(name);
        let busy = running.get(name).copied().unwrap_or(0);
        view.waiting = Some(if all_paused {
            "every queue is paused (nightshift resume)".to_string()
        } else if queue.paused {
            format!("queue {name} is paused (nightshift queue resume {name})")
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
