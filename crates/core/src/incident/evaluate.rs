//! The rules applied to one moment's figures: each rule whose condition holds gives a finding
//! with its value, its line, words for people (title, description, what to do) and the jobs it
//! is about. The engine gathers the figures (`Inputs`) from the metrics history, the pools,
//! the disk and recovery; this part reads nothing and is tested on plain values.

use super::baseline::Baseline;
use super::lifecycle::Finding;
use super::{Rule, RuleId};
use crate::JobId;
use crate::metrics::Tally;
use crate::metrics::history::Gauges;
use crate::worker::view::{PoolView, WorkerState};
use std::collections::BTreeMap;
use std::time::Duration;

/// One queue's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueInputs {
    pub name: String,
    /// What happened over each window a rule looks at, by the window's length.
    pub windows: BTreeMap<Duration, Tally>,
    /// Its depths now.
    pub gauges: Gauges,
    /// Jobs ready at the start of each window (for a growing backlog), by the window's length.
    pub ready_at_start: BTreeMap<Duration, u64>,
    /// A job could start now: a slot is free (and for a pool's queue, a worker is idle).
    pub free_slot: bool,
    /// Something holds the queue on purpose (paused, power, the CPU ceiling, a limit of 0).
    pub held: bool,
    /// Of the queued jobs, those waiting on their dependencies (counted in `gauges.queued`).
    pub waiting: u64,
    pub baseline: Option<Baseline>,
    /// Its usual run time (ms): the learned p95, or the last day's, when known.
    pub usual_ms: Option<f64>,
    /// Its running jobs and when each started (Unix ms).
    pub running: Vec<(JobId, i64)>,
}

/// What one evaluation sees.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    pub now: i64,
    pub queues: Vec<QueueInputs>,
    pub pools: Vec<PoolView>,
    /// The data folder's disk: bytes in use and in all (what an unprivileged user may use).
    pub disk: Option<(u64, u64)>,
    /// This start's recovery: when, and how many processes of a Nightshift that did not stop
    /// cleanly it found (0: a clean start).
    pub recovery: Option<(i64, u64)>,
}

/// Every rule's findings for `inputs`.
pub fn evaluate(rules: &[Rule], inputs: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| r.enabled) {
        match rule.id {
            RuleId::WorkerDown => {
                for pool in &inputs.pools {
                    if rule.applies_to(&pool.queue) {
                        out.extend(worker_down(rule, pool));
                    }
                }
            }
            RuleId::UncleanRestart => out.extend(unclean_restart(rule, inputs)),
            RuleId::DiskFull => out.extend(disk_full(rule, inputs)),
            _ => {
                for q in &inputs.queues {
                    if rule.applies_to(&q.name) {
                        out.extend(for_queue(rule, q, inputs.now));
                    }
                }
            }
        }
    }
    out
}

fn finding(rule: &Rule, queue: Option<&str>, value: f64, line: f64) -> Finding {
    Finding {
        rule: rule.id,
        queue: queue.map(str::to_string),
        pool: None,
        severity: rule.severity,
        value,
        threshold: line,
        unit: rule.id.unit(),
        title: String::new(),
        description: String::new(),
        action: String::new(),
        jobs: Vec::new(),
        for_: rule.for_,
    }
}

fn words(mut f: Finding, title: String, description: String, action: &str) -> Finding {
    f.title = title;
    f.description = description;
    f.action = action.to_string();
    f
}

/// "15m", "1h", "1h 30m": a window as people write it.
fn window(d: Duration) -> String {
    let text = crate::duration::format_short(d);
    text.strip_suffix(" 0s")
        .map_or(text.clone(), str::to_string)
}

