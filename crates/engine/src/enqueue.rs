//! Storing new jobs and telling the scheduler: the one path for jobs added by a person and by
//! a schedule.

use crate::Event;
use crate::scheduler::Command;
use nightshift_core::JobId;
use nightshift_store::{Inserted, NewJob, Store};
use tokio::sync::{broadcast, mpsc};

/// Stores `jobs` (all or none), then announces them: every id, a job found by its unique key
/// included, as before the store said which were new.
pub(crate) async fn enqueue(
    store: &Store,
    scheduler: &mpsc::UnboundedSender<Command>,
    events: &broadcast::Sender<Event>,
    jobs: Vec<NewJob>,
    now: i64,
) -> Result<Vec<Inserted>, crate::EngineError> {
    let woken = Wake::of(&jobs);
    let stored = store.insert_jobs_keyed(jobs, now).await?;
    woken.announce(scheduler, events, stored.iter().map(|s| s.id).collect());
    Ok(stored)
}

/// What stored jobs wake: their queues, and the scheduler's timer for the earliest start time.
pub(crate) struct Wake {
    queues: Vec<String>,
    due: Option<i64>,
}

impl Wake {
    pub(crate) fn of(jobs: &[NewJob]) -> Wake {
        let mut queues: Vec<String> = jobs.iter().map(|j| j.spec.queue.clone()).collect();
        queues.sort();
        queues.dedup();
        Wake {
            queues,
            due: jobs.iter().filter_map(|j| j.run_at).min(),
        }
    }

    /// Wakes the scheduler for the stored jobs and tells listeners.
    pub(crate) fn announce(
        self,
        scheduler: &mpsc::UnboundedSender<Command>,
        events: &broadcast::Sender<Event>,
        ids: Vec<JobId>,
    ) {
        if let Some(at) = self.due {
            let _ = scheduler.send(Command::Due(at));
        }
        let _ = scheduler.send(Command::Work(self.queues));
        let _ = events.send(Event::Queued { ids });
    }
}
