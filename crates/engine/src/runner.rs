//! One attempt, from claim to outcome. The runner owns the process group for the attempt's
//! whole life: it spawns it, stores its identity (only then is the attempt running), waits for
//! the leader, a timeout or a stop request, makes sure the group is gone, and returns what
//! happened to the scheduler, which records it.

use crate::Event;
use crate::context::Context;
use futures_util::FutureExt;
use nightshift_core::{AttemptOutcome, JobId};
use nightshift_store::{Claimed, Store};
use nightshift_supervisor::logfile::LogWriter;
use nightshift_supervisor::{
    Exit, Identity, Reclaim, Running, SpawnRequest, end_escaped, group_alive, pause, reclaim,
    resume, spawn, terminate,
};
use std::ffi::OsString;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long output may keep flowing after the group and the processes that left it are gone
/// (only a process that left the group and was not found, having dropped its tags, can still
/// hold the pipe then).
pub(crate) const OUTPUT_DRAIN: Duration = Duration::from_secs(2);

/// Environment variables every job receives.
pub const ENV_JOB_ID: &str = "NIGHTSHIFT_JOB_ID";
pub const ENV_ATTEMPT: &str = "NIGHTSHIFT_ATTEMPT";
pub const ENV_PAYLOAD_FILE: &str = "NIGHTSHIFT_PAYLOAD_FILE";
/// This database's random id: with the job id and attempt number it tells this Nightshift's
/// job processes from any other's.
pub const ENV_INSTANCE: &str = "NIGHTSHIFT_INSTANCE";

/// The variables that tie a process to its attempt. Every job's environment has them; start-up
/// recovery looks for them when an attempt's pid was never stored (a crash right after spawn).
pub(crate) fn attempt_tags(
    instance: &str,
    job: JobId,
    attempt: u32,
) -> [(&'static str, String); 3] {
    [
        (ENV_INSTANCE, instance.to_string()),
        (ENV_JOB_ID, job.to_string()),
        (ENV_ATTEMPT, attempt.to_string()),
    ]
}

/// What the scheduler tells a running attempt.
#[derive(Debug)]
pub(crate) enum Control {
    Stop(Stop),
    /// Power was lost under a job that pauses: stop its group until `Resume`.
    Pause(String),
    Resume,
}

/// Why the runner is asked to stop its group.
#[derive(Debug)]
pub(crate) enum Stop {
    Cancel(String),
    Shutdown,
    /// Power was lost under a job that goes back to its queue then.
    PowerLost(String),
}

/// How an attempt ended, ready to record.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub outcome: AttemptOutcome,
    /// Whether it counts against the job's attempts.
    pub consume: bool,
    pub exit: Option<Exit>,
    pub reason: Option<String>,
    /// Counts as an interruption in a row (a worker that died mid-job), as a crash of
    /// Nightshift does: the job fails after `jobs.max_interruptions` of them.
    pub crash: bool,
    /// The value a worker's result carried (JSON).
    pub result: Option<String>,
}

/// Runs the attempt `claimed` to its end and returns how it ended. Recording that is the
/// scheduler's (the owner of the attempt's slot, see `scheduler::finish`).
pub(crate) async fn run(
    ctx: Arc<Context>,
    claimed: Claimed,
    control: mpsc::UnboundedReceiver<Control>,
) -> Outcome {
    let id = claimed.job.id;
    let payload_file = ctx.paths.run_dir.join(format!("{id}.json"));
    let spawned = OnceLock::new();
    // What a panic must also end: the processes that left the group (unless the job keeps them).
    let tags = attempt_tags(ctx.store.instance_id(), id, claimed.attempt_number);
    let escaped = (!claimed.job.spec.leave_running).then_some(&tags[..]);
    let outcome = guarded(
        attempt(&ctx, &claimed, control, &payload_file, &spawned),
        &spawned,
        escaped,
    )
    .await;
    set_paused(&ctx, id, None);
    if claimed.job.payload_size.is_some() {
        let _ = tokio::fs::remove_file(&payload_file).await;
    }
    outcome
}

