//! One job on a worker: the job message out, then the worker's messages until its result,
//! with what the scheduler asks meanwhile (cancel, power) and the job's deadline. A worker asked
//! to stop a job has the kill grace to answer; after it, or when it dies mid-job or goes silent
//! past its heartbeat, its group is ended and the slot's task starts it again.

use super::lines::{Lines, Read};
use crate::context::Context;
use crate::runner::{Control, Outcome, Stop};
use nightshift_core::AttemptOutcome;
use nightshift_core::worker::pool::PoolSpec;
use nightshift_core::worker::protocol::{
    FromWorker, JobMessage, Line, MAX_INLINE_PAYLOAD_BYTES, ToWorker, encode, parse_line,
};
use nightshift_supervisor::logfile::LogWriter;
use nightshift_supervisor::{LogSwitch, Running, pause, resume};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::{ChildStdin, ChildStdout};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// The parts of a running worker a job uses.
pub(super) struct Parts<'a> {
    pub running: &'a mut Running,
    pub stdin: &'a mut ChildStdin,
    pub lines: &'a mut Lines<ChildStdout>,
    pub stderr: &'a LogSwitch,
    /// Notes that the worker said something (for `last_heard`).
    pub heard: &'a (dyn Fn() + Send + Sync),
}

/// What becomes of the worker after the job.
pub(super) enum After {
    /// It takes the next job.
    Idle,
    /// It must go: it died, or is ended now (`reaped` when its leader was already waited for).
    End {
        why: String,
        counts: bool,
        reaped: bool,
        /// It went silent while busy (shown as unresponsive until it is started again).
        unresponsive: bool,
    },
}

/// Why the job is being stopped, once the worker has been asked to.
enum Asked {
    Cancel(String),
    Timeout(Duration),
}

pub(super) async fn run(
    ctx: &Context,
    spec: &PoolSpec,
    worker: &str,
    parts: Parts<'_>,
    feed: super::Feed,
) -> (Outcome, After, oneshot::Sender<Outcome>) {
    let super::Feed {
        claimed,
        mut control,
        reply,
    } = feed;
    let job = &claimed.job;
    let id = job.id;
    let log = LogWriter::new(&ctx.paths.logs_dir, id.0, ctx.config.jobs.log_max_bytes).with_header(
        format!(
            "--- nightshift: attempt {} on worker {worker} ---\n",
            claimed.attempt_number
        ),
    );
    parts.stderr.switch(log).await;
    let payload_file = ctx.paths.run_dir.join(format!("{id}.json"));
    let (outcome, after) = exchange(ctx, spec, &claimed, &mut control, parts, &payload_file).await;
    if job.payload_size.is_some() {
        let _ = tokio::fs::remove_file(&payload_file).await;
    }
    crate::runner::set_paused(ctx, id, None);
    // The caller sends the outcome, once the worker's state says what comes next.
    (outcome, after, reply)
}

