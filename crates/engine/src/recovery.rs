//! Start-up recovery, before any dispatch: attempts a previous instance left open are ended.
//!
//! For each, the stored identity decides: a group that is provably the one we started is
//! killed; a pid that now belongs to someone else is never signalled. Then the processes of
//! every open attempt are looked for by the tags in their environment (this database's
//! instance id, the job id and the attempt number), in one pass over `/proc` for all of them:
//! an attempt claimed but with no identity stored (a crash right after the spawn) is found
//! that way, and so are the processes that left an attempt's group, which a stored identity
//! does not reach (they are spared for a job that asked to leave them running).
//! Either way the attempt is marked interrupted. It does not use one of the job's attempts (the
//! crash was ours, not the job's), but counts as an interruption in a row: the job goes back
//! to its queue until `jobs.max_interruptions` crashes in a row, then fails (it may be what
//! brings Nightshift or the machine down).

use crate::{EngineError, Event};
use nightshift_core::{Attempt, AttemptOutcome, Clock, Config, Job, JobState, Paths};
use nightshift_store::{Finish, Store};
use nightshift_supervisor::{Identity, Reclaim, TaggedAttempt, reclaim, reclaim_tagged};
use tokio::sync::broadcast;

/// What recovery found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub requeued: Vec<nightshift_core::JobId>,
    pub failed: Vec<nightshift_core::JobId>,
    /// Groups that matched their stored identity and were killed.
    pub groups_killed: usize,
    /// Processes of worker pools the previous instance left running, ended before any new
    /// worker starts.
    pub workers_stopped: usize,
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
    metrics: &crate::metrics::Metrics,
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
                crate::events::dependants_cancelled(events, metrics, &ended.dependants);
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
    let open = store.open_attempts().await?;
    let verdicts = end_processes(store.instance_id(), &open).await;
    for ((attempt, job), what) in open.into_iter().zip(verdicts) {
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
                // Sampled by the engine that crashed; nothing of it is left.
                usage: None,
                result: None,
                worker: None,
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
        metrics.ended(
            &job.spec.queue,
            AttemptOutcome::Interrupted,
            None,
            ended.state,
            None,
        );
        crate::events::dependants_cancelled(events, metrics, &ended.dependants);
        if ended.state == JobState::Queued {
            report.requeued.push(job.id);
        } else {
            report.failed.push(job.id);
        }
    }
    // Workers the previous instance left: found by the tag every worker carries, all of them
    // in one scan, and ended (with their groups) before any worker of this run starts, so two
    // sets never run at once.
    let workers = TaggedAttempt {
        tags: vec![(crate::pools::ENV_WORKER_OF, store.instance_id().to_string())],
        every_process: true,
    };
    if let [Reclaim::Killed { members, survivors }] = reclaim_tagged(&[workers]).await[..] {
        report.workers_stopped = members;
        tracing::warn!(members, survivors, "ended the workers a previous run left");
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

/// Ends the processes of the open attempts; one verdict per attempt. First each group by its
/// stored identity, then, in one scan, each attempt's processes by their tags.
async fn end_processes(instance: &str, open: &[(Attempt, Job)]) -> Vec<Reclaim> {
    let mut verdicts = Vec::with_capacity(open.len());
    for (attempt, _) in open {
        verdicts.push(match (attempt.pid, attempt.outcome) {
            (Some(pid), AttemptOutcome::Running) => {
                let stored = Identity {
                    pid,
                    start_ticks: attempt.start_ticks,
                    boot_id: attempt.boot_id.clone(),
                };
                reclaim(&stored).await
            }
            _ => Reclaim::Unknown,
        });
    }
    let mut wanted = Vec::new();
    let mut looked_for = Vec::new();
    for (i, (attempt, job)) in open.iter().enumerate() {
        // Claimed, but the pid was never stored: the crash came right after the spawn, or
        // before it. Its processes, if any, carry its tags; a setsid one among them cannot be
        // told from the leader, so its group goes too, as it always did.
        let starting = attempt.pid.is_none() && attempt.outcome == AttemptOutcome::Starting;
        // With a stored identity, the tags find what left the group: unless the job asked to
        // leave such processes running.
        if starting || !job.spec.leave_running {
            wanted.push(i);
            looked_for.push(TaggedAttempt {
                tags: crate::runner::attempt_tags(instance, job.id, attempt.number).to_vec(),
                every_process: !job.spec.leave_running,
            });
        }
    }
    for (i, tagged) in wanted.into_iter().zip(reclaim_tagged(&looked_for).await) {
        verdicts[i] = combine(verdicts[i], tagged);
    }
    verdicts
}

/// One verdict from what the stored identity and the tags each found: killed if either killed
/// something; otherwise what the identity says, if it said anything.
fn combine(by_identity: Reclaim, by_tags: Reclaim) -> Reclaim {
    match (by_identity, by_tags) {
        (
            Reclaim::Killed { members, survivors },
            Reclaim::Killed {
                members: more,
                survivors: left,
            },
        ) => Reclaim::Killed {
            members: members + more,
            survivors: survivors + left,
        },
        (killed @ Reclaim::Killed { .. }, _) | (_, killed @ Reclaim::Killed { .. }) => killed,
        (Reclaim::Unknown, by_tags) => by_tags,
        (by_identity, _) => by_identity,
    }
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
