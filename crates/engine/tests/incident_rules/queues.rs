//! The rules about a queue's own figures: success rate, a backlog (with the whole lifecycle),
//! and a stall, which a dependency chain is not.

use crate::rig::*;
use crate::support::*;
use nightshift_core::incident::{EventKind, IncidentState, RuleId};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_under_80_percent_goes_active_after_10_minutes_and_resolves() {
    let mut rig = Rig::start(only(RuleId::SuccessRate, |_| {})).await;
    // 3 of 10 fail: 70% succeed, under the line of 80%.
    let failed = rig.run_for("mail", 10, 3, 1000).await;
    rig.at(MIN);
    let pending = rig.expect(IncidentState::Pending).await;
    assert_eq!((pending.value, pending.threshold), (70.0, 80.0));
    assert_eq!(pending.queue.as_deref(), Some("mail"));
    let mut named = pending.jobs.clone();
    named.sort();
    assert_eq!(named, failed[..3], "the failed jobs are named");
    assert!(rig.alerts().is_empty(), "pending: nobody is told");
    // Its `for` is 10 minutes.
    rig.at(11 * MIN - 1);
    rig.expect(IncidentState::Pending).await;
    rig.at(11 * MIN);
    let active = rig.expect(IncidentState::Active).await;
    assert_eq!(rig.alerts(), [("active".to_string(), active.id)]);
    // The jobs leave the 30-minute window a little after 31 minutes.
    rig.resolves(active.id, 32 * MIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_told_once_reminded_snoozed_acknowledged_does_not_flap_and_reopens() {
    let config = only(RuleId::Backlog, |r| r.threshold = Some(3.0));
    let mut rig = Rig::start(config).await;
    let e = rig.f.engine.clone();
    let three = || (0..3).map(|_| sh("exit 0", "mail")).collect::<Vec<_>>();
    // Held back on purpose, the jobs still wait: 3 ready, at the line.
    e.pause_all().await;
    let waiting = e.enqueue(three()).await.unwrap();
    let pending = rig.expect(IncidentState::Pending).await;
    assert_eq!(pending.value, 3.0);
    let id = pending.id;
    rig.at(10 * MIN - 1);
    rig.expect(IncidentState::Pending).await;
    rig.at(10 * MIN);
    rig.expect(IncidentState::Active).await;
    rig.at(20 * MIN);
    rig.expect(IncidentState::Active).await;
    assert_eq!(rig.alerts(), [("active".to_string(), id)], "told once");

    // Snoozed for 30 minutes: quiet until then, then it calls again.
    e.snooze_incident(id, rig.t0 + 50 * MIN, nightshift_core::incident::Door::Cli)
        .await
        .unwrap();
    rig.at(50 * MIN - 1);
    rig.expect(IncidentState::Active).await;
    assert_eq!(rig.alerts().len(), 1);
    rig.at(50 * MIN);
    rig.expect(IncidentState::Active).await;
    assert_eq!(rig.alerts()[1], ("reminder".to_string(), id));
    // Unacknowledged, a reminder every 4 hours; acknowledged, no more.
    rig.at(50 * MIN + 4 * HOUR);
    rig.expect(IncidentState::Active).await;
    assert_eq!(rig.alerts().len(), 3);
    e.acknowledge_incident(id, nightshift_core::incident::Door::Api)
        .await
        .unwrap();
    let quiet = 50 * MIN + 8 * HOUR;
    rig.at(quiet);
    rig.expect(IncidentState::Active).await;
    assert_eq!(rig.alerts().len(), 3, "acknowledged: no reminder");

    // Clear for a minute, then at the line again: the same incident, still active, no word.
    e.resume_all().await;
    rig.f.all_finished(&waiting).await;
    rig.at(quiet + MIN);
    rig.expect(IncidentState::Active).await;
    e.pause_all().await;
    let again = e.enqueue(three()).await.unwrap();
    rig.at(quiet + 2 * MIN);
    assert_eq!(rig.expect(IncidentState::Active).await.id, id);
    assert_eq!(rig.alerts().len(), 3, "no flap");
    e.resume_all().await;
    rig.f.all_finished(&again).await;
    // Clear for 5 minutes: resolved.
    rig.at(quiet + 3 * MIN);
    rig.expect(IncidentState::Active).await;
    rig.at(quiet + 8 * MIN);
    rig.expect(IncidentState::Resolved).await;
    assert_eq!(rig.alerts()[3], ("resolved".to_string(), id));

    // Back within the 30-minute cooldown: reopened (active at once), not a second incident.
    e.pause_all().await;
    let third = e.enqueue(three()).await.unwrap();
    rig.at(quiet + 20 * MIN);
    let back = rig.expect(IncidentState::Active).await;
    assert_eq!(back.id, id);
    assert_eq!(
        back.acknowledged_at, None,
        "a reopened incident calls again"
    );
    assert_eq!(rig.alerts()[4], ("reopened".to_string(), id));
    let timeline = e.incident(id).await.unwrap().timeline;
    let kinds: Vec<EventKind> = timeline.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Opened,
            EventKind::Active,
            EventKind::Snoozed,
            EventKind::SnoozeEnded,
            EventKind::Acknowledged,
            EventKind::Resolved,
            EventKind::Reopened,
        ]
    );
    e.resume_all().await;
    rig.f.all_finished(&third).await;
    rig.at(quiet + 21 * MIN);
    rig.evaluate().await;
    rig.at(quiet + 26 * MIN);
    rig.expect(IncidentState::Resolved).await;

    // Past the cooldown the same condition is a new incident, pending again.
    e.pause_all().await;
    e.enqueue(three()).await.unwrap();
    rig.at(quiet + 60 * MIN);
    let all = rig.evaluate().await;
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_ne!(all[0].id, id);
    assert_eq!(all[0].state, IncidentState::Pending);
    e.resume_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_grown_from_empty_over_the_window_goes_active_after_5_minutes() {
    let config = only(RuleId::BacklogGrowing, |r| r.threshold = Some(4.0));
    let mut rig = Rig::start(config).await;
    let e = rig.f.engine.clone();
    e.pause_all().await;
    // The first 15 minutes: the window reaches back before the start, where nothing is known.
    rig.step(0..=0).await;
    let early = e
        .enqueue((0..4).map(|_| sh("exit 0", "ingest")).collect())
        .await
        .unwrap();
    rig.expect_none().await;
    e.resume_all().await;
    rig.f.all_finished(&early).await;
    // Past them, the queue had no row at the window's start: it was empty, and grew by 4.
    rig.step(1..=16).await;
    e.pause_all().await;
    let jobs = e
        .enqueue((0..4).map(|_| sh("exit 0", "ingest")).collect())
        .await
        .unwrap();
    let pending = rig.expect(IncidentState::Pending).await;
    assert_eq!(pending.value, 4.0);
    assert!(
        pending.description.contains("from 0 to 4 ready jobs"),
        "{}",
        pending.description
    );
    rig.step(17..=20).await;
    rig.expect(IncidentState::Pending).await;
    rig.step(21..=21).await;
    let active = rig.expect(IncidentState::Active).await;
    e.resume_all().await;
    rig.f.all_finished(&jobs).await;
    rig.resolves(active.id, 22 * MIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_behind_a_long_first_job_are_not_a_stall() {
    let mut rig = Rig::start(only(RuleId::Stalled, |_| {})).await;
    let e = rig.f.engine.clone();
    let go = rig.f.dir.path().join("go");
    let first = e.enqueue(vec![gated(&go, "etl", 0)]).await.unwrap()[0];
    rig.f.started(first).await;
    let chain: Vec<_> = (0..3)
        .map(|_| {
            let mut job = sh("exit 0", "etl");
            job.after = vec![first];
            job
        })
        .collect();
    let chain = e.enqueue(chain).await.unwrap();
    rig.at(MIN);
    rig.evaluate().await;
    // The first job has run past the 15-minute window: nothing started or ended in it, a
    // slot is free and three jobs are queued, but all three wait on the first on purpose.
    rig.at(20 * MIN);
    rig.expect_none().await;
    rig.at(40 * MIN);
    rig.expect_none().await;
    std::fs::write(&go, b"").unwrap();
    rig.f.all_finished(&chain).await;
    rig.expect_none().await;
}