async fn exchange(
    ctx: &Context,
    spec: &PoolSpec,
    claimed: &nightshift_store::Claimed,
    control: &mut tokio::sync::mpsc::UnboundedReceiver<Control>,
    parts: Parts<'_>,
    payload_file: &std::path::Path,
) -> (Outcome, After) {
    let Parts {
        running,
        stdin,
        lines,
        stderr,
        heard: note_heard,
    } = parts;
    let job = &claimed.job;
    let id = job.id;
    let (payload, file) = match payload(ctx, claimed, payload_file).await {
        Ok(p) => p,
        Err(e) => {
            return (
                failed(format!("cannot prepare the payload: {e}")),
                After::Idle,
            );
        }
    };
    let timeout = job.spec.timeout_ms.map(Duration::from_millis);
    let message = encode(&ToWorker::Job(JobMessage {
        id: id.0,
        attempt: claimed.attempt_number,
        args: job.spec.args.clone(),
        payload,
        payload_file: file,
        deadline: timeout.map(|t| nightshift_core::timestamp::later(ctx.clock.now_ms(), t)),
    }));
    if let Err(e) = stdin.write_all(&message).await {
        return died(format!("could not take the job ({e})"), false);
    }
    let grace = ctx.config.jobs.kill_grace;
    let silence = spec.silence_limit();
    let mut deadline = timeout.map(|t| Instant::now() + t);
    let mut heard = Instant::now();
    let mut asked: Option<(Asked, Instant)> = None;
    let mut paused_since: Option<Instant> = None;
    loop {
        let next_deadline = match (&asked, paused_since) {
            (Some((_, by)), _) => Some(*by),
            (None, None) => deadline,
            (None, Some(_)) => None,
        };
        let silent_by = silence
            .filter(|_| paused_since.is_none())
            .map(|s| heard + s);
        let timer = sleep_until(next_deadline);
        let quiet = sleep_until(silent_by);
        tokio::select! {
            read = lines.next() => {
                heard = Instant::now();
                note_heard();
                match read {
                    Ok(Read::Line(bytes)) => match parse_line(&bytes) {
                        Ok(Line::Message(FromWorker::Result { id: of, ok, value, error })) if of == id.0 => {
                            return (result(ok, value, error, asked.map(|(a, _)| a)), After::Idle);
                        }
                        Ok(Line::Message(FromWorker::Log { message, .. })) => {
                            stderr.write(format!("{message}\n").into_bytes()).await;
                        }
                        Ok(Line::Text(text)) => {
                            stderr.write(format!("{text}\n").into_bytes()).await;
                        }
                        Ok(Line::Message(FromWorker::Progress { done, total, message, .. })) => {
                            let note = progress_line(done, total, message.as_deref());
                            stderr.write(note.into_bytes()).await;
                        }
                        Ok(Line::Message(FromWorker::Heartbeat | FromWorker::Ready)) => {}
                        Ok(Line::Message(other)) => {
                            let why = format!("the worker answered for another job: {other:?}");
                            stderr.write(format!("--- nightshift: {why} ---\n").into_bytes()).await;
                            return (failed(why.clone()), end(why, true, false));
                        }
                        Err(e) => {
                            // A broken message may be a broken worker: the job fails (its
                            // retries apply) and the worker starts afresh.
                            stderr.write(format!("--- nightshift: {e} ---\n").into_bytes()).await;
                            return (failed(e.to_string()), end(e.to_string(), true, false));
                        }
                    },
                    Ok(Read::TooLong(n)) => {
                        let why = format!("the worker sent a line of {n} bytes, over the limit");
                        return (failed(why.clone()), end(why, true, false));
                    }
                    Ok(Read::End) | Err(_) => {
                        // Usually it is exiting: say how, if it does so at once.
                        return match super::worker::exit_soon(running).await {
                            Some(exit) => died(super::worker::describe(Some(exit)), true),
                            None => died("closed its standard output".into(), false),
                        };
                    }
                }
            }
            exit = running.wait() => {
                return died(super::worker::describe(exit.ok()), true);
            }
            message = control.recv() => match message {
                Some(Control::Stop(Stop::Cancel(reason))) if asked.is_none() => {
                    let cancel = encode(&ToWorker::Cancel { id: id.0, reason: reason.clone() });
                    let _ = stdin.write_all(&cancel).await;
                    asked = Some((Asked::Cancel(reason), Instant::now() + grace));
                }
                // Asked already (a timeout): a cancel now is what the end will say, within
                // the same grace.
                Some(Control::Stop(Stop::Cancel(reason))) => {
                    if let Some((why, _)) = asked.as_mut() {
                        *why = Asked::Cancel(reason);
                    }
                }
                Some(Control::Stop(stop)) => {
                    let reason = match stop {
                        Stop::PowerLost(reason) => format!("{reason}; stopped and put back in its queue"),
                        _ => "Nightshift was stopped; the job went back to its queue".into(),
                    };
                    let outcome = interrupted(reason.clone(), false);
                    return (outcome, end(format!("was stopped with its job ({reason})"), false, false));
                }
                Some(Control::Pause(reason)) => {
                    if paused_since.is_none() {
                        paused_since = Some(Instant::now());
                        crate::runner::set_paused(ctx, id, Some(crate::PausedForPower {
                            queue: job.spec.queue.clone(),
                            reason: reason.clone(),
                        }));
                        pause(running).await;
                        let _ = ctx.events.send(crate::Event::PowerPaused { id, paused: true, reason: Some(reason) });
                    }
                }
                Some(Control::Resume) => {
                    if let Some(since) = paused_since.take() {
                        crate::runner::set_paused(ctx, id, None);
                        resume(running);
                        if let Some(at) = deadline.as_mut() {
                            *at += since.elapsed();
                        }
                        heard = Instant::now();
                        let _ = ctx.events.send(crate::Event::PowerPaused { id, paused: false, reason: None });
                    }
                }
                None => {
                    let outcome = interrupted("Nightshift was stopped; the job went back to its queue".into(), false);
                    return (outcome, end("was stopped with Nightshift".into(), false, false));
                }
            },
            () = timer => match asked.take() {
                None => {
                    let t = timeout.unwrap_or_default();
                    let reason = format!("timed out after {}", nightshift_core::duration::format_short(t));
                    let cancel = encode(&ToWorker::Cancel { id: id.0, reason });
                    let _ = stdin.write_all(&cancel).await;
                    asked = Some((Asked::Timeout(t), Instant::now() + grace));
                }
                // The worker did not stop the job within the grace: it goes, and comes back.
                Some((why, _)) => {
                    let outcome = match why {
                        Asked::Cancel(reason) => Outcome {
                            outcome: AttemptOutcome::Cancelled,
                            consume: false,
                            exit: None,
                            reason: Some(reason),
                            crash: false,
                            result: None,
                        },
                        Asked::Timeout(t) => Outcome {
                            outcome: AttemptOutcome::TimedOut,
                            consume: true,
                            exit: None,
                            reason: Some(format!(
                                "timed out after {}; the worker did not stop it within the grace period and was restarted",
                                nightshift_core::duration::format_short(t)
                            )),
                            crash: false,
                            result: None,
                        },
                    };
                    return (outcome, end("did not stop its job when asked, and was ended".into(), false, false));
                }
            },
            () = quiet => {
                let limit = silence.unwrap_or_default();
                let why = format!(
                    "was unresponsive: it said nothing for {} while working on job {id}",
                    nightshift_core::duration::format_short(limit)
                );
                let outcome = interrupted(format!("the worker {why}; the job went back to its queue"), true);
                return (outcome, After::End { why, counts: true, reaped: false, unresponsive: true });
            }
        }
    }
}

