//! Figure 2, throughput of trivial jobs: a batch of `/bin/true` jobs enqueued at once into a
//! queue that runs four at a time, timed from the enqueue call to the last job's `Ended`.
//! Baseline: the same number of `/bin/true` runs in a plain sequential loop of
//! `Command::status()` (posix_spawn and wait, nothing else), half before and half after, so
//! both see the machine in the same mood.

use crate::harness::{BenchEngine, true_jobs, wait_all_succeeded};
use crate::report::{Figure, Target};
use crate::stats::per_second;
use anyhow::{Context, ensure};
use std::process::Command;
use std::time::{Duration, Instant};

const QUEUE: &str = "tp";
const CONCURRENCY: u32 = 4;

pub async fn run(jobs: usize) -> anyhow::Result<Vec<Figure>> {
    let before = raw_loop(jobs / 2)?;

    let bench = BenchEngine::start(&[(QUEUE, CONCURRENCY)]).await?;
    let engine = &bench.engine;
    let mut events = engine.subscribe();
    let batch = true_jobs(jobs, QUEUE);
    let t0 = tokio::time::Instant::now();
    let ids = engine.enqueue(batch).await?;
    // Generous: even 20 ms a job finishes well inside this.
    let within = Duration::from_secs(60) + Duration::from_millis(20) * jobs as u32;
    let end = wait_all_succeeded(engine, &mut events, &ids, within).await?;
    bench.stop().await;
    let after = raw_loop(jobs - jobs / 2)?;
    let baseline = per_second(jobs, before + after);

    Ok(vec![Figure {
        key: "throughput_jobs_per_s",
        name: format!("throughput, {jobs} /bin/true jobs, concurrency {CONCURRENCY}"),
        unit: "jobs/s",
        value: per_second(jobs, end - t0),
        baseline,
        baseline_name: "raw sequential Command::status() loop of /bin/true".into(),
        target: Target::RatioAtLeast(0.70),
    }])
}

/// Runs `/bin/true` `n` times, one after another; returns how long that took.
fn raw_loop(n: usize) -> anyhow::Result<Duration> {
    let t = Instant::now();
    for _ in 0..n {
        let status = Command::new("/bin/true")
            .status()
            .context("cannot run /bin/true")?;
        ensure!(status.success(), "/bin/true failed: {status}");
    }
    Ok(t.elapsed())
}
