//! Worker pools (#11), beside spawn-per-job in the same run:
//!
//! - throughput: trivial jobs through one pool of four workers (this program, run as a worker
//!   with `--worker`: it answers each job at once), from the enqueue of the batch to the last
//!   `Ended`; baseline: as many `/bin/true` jobs, one process each, at the same concurrency,
//!   half before and half after.
//! - dispatch to a waiting worker: one job at a time with the workers idle, from `enqueue`
//!   returning to `Started` (claimed, the worker's identity stored, the job handed over);
//!   baseline: the same for a `/bin/true` job, which spawns its process.
//! - an idle pool: the daemon's wake-ups (context switches of all its threads and children,
//!   its workers included) with four idle workers; baseline: the same daemon without a pool.

use crate::daemon::Daemon;
use crate::harness::{BenchEngine, time_to_start, true_jobs, wait_all_succeeded};
use crate::procfs::Switches;
use crate::report::{Figure, Target};
use crate::stats::{Samples, per_second};
use anyhow::{Context, bail};
use nightshift_core::JobSpec;
use nightshift_core::worker::pool::PoolSpec;
use nightshift_engine::EngineHandle;
use nightshift_store::NewJob;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const WORKERS: u32 = 4;
const POOL_QUEUE: &str = "pool";
const PROCESS_QUEUE: &str = "tp";
/// Rounds of the latency run not counted (thread pools, folders, page cache).
const WARM_UP: usize = 5;
const PER_JOB: Duration = Duration::from_secs(30);
/// The idle measurement's pause before counting (measurement, not synchronisation). The last
/// things the pool's start sets off are the incident rules' evaluation (2 s after the workers
/// changed) and the threads that this bench's polling of `/api/pools` and that evaluation's
/// reads ran on, which the runtime keeps for 10 s before they end: past those, what is counted
/// is an idle pool's own cost.
const SETTLE: Duration = Duration::from_secs(12);
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// `nightshift-bench --worker`: a worker that says it is ready, then answers every job with a
/// success at once (the least a worker can do, so the figures are Nightshift's).
pub fn worker() -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, r#"{{"type":"ready"}}"#)?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let message: serde_json::Value = serde_json::from_str(&line)?;
        if message["type"] == "job" {
            writeln!(
                out,
                r#"{{"type":"result","id":{},"ok":true}}"#,
                message["id"]
            )?;
            out.flush()?;
        }
    }
    Ok(())
}

fn pool_spec(count: u32) -> anyhow::Result<PoolSpec> {
    Ok(PoolSpec {
        name: "bench".into(),
        queue: POOL_QUEUE.into(),
        count,
        program: std::env::current_exe()
            .context("cannot find this program")?
            .display()
            .to_string(),
        args: vec!["--worker".into()],
        env: Default::default(),
        cwd: None,
        heartbeat_ms: None,
    })
}

/// `n` jobs for the pool: no program, no arguments.
fn pool_jobs(n: usize) -> Vec<NewJob> {
    crate::harness::jobs(n, JobSpec::command(&[], POOL_QUEUE))
}

