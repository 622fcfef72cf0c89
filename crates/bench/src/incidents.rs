//! What watching for incidents costs (issue #12), each beside a baseline from the same run:
//!
//! - throughput of trivial jobs through the daemon with the incident rules on (evaluated 2 s
//!   after jobs end, again and again under load), beside the same with `incidents.enabled =
//!   false` (runs alternated off, on, off, on);
//! - throughput while a backlog incident in each of 20 queues alerts a webhook receiver that
//!   never answers, beside the same incidents with no webhook;
//! - one evaluation of every rule with 1,000,000 finished jobs in the table and a week of
//!   history for five queues, beside the 24-hour summary on the same data (a read every
//!   evaluation makes several of).

use crate::harness::on_thread;
use crate::report::{Figure, Target};
use crate::stats::per_second;
use crate::watch::{
    CONCURRENCY, config_text, engine_options, history_folder, median, throughput_over,
    throughput_with,
};
use nightshift_api::{Api, SummaryQuery};
use nightshift_engine::Engine;
use std::path::Path;
use std::time::Duration;

pub async fn run(
    bin: &Path,
    jobs: usize,
    finished: usize,
    rounds: usize,
) -> anyhow::Result<Vec<Figure>> {
    let mut on = Duration::ZERO;
    let mut off = Duration::ZERO;
    for enabled in [false, true, false, true] {
        let bin = bin.to_path_buf();
        let config = format!(
            "{}[incidents]\nenabled = {enabled}\n",
            config_text(true, CONCURRENCY)
        );
        let took = on_thread("incidents-throughput", move || {
            throughput_with(&bin, jobs / 2, &config)
        })
        .await?;
        if enabled {
            on += took;
        } else {
            off += took;
        }
    }
    let (hung, with_hanging, without) = hanging_receiver(bin, jobs).await?;
    let (evaluation, summary) = evaluation(finished, rounds).await?;
    Ok(vec![
        Figure {
            key: "incidents_throughput_jobs_per_s",
            name: format!(
                "throughput through the daemon with incident rules, {jobs} /bin/true jobs"
            ),
            unit: "jobs/s",
            value: per_second(jobs, on),
            baseline: per_second(jobs, off),
            baseline_name: "the same with incidents.enabled = false".into(),
            target: Target::RatioAtLeast(0.95),
        },
        Figure {
            key: "incidents_webhook_hanging_jobs_per_s",
            name: format!(
                "throughput with a backlog incident in each of {HANGING_QUEUES} queues and a webhook receiver that never answers ({hung} attempts hung), {jobs} /bin/true jobs a run"
            ),
            unit: "jobs/s",
            value: per_second(jobs * 2, with_hanging),
            baseline: per_second(jobs * 2, without),
            baseline_name: "the same incidents with no webhook".into(),
            target: Target::RatioAtLeast(0.95),
        },
        Figure {
            key: "incidents_evaluation_ms",
            name: format!(
                "one evaluation of every rule, {} finished jobs, a week of history, median",
                crate::claim::count(finished)
            ),
            unit: "ms",
            value: evaluation,
            baseline: summary,
            baseline_name: "a 24-hour summary on the same data".into(),
            target: Target::AtMost(10.0),
        },
    ])
}

/// Queues the hanging-receiver figure spreads its jobs over: each opens a backlog incident.
const HANGING_QUEUES: usize = 20;

/// Throughput while every queue has a backlog incident (threshold 1, active at once) whose
/// alert goes to a receiver that takes the connection and never answers, beside the same
/// incidents with no webhook (alternated without, with, without, with). Returns the attempts
/// the receiver held and both times.
async fn hanging_receiver(bin: &Path, jobs: usize) -> anyhow::Result<(usize, Duration, Duration)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let hung = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = hung.clone();
    // Holds every connection open until the bench ends; the client gives up after 10 s.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            held.push(stream);
        }
    });
    let rules = "[incidents.rules.backlog]\nthreshold = 1\nfor = \"0s\"\n";
    let mut with = Duration::ZERO;
    let mut without = Duration::ZERO;
    for hanging in [false, true, false, true] {
        let bin = bin.to_path_buf();
        let webhook = if hanging {
            format!(
                "[[alerts.webhook]]\nurl = \"http://127.0.0.1:{port}/\"\nmin_severity = \"info\"\n"
            )
        } else {
            String::new()
        };
        let config = format!("{}{rules}{webhook}", config_text(true, CONCURRENCY));
        let took = on_thread("incidents-webhook", move || {
            throughput_over(&bin, jobs, HANGING_QUEUES, &config)
        })
        .await?;
        if hanging {
            with += took;
        } else {
            without += took;
        }
    }
    let hung = hung.load(std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(hung > 0, "no alert reached the hanging receiver");
    Ok((hung, with, without))
}

async fn evaluation(finished: usize, rounds: usize) -> anyhow::Result<(f64, f64)> {
    let (_dir, paths) = history_folder(finished).await?;
    let engine = Engine::start(engine_options(&paths)).await?;
    // The first evaluation learns the baselines (once an hour); the median is of the rest.
    engine.evaluate_incidents().await;
    let evaluation = median(rounds, || async {
        engine.evaluate_incidents().await;
        Ok(())
    })
    .await?;
    let api = Api::new(engine.clone());
    let summary = median(rounds, || async {
        api.metrics_summary(SummaryQuery {
            window: Some("24h".into()),
            queue: None,
        })
        .await
        .map_err(anyhow::Error::from)
    })
    .await?;
    anyhow::ensure!(
        !engine.baselines().is_empty(),
        "the evaluation learned no baseline from a week of history"
    );
    engine.shutdown().await;
    Ok((evaluation, summary))
}
