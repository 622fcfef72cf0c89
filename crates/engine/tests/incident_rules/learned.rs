//! The rules that compare a queue with what its history says is usual: slow processing and
//! success under the learned baseline (both silent until 24 hours of history with 5 or more
//! finished jobs each), and a job running far past the queue's usual run time.

use crate::rig::*;
use crate::support::only;
use nightshift_core::incident::{IncidentState, RuleId};

/// Writes hours `from..to` of history for `queue`: in each, `n` jobs that run `run_ms` by the
/// clock, `fail` of them failing.
async fn hours(
    rig: &mut Rig,
    queue: &str,
    span: std::ops::Range<i64>,
    n: usize,
    fail: usize,
    run_ms: i64,
) {
    for h in span {
        rig.at(h * HOUR + MIN);
        rig.run_for(queue, n, fail, run_ms).await;
        rig.f.engine.flush_history().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_processing_waits_for_a_learned_baseline_then_fires_over_p95_plus_2_sigma() {
    let config = only(RuleId::SlowProcessing, |_| {});
    let mut rig = Rig::start(config).await;
    // 23 hours of 5 jobs of 2 s: not yet enough to learn from.
    hours(&mut rig, "render", 0..23, 5, 0, 2_000).await;
    rig.at(23 * HOUR + MIN);
    rig.evaluate().await;
    let learning = rig.f.engine.baselines();
    assert_eq!(learning["render"].0, None, "learning: {learning:?}");
    // The 24th hour: learned, from exactly those hours.
    hours(&mut rig, "render", 23..24, 5, 0, 2_000).await;
    rig.at(24 * HOUR + MIN);
    rig.expect_none().await;
    let (baseline, usual) = rig.f.engine.baselines()["render"];
    let baseline = baseline.expect("learned after 24 hours");
    assert_eq!(baseline.hours, 24);
    assert_eq!(baseline.success_mean, 100.0);
    // The run-time histogram's buckets give the p95 within a few percent.
    assert!(
        (baseline.p95_mean - 2_000.0).abs() < 200.0 && baseline.p95_sd < 1.0,
        "{baseline:?}"
    );
    assert_eq!(usual, Some(baseline.p95_mean));

    // Ten jobs of 20 s: far over p95 + 2σ and the 1 s floor.
    rig.run_for("render", 10, 0, 20_000).await;
    rig.at(24 * HOUR + 2 * MIN);
    let pending = rig.expect(IncidentState::Pending).await;
    assert!(pending.value >= 18_000.0, "{pending:#?}");
    assert!(
        pending.description.contains("24 hours"),
        "{}",
        pending.description
    );
    rig.at(24 * HOUR + 17 * MIN);
    let active = rig.expect(IncidentState::Active).await;
    // They leave the 60-minute window.
    rig.resolves(active.id, 25 * HOUR + 3 * MIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_under_its_learned_baseline_fires_at_the_70_percent_ceiling() {
    let config = only(RuleId::SuccessBelowBaseline, |_| {});
    let mut rig = Rig::start(config).await;
    // A day that always succeeded: mean 100%, σ 0, so the line is the ceiling, 70%.
    hours(&mut rig, "sync", 0..24, 5, 0, 0).await;
    rig.at(24 * HOUR + MIN);
    rig.expect_none().await;
    // 4 of 10 fail: 60%.
    rig.run_for("sync", 10, 4, 0).await;
    rig.at(24 * HOUR + 2 * MIN);
    let pending = rig.expect(IncidentState::Pending).await;
    assert_eq!((pending.value, pending.threshold), (60.0, 70.0));
    assert_eq!(pending.jobs.len(), 4, "the failed jobs are named");
    rig.at(24 * HOUR + 17 * MIN);
    let active = rig.expect(IncidentState::Active).await;
    rig.resolves(active.id, 25 * HOUR + 3 * MIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_past_3x_its_usual_and_the_floor_is_named_at_once_and_resolves_when_it_ends() {
    let config = only(RuleId::LongRunning, |_| {});
    let mut rig = Rig::start(config).await;
    // The last day: ten jobs of 2 minutes. Usual: 2 minutes; the line: the 10-minute floor
    // (3x is only 6 minutes).
    hours(&mut rig, "etl", 0..1, 10, 0, 2 * MIN).await;
    rig.at(HOUR + MIN);
    let go = rig.f.dir.path().join("go-long");
    let long = rig
        .f
        .engine
        .enqueue(vec![gated(&go, "etl", 0)])
        .await
        .unwrap()[0];
    rig.f.started(long).await;
    rig.at(HOUR + 11 * MIN - 1);
    rig.expect_none().await;
    let usual = rig.f.engine.baselines()["etl"].1.expect("a usual run time");
    assert!((usual - 120_000.0).abs() < 12_000.0, "{usual}");
    // Its `for` is 0: active (and told) at once.
    rig.at(HOUR + 11 * MIN);
    let active = rig.expect(IncidentState::Active).await;
    assert_eq!(active.jobs, [long]);
    assert!(
        active.title.contains(&format!("job {long}")),
        "{}",
        active.title
    );
    assert_eq!(rig.alerts(), [("active".to_string(), active.id)]);
    std::fs::write(&go, b"").unwrap();
    rig.f.finished(long).await;
    rig.resolves(active.id, HOUR + 12 * MIN).await;
}
