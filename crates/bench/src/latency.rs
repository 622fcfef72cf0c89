//! Figure 1, dispatch latency: from `enqueue` returning to the engine's `Started` event for
//! that job (the child is spawned and its identity stored), one `/bin/true` job at a time.
//! Baseline: how long a bare `std::process::Command::spawn()` of `/bin/true` takes, sampled
//! in between, so both see the same machine.

use crate::harness::{BenchEngine, time_to_start, true_jobs};
use crate::report::{Figure, Target};
use crate::stats::Samples;
use anyhow::Context;
use std::process::Command;
use std::time::{Duration, Instant};

/// Rounds run first and not counted (thread pools, folders, page cache).
const WARM_UP: usize = 5;
/// Longest a single job may take to start, or to end, before the run counts as broken.
const PER_JOB: Duration = Duration::from_secs(30);

pub async fn run(jobs: usize) -> anyhow::Result<Vec<Figure>> {
    let bench = BenchEngine::start(&[]).await?;
    let engine = &bench.engine;
    let mut events = engine.subscribe();
    let mut dispatch = Vec::with_capacity(jobs);
    let mut spawn = Vec::with_capacity(jobs);
    for round in 0..WARM_UP + jobs {
        // Baseline sample. (`block_on` runs this future on the main thread, not a runtime
        // worker, so blocking here stalls nothing the engine needs.)
        let t = Instant::now();
        let mut child = Command::new("/bin/true")
            .spawn()
            .context("cannot spawn /bin/true")?;
        let spawned = t.elapsed();
        child.wait().context("cannot wait for /bin/true")?;

        let took = time_to_start(engine, &mut events, true_jobs(1, "lat"), PER_JOB).await?;
        if round >= WARM_UP {
            spawn.push(spawned);
            dispatch.push(took);
        }
    }
    bench.stop().await;

    let dispatch = Samples::new(dispatch);
    let spawn = Samples::new(spawn);
    let figure = |key, p: f64, max| Figure {
        key,
        name: format!("dispatch latency p{p}, enqueue to child started"),
        unit: "ms",
        value: dispatch.percentile_ms(p),
        baseline: spawn.percentile_ms(p),
        baseline_name: format!("raw Command::spawn() of /bin/true, p{p}"),
        target: Target::AtMost(max),
    };
    Ok(vec![
        figure("dispatch_latency_p50_ms", 50.0, 1.0),
        figure("dispatch_latency_p99_ms", 99.0, 3.0),
    ])
}
