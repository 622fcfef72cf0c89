//! Storing new jobs and telling the scheduler: the one path for jobs added by a person and by
//! a schedule.

use crate::Event;
use crate::context::Context;
use crate::scheduler::Command;
use nightshift_store::{Inserted, NewJob};

/// Stores `jobs` (all or none), then announces them: every id, a job found by its unique key
/// included, as before the store said which were new.
pub(crate) async fn enqueue(
    ctx: &Context,
    jobs: Vec<NewJob>,
    now: i64,
) -> Result<Vec<Inserted>, crate::EngineError> {
    let woken = Wake::of(&jobs);
    let stored = ctx.store.insert_jobs_keyed(jobs, now).await?;
    woken.announce(ctx, &stored);
    Ok(stored)
}

/// What stored jobs wake: their queues, and the scheduler's timer for the earliest start time.
pub(crate) struct Wake {
    due: Option<i64>,
    /// Each job's queue, as runs of consecutive jobs in one queue (a batch is usually one run),
    /// to count the new ones per queue once the store says which are new.
    runs: Vec<(String, usize)>,
}

impl Wake {
    pub(crate) fn of(jobs: &[NewJob]) -> Wake {
        let mut runs: Vec<(String, usize)> = Vec::new();
        for job in jobs {
            match runs.last_mut() {
                Some((queue, n)) if *queue == job.spec.queue => *n += 1,
                _ => runs.push((job.spec.queue.clone(), 1)),
            }
        }
        Wake {
            due: jobs.iter().filter_map(|j| j.run_at).min(),
            runs,
        }
    }

    /// Counts the new jobs among `stored` (one per job given to `of`, in order), wakes the
    /// scheduler for them and tells listeners.
    pub(crate) fn announce(self, ctx: &Context, stored: &[Inserted]) {
        let mut rest = stored;
        for (queue, n) in &self.runs {
            let (run, after) = rest.split_at((*n).min(rest.len()));
            let new = run.iter().filter(|s| !s.existing).count() as u64;
            if new > 0 {
                ctx.metrics.added(queue, new);
            }
            rest = after;
        }
        if let Some(at) = self.due {
            let _ = ctx.scheduler.send(Command::Due(at));
        }
        let mut queues: Vec<String> = self.runs.into_iter().map(|(q, _)| q).collect();
        queues.sort();
        queues.dedup();
        let _ = ctx.scheduler.send(Command::Work(queues));
        let _ = ctx.events.send(Event::Queued {
            ids: stored.iter().map(|s| s.id).collect(),
        });
    }
}
