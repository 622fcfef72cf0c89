//! One worker slot: its task starts the worker process, waits for it to say `ready`, hands it
//! one job at a time (`job`), and when the process exits starts it again after a backoff
//! (`nightshift_core::worker::backoff`). A worker told to stop or restart finishes its job
//! first. Whatever ends the process, its whole group goes, as an attempt's does.

use super::job::{self, After};
use super::lines::{Lines, Read};
use super::{ENV_POOL, ENV_WORKER, ENV_WORKER_OF, Feed, Wanted, WorkerState};
use crate::context::Context;
use crate::runner::{OUTPUT_DRAIN, Outcome};
use crate::scheduler::Command;
use nightshift_core::AttemptOutcome;
use nightshift_core::worker::backoff::Restarts;
use nightshift_core::worker::pool::PoolSpec;
use nightshift_core::worker::protocol::{FromWorker, Line, MAX_LINE_BYTES, parse_line};
use nightshift_supervisor::logfile::{self, LogWriter};
use nightshift_supervisor::{Exit, SpawnRequest, spawn_worker, terminate};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// How long a job's log takes a worker's error output after its result (see `run_once`).
const STDERR_SETTLE: Duration = Duration::from_millis(250);

/// How a worker process ended.
enum End {
    /// Told to stop (or the pool is gone).
    Stopped,
    /// Told to restart: start again at once.
    Restart,
    /// It exited or was ended for cause; `counts` when the exit is the worker's fault (it
    /// then counts toward the backoff and crash-looping); `unresponsive` when it was ended for
    /// its silence.
    Exited {
        why: String,
        counts: bool,
        unresponsive: bool,
    },
}

impl End {
    fn exited(why: String) -> End {
        End::Exited {
            why,
            counts: true,
            unresponsive: false,
        }
    }
}

/// The slot's life: run, restart after exits with a backoff, stop when told.
pub(super) async fn supervise(
    ctx: Arc<Context>,
    pool: String,
    slot: u32,
    mut wanted: watch::Receiver<Wanted>,
) {
    let backoff = ctx.config.workers.backoff();
    let mut restarts = Restarts::default();
    loop {
        if *wanted.borrow_and_update() == Wanted::Stop {
            ctx.pools.update(&pool, slot, |v, feed, identity| {
                v.state = WorkerState::Stopped;
                v.pid = None;
                v.job = None;
                v.restart_at = None;
                *feed = None;
                *identity = None;
            });
            changed(&ctx, &pool);
            loop {
                // The sender goes with the pool (`worker rm`): nothing more to do.
                if wanted.changed().await.is_err() {
                    return;
                }
                if *wanted.borrow_and_update() != Wanted::Stop {
                    break;
                }
            }
        }
        let Some(spec) = ctx.pools.spec(&pool) else {
            return;
        };
        // The engine's clock, not the monotonic one, so that tests can check the sequence of
        // waits with a clock of their own (`wait_until`).
        let started = ctx.clock.now_ms();
        match run_once(&ctx, &spec, slot, &mut wanted, &mut restarts).await {
            End::Stopped | End::Restart => {}
            End::Exited {
                why,
                counts,
                unresponsive,
            } => {
                let ran = nightshift_core::timestamp::until(started, ctx.clock.now_ms());
                let wait = if counts {
                    restarts.exited(
                        &backoff,
                        ran,
                        crate::backoff::jitter(ctx.clock.now_ms() as u64 ^ u64::from(slot)),
                    )
                } else {
                    Duration::ZERO
                };
                if restarts.crash_looping() {
                    let why = format!(
                        "its workers keep exiting soon after they start (the last one {why})"
                    );
                    ctx.pools.set_crash_looping(&pool, Some(why));
                }
                tracing::warn!(pool, slot, %why, restart_in = ?wait, "a worker exited");
                let at = nightshift_core::timestamp::later(ctx.clock.now_ms(), wait);
                ctx.pools.update(&pool, slot, |v, _, _| {
                    v.state = if unresponsive {
                        WorkerState::Unresponsive
                    } else {
                        WorkerState::BackingOff
                    };
                    v.pid = None;
                    v.job = None;
                    v.restarts = v.restarts.saturating_add(1);
                    v.restart_at = Some(at);
                });
                changed(&ctx, &pool);
                wait_until(&ctx, at, wait, &mut wanted).await;
            }
        }
    }
}

