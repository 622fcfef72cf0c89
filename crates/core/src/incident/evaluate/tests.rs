//! Each rule on figures made to hold its condition, and made to miss it by a little.

use super::*;
use crate::worker::view::WorkerView;

const MIN: Duration = Duration::from_secs(60);

fn rule(id: RuleId) -> Rule {
    id.default_rule()
}

fn tally(succeeded: u64, failed_exit: u64) -> Tally {
    Tally {
        started: succeeded + failed_exit,
        succeeded,
        failed: failed_exit,
        failed_exit_code: failed_exit,
        ..Tally::default()
    }
}

fn queue(window: Duration, t: Tally) -> QueueInputs {
    QueueInputs {
        name: "mail".into(),
        windows: [(window, t)].into(),
        free_slot: true,
        ..QueueInputs::default()
    }
}

fn one(rule: &Rule, q: QueueInputs) -> Option<Finding> {
    let inputs = Inputs {
        now: 10_000_000,
        queues: vec![q],
        ..Inputs::default()
    };
    let mut found = evaluate(std::slice::from_ref(rule), &inputs);
    assert!(found.len() <= 1);
    found.pop()
}

#[test]
fn failure_rate_fires_at_20_percent_with_enough_attempts() {
    let r = rule(RuleId::FailureRate);
    let f = one(&r, queue(15 * MIN, tally(8, 2))).expect("2 of 10 failed");
    assert_eq!((f.value, f.threshold), (20.0, 20.0));
    assert!(
        f.description.contains("2 of the 10 attempts"),
        "{}",
        f.description
    );
    assert!(
        one(&r, queue(15 * MIN, tally(9, 1))).is_none(),
        "10% is fine"
    );
    assert!(
        one(&r, queue(15 * MIN, tally(1, 2))).is_none(),
        "3 attempts say nothing"
    );
    // Interruptions are Nightshift's, not the job's.
    let mut t = tally(8, 0);
    t.interrupted = 5;
    assert!(one(&r, queue(15 * MIN, t)).is_none());
    // Only the queues it names.
    let mut only = r.clone();
    only.queues = vec!["other".into()];
    assert!(one(&only, queue(15 * MIN, tally(0, 20))).is_none());
}

#[test]
fn success_rate_fires_under_80_percent() {
    let r = rule(RuleId::SuccessRate);
    assert!(one(&r, queue(30 * MIN, tally(79, 21))).is_some());
    assert!(one(&r, queue(30 * MIN, tally(80, 20))).is_none());
}

fn baseline(success_mean: f64, success_sd: f64, p95_mean: f64, p95_sd: f64) -> Baseline {
    Baseline {
        hours: 48,
        success_mean,
        success_sd,
        p95_mean,
        p95_sd,
    }
}

#[test]
fn success_below_baseline_uses_mean_minus_two_sigma_capped_at_70() {
    let r = rule(RuleId::SuccessBelowBaseline);
    let mut q = queue(60 * MIN, tally(60, 40));
    assert!(one(&r, q.clone()).is_none(), "no baseline yet: nothing");
    // Usually 99 ± 1: the line would be 97, but never above 70.
    q.baseline = Some(baseline(99.0, 1.0, 0.0, 0.0));
    let f = one(&r, q.clone()).expect("60% < 70%");
    assert_eq!(f.threshold, 70.0);
    // Usually 60 ± 5: the line is 50.
    q.baseline = Some(baseline(60.0, 5.0, 0.0, 0.0));
    assert!(one(&r, q.clone()).is_none());
    q.windows.insert(60 * MIN, tally(45, 55));
    assert_eq!(one(&r, q).unwrap().threshold, 50.0);
}

#[test]
fn slow_processing_fires_over_p95_plus_two_sigma_and_the_floor() {
    let r = rule(RuleId::SlowProcessing);
    let mut t = tally(20, 0);
    for _ in 0..20 {
        t.run.record(5_000);
    }
    let mut q = queue(60 * MIN, t);
    q.baseline = Some(baseline(100.0, 0.0, 1_000.0, 500.0));
    let f = one(&r, q.clone()).expect("5 s against 1 s ± 0.5 s");
    assert_eq!(f.threshold, 2_000.0);
    q.baseline = Some(baseline(100.0, 0.0, 4_000.0, 1_000.0));
    assert!(one(&r, q.clone()).is_none(), "under 6 s");
    // The floor: fast jobs are never "slow", whatever their baseline.
    let mut fast = tally(20, 0);
    for _ in 0..20 {
        fast.run.record(50);
    }
    let mut q = queue(60 * MIN, fast);
    q.baseline = Some(baseline(100.0, 0.0, 10.0, 1.0));
    assert!(one(&r, q).is_none());
}

#[test]
fn backlogs_large_and_growing() {
    let r = rule(RuleId::Backlog);
    let mut q = queue(MIN, Tally::default());
    q.gauges.queued = 50;
    assert_eq!(one(&r, q.clone()).unwrap().value, 50.0);
    q.gauges.queued = 49;
    assert!(one(&r, q.clone()).is_none());
    let g = rule(RuleId::BacklogGrowing);
    q.gauges.queued = 160;
    q.ready_at_start.insert(15 * MIN, 50);
    assert_eq!(one(&g, q.clone()).unwrap().value, 110.0);
    q.ready_at_start.insert(15 * MIN, 61);
    assert!(one(&g, q).is_none());
}

