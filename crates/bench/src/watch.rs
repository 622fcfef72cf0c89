//! What watching the work costs (issue #10's figures), each beside a baseline from the same run:
//!
//! - throughput of trivial jobs through the daemon with metrics on, beside the same with
//!   `metrics.enabled = false` (runs alternated off, on, off, on, so both see the machine in
//!   the same mood), and dispatch latency p50 in-process, on beside off;
//! - a scrape of `/metrics` with 50 queues that have run jobs, beside reading the queues alone
//!   (what any scrape needs);
//! - the 24-hour summary and the 7-day trend with 1,000,000 finished jobs in the table, beside
//!   the same with 1,000 (both over a week of history rows for five queues);
//! - the daemon's CPU with 32 jobs running (their CPU and memory sampled every second), beside
//!   the same with sampling off.

use crate::daemon::Daemon;
use crate::harness::{BenchEngine, on_thread, true_jobs, wait_all_succeeded, wait_for};
use crate::report::{Figure, Target};
use crate::stats::{Samples, per_second};
use anyhow::{Context, bail, ensure};
use nightshift_api::{Api, MetricsFormat, SummaryQuery, TrendsQuery};
use nightshift_core::metrics::Tally;
use nightshift_core::metrics::history::{Gauges, MINUTE_MS, Row};
use nightshift_core::{Clock, Config, Paths};
use nightshift_engine::{Engine, EngineOptions, Event};
use std::path::Path;
use std::time::{Duration, Instant};

const QUEUE: &str = "tp";
pub(crate) const CONCURRENCY: usize = 4;

/// Throughput through the daemon, and latency in-process, with metrics on and off.
pub async fn on_off(bin: &Path, jobs: usize, latency_jobs: usize) -> anyhow::Result<Vec<Figure>> {
    let mut on = Duration::ZERO;
    let mut off = Duration::ZERO;
    for enabled in [false, true, false, true] {
        let bin = bin.to_path_buf();
        let took = on_thread("metrics-throughput", move || {
            throughput(&bin, jobs / 2, enabled)
        })
        .await?;
        if enabled {
            on += took;
        } else {
            off += took;
        }
    }
    // Alternated too: off, on, off, on, each a fresh engine.
    let mut latency_on = Vec::new();
    let mut latency_off = Vec::new();
    for enabled in [false, true, false, true] {
        let samples = latency(latency_jobs / 2, enabled).await?;
        if enabled {
            latency_on.extend(samples);
        } else {
            latency_off.extend(samples);
        }
    }
    let latency_on = Samples::new(latency_on).percentile_ms(50.0);
    let latency_off = Samples::new(latency_off).percentile_ms(50.0);
    Ok(vec![
        Figure {
            key: "metrics_throughput_jobs_per_s",
            name: format!("throughput through the daemon with metrics, {jobs} /bin/true jobs"),
            unit: "jobs/s",
            value: per_second(jobs, on),
            baseline: per_second(jobs, off),
            baseline_name: "the same with metrics.enabled = false".into(),
            target: Target::RatioAtLeast(0.95),
        },
        Figure {
            key: "metrics_dispatch_p50_ms",
            name: "dispatch latency p50 with metrics".into(),
            unit: "ms",
            value: latency_on,
            baseline: latency_off,
            baseline_name: "the same with metrics.enabled = false".into(),
            target: Target::DifferenceAtMost(0.1),
        },
    ])
}

pub(crate) fn config_text(enabled: bool, concurrency: usize) -> String {
    format!("[metrics]\nenabled = {enabled}\n[queues.{QUEUE}]\nconcurrency = {concurrency}\n")
}

/// How long the daemon takes to run `jobs` trivial jobs, from the batch to the last success.
fn throughput(bin: &Path, jobs: usize, enabled: bool) -> anyhow::Result<Duration> {
    throughput_with(bin, jobs, &config_text(enabled, CONCURRENCY))
}

/// The same with `config` (which names the queue `tp` and its concurrency).
pub(crate) fn throughput_with(bin: &Path, jobs: usize, config: &str) -> anyhow::Result<Duration> {
    throughput_over(bin, jobs, 1, config)
}