fn for_queue(rule: &Rule, q: &QueueInputs, now: i64) -> Option<Finding> {
    let name = q.name.as_str();
    let tally = q.windows.get(&rule.window);
    let unit = rule.id.unit();
    let f = |value: f64, line: f64| finding(rule, Some(name), value, line);
    match rule.id {
        RuleId::FailureRate => {
            let t = tally?;
            let failed = failed_attempts(t);
            let ended = failed.saturating_add(t.succeeded);
            if ended == 0 || ended < rule.min_jobs {
                return None;
            }
            let rate = failed as f64 * 100.0 / ended as f64;
            rule.breached(rate, rule.threshold).then(|| {
                words(
                    f(rate, rule.threshold),
                    format!("{name}: {} of attempts failing", unit.format(rate)),
                    format!(
                        "{failed} of the {ended} attempts that ended in queue {name} in the last {} failed ({}; the line is {}).",
                        window(rule.window),
                        causes(t),
                        unit.format(rule.threshold)
                    ),
                    "Read the failed jobs' logs (nightshift ls --state failed, nightshift logs ID); retry them once the cause is fixed.",
                )
            })
        }
        RuleId::SuccessRate => {
            let t = tally?;
            let judged = t.succeeded.saturating_add(t.failed);
            if judged == 0 || judged < rule.min_jobs {
                return None;
            }
            let rate = t.succeeded as f64 * 100.0 / judged as f64;
            rule.breached(rate, rule.threshold).then(|| {
                words(
                    f(rate, rule.threshold),
                    format!("{name}: only {} of jobs succeeding", unit.format(rate)),
                    format!(
                        "{} of the {judged} jobs that finished in queue {name} in the last {} succeeded; under {} is too few.",
                        t.succeeded,
                        window(rule.window),
                        unit.format(rule.threshold)
                    ),
                    "Read the failed jobs' logs (nightshift ls --state failed) and fix what they share.",
                )
            })
        }
        RuleId::SuccessBelowBaseline => {
            let t = tally?;
            let b = q.baseline?;
            let judged = t.succeeded.saturating_add(t.failed);
            if judged == 0 || judged < rule.min_jobs {
                return None;
            }
            let rate = t.succeeded as f64 * 100.0 / judged as f64;
            let line = b.success_line(rule.threshold);
            rule.breached(rate, line).then(|| {
                words(
                    f(rate, line),
                    format!("{name}: success {} is under its usual", unit.format(rate)),
                    format!(
                        "Queue {name} succeeded {} of the last {} ({judged} jobs); over {} learned hours it succeeds {} ± {} a hour, so under {} is unusual.",
                        unit.format(rate),
                        window(rule.window),
                        b.hours,
                        unit.format(b.success_mean),
                        unit.format(b.success_sd),
                        unit.format(line)
                    ),
                    "Compare the recent failures with older ones (nightshift ls --state failed): something changed.",
                )
            })
        }
        RuleId::SlowProcessing => {
            let t = tally?;
            let b = q.baseline?;
            if t.run.count() == 0 || t.run.count() < rule.min_jobs {
                return None;
            }
            let p95 = t.run.quantile_ms(0.95)? as f64;
            let floor = rule.floor.map_or(0.0, |d| d.as_millis() as f64);
            let line = b.p95_line(floor);
            rule.breached(p95, line).then(|| {
                words(
                    f(p95, line),
                    format!("{name}: jobs running slow (p95 {})", unit.format(p95)),
                    format!(
                        "The p95 run time of queue {name} over the last {} is {}; it is usually {} ± {} (learned over {} hours), so over {} is slow.",
                        window(rule.window),
                        unit.format(p95),
                        unit.format(b.p95_mean),
                        unit.format(b.p95_sd),
                        b.hours,
                        unit.format(line)
                    ),
                    "Look at what the slow jobs wait on (the disk, the network, the CPU: nightshift top).",
                )
            })
        }
        RuleId::Backlog => {
            let ready = q.gauges.queued as f64;
            rule.breached(ready, rule.threshold).then(|| {
                words(
                    f(ready, rule.threshold),
                    format!("{name}: {} waiting", unit.format(ready)),
                    format!(
                        "Queue {name} has {} ready to start, {} running (the line is {}).",
                        unit.format(ready),
                        q.gauges.running,
                        unit.format(rule.threshold)
                    ),
                    "Raise the queue's limit (nightshift queue limit NAME N) if the machine has room, or let it work through.",
                )
            })
        }
        RuleId::BacklogGrowing => {
            let start = *q.ready_at_start.get(&rule.window)?;
            let grew = q.gauges.queued.saturating_sub(start) as f64;
            rule.breached(grew, rule.threshold).then(|| {
                words(
                    f(grew, rule.threshold),
                    format!("{name}: backlog grew by {}", unit.format(grew)),
                    format!(
                        "Queue {name} went from {start} to {} ready jobs in the last {}: jobs come faster than they finish.",
                        q.gauges.queued,
                        window(rule.window)
                    ),
                    "Raise the queue's limit or add workers, or find what adds so many jobs.",
                )
            })
        }
        RuleId::Stalled => {
            let t = tally?;
            // Jobs behind their dependencies wait on purpose: a long first job of a chain
            // is not a stall.
            let ready = q.gauges.queued.saturating_sub(q.waiting) as f64;
            let moved = t.started > 0 || t.finished() > 0 || t.retried > 0;
            (!moved && !q.held && q.free_slot && rule.breached(ready, rule.threshold)).then(|| {
                words(
                    f(ready, rule.threshold),
                    format!("{name}: stalled with {} ready", unit.format(ready)),
                    format!(
                        "Queue {name} has {} ready and room to run them, and nothing started or ended in it in the last {}.",
                        unit.format(ready),
                        window(rule.window)
                    ),
                    "Check why nothing starts (nightshift ls --queue NAME shows each job's reason; nightshift status shows Nightshift's health).",
                )
            })
        }
        RuleId::PowerHeld => {
            let held = q.gauges.held as f64;
            (q.gauges.power_held > 0 || held > 0.0)
                .then_some(())
                .filter(|()| rule.breached(held, rule.threshold))
                .map(|()| {
                    words(
                        f(held, rule.threshold),
                        format!("{name}: {} held for power", unit.format(held)),
                        format!(
                            "{} of queue {name} wait for AC power or more battery, and have for at least {}.",
                            unit.format(held),
                            window(rule.for_)
                        ),
                        "Plug the machine in, or let the queue run on battery (nightshift queue power NAME).",
                    )
                })
        }
        RuleId::LongRunning => {
            let usual = q.usual_ms.filter(|u| *u > 0.0)?;
            let floor = rule.floor.map_or(0.0, |d| d.as_millis() as f64);
            let line_ms = (rule.threshold * usual).max(floor);
            let mut long: Vec<(JobId, f64)> = q
                .running
                .iter()
                .map(|(id, started)| (*id, now.saturating_sub(*started).max(0) as f64))
                .filter(|(_, ran)| *ran >= line_ms)
                .collect();
            long.sort_by(|a, b| b.1.total_cmp(&a.1));
            let (first, longest) = *long.first()?;
            let times = longest / usual;
            let ms = super::Unit::Milliseconds;
            let mut out = words(
                f(times, rule.threshold),
                format!(
                    "{name}: job {first} running {} (usually {})",
                    ms.format(longest),
                    ms.format(usual)
                ),
                format!(
                    "{} job{} of queue {name} {} run past {} ({} its usual {}); the longest, {first}, for {}.",
                    long.len(),
                    if long.len() == 1 { "" } else { "s" },
                    if long.len() == 1 { "has" } else { "have" },
                    ms.format(line_ms),
                    unit.format(rule.threshold),
                    ms.format(usual),
                    ms.format(longest)
                ),
                "Look at its output (nightshift logs -f ID); cancel it if it hangs, or give the queue a timeout.",
            );
            out.jobs = long.into_iter().map(|(id, _)| id).collect();
            Some(out)
        }
        RuleId::WorkerDown | RuleId::UncleanRestart | RuleId::DiskFull => None,
    }
}