#[test]
fn stalled_needs_ready_jobs_a_free_slot_no_hold_and_no_movement() {
    let r = rule(RuleId::Stalled);
    let mut q = queue(15 * MIN, Tally::default());
    q.gauges.queued = 3;
    assert!(one(&r, q.clone()).is_some());
    let mut held = q.clone();
    held.held = true;
    assert!(one(&r, held).is_none());
    let mut full = q.clone();
    full.free_slot = false;
    assert!(one(&r, full).is_none());
    let mut moving = q.clone();
    moving.windows.insert(15 * MIN, tally(1, 0));
    assert!(one(&r, moving).is_none());
    // Jobs behind their dependencies are not ready: two of the three leave one.
    let mut chained = q.clone();
    chained.waiting = 2;
    assert_eq!(one(&r, chained.clone()).map(|f| f.value), Some(1.0));
    chained.waiting = 3;
    assert!(one(&r, chained).is_none());
}

#[test]
fn power_held_counts_the_jobs_held() {
    let r = rule(RuleId::PowerHeld);
    let mut q = queue(MIN, Tally::default());
    assert!(one(&r, q.clone()).is_none());
    q.gauges.held = 4;
    q.gauges.power_held = 1;
    let f = one(&r, q).unwrap();
    assert_eq!((f.value, f.for_), (4.0, 120 * MIN));
}

#[test]
fn long_running_names_the_jobs_past_three_times_the_usual_and_the_floor() {
    let r = rule(RuleId::LongRunning);
    let now = 10_000_000;
    let mut q = queue(MIN, Tally::default());
    q.usual_ms = Some(300_000.0);
    q.running = vec![
        (JobId(1), now - 16 * 60_000),
        (JobId(2), now - 14 * 60_000),
        (JobId(3), now - 20 * 60_000),
    ];
    let f = one(&r, q.clone()).unwrap();
    assert_eq!(f.jobs, [JobId(3), JobId(1)]);
    assert_eq!(f.value, 4.0);
    // Usual 1 s: 3x is 3 s, but the floor is 10 minutes.
    q.usual_ms = Some(1_000.0);
    q.running = vec![(JobId(4), now - 9 * 60_000)];
    assert!(one(&r, q.clone()).is_none());
    q.usual_ms = None;
    assert!(one(&r, q).is_none(), "nothing usual known");
}

fn pool(states: &[WorkerState], crash: Option<&str>) -> PoolView {
    PoolView {
        name: "emb".into(),
        queue: "embed".into(),
        count: states.len() as u32,
        stopped: false,
        from_config: false,
        program: "w".into(),
        args: vec![],
        heartbeat_ms: None,
        crash_looping: crash.map(str::to_string),
        workers: states
            .iter()
            .enumerate()
            .map(|(i, s)| WorkerView {
                slot: i as u32,
                state: *s,
                pid: None,
                started_at: None,
                restarts: 0,
                job: None,
                jobs_done: 0,
                jobs_failed: 0,
                last_heard: None,
                restart_at: None,
                cpu_ms: None,
                rss_bytes: None,
            })
            .collect(),
    }
}

#[test]
fn worker_down_counts_workers_short_of_the_pool_and_crash_loops() {
    let r = [rule(RuleId::WorkerDown)];
    let at = |p: PoolView| {
        evaluate(
            &r,
            &Inputs {
                pools: vec![p],
                ..Inputs::default()
            },
        )
    };
    use WorkerState::*;
    assert!(at(pool(&[Idle, Busy], None)).is_empty());
    let f = &at(pool(&[Idle, BackingOff], None))[0];
    assert_eq!(
        (f.value, f.pool.as_deref(), f.queue.as_deref()),
        (1.0, Some("emb"), Some("embed"))
    );
    assert!(
        at(pool(&[Idle, Busy], Some("exited with code 3")))[0]
            .description
            .contains("code 3")
    );
    let mut stopped = pool(&[Stopped], None);
    stopped.stopped = true;
    assert!(at(stopped).is_empty(), "stopped on purpose");
}

#[test]
fn an_unclean_restart_holds_for_its_window_and_a_full_disk_at_90_percent() {
    let rules = [rule(RuleId::UncleanRestart), rule(RuleId::DiskFull)];
    let inputs = Inputs {
        now: 1_000_000,
        recovery: Some((1_000_000 - 59 * 60_000, 3)),
        disk: Some((90, 100)),
        ..Inputs::default()
    };
    let found = evaluate(&rules, &inputs);
    assert_eq!(found.len(), 2);
    assert!(found[0].description.contains("3 processes"));
    let later = Inputs {
        now: 1_000_000 + 2 * 60_000,
        disk: Some((89, 100)),
        ..inputs.clone()
    };
    assert!(evaluate(&rules, &later).is_empty());
    let clean = Inputs {
        recovery: Some((1_000_000, 0)),
        disk: None,
        ..inputs
    };
    assert!(evaluate(&rules, &clean).is_empty());
}

#[test]
fn a_disabled_rule_finds_nothing() {
    let mut r = rule(RuleId::Backlog);
    r.enabled = false;
    let mut q = queue(MIN, Tally::default());
    q.gauges.queued = 1000;
    assert!(one(&r, q).is_none());
}