/// Waits out a backoff: until `wait` has passed, or the engine's clock has reached `at` (a test
/// moves its clock and says so, `EngineHandle::clock_moved`), or the slot is told something
/// (a stop or a restart while backing off is seen at the top of `supervise`).
async fn wait_until(ctx: &Context, at: i64, wait: Duration, wanted: &mut watch::Receiver<Wanted>) {
    let mut moved = ctx.time_moved.subscribe();
    let sleep = tokio::time::sleep(wait);
    tokio::pin!(sleep);
    while ctx.clock.now_ms() < at {
        tokio::select! {
            () = &mut sleep => return,
            _ = wanted.changed() => return,
            moved = moved.changed() => if moved.is_err() { return },
        }
    }
}

/// Runs the worker process once, from its start to its end.
async fn run_once(
    ctx: &Arc<Context>,
    spec: &PoolSpec,
    slot: u32,
    wanted: &mut watch::Receiver<Wanted>,
    restarts: &mut Restarts,
) -> End {
    let pool = &spec.name;
    let log_dir = ctx.paths.logs_dir.join("workers").join(pool);
    if let Err(e) = tokio::fs::create_dir_all(&log_dir).await {
        return End::exited(format!(
            "could not start: cannot create {}: {e}",
            log_dir.display()
        ));
    }
    let cap = ctx.config.jobs.log_max_bytes;
    let own_log = || LogWriter::new(&log_dir, i64::from(slot), cap);
    let mut env: Vec<(OsString, OsString)> =
        spec.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    env.extend([
        (ENV_WORKER_OF.into(), ctx.store.instance_id().into()),
        (ENV_POOL.into(), pool.into()),
        (ENV_WORKER.into(), slot.to_string().into()),
    ]);
    let worker = spawn_worker(SpawnRequest {
        program: spec.program.clone(),
        args: spec.args.clone(),
        env,
        cwd: spec.cwd.clone(),
        log: own_log(),
    });
    let mut worker = match worker {
        Ok(worker) => worker,
        Err(e) => {
            return End::exited(format!("could not start: {e}"));
        }
    };
    let identity = worker.running.identity.clone();
    let now = ctx.clock.now_ms();
    ctx.pools.update(pool, slot, |v, _, id| {
        v.state = WorkerState::Starting;
        v.pid = Some(identity.pid);
        v.started_at = Some(now);
        v.restart_at = None;
        v.job = None;
        *id = Some(identity.clone());
    });
    changed(ctx, pool);
    let (feed_tx, mut feed_rx) = mpsc::channel::<Feed>(1);
    let mut lines = Lines::new(worker.stdout, MAX_LINE_BYTES);
    let mut stdin = worker.stdin;
    let stderr = worker.stderr;
    let running = &mut worker.running;
    let mut ready = false;
    let mut reaped = false;
    // After a job, its error output goes on into the job's log for a moment: what the worker
    // wrote just before its result may still be in the pipe when the result arrives.
    let mut back_to_own_log: Option<Instant> = None;
    // Once it has been ready this long, its run of quick exits is over (and so is the pool's
    // crash-looping, if this slot's exits made it so).
    let mut stable_at: Option<Instant> = None;
    let heard = || {
        let now = ctx.clock.now_ms();
        ctx.pools
            .update(pool, slot, |v, _, _| v.last_heard = Some(now));
    };
    let end = loop {
        let switch_timer = job::sleep_until(back_to_own_log);
        let stable_timer = job::sleep_until(stable_at);
        tokio::select! {
            () = stable_timer => {
                stable_at = None;
                if restarts.in_a_row > 0 {
                    *restarts = Restarts::default();
                    ctx.pools.set_crash_looping(pool, None);
                    changed(ctx, pool);
                }
            }
            () = switch_timer => {
                back_to_own_log = None;
                stderr.switch(own_log()).await;
            }
            read = lines.next() => match read {
                Ok(Read::Line(bytes)) => {
                    heard();
                    match parse_line(&bytes) {
                        Ok(Line::Message(FromWorker::Ready)) if !ready => {
                            ready = true;
                            stable_at = Some(Instant::now() + ctx.config.workers.backoff().reset_after);
                            idle(ctx, spec, slot, &feed_tx);
                        }
                        Ok(Line::Message(FromWorker::Log { message, .. })) => {
                            stderr.write(format!("{message}\n").into_bytes()).await;
                        }
                        Ok(Line::Text(text)) => {
                            stderr.write(format!("{text}\n").into_bytes()).await;
                        }
                        Ok(Line::Message(FromWorker::Heartbeat | FromWorker::Ready)) => {}
                        Ok(Line::Message(other)) => {
                            let note = format!("--- nightshift: a message for no job: {other:?} ---\n");
                            stderr.write(note.into_bytes()).await;
                        }
                        Err(e) => {
                            stderr.write(format!("--- nightshift: {e} ---\n").into_bytes()).await;
                        }
                    }
                }
                Ok(Read::TooLong(n)) => {
                    let note = format!("--- nightshift: a line of {n} bytes was skipped (over {MAX_LINE_BYTES}) ---\n");
                    stderr.write(note.into_bytes()).await;
                }
                // It closed its standard output: it is going (say how, if at once), or of no
                // more use.
                Ok(Read::End) | Err(_) => {
                    let how = match exit_soon(running).await {
                        Some(exit) => {
                            reaped = true;
                            describe(Some(exit))
                        }
                        None => "closed its standard output".into(),
                    };
                    let why = format!("{how}{}", if ready { "" } else { " before it was ready" });
                    break End::exited(why);
                }
            },
            exit = running.wait() => {
                reaped = true;
                let exit = exit.ok();
                let why = format!("{}{}", describe(exit), if ready { "" } else { " before it was ready" });
                break End::exited(why);
            }
            feed = feed_rx.recv() => {
                let Some(feed) = feed else { continue };
                let job = feed.claimed.job.id;
                ctx.pools.update(pool, slot, |v, _, _| {
                    v.state = WorkerState::Busy;
                    v.job = Some(job);
                });
                changed(ctx, pool);
                let worker_name = format!("{pool}/{slot}");
                let parts = job::Parts { running, stdin: &mut stdin, lines: &mut lines, stderr: &stderr, heard: &heard };
                let (outcome, after, reply) = job::run(ctx, spec, &worker_name, parts, feed).await;
                let ok = outcome.outcome == AttemptOutcome::Succeeded;
                ctx.pools.update(pool, slot, |v, _, _| {
                    v.job = None;
                    if ok { v.jobs_done += 1 } else { v.jobs_failed += 1 }
                });
                // Idle before the outcome goes: the scheduler, recording the end, may claim the
                // queue's next job with it for this very worker. (The attempt's task may be gone,
                // the engine stopping: recovery then settles the attempt at the next start.)
                match after {
                    After::Idle => {
                        // Back to its own log between jobs, in a moment (see above).
                        back_to_own_log = Some(Instant::now() + STDERR_SETTLE);
                        idle(ctx, spec, slot, &feed_tx);
                        let _ = reply.send(outcome);
                    }
                    After::End { why, counts, reaped: gone, unresponsive } => {
                        if unresponsive {
                            ctx.pools.update(pool, slot, |v, _, _| v.state = WorkerState::Unresponsive);
                            changed(ctx, pool);
                        }
                        let _ = reply.send(outcome);
                        reaped = gone;
                        break End::Exited { why, counts, unresponsive };
                    }
                }
            }
            result = wanted.changed() => {
                let want = if result.is_err() { Wanted::Stop } else { *wanted.borrow_and_update() };
                match want {
                    Wanted::Stop => break End::Stopped,
                    Wanted::Restart(_) => break End::Restart,
                    Wanted::Run => {}
                }
            }
        }
    };
    // No new job from here; one handed over meanwhile goes back to its queue.
    ctx.pools.update(pool, slot, |v, feed, id| {
        *feed = None;
        *id = None;
        v.pid = None;
        v.job = None;
    });
    drop(feed_tx);
    while let Ok(feed) = feed_rx.try_recv() {
        let _ = feed.reply.send(gone_before_start());
    }
    // Closing its input asks a well-behaved worker to finish; then its whole group goes.
    drop(stdin);
    let grace = ctx.config.jobs.kill_grace;
    let ending = terminate(running, reaped, grace).await;
    if ending.survivors > 0 {
        tracing::error!(
            pool,
            slot,
            survivors = ending.survivors,
            "processes of a worker could not be stopped"
        );
    }
    // Processes that left its group (setsid, a daemon) go with it, found by its tags, as an
    // attempt's do.
    let tags = [
        (ENV_WORKER_OF, ctx.store.instance_id().to_string()),
        (ENV_POOL, pool.clone()),
        (ENV_WORKER, slot.to_string()),
    ];
    let escaped = nightshift_supervisor::end_escaped(&tags, grace).await;
    if escaped.found > 0 {
        tracing::info!(
            pool,
            slot,
            found = escaped.found,
            "ended processes that had left a worker's group"
        );
    }
    drop(stderr);
    running.finish_output(OUTPUT_DRAIN).await;
    let end = match end {
        End::Exited {
            why,
            counts,
            unresponsive,
        } => End::Exited {
            why: with_last_lines(&log_dir, slot, why).await,
            counts,
            unresponsive,
        },
        other => other,
    };
    changed(ctx, pool);
    end
}

