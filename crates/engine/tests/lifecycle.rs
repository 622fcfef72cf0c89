//! Engine behaviour end to end in one process: dispatch, limits, cancel, timeout, retries,
//! shutdown, payloads.

mod support;

use nightshift_core::{AttemptOutcome, JobState, QueueConfig};
use nightshift_engine::{CancelAck, Event};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_and_its_output_is_kept() {
    let mut f = start(config()).await;
    let id = f
        .add(sh("echo hello from $NIGHTSHIFT_JOB_ID; exit 0", "q"))
        .await;
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    let log = std::fs::read_to_string(f.dir.path().join("logs").join(format!("{id}.log"))).unwrap();
    assert_eq!(log, format!("hello from {id}\n"));
    let attempts = f.engine.store().attempts(id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Succeeded);
    assert!(
        attempts[0].pid.is_some()
            && attempts[0].start_ticks.is_some()
            && attempts[0].boot_id.is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_limit_holds_and_freed_slots_fill_at_once() {
    let mut cfg = config();
    cfg.queues.insert(
        "two".into(),
        QueueConfig {
            concurrency: Some(2),
            ..Default::default()
        },
    );
    let mut f = start(cfg).await;
    // Every job waits for a gate file, so "two run at once" does not depend on timing.
    let gate = f.dir.path().join("gate");
    let script = format!("while [ ! -e {} ]; do sleep 0.01; done", gate.display());
    let jobs: Vec<_> = (0..6).map(|_| sh(&script, "two")).collect();
    let ids = f.engine.enqueue(jobs).await.unwrap();
    let (mut running, mut most, mut done) = (0i32, 0i32, 0);
    while running < 2 {
        f.next("two starts", |e| {
            matches!(e, Event::Started { .. }).then_some(())
        })
        .await;
        running += 1;
    }
    let counts = f.engine.counts().await.unwrap();
    assert_eq!(
        (counts[&JobState::Running], counts[&JobState::Queued]),
        (2, 4)
    );
    std::fs::write(&gate, "").unwrap();
    most = most.max(running);
    while done < ids.len() {
        f.next("job events", |e| match e {
            Event::Started { .. } => {
                running += 1;
                Some(())
            }
            Event::Ended { state, .. } if state.is_final() => {
                running -= 1;
                done += 1;
                Some(())
            }
            _ => None,
        })
        .await;
        most = most.max(running);
    }
    assert_eq!(most, 2, "at most two ran at once, and two did");
}

/// A slot an attempt leaves is filled in the same transaction as its end is recorded; a job
/// added just as a queue runs dry must still start (its wake-up must not be lost between that
/// claim and the enqueue). Jobs are added one at a time while the queue drains, each as soon as
/// the previous one has ended, and a second stream beside them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_added_while_a_queue_drains_all_run() {
    let mut cfg = config();
    cfg.queues.insert(
        "one".into(),
        QueueConfig {
            concurrency: Some(1),
            ..Default::default()
        },
    );
    let mut f = start(cfg).await;
    let beside = {
        let engine = f.engine.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..40 {
                ids.extend(engine.enqueue(vec![sh("true", "one")]).await.unwrap());
                tokio::task::yield_now().await;
            }
            ids
        })
    };
    let mut ids = Vec::new();
    for _ in 0..40 {
        let id = f.add(sh("true", "one")).await;
        assert_eq!(f.finished(id).await, JobState::Succeeded);
        ids.push(id);
    }
    ids.extend(beside.await.unwrap());
    // From the store: the events of the jobs beside went by while the loop waited for its own.
    let engine = f.engine.clone();
    let states = poll("every job to end", || {
        let (engine, ids) = (engine.clone(), ids.clone());
        async move {
            let states = engine.store().states(ids).await.unwrap();
            states.iter().all(|(_, s)| s.is_final()).then_some(states)
        }
    })
    .await;
    assert!(
        states.iter().all(|(_, s)| *s == JobState::Succeeded),
        "{states:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_whole_group_and_keeps_attempts() {
    let mut f = start(config()).await;
    let mut job = sh("sleep 300 & sleep 300 & wait", "q");
    job.spec.max_attempts = 3;
    let id = f.add(job).await;
    let pgid = f.started(id).await;
    eventually("the group to have three members", || members(pgid) == 3).await;
    assert_eq!(
        f.engine.cancel(id, "test".into()).await.unwrap(),
        CancelAck::Stopping
    );
    assert_eq!(f.finished(id).await, JobState::Cancelled);
    assert_eq!(members(pgid), 0, "no process of the group is left");
    let job = f.engine.store().job(id).await.unwrap().unwrap();
    assert_eq!(job.attempts_used, 0, "a cancel does not use an attempt");
    assert_eq!(job.reason.as_deref(), Some("test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_job_is_cancelled_without_running() {
    let mut cfg = config();
    cfg.queues.insert(
        "held".into(),
        QueueConfig {
            concurrency: Some(0),
            ..Default::default()
        },
    );
    let f = start(cfg).await;
    let id = f.add(sh("exit 0", "held")).await;
    assert_eq!(
        f.engine.cancel(id, "no".into()).await.unwrap(),
        CancelAck::Cancelled
    );
    assert_eq!(f.engine.state(id).await.unwrap(), Some(JobState::Cancelled));
    assert!(f.engine.store().attempts(id).await.unwrap().is_empty());
    assert!(
        f.engine.cancel(id, "again".into()).await.is_err(),
        "a finished job cannot be cancelled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_use_attempts_until_none_are_left() {
    let mut f = start(config()).await;
    let mut job = sh("sleep 300 & sleep 300 & wait", "q");
    job.spec.timeout_ms = Some(200);
    job.spec.max_attempts = 2;
    let id = f.add(job).await;
    let first = f.started(id).await;
    let second = f.started(id).await;
    assert_eq!(members(first), 0, "the first group ended before the retry");
    assert_eq!(f.finished(id).await, JobState::Failed);
    assert_eq!(members(second), 0);
    let attempts = f.engine.store().attempts(id).await.unwrap();
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        vec![AttemptOutcome::TimedOut, AttemptOutcome::TimedOut]
    );
    let job = f.engine.store().job(id).await.unwrap().unwrap();
    assert!(
        job.reason.unwrap().starts_with("timed out after"),
        "reason names the timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_retry_and_exit_codes_are_kept() {
    let mut f = start(config()).await;
    let mut job = sh("echo try $NIGHTSHIFT_ATTEMPT; exit 3", "q");
    job.spec.max_attempts = 3;
    let id = f.add(job).await;
    assert_eq!(f.finished(id).await, JobState::Failed);
    let job = f.engine.store().job(id).await.unwrap().unwrap();
    assert_eq!(
        (job.exit_code, job.attempts_used, job.attempt_count),
        (Some(3), 3, 3)
    );
    let log = std::fs::read_to_string(f.dir.path().join("logs").join(format!("{id}.log"))).unwrap();
    assert!(
        log.starts_with("try 1\n") && log.contains("attempt 3 ---\ntry 3\n"),
        "{log}"
    );
    // A retry starts over.
    f.engine.retry(id).await.unwrap();
    assert_eq!(f.finished(id).await, JobState::Failed);
    let attempts = f.engine.store().attempts(id).await.unwrap();
    let outcomes: Vec<_> = attempts.iter().map(|a| (a.number, a.outcome)).collect();
    assert_eq!(attempts.len(), 6, "{outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_groups_and_requeues_without_using_an_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start_in(dir, config()).await;
    let id = f.add(sh("sleep 300 & sleep 300 & wait", "q")).await;
    let pgid = f.started(id).await;
    eventually("the group to have three members", || members(pgid) == 3).await;
    f.engine.shutdown().await;
    assert_eq!(members(pgid), 0);
    let job = f.engine.store().job(id).await.unwrap().unwrap();
    assert_eq!((job.state, job.attempts_used), (JobState::Queued, 0));
    let attempts = f.engine.store().attempts(id).await.unwrap();
    assert_eq!(attempts[0].outcome, AttemptOutcome::Interrupted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payload_reaches_the_job_as_a_file() {
    let mut f = start(config()).await;
    let out = f.dir.path().join("got.json");
    let payload = format!("{{\"data\":\"{}\"}}", "z".repeat(50_000)).into_bytes();
    let mut job = sh(
        &format!("cp \"$NIGHTSHIFT_PAYLOAD_FILE\" {}", out.display()),
        "q",
    );
    job.payload = Some(payload.clone());
    let id = f.add(job).await;
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    assert!(std::fs::read(&out).unwrap() == payload, "payload differs");
    assert!(
        !f.dir.path().join("run").join(format!("{id}.json")).exists(),
        "the per-attempt copy is removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_on_the_same_folder_is_refused() {
    let f = start(config()).await;
    let err = nightshift_engine::Engine::start(nightshift_engine::EngineOptions {
        paths: paths(&f.dir),
        config: config(),
        clock: nightshift_core::clock::system(),
    })
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("already running") && message.contains(&std::process::id().to_string()),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_all_holds_new_work_and_resume_releases_it() {
    let mut f = start(config()).await;
    f.engine.pause_all().await;
    f.next("the pause", |e| {
        matches!(e, Event::Paused { paused: true }).then_some(())
    })
    .await;
    assert!(f.engine.is_paused());
    let id = f.add(sh("exit 0", "q")).await;
    // The enqueue's own event arrives after the scheduler has seen it; still queued.
    f.next("the enqueue", |e| {
        matches!(e, Event::Queued { .. }).then_some(())
    })
    .await;
    assert_eq!(f.engine.state(id).await.unwrap(), Some(JobState::Queued));
    assert_eq!(f.engine.counts().await.unwrap()[&JobState::Queued], 1);
    f.engine.resume_all().await;
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    assert!(!f.engine.is_paused());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_changes_are_read_and_published() {
    use nightshift_power::PowerState;
    let (mut f, source) = start_with_power(PowerState::MAINS).await;
    assert_eq!(f.engine.power(), PowerState::MAINS);
    let unplugged = PowerState {
        on_ac: false,
        battery_percent: Some(42.0),
    };
    source.set(unplugged);
    let seen = f.power_changed().await;
    assert_eq!(seen, unplugged);
    assert_eq!(f.engine.power(), unplugged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_queue_holds_only_itself_and_a_raised_limit_applies_at_once() {
    use nightshift_store::QueueChange;
    let mut f = start(config()).await;
    let held = f
        .engine
        .set_queue(
            "held",
            QueueChange {
                paused: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(held.paused);
    let waiting = f.add(sh("exit 0", "held")).await;
    let other = f.add(sh("exit 0", "free")).await;
    assert_eq!(f.finished(other).await, JobState::Succeeded);
    assert_eq!(
        f.engine.state(waiting).await.unwrap(),
        Some(JobState::Queued)
    );
    // Held at concurrency 0 too, then released by raising the limit.
    f.engine
        .set_queue(
            "held",
            QueueChange {
                paused: Some(false),
                concurrency: Some(Some(0)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        f.engine.queue("held").limit_source,
        nightshift_engine::LimitSource::Set
    );
    assert_eq!(
        f.engine.state(waiting).await.unwrap(),
        Some(JobState::Queued)
    );
    f.engine
        .set_queue(
            "held",
            QueueChange {
                concurrency: Some(Some(1)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(f.finished(waiting).await, JobState::Succeeded);
    assert!(
        f.engine
            .set_queue("no good", QueueChange::default())
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_job_waits_for_its_time_and_others_pass_it() {
    let mut f = start(config()).await;
    let mut later = sh("exit 0", "q");
    // Far enough ahead that the job added after it is claimed first even on a loaded machine.
    let at = f.engine.now_ms() + 2_000;
    later.run_at = Some(at);
    let later = f.add(later).await;
    let now = f.add(sh("exit 0", "q")).await;
    assert_eq!(f.finished(now).await, JobState::Succeeded);
    assert_eq!(f.finished(later).await, JobState::Succeeded);
    // Whether `later` is still queued when `now` ends depends on how loaded the machine is;
    // the start times say the same thing without a race.
    let later_started = f.engine.store().attempts(later).await.unwrap()[0].started_at;
    let now_started = f.engine.store().attempts(now).await.unwrap()[0].started_at;
    assert!(later_started >= at, "started {later_started} before {at}");
    assert!(
        now_started < later_started,
        "the job added after it ran first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_waits_out_its_backoff_before_the_next() {
    let mut cfg = config();
    // Long enough that the backoff time can be read before the timer clears it, even on a
    // loaded machine.
    cfg.jobs.retry_backoff = std::time::Duration::from_millis(1_000);
    cfg.jobs.retry_backoff_max = std::time::Duration::from_secs(5);
    let mut f = start(cfg).await;
    let mut job = sh("exit 1", "q");
    job.spec.max_attempts = 2;
    let id = f.add(job).await;
    // After the first failure the job is back in its queue with a time to wait for.
    f.next("the first failure", |e| match e {
        Event::Ended {
            id: i,
            state: JobState::Queued,
            ..
        } if *i == id => Some(()),
        _ => None,
    })
    .await;
    let waiting = f.engine.store().job(id).await.unwrap().unwrap();
    let first = &f.engine.store().attempts(id).await.unwrap()[0];
    let wait = waiting.run_at.expect("a backoff time") - first.ended_at.unwrap();
    assert!(
        (500..=1_000).contains(&wait),
        "backoff {wait} ms outside half to all of 1000 ms"
    );
    assert_eq!(f.finished(id).await, JobState::Failed);
    let second = &f.engine.store().attempts(id).await.unwrap()[1];
    assert!(
        second.started_at >= waiting.run_at.unwrap(),
        "the retry started before its backoff ended"
    );
}
