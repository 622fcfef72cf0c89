//! Start-up recovery, before any dispatch: attempts a previous instance left open are ended.
//!
//! For each, the stored identity decides: a group that is provably the one we started is
//! killed; a pid that now belongs to someone else is never signalled. An attempt claimed but
//! with no identity stored (a crash right after the spawn) is found by the tags in its
//! processes' environment: this database's instance id, the job id and the attempt number.
//! Either way the attempt is marked interrupted. It does not use one of the job's attempts (the
//! crash was ours, not the job's), but counts as an interruption in a row: the job goes back
//! to its queue until `jobs.max_interruptions` crashes in a row, then fails (it may be what
//! brings Nightshift or the machine down).

use crate::{EngineError, Event};
use nightshift_core::{AttemptOutcome, Clock, Config, JobState, Paths};
use nightshift_store::{Finish, Store};
use nightshift_supervisor::{Identity, Reclaim, reclaim, reclaim_tagged};
use tokio::sync::broadcast;

/// What recovery found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub requeued: Vec<nightshift_core::JobId>,
    pub failed: Vec<nightshift_core::JobId>,
    /// Groups that matched their stored identity and were killed.
    pub groups_killed: usize,
    /// Stored pids now used by another process, left alone.
    pub not_ours: usize,
    pub payloads_removed: usize,
    /// Outcomes the previous run kept in its journal (the database could not take them then),
    /// recorded now.
    pub outcomes_recorded: usize,
}

pub(crate) async fn run(
    store: &Store,
    paths: &Paths,
    config: &Config,
    clock: &dyn Clock,
    events: &broadcast::Sender<Event>,
    pending: &crate::outcomes::Pending,
) -> Result<RecoveryReport, EngineError> {
    let mut report = RecoveryReport::default();
    clear_run_dir(paths).await;
    // First the outcomes a previous run could not write (a full disk): those attempts ended
    // on their own, and must be recorded as they ended, not as interrupted.
    for finish in pending.left_over() {
        let (job, attempt) = (finish.job, finish.attempt);
        match store.finish(finish).await {
            Ok(ended) => {
                report.outcomes_recorded += 1;
                tracing::info!(job = %job, attempt, state = %ended.state, "recorded an outcome the previous run could not write");
                crate::events::dependants_cancelled(events, &ended.dependants);
            }
            // Already recorded (it landed before the stop): nothing to do.
            Err(
                nightshift_store::StoreError::WrongState { .. }
                | nightshift_store::StoreError::NotFound(_),
            ) => {}
            Err(e) => return Err(e.into()),
        }
    }
    pending.clear_left_over();
    report.payloads_removed = store.remove_orphan_payloads().await?;
    for (attempt, job) in store.open_attempts().await? {
        let what = match (attempt.pid, attempt.outcome) {
            (Some(pid), AttemptOutcome::Running) => {
                let stored = Identity {
                    pid,
                    start_ticks: attempt.start_ticks,
                    boot_id: attempt.boot_id.clone(),
                };
                reclaim(&stored).await
            }
            // Claimed, but the pid was never stored: the crash came right after the spawn,
            // or before it. The attempt's processes, if any, carry its tags.
            (None, AttemptOutcome::Starting) => {
                let tags = crate::runner::attempt_tags(store.instance_id(), job.id, attempt.number);
                reclaim_tagged(&tags).await
            }
            _ => Reclaim::Unknown,
        };
        match what {
            Reclaim::Killed { members, survivors } => {
                report.groups_killed += 1;
                tracing::warn!(job = %job.id, pgid = ?attempt.pgid, members, survivors, "killed a group left running");
            }
            Reclaim::NotOurs => {
                report.not_ours += 1;
                tracing::warn!(job = %job.id, pid = ?attempt.pid, "stored pid now belongs to another process; not signalled");
            }
            other => tracing::info!(job = %job.id, ?other, "attempt left open by the previous run"),
        }
        let ended = store
            .finish(Finish {
                job: job.id,
                attempt: attempt.id,
                outcome: AttemptOutcome::Interrupted,
                // Our crash is not charged to the job's attempts; it counts toward its
                // interruptions in a row instead, so a job that brings us down every time ends.
                consume: false,
                crash_limit: Some(config.jobs.max_interruptions),
                exit_code: None,
                signal: None,
                reason: Some(format!(
                    "Nightshift stopped unexpectedly during attempt {}",
                    attempt.number
                )),
                now: clock.now_ms(),
                // Our crash, not the job's failure: back in line at once.
                retry_at: None,
            })
            .await?;
        crate::events::dependants_cancelled(events, &ended.dependants);
        if ended.state == JobState::Queued {
            report.requeued.push(job.id);
        } else {
            report.failed.push(job.id);
        }
    }
    if !report.requeued.is_empty() || !report.failed.is_empty() {
        tracing::warn!(
            requeued = report.requeued.len(),
            failed = report.failed.len(),
            "recovered after an unclean stop"
        );
        let _ = events.send(Event::Recovered {
            requeued: report.requeued.clone(),
            failed: report.failed.clone(),
        });
    }
    Ok(report)
}

/// Per-attempt files of the previous run are no longer needed by anyone.
async fn clear_run_dir(paths: &Paths) {
    let dir = paths.run_dir.clone();
    let _ = tokio::task::spawn_blocking(move || {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    })
    .await;
}