/// Runs an attempt so that a bug in Nightshift cannot leave its processes unwatched or its
/// slot taken: if the attempt panics, the group it started (`spawned`) is killed the way
/// start-up recovery kills one (only if its leader's start time still matches), and the
/// attempt fails with the panic's message. The caller then records it and frees the slot as
/// for any other end. A failure, not an interruption, so that a bug that panics on every run
/// of a job ends with the job's attempts instead of looping. The processes that left the group
/// and carry the attempt's `escaped` tags are ended too (none when the job keeps them).
async fn guarded(
    attempt: impl Future<Output = Outcome>,
    spawned: &OnceLock<Identity>,
    escaped: Option<&[(&'static str, String)]>,
) -> Outcome {
    let panic = match AssertUnwindSafe(attempt).catch_unwind().await {
        Ok(outcome) => return outcome,
        Err(panic) => panic,
    };
    let message = crate::health::panic_message(panic.as_ref());
    let processes = match spawned.get() {
        None => "no process was started",
        Some(identity) => match reclaim(identity).await {
            Reclaim::Killed { survivors: 0, .. } | Reclaim::Gone => "its processes were stopped",
            Reclaim::Killed { .. } => "some of its processes could not be stopped",
            Reclaim::OtherBoot | Reclaim::NotOurs | Reclaim::Unknown => {
                "its processes could not be identified, so none were stopped"
            }
        },
    };
    if let (Some(_), Some(tags)) = (spawned.get(), escaped) {
        end_escaped(tags, Duration::ZERO).await;
    }
    tracing::error!(panic = %message, processes, "the supervision of an attempt failed");
    Outcome {
        outcome: AttemptOutcome::Failed,
        consume: true,
        exit: None,
        reason: Some(format!(
            "Nightshift failed while supervising this attempt ({message}); {processes}"
        )),
        crash: false,
        result: None,
    }
}

async fn attempt(
    ctx: &Context,
    claimed: &Claimed,
    mut control: mpsc::UnboundedReceiver<Control>,
    payload_file: &std::path::Path,
    spawned: &OnceLock<Identity>,
) -> Outcome {
    let job = &claimed.job;
    let spec = &job.spec;
    let mut env: Vec<(OsString, OsString)> =
        spec.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    let tags = attempt_tags(ctx.store.instance_id(), job.id, claimed.attempt_number);
    // After the job's own variables, so the tags always win.
    env.extend(
        tags.iter()
            .map(|(name, value)| ((*name).into(), value.into())),
    );
    if job.payload_size.is_some() {
        if let Err(e) = write_payload(&ctx.store, job.id, payload_file.to_path_buf()).await {
            return spawn_failed(format!("cannot prepare the payload: {e}"));
        }
        env.push((ENV_PAYLOAD_FILE.into(), payload_file.into()));
    }
    let mut log = LogWriter::new(&ctx.paths.logs_dir, job.id.0, ctx.config.jobs.log_max_bytes);
    if claimed.attempt_number > 1 {
        log = log.with_header(format!(
            "--- nightshift: attempt {} ---\n",
            claimed.attempt_number
        ));
    }
    let request = SpawnRequest {
        program: spec.program.clone(),
        args: spec.args.clone(),
        env,
        cwd: spec.cwd.clone(),
        log,
    };
    let mut running = match spawn(request) {
        Ok(running) => running,
        Err(e) => return spawn_failed(e.to_string()),
    };
    let identity = &running.identity;
    let _ = spawned.set(identity.clone());
    if let Err(e) = ctx
        .store
        .set_identity(
            claimed.attempt_id,
            identity.pid,
            identity.start_ticks,
            identity.boot_id.clone(),
        )
        .await
    {
        // Without a stored identity the attempt must not run: a crash now would orphan it.
        tracing::error!(job = %job.id, error = %e, "cannot store the attempt's identity; stopping it");
        terminate(&mut running, false, Duration::ZERO).await;
        end_rest(
            &mut running,
            job.id,
            spec.leave_running,
            &tags,
            Duration::ZERO,
        )
        .await;
        return Outcome {
            outcome: AttemptOutcome::Interrupted,
            consume: false,
            exit: None,
            reason: Some(format!("could not record the process: {e}")),
            crash: false,
            result: None,
        };
    }
    ctx.metrics.started(&spec.queue, claimed.waited_ms());
    let _ = ctx.events.send(Event::Started {
        id: job.id,
        attempt: claimed.attempt_number,
        pid: running.pgid(),
    });
    // After the event: tracking may wake the sampling task, which need not come first.
    ctx.usage.track(claimed.attempt_id, job.id, running.pgid());

    let grace = ctx.config.jobs.kill_grace;
    let timeout = spec.timeout_ms.map(Duration::from_millis);
    // Moved later by the time spent paused for power: paused time does not count.
    let mut deadline =
        nightshift_core::duration::deadline_after(Instant::now().into_std(), timeout)
            .map(Instant::from_std);
    let mut paused_since: Option<Instant> = None;
    let outcome = loop {
        let timer = async {
            match (deadline, paused_since) {
                (Some(at), None) => tokio::time::sleep_until(at).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            exit = running.wait() => {
                let exit = exit.ok();
                // The leader is gone; anything it left behind in its group goes too.
                if group_alive(running.pgid()).await {
                    let end = terminate(&mut running, true, grace).await;
                    tracing::info!(job = %job.id, escalated = end.escalated, "stopped processes the job left behind");
                }
                break ended(exit);
            }
            () = timer => {
                let end = terminate(&mut running, false, grace).await;
                break Outcome {
                    outcome: AttemptOutcome::TimedOut,
                    consume: true,
                    exit: end.exit,
                    reason: Some(format!(
                        "timed out after {}{}",
                        nightshift_core::duration::format_short(timeout.unwrap_or_default()),
                        if end.escalated { "; killed after the grace period" } else { "" }
                    )),
                    crash: false,
                    result: None,
                };
            }
            message = control.recv() => match message {
                Some(Control::Pause(reason)) => {
                    if paused_since.is_none() {
                        // Recorded before the group is stopped, so whoever sees its processes
                        // stopped also sees why, and the time spent stopping them does not
                        // count toward the timeout.
                        paused_since = Some(Instant::now());
                        set_paused(ctx, job.id, Some(crate::PausedForPower {
                            queue: spec.queue.clone(),
                            reason: reason.clone(),
                        }));
                        // Paused even if a member was slow to stop (it stops when it can):
                        // the resume then continues every member.
                        if !pause(&running).await {
                            tracing::warn!(job = %job.id, "not every process of the job stopped at once");
                        }
                        tracing::info!(job = %job.id, %reason, "paused for power");
                        let _ = ctx.events.send(Event::PowerPaused { id: job.id, paused: true, reason: Some(reason) });
                    }
                }
                Some(Control::Resume) => {
                    if let Some(since) = paused_since.take() {
                        // Cleared before the group continues, so whoever sees its processes
                        // run again also sees that the job is no longer paused.
                        set_paused(ctx, job.id, None);
                        resume(&running);
                        if let Some(at) = deadline.as_mut() {
                            *at += since.elapsed();
                        }
                        tracing::info!(job = %job.id, "power is back; resumed");
                        let _ = ctx.events.send(Event::PowerPaused { id: job.id, paused: false, reason: None });
                    }
                }
                Some(Control::Stop(stop)) => {
                    let end = terminate(&mut running, false, grace).await;
                    break stopped(stop, end.exit);
                }
                // The scheduler is gone: treat it as a shutdown.
                None => {
                    let end = terminate(&mut running, false, grace).await;
                    break stopped(Stop::Shutdown, end.exit);
                }
            }
        }
    };
    end_rest(&mut running, job.id, spec.leave_running, &tags, grace).await;
    // A cancel that arrived while the attempt was ending on its own: a failure does not go
    // back to the queue then. (Later arrivals are settled by the scheduler.)
    let mut outcome = outcome;
    while let Ok(message) = control.try_recv() {
        if let Control::Stop(Stop::Cancel(reason)) = message
            && outcome.outcome != AttemptOutcome::Succeeded
        {
            outcome = Outcome {
                outcome: AttemptOutcome::Cancelled,
                consume: false,
                exit: outcome.exit,
                reason: Some(reason),
                crash: false,
                result: None,
            };
        }
    }
    outcome
}

/// Once the attempt's group is gone: ends the processes that left the group (unless the job
/// asked to leave them running; systemd's KillMode=control-group, the default there too), and
/// takes the rest of the output. The end is recorded after this, so it waits for the leader
/// and the group, and for the processes that left the group only as long as it takes to end
/// them, never for one that holds the output pipe.
async fn end_rest(
    running: &mut Running,
    job: JobId,
    leave_running: bool,
    tags: &[(&'static str, String)],
    grace: Duration,
) {
    if leave_running {
        // Whatever still holds the pipe left the group and is meant to live on: what it wrote
        // so far is kept, and not a moment more is waited for it.
        running.finish_output_now(OUTPUT_DRAIN).await;
        return;
    }
    let escaped = end_escaped(tags, grace).await;
    if escaped.found > 0 {
        tracing::info!(
            job = %job,
            found = escaped.found,
            escalated = escaped.escalated,
            survivors = escaped.survivors,
            "ended processes that had left the job's group"
        );
    }
    running.finish_output(OUTPUT_DRAIN).await;
}

/// The outcome of an attempt stopped on request.
fn stopped(stop: Stop, exit: Option<Exit>) -> Outcome {
    let (outcome, reason) = match stop {
        Stop::Cancel(reason) => (AttemptOutcome::Cancelled, reason),
        Stop::Shutdown => (
            AttemptOutcome::Interrupted,
            "Nightshift was stopped; the job went back to its queue".into(),
        ),
        Stop::PowerLost(reason) => (
            AttemptOutcome::Interrupted,
            format!("{reason}; stopped and put back in its queue"),
        ),
    };
    Outcome {
        outcome,
        consume: false,
        exit,
        reason: Some(reason),
        crash: false,
        result: None,
    }
}

/// Records (or clears) that a job is paused for power, for readers.
pub(crate) fn set_paused(ctx: &Context, id: JobId, paused: Option<crate::PausedForPower>) {
    let mut all = crate::locks::write(&ctx.power_paused);
    match paused {
        Some(paused) => all.insert(id, paused),
        None => all.remove(&id),
    };
}

fn ended(exit: Option<Exit>) -> Outcome {
    match exit {
        Some(exit) if exit.success() => Outcome {
            outcome: AttemptOutcome::Succeeded,
            consume: false,
            exit: Some(exit),
            reason: None,
            crash: false,
            result: None,
        },
        Some(Exit::Code(code)) => Outcome {
            outcome: AttemptOutcome::Failed,
            consume: true,
            exit,
            reason: Some(format!("exited with code {code}")),
            crash: false,
            result: None,
        },
        Some(Exit::Signal(signal)) => Outcome {
            outcome: AttemptOutcome::Failed,
            consume: true,
            exit,
            reason: Some(format!(
                "killed by signal {signal} ({})",
                signal_name(signal)
            )),
            crash: false,
            result: None,
        },
        None => Outcome {
            outcome: AttemptOutcome::Failed,
            consume: true,
            exit: None,
            reason: Some("lost track of the process".into()),
            crash: false,
            result: None,
        },
    }
}

fn spawn_failed(reason: String) -> Outcome {
    Outcome {
        outcome: AttemptOutcome::SpawnFailed,
        consume: true,
        exit: None,
        reason: Some(reason),
        crash: false,
        result: None,
    }
}

pub(crate) fn signal_name(signal: i32) -> &'static str {
    nix::sys::signal::Signal::try_from(signal)
        .map(|s| s.as_str())
        .unwrap_or("unknown")
}

/// Decompresses the job's payload into a plain file the job can read.
async fn write_payload(store: &Store, id: JobId, path: PathBuf) -> Result<(), String> {
    let bytes = store
        .payload(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the payload is missing".to_string())?;
    // Private to the user (the job runs as the same user), whatever the umask.
    tokio::task::spawn_blocking(move || nightshift_core::private::write(&path, &bytes))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nightshift_e2e::group_members;
    use nightshift_e2e::wait_for;

    /// A panic inside the attempt, as a bug in the runner would raise one.
    fn panicking() -> Outcome {
        panic!("a bug in the runner")
    }

    #[tokio::test]
    async fn a_panic_while_supervising_kills_the_group_and_fails_the_attempt() {
        // As the engine is: a subreaper, so what leaves the group stays our descendant.
        let _orphans = nightshift_supervisor::adopt_orphans();
        let logs = tempfile::tempdir().unwrap();
        let escaped_pid = logs.path().join("escaped");
        let instance = format!("panic-test-{}", std::process::id());
        let tags = attempt_tags(&instance, JobId(1), 1);
        let spawned = OnceLock::new();
        let mut pgid = 0;
        let outcome = guarded(
            async {
                let running = spawn(SpawnRequest {
                    program: "sh".into(),
                    // One process leaves the group (setsid) and notes its pid.
                    args: vec![
                        "-c".into(),
                        "setsid sh -c 'echo $$ > \"$1\"; exec sleep 60' sh \"$1\" & sleep 60 & sleep 60"
                            .into(),
                        "sh".into(),
                        escaped_pid.display().to_string(),
                    ],
                    env: tags
                        .iter()
                        .map(|(k, v)| ((*k).into(), v.into()))
                        .collect(),
                    cwd: None,
                    log: LogWriter::new(logs.path(), 1, 1 << 20),
                })
                .expect("sh starts");
                pgid = running.pgid();
                spawned.set(running.identity.clone()).unwrap();
                wait_for(Duration::from_secs(10), "the shell, its sleeps and the escape", || {
                    group_members(pgid).len() >= 2
                        && std::fs::read_to_string(&escaped_pid).is_ok_and(|t| t.ends_with('\n'))
                });
                panicking()
            },
            &spawned,
            Some(&tags[..]),
        )
        .await;
        let escaped: i32 = std::fs::read_to_string(&escaped_pid)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        wait_for(
            Duration::from_secs(10),
            "the escaped process to end",
            || !nightshift_e2e::is_live(escaped),
        );
        assert_eq!(outcome.outcome, AttemptOutcome::Failed);
        assert!(
            outcome.consume,
            "a bug that panics every time must not retry forever"
        );
        let reason = outcome.reason.unwrap_or_default();
        assert!(reason.contains("a bug in the runner"), "{reason}");
        assert!(reason.contains("its processes were stopped"), "{reason}");
        assert_eq!(group_members(pgid), Vec::<i32>::new(), "the group is gone");
    }

    #[tokio::test]
    async fn a_panic_before_anything_started_signals_nothing() {
        let outcome = guarded(async { panicking() }, &OnceLock::new(), None).await;
        assert_eq!(outcome.outcome, AttemptOutcome::Failed);
        let reason = outcome.reason.unwrap_or_default();
        assert!(reason.contains("no process was started"), "{reason}");
    }

    #[tokio::test]
    async fn an_attempt_that_ends_normally_passes_through() {
        let outcome = guarded(async { ended(Some(Exit::Code(0))) }, &OnceLock::new(), None).await;
        assert_eq!(outcome.outcome, AttemptOutcome::Succeeded);
    }
}