/// The worker takes jobs: it is idle, its feed is open, and the scheduler looks at its queue.
fn idle(ctx: &Context, spec: &PoolSpec, slot: u32, feed: &mpsc::Sender<Feed>) {
    let feed = feed.clone();
    ctx.pools.update(&spec.name, slot, |v, f, _| {
        v.state = WorkerState::Idle;
        *f = Some(feed);
    });
    let _ = ctx.scheduler.send(Command::Work(vec![spec.queue.clone()]));
    changed(ctx, &spec.name);
}

/// Tells listeners (the page, the tray) that a pool's workers changed.
fn changed(ctx: &Context, pool: &str) {
    let _ = ctx.events.send(crate::Event::PoolChanged {
        name: pool.to_string(),
    });
}

/// The outcome of a job that reached a worker that was going away.
pub(super) fn gone_before_start() -> Outcome {
    Outcome {
        outcome: AttemptOutcome::Interrupted,
        consume: false,
        exit: None,
        reason: Some(
            "the worker went away before it took the job; the job went back to its queue".into(),
        ),
        crash: false,
        result: None,
    }
}

/// The worker's exit, if it comes within a moment (its output has just ended).
pub(super) async fn exit_soon(running: &mut nightshift_supervisor::Running) -> Option<Exit> {
    tokio::time::timeout(Duration::from_secs(1), running.wait())
        .await
        .ok()
        .and_then(Result::ok)
}

/// "exited with code 3", "killed by signal 9 (SIGKILL)".
pub(super) fn describe(exit: Option<Exit>) -> String {
    match exit {
        Some(Exit::Code(code)) => format!("exited with code {code}"),
        Some(Exit::Signal(signal)) => format!(
            "was killed by signal {signal} ({})",
            crate::runner::signal_name(signal)
        ),
        None => "ended (its exit status was lost)".into(),
    }
}

/// Adds the last lines of the worker's own log (its error output between jobs) to `why`.
async fn with_last_lines(dir: &std::path::Path, slot: u32, why: String) -> String {
    let dir: PathBuf = dir.to_path_buf();
    let tail = tokio::task::spawn_blocking(move || logfile::read(&dir, i64::from(slot), Some(5)))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let tail = String::from_utf8_lossy(&tail);
    let tail = tail.trim_end();
    if tail.is_empty() {
        why
    } else {
        format!("{why}; its last output: {}", tail.replace('\n', " | "))
    }
}