/// Attempts that failed for the job's own reasons (an interruption is Nightshift's).
fn failed_attempts(t: &Tally) -> u64 {
    t.failed_exit_code
        .saturating_add(t.failed_signal)
        .saturating_add(t.timed_out)
        .saturating_add(t.spawn_failed)
}

fn causes(t: &Tally) -> String {
    let parts: Vec<String> = [
        (t.failed_exit_code, "exit code"),
        (t.failed_signal, "signal"),
        (t.timed_out, "timeout"),
        (t.spawn_failed, "could not start"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    parts.join(", ")
}

fn worker_down(rule: &Rule, pool: &PoolView) -> Option<Finding> {
    if pool.stopped || pool.count == 0 {
        return None;
    }
    let ready = pool
        .workers
        .iter()
        .take(pool.count as usize)
        .filter(|w| matches!(w.state, WorkerState::Idle | WorkerState::Busy))
        .count() as u32;
    let missing = pool.count.saturating_sub(ready);
    let looping = pool.crash_looping.is_some();
    if !looping && !rule.breached(f64::from(missing), rule.threshold) {
        return None;
    }
    let name = &pool.name;
    let mut f = finding(rule, Some(&pool.queue), f64::from(missing), rule.threshold);
    f.pool = Some(name.clone());
    let why = pool
        .crash_looping
        .as_deref()
        .map(|w| format!(" It is crash-looping: {w}."))
        .unwrap_or_default();
    Some(words(
        f,
        format!("pool {name}: {ready} of {} workers ready", pool.count),
        format!(
            "Pool {name} (queue {}) should run {} workers and {ready} are ready.{why}",
            pool.queue, pool.count
        ),
        "See why its workers exit (nightshift workers; their output is in logs/workers/POOL/), fix the worker, then nightshift worker restart POOL.",
    ))
}

fn unclean_restart(rule: &Rule, inputs: &Inputs) -> Option<Finding> {
    let (at, found) = inputs.recovery?;
    let recent =
        inputs.now.saturating_sub(at) < i64::try_from(rule.window.as_millis()).unwrap_or(i64::MAX);
    (recent && rule.breached(found as f64, rule.threshold)).then(|| {
        words(
            finding(rule, None, found as f64, rule.threshold),
            "Nightshift did not stop cleanly".into(),
            format!(
                "At its start ({}) Nightshift found {found} processes of the previous run, which had been killed or crashed; their jobs went back to their queues or failed, as recovery decided.",
                crate::timestamp::format(at)
            ),
            "See what stopped it (the system log, an out-of-memory kill); the jobs it reclaimed say so in nightshift show.",
        )
    })
}

fn disk_full(rule: &Rule, inputs: &Inputs) -> Option<Finding> {
    let (used, total) = inputs.disk?;
    if total == 0 {
        return None;
    }
    let percent = used as f64 * 100.0 / total as f64;
    rule.breached(percent, rule.threshold).then(|| {
        words(
            finding(rule, None, percent, rule.threshold),
            format!("The data folder's disk is {percent:.0}% full"),
            format!(
                "The disk holding Nightshift's data folder has {} of {} in use; on a full disk no job can be added and outcomes wait in memory.",
                crate::human_bytes(used),
                crate::human_bytes(total)
            ),
            "Free space on that disk, or shorten what is kept (metrics.minutes_kept, jobs.log_max_bytes).",
        )
    })
}

#[cfg(test)]
mod tests;
