//! Incidents on a running engine, with a clock moved by hand: failing jobs make a failure-rate
//! incident pending, active after its `for` (told once, in the alert history and as an event),
//! resolved once the failures have left the window and the condition stayed clear; people's
//! acknowledge, snooze and resolve go through the same book and land in the timeline.

mod support;

use nightshift_core::clock::ManualClock;
use nightshift_core::incident::lifecycle::Notice;
use nightshift_core::incident::{Door, EventKind, IncidentState, RuleId};
use nightshift_engine::{EngineHandle, Event};
use nightshift_store::IncidentFilter;
use std::sync::Arc;
use support::*;

const MIN: i64 = 60_000;

async fn all(engine: &EngineHandle) -> Vec<nightshift_core::incident::Incident> {
    engine
        .incidents(IncidentFilter {
            limit: 100,
            ..IncidentFilter::default()
        })
        .await
        .unwrap()
}

fn alert_lines(dir: &tempfile::TempDir) -> Vec<serde_json::Value> {
    std::fs::read_to_string(paths(dir).data_dir.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_jobs_open_an_incident_that_goes_active_is_acted_on_and_resolves() {
    // On a minute's start, so the failures' minute is plain to count.
    let t0 =
        nightshift_core::metrics::history::floor_to(nightshift_core::clock::system().now_ms(), MIN);
    let clock = Arc::new(ManualClock::new(t0));

    // Success under 80% would hold too; this test follows one incident.
    let mut config = config();
    config.incidents.rules.insert(
        "success_rate".into(),
        nightshift_core::config::RuleConfig {
            enabled: Some(false),
            ..Default::default()
        },
    );
    let (dir, engine) = start_with_clock(config, clock.clone()).await;
    let mut events = engine.subscribe();
    // 12 jobs, 6 of them fail: 50% against the line of 20%.
    let jobs: Vec<_> = (0..12)
        .map(|i| {
            let mut job = sh(if i % 2 == 0 { "exit 1" } else { "exit 0" }, "mail");
            job.spec.max_attempts = 1;
            job
        })
        .collect();
    let ids = engine.enqueue(jobs).await.unwrap();
    let mut left = ids.len();
    while left > 0 {
        match tokio::time::timeout(DEADLINE, events.recv()).await {
            Ok(Ok(Event::Ended { state, .. })) if state.is_final() => left -= 1,
            Ok(Ok(_)) => {}
            other => panic!("jobs did not end: {other:?}"),
        }
    }
    engine.flush_history().await.unwrap();
    engine.evaluate_incidents().await;
    let open = all(&engine).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let first = &open[0];
    assert_eq!(
        (first.rule, first.state),
        (RuleId::FailureRate, IncidentState::Pending)
    );
    assert_eq!(first.queue.as_deref(), Some("mail"));
    assert_eq!(first.value, 50.0);
    assert!(
        first.description.contains("6 of the 12 attempts"),
        "{}",
        first.description
    );
    assert_eq!(first.jobs.len(), 6, "the failed jobs are named");
    assert!(alert_lines(&dir).is_empty(), "pending: nobody is told");

    // Its `for` (5 minutes) passes with the failures still in the window: active, told once.
    clock.set(t0 + 5 * MIN);
    engine.evaluate_incidents().await;
    let id = first.id;
    let told = loop {
        match tokio::time::timeout(DEADLINE, events.recv()).await {
            Ok(Ok(Event::Incident {
                incident,
                notice: Some(n),
                ..
            })) if incident.id == id => break n,
            Ok(Ok(_)) => {}
            other => panic!("no incident event: {other:?}"),
        }
    };
    assert_eq!(told, Notice::Active);
    let lines = alert_lines(&dir);
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0]["alert"].as_str(), lines[0]["id"].as_i64()),
        (Some("active"), Some(id))
    );
    assert_eq!(engine.incidents_needing_attention().await.len(), 1);
    engine.evaluate_incidents().await;
    assert_eq!(alert_lines(&dir).len(), 1, "told once");

    // People act on it through the same book.
    let snoozed = engine
        .snooze_incident(id, t0 + 65 * MIN, Door::Tray)
        .await
        .unwrap();
    assert_eq!(snoozed.snoozed_until, Some(t0 + 65 * MIN));
    assert!(engine.incidents_needing_attention().await.is_empty());
    let acked = engine.acknowledge_incident(id, Door::Cli).await.unwrap();
    assert!(acked.acknowledged_at.is_some());
    let kinds: Vec<(EventKind, Door)> = acked.timeline.iter().map(|e| (e.kind, e.door)).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Opened, Door::Nightshift),
            (EventKind::Active, Door::Nightshift),
            (EventKind::Snoozed, Door::Tray),
            (EventKind::Acknowledged, Door::Cli),
        ]
    );

    // The failures leave the 15-minute window; 5 minutes of clear later it resolves itself.
    clock.set(t0 + 16 * MIN);
    engine.evaluate_incidents().await;
    assert_eq!(
        engine.incident(id).await.unwrap().state,
        IncidentState::Active
    );
    clock.set(t0 + 21 * MIN);
    engine.evaluate_incidents().await;
    let resolved = engine.incident(id).await.unwrap();
    assert_eq!(resolved.state, IncidentState::Resolved);
    assert_eq!(
        resolved.timeline.last().map(|e| (e.kind, e.door)),
        Some((EventKind::Resolved, Door::Nightshift))
    );
    let lines = alert_lines(&dir);
    assert_eq!(lines.last().unwrap()["alert"], "resolved");
    // Acting on a resolved incident is refused with why; an unknown one is not found.
    let err = engine.resolve_incident(id, Door::Api).await.unwrap_err();
    assert!(err.to_string().contains("is not open"), "{err}");
    let err = engine.resolve_incident(999, Door::Api).await.unwrap_err();
    assert!(err.to_string().contains("no incident 999"), "{err}");
    engine.shutdown().await;
}