/// Waits until the pool's workers are all idle (set-up, bounded).
async fn ready(engine: &EngineHandle, count: u32) -> anyhow::Result<()> {
    let until = Instant::now() + PER_JOB;
    loop {
        let idle = engine.pools().first().map_or(0, |p| {
            p.workers
                .iter()
                .filter(|w| w.state == nightshift_engine::WorkerState::Idle)
                .count()
        });
        if idle == count as usize {
            return Ok(());
        }
        if Instant::now() > until {
            bail!("the pool's workers did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn engine_with_pool() -> anyhow::Result<BenchEngine> {
    let bench = BenchEngine::start(&[(POOL_QUEUE, WORKERS), (PROCESS_QUEUE, WORKERS)]).await?;
    bench.engine.add_pool(pool_spec(WORKERS)?).await?;
    ready(&bench.engine, WORKERS).await?;
    Ok(bench)
}

pub async fn run(
    bin: &Path,
    jobs: usize,
    latency_jobs: usize,
    window: Duration,
) -> anyhow::Result<Vec<Figure>> {
    let first = processes(jobs / 2).await?;
    let bench = engine_with_pool().await?;
    let engine = &bench.engine;
    let mut events = engine.subscribe();
    let t0 = tokio::time::Instant::now();
    let ids = engine.enqueue(pool_jobs(jobs)).await?;
    let end = wait_all_succeeded(engine, &mut events, &ids, PER_JOB * 10).await?;
    let pooled = end - t0;

    // Dispatch latency, one job at a time, alternating a pool job and a process job.
    let mut to_worker = Vec::new();
    let mut to_process = Vec::new();
    for round in 0..WARM_UP + latency_jobs {
        for (jobs, samples) in [
            (pool_jobs(1), &mut to_worker),
            (true_jobs(1, PROCESS_QUEUE), &mut to_process),
        ] {
            let took = time_to_start(engine, &mut events, jobs, PER_JOB).await?;
            if round >= WARM_UP {
                samples.push(took);
            }
        }
    }
    bench.stop().await;
    let second = processes(jobs - jobs / 2).await?;

    let bin = bin.to_path_buf();
    let (idle, without) =
        crate::harness::on_thread("idle-pool", move || idle_pool(&bin, window)).await?;
    Ok(vec![
        Figure {
            key: "pool_throughput_jobs_per_s",
            name: format!("throughput of {jobs} trivial jobs through a pool of {WORKERS} workers"),
            unit: "jobs/s",
            value: per_second(jobs, pooled),
            baseline: per_second(jobs, first + second),
            baseline_name: format!("the same as /bin/true processes, concurrency {WORKERS}"),
            target: Target::RatioAtLeast(3.0),
        },
        Figure {
            key: "pool_dispatch_p50_ms",
            name: "dispatch to a waiting worker p50, enqueue to started".into(),
            unit: "ms",
            value: Samples::new(to_worker).percentile_ms(50.0),
            baseline: Samples::new(to_process).percentile_ms(50.0),
            baseline_name: "the same for a /bin/true job (spawns its process)".into(),
            target: Target::AtMost(0.5),
        },
        Figure {
            key: "pool_idle_wakeups_per_s",
            name: format!(
                "idle daemon wake-ups with {WORKERS} idle workers, {}s",
                window.as_secs()
            ),
            unit: "/s",
            value: idle,
            baseline: without,
            baseline_name: "the same daemon without a pool".into(),
            target: Target::AtMost(1.0),
        },
    ])
}

/// `n` `/bin/true` jobs, one process each, at the pool's concurrency; from enqueue to the last.
async fn processes(n: usize) -> anyhow::Result<Duration> {
    let bench = BenchEngine::start(&[(PROCESS_QUEUE, WORKERS)]).await?;
    let engine = &bench.engine;
    let mut events = engine.subscribe();
    let t0 = tokio::time::Instant::now();
    let ids = engine.enqueue(true_jobs(n, PROCESS_QUEUE)).await?;
    let end = wait_all_succeeded(engine, &mut events, &ids, PER_JOB * 10).await?;
    bench.stop().await;
    Ok(end - t0)
}

/// The daemon's wake-ups per second over `window` with an idle pool, and without one.
fn idle_pool(bin: &Path, window: Duration) -> anyhow::Result<(f64, f64)> {
    let mut rates = Vec::new();
    for with_pool in [true, false] {
        let daemon = Daemon::start(bin, "", &[])?;
        if with_pool {
            let client = daemon.client()?;
            let spec = pool_spec(WORKERS)?;
            let body = serde_json::json!({
                "name": spec.name, "queue": spec.queue, "count": spec.count,
                "cmd": [spec.program, "--worker"],
            });
            client.post("/api/pools", "application/json", &body.to_string(), 201)?;
            let until = Instant::now() + PER_JOB;
            loop {
                let pools: serde_json::Value = serde_json::from_str(&client.get("/api/pools")?)?;
                let idle = pools[0]["workers"]
                    .as_array()
                    .map_or(0, |w| w.iter().filter(|w| w["state"] == "idle").count());
                if idle == WORKERS as usize {
                    break;
                }
                if Instant::now() > until {
                    bail!("the daemon's pool did not become ready");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        std::thread::sleep(SETTLE);
        let mut switches = Switches::start(daemon.pid())?;
        let start = Instant::now();
        while start.elapsed() < window {
            std::thread::sleep(SAMPLE_EVERY.min(window.saturating_sub(start.elapsed())));
            switches.sample()?;
        }
        rates.push(switches.total() as f64 / start.elapsed().as_secs_f64());
        daemon.stop()?;
    }
    Ok((rates[0], rates[1]))
}