/// Sleeps until `at`; without one, for ever (a `select!` branch that never fires).
pub(super) async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The job's payload for the message: inline when it is small JSON, else as a file.
async fn payload(
    ctx: &Context,
    claimed: &nightshift_store::Claimed,
    file: &std::path::Path,
) -> Result<(Option<serde_json::Value>, Option<String>), String> {
    if claimed.job.payload_size.is_none() {
        return Ok((None, None));
    }
    let bytes = ctx
        .store
        .payload(claimed.job.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "the payload is missing".to_string())?;
    if bytes.len() <= MAX_INLINE_PAYLOAD_BYTES
        && let Ok(value) = serde_json::from_slice(&bytes)
    {
        return Ok((Some(value), None));
    }
    let path = file.to_path_buf();
    tokio::task::spawn_blocking(move || nightshift_core::private::write(&path, &bytes))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok((None, Some(file.display().to_string())))
}

/// The outcome of a result, given what the worker had been asked meanwhile: a success stands
/// (the job got done), a failure after a cancel is the cancel, after a timeout the timeout.
fn result(
    ok: bool,
    value: Option<serde_json::Value>,
    error: Option<String>,
    asked: Option<Asked>,
) -> Outcome {
    let value = value.map(|v| v.to_string());
    if ok {
        return Outcome {
            outcome: AttemptOutcome::Succeeded,
            consume: false,
            exit: None,
            reason: None,
            crash: false,
            result: value,
        };
    }
    let error = error.unwrap_or_else(|| "the worker reported a failure".into());
    match asked {
        Some(Asked::Cancel(reason)) => Outcome {
            outcome: AttemptOutcome::Cancelled,
            consume: false,
            exit: None,
            reason: Some(reason),
            crash: false,
            result: value,
        },
        Some(Asked::Timeout(t)) => Outcome {
            outcome: AttemptOutcome::TimedOut,
            consume: true,
            exit: None,
            reason: Some(format!(
                "timed out after {} ({error})",
                nightshift_core::duration::format_short(t)
            )),
            crash: false,
            result: value,
        },
        None => Outcome {
            result: value,
            ..failed(error)
        },
    }
}

fn failed(reason: String) -> Outcome {
    Outcome {
        outcome: AttemptOutcome::Failed,
        consume: true,
        exit: None,
        reason: Some(reason),
        crash: false,
        result: None,
    }
}

fn interrupted(reason: String, crash: bool) -> Outcome {
    Outcome {
        outcome: AttemptOutcome::Interrupted,
        consume: false,
        exit: None,
        reason: Some(reason),
        crash,
        result: None,
    }
}

/// The worker died mid-job: the job goes back to its queue as an interruption in a row (a job
/// that kills its worker every time fails after `jobs.max_interruptions`).
fn died(how: String, reaped: bool) -> (Outcome, After) {
    let reason = format!("the worker {how} while working on it; the job went back to its queue");
    (interrupted(reason, true), end(how, true, reaped))
}

fn end(why: String, counts: bool, reaped: bool) -> After {
    After::End {
        why,
        counts,
        reaped,
        unresponsive: false,
    }
}

fn progress_line(done: Option<u64>, total: Option<u64>, message: Option<&str>) -> String {
    let figures = match (done, total) {
        (Some(d), Some(t)) => format!("{d}/{t}"),
        (Some(d), None) => d.to_string(),
        _ => String::new(),
    };
    let text = [figures.as_str(), message.unwrap_or_default()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    format!("--- progress: {text} ---\n")
}
