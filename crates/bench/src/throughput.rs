//! Figure 2, throughput of trivial jobs at concurrency 4, two ways:
//!
//! - through the daemon, the path people use: `nightshift daemon` as a separate process, the
//!   `/bin/true` jobs added in one JSON Lines request to `POST /api/jobs/batch`, timed from
//!   that request to `GET /api/summary` counting every job succeeded (polled every
//!   [`POLL`]). Its CPU time over the same span (user and system, all its threads, not its
//!   children's), divided by the jobs, is the daemon's cost per job.
//! - in-process, the engine alone: `EngineHandle::enqueue` with the batch, timed to the last
//!   job's `Ended` event. The difference between the two is the HTTP and process boundary.
//!
//! Baseline for both: the same number of `/bin/true` runs by a plain loop at the same
//! concurrency, four threads each spawning a process-group leader and waiting for it (what the
//! engine does for a job with nothing around it), half before the Nightshift runs and half
//! after, so both see the machine in the same mood. The baseline for the CPU per job is that
//! loop's own CPU time per run (the spawning and waiting, not the child's).
//!
//! When pueue is installed (`pueued` and `pueue` on the PATH or in cargo's bin folder), the same
//! jobs through pueue are timed too and printed for scale (see `pueue`).

use crate::daemon::Daemon;
use crate::harness::{BenchEngine, on_thread, true_jobs, wait_all_succeeded};
use crate::report::{Figure, Target};
use crate::stats::per_second;
use anyhow::{Context, bail, ensure};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const QUEUE: &str = "tp";
pub const CONCURRENCY: usize = 4;
/// How often the daemon's summary is read while its jobs run.
const POLL: Duration = Duration::from_millis(25);

pub async fn run(bin: &Path, jobs: usize) -> anyhow::Result<Vec<Figure>> {
    let first = raw_loop(jobs / 2)?;
    let in_process = in_process(jobs).await?;
    let through_daemon = {
        let bin = bin.to_path_buf();
        on_thread("daemon-throughput", move || through_daemon(&bin, jobs)).await?
    };
    let pueue = on_thread("pueue-throughput", move || crate::pueue::run(jobs)).await?;
    let second = raw_loop(jobs - jobs / 2)?;
    let raw = Run {
        elapsed: first.elapsed + second.elapsed,
        cpu_ms: first.cpu_ms + second.cpu_ms,
    };
    let baseline = per_second(jobs, raw.elapsed);
    let baseline_name = format!("raw spawn-and-wait loop of /bin/true on {CONCURRENCY} threads");

    let mut figures = vec![
        Figure {
            key: "throughput_daemon_jobs_per_s",
            name: format!(
                "throughput through the daemon, {jobs} /bin/true jobs, concurrency {CONCURRENCY}"
            ),
            unit: "jobs/s",
            value: per_second(jobs, through_daemon.elapsed),
            baseline,
            baseline_name: baseline_name.clone(),
            target: Target::RatioAtLeast(0.70),
        },
        Figure {
            key: "daemon_cpu_ms_per_job",
            name: "daemon CPU time per trivial job".into(),
            unit: "ms",
            value: through_daemon.cpu_ms / jobs as f64,
            baseline: raw.cpu_ms / jobs as f64,
            baseline_name: "the raw loop's own CPU time per run".into(),
            target: Target::AtMost(0.2),
        },
        Figure {
            key: "throughput_jobs_per_s",
            name: format!(
                "throughput in-process, {jobs} /bin/true jobs, concurrency {CONCURRENCY}"
            ),
            unit: "jobs/s",
            value: per_second(jobs, in_process),
            baseline,
            baseline_name: baseline_name.clone(),
            target: Target::None,
        },
    ];
    if let Some(pueue) = pueue {
        figures.push(Figure {
            key: "throughput_pueue_jobs_per_s",
            name: format!("for scale: pueue, {jobs} /bin/true tasks, parallel {CONCURRENCY}"),
            unit: "jobs/s",
            value: per_second(jobs, pueue),
            baseline,
            baseline_name,
            target: Target::None,
        });
    } else {
        eprintln!("  pueue is not installed (`cargo install pueue --locked`); not timed");
    }
    Ok(figures)
}

/// One batch through the in-process engine; from the enqueue call to the last `Ended`.
async fn in_process(jobs: usize) -> anyhow::Result<Duration> {
    let bench = BenchEngine::start(&[(QUEUE, CONCURRENCY as u32)]).await?;
    let engine = &bench.engine;
    let mut events = engine.subscribe();
    let batch = true_jobs(jobs, QUEUE);
    let t0 = tokio::time::Instant::now();
    let ids = engine.enqueue(batch).await?;
    let end = wait_all_succeeded(engine, &mut events, &ids, generous(jobs)).await?;
    bench.stop().await;
    Ok(end - t0)
}

/// What a run took: wall time, and the CPU time of the process that ran it (the daemon's for
/// the batch, this process's for the raw loop).
struct Run {
    elapsed: Duration,
    cpu_ms: f64,
}

fn through_daemon(bin: &Path, jobs: usize) -> anyhow::Result<Run> {
    let config = format!("[queues.{QUEUE}]\nconcurrency = {CONCURRENCY}\n");
    let daemon = Daemon::start(bin, &config, &[])?;
    let client = daemon.client()?;
    let body = format!("{{\"cmd\":[\"/bin/true\"],\"queue\":\"{QUEUE}\"}}\n").repeat(jobs);
    // Warm: the connection is open and the first request's one-off work is done.
    client.get("/api/health")?;
    let cpu_before = daemon.cpu_ms()?;
    let t0 = Instant::now();
    client.post("/api/jobs/batch", "application/x-ndjson", &body, 201)?;
    let deadline = t0 + generous(jobs);
    loop {
        let summary: serde_json::Value = serde_json::from_str(&client.get("/api/summary")?)
            .context("the summary is not JSON")?;
        let count = |state: &str| summary["counts"][state].as_u64().unwrap_or(0);
        let failed: u64 = ["failed", "cancelled"].iter().map(|s| count(s)).sum();
        ensure!(
            failed == 0,
            "some /bin/true jobs did not succeed: {summary}"
        );
        if count("succeeded") >= jobs as u64 {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "the daemon had not run {jobs} jobs after {:?}: {summary}",
                generous(jobs)
            );
        }
        std::thread::sleep(POLL);
    }
    let run = Run {
        elapsed: t0.elapsed(),
        cpu_ms: daemon.cpu_ms()? - cpu_before,
    };
    daemon.stop()?;
    Ok(run)
}

/// Runs `/bin/true` `n` times on [`CONCURRENCY`] threads, each spawning a process-group leader
/// (as the engine does) and waiting for it before the next.
fn raw_loop(n: usize) -> anyhow::Result<Run> {
    let cpu_before = crate::procfs::cpu_ms(std::process::id())?;
    let t = Instant::now();
    crate::harness::shared_out(n, CONCURRENCY, "raw loop", || {
        let status = Command::new("/bin/true")
            .process_group(0)
            .status()
            .context("cannot run /bin/true")?;
        ensure!(status.success(), "/bin/true failed: {status}");
        Ok(())
    })?;
    Ok(Run {
        elapsed: t.elapsed(),
        cpu_ms: crate::procfs::cpu_ms(std::process::id())? - cpu_before,
    })
}

/// Long enough for any sound run: even 20 ms a job finishes well inside it.
pub fn generous(jobs: usize) -> Duration {
    Duration::from_secs(60) + Duration::from_millis(20).saturating_mul(jobs as u32)
}
