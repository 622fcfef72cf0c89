//! The metrics history through the facade, on a clock moved by hand: real jobs counted into
//! minutes, a summary and trends over them (the minute under way included live), gaps where
//! Nightshift was not running, and the history kept across a restart.

mod common;

use nightshift_api::{Api, EnqueueRequest, SummaryQuery, TrendsQuery, WaitRequest};
use nightshift_core::clock::ManualClock;
use nightshift_core::metrics::history::MINUTE_MS;
use std::sync::Arc;
use std::time::Duration;

/// 2026-01-01 00:00:10 UTC: ten seconds into a minute.
const T0: i64 = 1_767_225_610_000;

fn job(script: &str) -> EnqueueRequest {
    EnqueueRequest {
        cmd: vec!["/bin/sh".into(), "-c".into(), script.into()],
        queue: Some("work".into()),
        ..Default::default()
    }
}

async fn run(api: &Api, scripts: &[&str]) {
    let mut ids = Vec::new();
    for script in scripts {
        ids.push(api.enqueue(job(script)).await.unwrap().id);
    }
    let done = api
        .wait(WaitRequest {
            ids,
            any: false,
            timeout_ms: Some(20_000),
        })
        .await
        .unwrap();
    assert!(done.pending.is_empty(), "the jobs finished: {done:?}");
}

fn window(w: &str) -> SummaryQuery {
    SummaryQuery {
        window: Some(w.into()),
        queue: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_and_trends_come_from_the_minutes_with_gaps_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let api = common::held_api(dir.path(), clock.clone()).await;

    // Minute 0: two successes and a failure; a job held in its queue is counted as queued.
    run(&api, &["exit 0", "exit 0", "exit 3"]).await;
    api.enqueue(EnqueueRequest {
        cmd: vec!["true".into()],
        queue: Some("held".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    // Before any minute is written, the summary already counts the minute under way.
    let live = api.metrics_summary(window("1h")).await.unwrap();
    assert_eq!((live.total.succeeded, live.total.failed), (2, 1));
    assert_eq!(live.covered_minutes, 1);
    api.engine().flush_history().await.unwrap();

    // Minute 1: one more success. Then ten minutes pass with Nightshift not running them.
    clock.advance(Duration::from_secs(60));
    run(&api, &["exit 0"]).await;
    api.engine().flush_history().await.unwrap();
    clock.advance(Duration::from_secs(10 * 60));
    run(&api, &["exit 0"]).await;
    api.engine().flush_history().await.unwrap();

    let summary = api.metrics_summary(window("1h")).await.unwrap();
    let total = &summary.total;
    assert_eq!(
        (total.added, total.started, total.succeeded, total.failed),
        (6, 5, 4, 1),
        "{summary:#?}"
    );
    assert_eq!(total.failures["exit_code"], 1);
    assert_eq!(total.success_rate, Some(0.8));
    let error_rate = total.error_rate.unwrap();
    assert!((error_rate - 0.2).abs() < 1e-9, "{error_rate}");
    assert_eq!(total.run.count, 5);
    assert!(total.run.p95_ms.is_some() && total.wait.p50_ms.is_some());
    assert_eq!(
        summary.covered_minutes, 3,
        "minutes 0, 1 and 11; 2 to 10 are a gap"
    );
    // 5 finished in 3 minutes running: 100 an hour.
    assert_eq!(total.throughput_per_hour, Some(100.0));
    let names: Vec<_> = summary
        .queues
        .iter()
        .map(|q| q.queue.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["held", "work"]);

    // Trends at a minute a point: counts where they happened, null in the gap.
    let trends = api
        .metrics_trends(TrendsQuery {
            window: Some("15m".into()),
            step: Some("1m".into()),
            queue: Some("work".into()),
        })
        .await
        .unwrap();
    assert_eq!(trends.step_seconds, 60);
    assert_eq!(trends.at.len(), 15);
    let index = |at: i64| {
        trends
            .at
            .iter()
            .position(|&a| a == at)
            .unwrap_or_else(|| panic!("no point at {at}: {:?}", trends.at))
    };
    let minute0 = T0 - 10_000;
    let succeeded = &trends.total.succeeded;
    assert_eq!(succeeded[index(minute0)], Some(2));
    assert_eq!(trends.total.failed[index(minute0)], Some(1));
    assert_eq!(succeeded[index(minute0 + MINUTE_MS)], Some(1));
    assert_eq!(succeeded[index(minute0 + 5 * MINUTE_MS)], None, "a gap");
    assert_eq!(succeeded[index(minute0 + 11 * MINUTE_MS)], Some(1));
    assert!(trends.queues.is_empty(), "one queue was asked for");

    // All queues: the held queue's job shows as queued depth.
    let all = api
        .metrics_trends(TrendsQuery {
            window: Some("15m".into()),
            step: Some("1m".into()),
            queue: None,
        })
        .await
        .unwrap();
    let held = all
        .queues
        .iter()
        .find(|s| s.queue.as_deref() == Some("held"))
        .expect("a series for the held queue");
    assert_eq!(held.queued[index(minute0)], Some(1.0));

    // A restart keeps it all.
    api.engine().shutdown().await;
    drop(api);
    let api = common::held_api(dir.path(), clock.clone()).await;
    let after = api.metrics_summary(window("1h")).await.unwrap();
    assert_eq!(after.total.succeeded, 4);
    assert_eq!(after.total.failed, 1);
    api.engine().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_and_steps_are_checked_and_widened_not_overflowed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let api = common::held_api(dir.path(), clock).await;
    for bad in ["", "soon", "12", "200000d", "-1h"] {
        let e = api.metrics_summary(window(bad)).await.unwrap_err();
        assert!(e.message.starts_with("window:"), "{bad:?}: {}", e.message);
    }
    let e = api
        .metrics_summary(SummaryQuery {
            window: None,
            queue: Some("no such/queue".into()),
        })
        .await
        .unwrap_err();
    assert!(e.message.contains("queue"), "{}", e.message);
    // A step too fine for its window is widened to at most 1,440 points.
    let trends = api
        .metrics_trends(TrendsQuery {
            window: Some("36000d".into()),
            step: Some("1s".into()),
            queue: None,
        })
        .await
        .unwrap();
    assert!(trends.at.len() <= 1440, "{}", trends.at.len());
    assert!(trends.at.len() >= 1439);
    // A window under a minute is a minute.
    let one = api.metrics_summary(window("1s")).await.unwrap();
    assert_eq!(one.to - one.from, MINUTE_MS);
    api.engine().shutdown().await;
}
