//! Storing new jobs and telling the scheduler: the one path for jobs added by a person and by
//! a schedule.

use crate::Event;
use crate::scheduler::Command;
use nightshift_core::JobId;
use nightshift_store::{NewJob, Store};
use tokio::sync::{broadcast, mpsc};

/// Stores `jobs` (all or none), wakes the scheduler for their queues (and their due time), and
/// announces them.
pub(crate) async fn enqueue(
    store: &Store,
    scheduler: &mpsc::UnboundedSender<Command>,
    events: &broadcast::Sender<Event>,
    jobs: Vec<NewJob>,
    now: i64,
) -> Result<Vec<JobId>, crate::EngineError> {
    let mut queues: Vec<String> = jobs.iter().map(|j| j.spec.queue.clone()).collect();
    queues.sort();
    queues.dedup();
    let due = jobs.iter().filter_map(|j| j.run_at).min();
    let ids = store.insert_jobs(jobs, now).await?;
    if let Some(at) = due {
        let _ = scheduler.send(Command::Due(at));
    }
    let _ = scheduler.send(Command::Work(queues));
    let _ = events.send(Event::Queued { ids: ids.clone() });
    Ok(ids)
}