/// The same with the jobs spread over `queues` queues (`tp`, `tp-1`, `tp-2`, …).
pub(crate) fn throughput_over(
    bin: &Path,
    jobs: usize,
    queues: usize,
    config: &str,
) -> anyhow::Result<Duration> {
    let daemon = Daemon::start(bin, config, &[])?;
    let client = daemon.client()?;
    let body: String = (0..jobs)
        .map(|i| match i % queues.max(1) {
            0 => format!("{{\"cmd\":[\"/bin/true\"],\"queue\":\"{QUEUE}\"}}\n"),
            q => format!("{{\"cmd\":[\"/bin/true\"],\"queue\":\"{QUEUE}-{q}\"}}\n"),
        })
        .collect();
    client.get("/api/health")?;
    let t0 = Instant::now();
    client.post("/api/jobs/batch", "application/x-ndjson", &body, 201)?;
    let deadline = t0 + Duration::from_secs(60) + Duration::from_millis(jobs as u64 * 10);
    loop {
        let summary: serde_json::Value = serde_json::from_str(&client.get("/api/summary")?)?;
        let done = summary["counts"]["succeeded"].as_u64().unwrap_or(0);
        if done >= jobs as u64 {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "the daemon did not finish: {summary}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    let took = t0.elapsed();
    daemon.stop()?;
    Ok(took)
}

/// Dispatch latencies in-process (enqueue to `Started`), one job at a time.
async fn latency(jobs: usize, enabled: bool) -> anyhow::Result<Vec<Duration>> {
    let mut config = Config::default();
    config.metrics.enabled = enabled;
    let bench = BenchEngine::start_with(config, None).await?;
    let engine = &bench.engine;
    let mut events = engine.subscribe();
    let mut samples = Vec::with_capacity(jobs);
    for round in 0..jobs + 5 {
        let id = engine.enqueue(true_jobs(1, "lat")).await?[0];
        let t0 = tokio::time::Instant::now();
        let t1 = wait_for(
            &mut events,
            Duration::from_secs(30),
            "Started",
            |e| matches!(e, Event::Started { id: started, .. } if *started == id),
        )
        .await?;
        wait_all_succeeded(engine, &mut events, &[id], Duration::from_secs(30)).await?;
        if round >= 5 {
            samples.push(t1 - t0);
        }
    }
    bench.stop().await;
    Ok(samples)
}

/// The median time of `n` calls of `f`.
pub(crate) async fn median<F, T>(n: usize, mut f: impl FnMut() -> F) -> anyhow::Result<f64>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    f().await?;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await?;
        samples.push(t.elapsed());
    }
    Ok(Samples::new(samples).percentile_ms(50.0))
}

/// A scrape of `/metrics` (the text, as the route makes it) with 50 queues that ran jobs.
pub async fn scrape(rounds: usize) -> anyhow::Result<Vec<Figure>> {
    const QUEUES: usize = 50;
    let names: Vec<String> = (0..QUEUES).map(|i| format!("q{i:02}")).collect();
    let queues: Vec<(&str, u32)> = names.iter().map(|n| (n.as_str(), 2)).collect();
    let bench = BenchEngine::start(&queues).await?;
    let engine = bench.engine.clone();
    let mut events = engine.subscribe();
    let mut ids = Vec::new();
    for name in &names {
        ids.extend(engine.enqueue(true_jobs(2, name)).await?);
    }
    wait_all_succeeded(&engine, &mut events, &ids, Duration::from_secs(120)).await?;
    let api = Api::new(engine);
    let text = api.metrics_text(MetricsFormat::Prometheus).await?;
    let series = text.lines().filter(|l| !l.starts_with('#')).count();
    ensure!(
        text.contains("queue=\"q49\""),
        "the scrape lacks the 50th queue"
    );
    let scrape = median(rounds, || async {
        Ok(api.metrics_text(MetricsFormat::Prometheus).await?)
    })
    .await?;
    let queues_only = median(rounds, || async { Ok(api.queues().await?) }).await?;
    bench.stop().await;
    Ok(vec![Figure {
        key: "metrics_scrape_50_queues_ms",
        name: format!("GET /metrics with {QUEUES} queues ({series} series), median"),
        unit: "ms",
        value: scrape,
        baseline: queues_only,
        baseline_name: "reading the 50 queues alone (GET /api/queues), median".into(),
        target: Target::AtMost(2.0),
    }])
}

/// The 24-hour summary and the 7-day trend with `large` finished jobs beside `small`.
pub async fn history(small: usize, large: usize, rounds: usize) -> anyhow::Result<Vec<Figure>> {
    let (small_summary, small_trend) = history_times(small, rounds).await?;
    let (large_summary, large_trend) = history_times(large, rounds).await?;
    let figure = |key, name: &str, value, baseline| Figure {
        key,
        name: format!(
            "{name} with {} finished jobs, median",
            crate::claim::count(large)
        ),
        unit: "ms",
        value,
        baseline,
        baseline_name: format!("the same with {} finished jobs", crate::claim::count(small)),
        target: Target::AtMost(10.0),
    };
    Ok(vec![
        figure(
            "history_summary_24h_ms",
            "24-hour summary (5 queues)",
            large_summary,
            small_summary,
        ),
        figure(
            "history_trend_7d_ms",
            "7-day trend (5 queues)",
            large_trend,
            small_trend,
        ),
    ])
}

/// A data folder with `finished` jobs and a week of history, and the two reads timed on it.
async fn history_times(finished: usize, rounds: usize) -> anyhow::Result<(f64, f64)> {
    let (_dir, paths) = history_folder(finished).await?;
    let engine = Engine::start(engine_options(&paths)).await?;
    let api = Api::new(engine.clone());
    let summary = median(rounds, || async {
        let s = api
            .metrics_summary(SummaryQuery {
                window: Some("24h".into()),
                queue: None,
            })
            .await?;
        if s.total.succeeded == 0 {
            bail!("the summary found no history");
        }
        Ok(s)
    })
    .await?;
    let trend = median(rounds, || async {
        let t = api
            .metrics_trends(TrendsQuery {
                window: Some("7d".into()),
                step: None,
                queue: None,
            })
            .await?;
        let names: Vec<_> = t.queues.iter().filter_map(|s| s.queue.clone()).collect();
        if !(0..5).all(|q| names.contains(&format!("queue{q}"))) {
            bail!("the trend has queues {names:?}, not the 5 written");
        }
        Ok(t)
    })
    .await?;
    engine.shutdown().await;
    Ok((summary, trend))
}

