//! Recurring jobs on a running engine: catch-up after time passed (a clock moved by hand, as
//! if the machine had been off), runs that never pile up, and cron's first time.

mod support;

use nightshift_core::JobState;
use nightshift_core::clock::ManualClock;
use nightshift_core::recurrence::Recurrence;
use nightshift_engine::{EngineHandle, Event};
use nightshift_store::ListFilter;
use std::sync::Arc;
use std::time::Duration;
use support::*;

const HOUR: i64 = 3_600_000;

async fn jobs_of(engine: &EngineHandle, name: &str) -> Vec<nightshift_core::Job> {
    let key = nightshift_engine::schedule_run_key(name);
    engine
        .store()
        .list(ListFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.spec.unique_key.as_deref() == Some(key.as_str()))
        .collect()
}

/// Polls the schedule until `cond` holds for it.
async fn schedule_until(
    engine: &EngineHandle,
    name: &str,
    what: &str,
    cond: impl Fn(&nightshift_store::ScheduleRow) -> bool,
) -> nightshift_store::ScheduleRow {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let row = engine.store().schedule(name).await.unwrap().unwrap();
        if cond(&row) {
            return row;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fire_times_missed_while_off_give_one_run_with_catch_up_and_none_without() {
    let start = nightshift_core::clock::system().now_ms();
    let clock = Arc::new(ManualClock::new(start));
    let (_dir, engine) = start_with_clock(config(), clock.clone()).await;
    let mut events = engine.subscribe();
    let hourly = Recurrence::every("1h").unwrap();
    // Both first run in an hour; they differ only in catch-up.
    for (name, catch_up) in [("catching", true), ("skipping", false)] {
        engine
            .add_schedule(
                name,
                &hourly,
                sh("exit 0", "q"),
                catch_up,
                Some(start + HOUR),
            )
            .await
            .unwrap();
    }
    assert!(jobs_of(&engine, "catching").await.is_empty(), "not due yet");

    // Three days pass (the machine was off); the engine looks at the clock.
    clock.set(start + 72 * HOUR + 30 * 60_000);
    engine.check_schedules();
    for name in ["catching", "skipping"] {
        let row = schedule_until(&engine, name, "the schedule to move on", |r| {
            r.next_due.is_some_and(|d| d > start + 72 * HOUR)
        })
        .await;
        // Back on its hourly grid, after now.
        assert_eq!(row.next_due, Some(start + 73 * HOUR), "{name}");
    }
    let caught = jobs_of(&engine, "catching").await;
    assert_eq!(caught.len(), 1, "one run for 72 missed fire times");
    assert!(jobs_of(&engine, "skipping").await.is_empty());
    let id = caught[0].id;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(Event::Ended { id: i, state, .. })) if i == id && state.is_final() => {
                assert_eq!(state, JobState::Succeeded);
                break;
            }
            Ok(Ok(_)) => {}
            other => panic!("no end for the caught-up run: {other:?}"),
        }
    }
    // Looking again at the same time adds nothing more.
    engine.check_schedules();
    let row = engine.store().schedule("catching").await.unwrap().unwrap();
    assert_eq!(row.last_job, Some(id));
    assert_eq!(jobs_of(&engine, "catching").await.len(), 1);
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_still_going_is_never_joined_by_another() {
    let mut f = start(config()).await;
    let gate = f.dir.path().join("gate");
    let job = sh(
        &format!("while [ ! -e '{}' ]; do sleep 0.02; done", gate.display()),
        "q",
    );
    let every_second = Recurrence::every("1s").unwrap();
    let row = f
        .engine
        .add_schedule("tick", &every_second, job, true, None)
        .await
        .unwrap();
    let first = f
        .next("the first run", |e| match e {
            Event::Started { id, .. } => Some(*id),
            _ => None,
        })
        .await;
    // Two more fire times pass while it runs: neither adds a job.
    let anchor = row.anchor;
    schedule_until(&f.engine, "tick", "two more fire times", |r| {
        r.next_due.is_some_and(|d| d >= anchor + 3_000)
    })
    .await;
    let runs = jobs_of(&f.engine, "tick").await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].id, first);
    std::fs::write(&gate, "").unwrap();
    assert_eq!(f.finished(first).await, JobState::Succeeded);
    // Once it is over, the next fire time adds the next run.
    let second = f
        .next("the next run", |e| match e {
            Event::Queued { ids } if !ids.contains(&first) => Some(ids[0]),
            _ => None,
        })
        .await;
    assert_ne!(second, first);
    f.engine.remove_schedule("tick").await.unwrap();
    assert!(f.engine.store().schedule("tick").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_schedule_waits_for_its_first_time_and_names_must_be_new() {
    let f = start(config()).await;
    let now = f.engine.now_ms();
    let every_minute = Recurrence::cron("* * * * *").unwrap();
    let row = f
        .engine
        .add_schedule("minutely", &every_minute, sh("exit 0", "q"), true, None)
        .await
        .unwrap();
    let next = row.next_due.unwrap();
    // The schedule read the clock between these two readings.
    let after = f.engine.now_ms();
    assert!(
        next >= now && next <= after + 60_000,
        "{next} vs {now}..{after}"
    );
    assert_eq!(next % 60_000, 0, "on a minute");
    let err = f
        .engine
        .add_schedule("minutely", &every_minute, sh("exit 0", "q"), true, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let err = f
        .engine
        .add_schedule("no spaces", &every_minute, sh("exit 0", "q"), true, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("schedule name"), "{err}");
    // Paused, it keeps no fire time that could fire; resumed, the next one after now.
    let paused = f
        .engine
        .set_schedule_paused("minutely", true)
        .await
        .unwrap();
    assert!(paused.paused);
    let resumed = f
        .engine
        .set_schedule_paused("minutely", false)
        .await
        .unwrap();
    assert!(!resumed.paused && resumed.next_due.is_some_and(|d| d > now));
}