/// The options of an engine on `paths` with the default config and the real clock.
pub(crate) fn engine_options(paths: &Paths) -> EngineOptions {
    EngineOptions {
        paths: paths.clone(),
        config: Config::default(),
        clock: nightshift_core::clock::system(),
    }
}

/// A data folder made by an engine (so the folder and its database belong together), with
/// `finished` jobs and a week of history.
pub(crate) async fn history_folder(finished: usize) -> anyhow::Result<(tempfile::TempDir, Paths)> {
    let dir = tempfile::Builder::new()
        .prefix("nightshift-bench-history-")
        .tempdir()?;
    let paths = Paths::under(dir.path());
    Engine::start(engine_options(&paths))
        .await?
        .shutdown()
        .await;
    crate::claim::prefill(&paths.db_file, finished, 0).context("cannot fill the jobs")?;
    week_of_history(&paths).await?;
    Ok((dir, paths))
}

/// Seven days of minute rows for five queues, rolled up and pruned as a running engine would
/// have left them (the last two days in minutes, the rest in hours).
async fn week_of_history(paths: &Paths) -> anyhow::Result<()> {
    let store = nightshift_store::Store::open(
        &paths.db_file,
        &paths.payloads_dir,
        nightshift_core::Synchronous::Normal,
    )?;
    let now = nightshift_core::SystemClock.now_ms();
    let last = nightshift_core::metrics::history::floor_to(now, MINUTE_MS) - MINUTE_MS;
    let first = last - 7 * 24 * 60 * MINUTE_MS;
    let mut at = first;
    while at <= last {
        let rows = (0..5)
            .map(|q| {
                let mut tally = Tally {
                    added: 3,
                    started: 3,
                    succeeded: 2,
                    failed: 1,
                    ..Tally::default()
                };
                for ms in [120, 900, 4_000] {
                    tally.run.record(ms + q * 10);
                    tally.wait.record(q * 5);
                }
                Row {
                    at,
                    queue: format!("queue{q}"),
                    gauges: Gauges {
                        queued: 4,
                        running: 1,
                        ..Gauges::default()
                    },
                    tally,
                }
            })
            .collect();
        store.record_minute(at, rows).await?;
        at += MINUTE_MS;
    }
    let two_days = 2 * 24 * 3600 * 1000;
    let ninety_days = 90 * 24 * 3600 * 1000;
    loop {
        let step = store.roll_up_history(now, two_days, ninety_days).await?;
        if step.hours_rolled == 0 && step.minutes_pruned == 0 {
            break;
        }
    }
    Ok(())
}

/// The daemon's CPU, in percent of one core, with 32 jobs running, sampled and not.
pub async fn sampling(bin: &Path, window: Duration) -> anyhow::Result<Vec<Figure>> {
    let on = {
        let bin = bin.to_path_buf();
        on_thread("sampling-on", move || busy_cpu(&bin, window, true)).await?
    };
    let off = {
        let bin = bin.to_path_buf();
        on_thread("sampling-off", move || busy_cpu(&bin, window, false)).await?
    };
    Ok(vec![Figure {
        key: "sampling_32_jobs_cpu_percent",
        name: format!(
            "daemon CPU with 32 jobs running, their CPU and memory sampled, over {}s",
            window.as_secs()
        ),
        unit: "% core",
        value: on,
        baseline: off,
        baseline_name: "the same with sampling off (metrics.enabled = false)".into(),
        target: Target::AtMost(1.0),
    }])
}

fn busy_cpu(bin: &Path, window: Duration, enabled: bool) -> anyhow::Result<f64> {
    const JOBS: usize = 32;
    let daemon = Daemon::start(bin, &config_text(enabled, JOBS), &[])?;
    let client = daemon.client()?;
    let body = format!("{{\"cmd\":[\"sleep\",\"600\"],\"queue\":\"{QUEUE}\"}}\n").repeat(JOBS);
    client.post("/api/jobs/batch", "application/x-ndjson", &body, 201)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let summary: serde_json::Value = serde_json::from_str(&client.get("/api/summary")?)?;
        if summary["running"].as_u64() == Some(JOBS as u64) {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "32 jobs never ran at once: {summary}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Settled: the first samples are taken.
    std::thread::sleep(Duration::from_secs(2));
    let before = daemon.cpu_ms()?;
    let t = Instant::now();
    std::thread::sleep(window);
    let used = daemon.cpu_ms()? - before;
    let elapsed = t.elapsed().as_secs_f64() * 1000.0;
    daemon.stop()?;
    Ok(used / elapsed * 100.0)
}
