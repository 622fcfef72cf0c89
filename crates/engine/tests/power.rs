//! Power policies on a running engine with a power source the test sets: queues and jobs that
//! wait for AC or a charge (with hysteresis), and what happens to running jobs when power is
//! lost (pause with SIGSTOP on the real process group, requeue without using an attempt).

mod support;

use nightshift_core::{AttemptOutcome, JobState, OnPowerLoss};
use nightshift_engine::Event;
use nightshift_store::QueueChange;
use std::time::{Duration, Instant};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_holds_a_queue_that_needs_it_and_releases_it_when_power_returns() {
    use nightshift_power::PowerState;
    let (mut f, source) = start_with_power(battery(80.0)).await;
    let ac_only = QueueChange {
        require_ac: Some(Some(true)),
        ..Default::default()
    };
    f.engine.set_queue("heavy", ac_only).await.unwrap();
    let low = QueueChange {
        min_battery: Some(Some(50)),
        ..Default::default()
    };
    f.engine.set_queue("light", low).await.unwrap();
    let heavy = f.add(sh("exit 0", "heavy")).await;
    let anywhere = f.add(sh("exit 0", "other")).await;
    // A queue without a power policy runs on battery; the AC-only one waits, and says so.
    assert_eq!(f.finished(anywhere).await, JobState::Succeeded);
    assert_eq!(f.engine.state(heavy).await.unwrap(), Some(JobState::Queued));
    let holds = f.engine.power_holds();
    assert_eq!(
        holds.get("heavy"),
        Some(&nightshift_engine::PowerHold::NeedsAc)
    );

    // The low-battery queue: held at 40%, still held at 52% (under 50 + 5), released at 56%.
    source.set(battery(40.0));
    f.power_changed().await;
    let light = f.add(sh("exit 0", "light")).await;
    // Wait until the scheduler has looked at the new job and recorded the hold.
    let engine = f.engine.clone();
    eventually("the light queue to be held", || {
        engine.power_holds().contains_key("light")
    })
    .await;
    source.set(battery(52.0));
    f.power_changed().await;
    assert_eq!(
        f.engine.state(light).await.unwrap(),
        Some(JobState::Queued),
        "52% is inside the hysteresis"
    );
    source.set(battery(56.0));
    assert_eq!(f.finished(light).await, JobState::Succeeded);

    // AC returns: the AC-only queue runs.
    source.set(PowerState {
        on_ac: true,
        battery_percent: Some(56.0),
    });
    assert_eq!(f.finished(heavy).await, JobState::Succeeded);
    assert!(f.engine.power_holds().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_with_its_own_needs_waits_aside_without_holding_up_its_queue() {
    let (mut f, source) = start_with_power(battery(60.0)).await;
    // First in line and of higher priority, but it needs AC: it is set aside, and the job
    // behind it runs.
    let mut needs_ac = sh("exit 0", "q");
    needs_ac.spec.require_ac = true;
    needs_ac.spec.priority = 10;
    let needs_ac = f.add(needs_ac).await;
    let mut needs_70 = sh("exit 0", "q");
    needs_70.spec.min_battery = Some(70);
    let needs_70 = f.add(needs_70).await;
    let plain = f.add(sh("exit 0", "q")).await;
    assert_eq!(f.finished(plain).await, JobState::Succeeded);
    for id in [needs_ac, needs_70] {
        let job = f.engine.store().job(id).await.unwrap().unwrap();
        assert_eq!(job.state, JobState::Queued);
        assert!(job.power_held, "job {id} is set aside for power");
    }
    // 72% is over 70 but inside the hysteresis (75): still held. 76% releases it; the AC job
    // waits on.
    source.set(battery(72.0));
    f.power_changed().await;
    let job = f.engine.store().job(needs_70).await.unwrap().unwrap();
    assert!(job.power_held && job.state == JobState::Queued);
    source.set(battery(76.0));
    assert_eq!(f.finished(needs_70).await, JobState::Succeeded);
    assert_eq!(
        f.engine.state(needs_ac).await.unwrap(),
        Some(JobState::Queued)
    );
    source.set(on_ac());
    assert_eq!(f.finished(needs_ac).await, JobState::Succeeded);
}

/// Starts a job that runs until the test creates `go` in its folder, with a child so the whole
/// group is checked.
fn until_go(dir: &std::path::Path, queue: &str) -> nightshift_store::NewJob {
    let go = dir.join("go");
    sh(
        &format!(
            "sleep 300 & while [ ! -e '{}' ]; do sleep 0.02; done; kill $!",
            go.display()
        ),
        queue,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pausing_job_is_stopped_on_power_loss_and_continues_when_power_returns() {
    let (mut f, source) = start_with_power(on_ac()).await;
    let policy = QueueChange {
        require_ac: Some(Some(true)),
        on_power_loss: Some(Some(OnPowerLoss::Pause)),
        ..Default::default()
    };
    f.engine.set_queue("heavy", policy).await.unwrap();
    let mut job = until_go(f.dir.path(), "heavy");
    // The timeout counts running time only: the job is paused for longer than it, and has
    // most of it left when it goes on (it ran for about one power poll before the pause).
    job.spec.timeout_ms = Some(4_000);
    let id = f.add(job).await;
    let pgid = f.started(id).await;
    eventually("the group's two members", || member_states(pgid).len() == 2).await;

    source.set(battery(80.0));
    let reason = f
        .next("the job to be paused", |e| match e {
            Event::PowerPaused {
                id: i,
                paused: true,
                reason,
            } if *i == id => Some(reason.clone()),
            _ => None,
        })
        .await
        .unwrap_or_default();
    let paused = Instant::now();
    assert!(reason.contains("waits for AC power"), "{reason}");
    eventually("every member stopped", || {
        member_states(pgid).iter().all(|s| *s == 'T')
    })
    .await;
    assert!(f.engine.power_paused().contains_key(&id));
    // Let more than the timeout pass while paused: the job must not time out.
    eventually("4.5 seconds to pass", || {
        paused.elapsed() > Duration::from_millis(4_500)
    })
    .await;
    assert_eq!(f.engine.state(id).await.unwrap(), Some(JobState::Running));

    source.set(on_ac());
    let (started_now, continued) = f
        .next("work to resume", |e| match e {
            Event::PowerResumed { started, continued } => Some((*started, *continued)),
            _ => None,
        })
        .await;
    assert_eq!((started_now, continued), (0, 1));
    eventually("the members to run again", || {
        let states = member_states(pgid);
        !states.is_empty() && states.iter().all(|s| *s != 'T')
    })
    .await;
    assert!(f.engine.power_paused().is_empty());
    std::fs::write(f.dir.path().join("go"), "").unwrap();
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    let attempts = f.engine.store().attempts(id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, AttemptOutcome::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requeueing_job_is_stopped_and_put_back_without_using_an_attempt() {
    let (mut f, source) = start_with_power(battery(90.0)).await;
    let mut job = until_go(f.dir.path(), "q");
    job.spec.min_battery = Some(50);
    job.spec.on_power_loss = Some(OnPowerLoss::Requeue);
    job.spec.max_attempts = 1;
    let id = f.add(job).await;
    let pgid = f.started(id).await;
    eventually("the group's two members", || member_states(pgid).len() == 2).await;

    source.set(battery(30.0));
    let reason = f
        .next("the job to go back to its queue", |e| match e {
            Event::Ended {
                id: i,
                state: JobState::Queued,
                reason,
                ..
            } if *i == id => Some(reason.clone()),
            _ => None,
        })
        .await
        .unwrap_or_default();
    assert!(
        reason.contains("under the job's minimum of 50%") && reason.contains("put back"),
        "{reason}"
    );
    assert_eq!(members(pgid), 0, "the whole group was stopped");
    let job = f.engine.store().job(id).await.unwrap().unwrap();
    assert_eq!(job.attempts_used, 0, "no attempt was used");
    // Back in its queue, the scheduler's next claim sets it aside for power.
    let store = f.engine.store().clone();
    poll("the job to be set aside for power", || {
        let store = store.clone();
        async move {
            store
                .job(id)
                .await
                .unwrap()
                .unwrap()
                .power_held
                .then_some(())
        }
    })
    .await;
    assert_eq!(f.engine.state(id).await.unwrap(), Some(JobState::Queued));

    source.set(battery(56.0));
    f.started(id).await;
    std::fs::write(f.dir.path().join("go"), "").unwrap();
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    assert_eq!(
        outcomes(&f.engine, id).await,
        [AttemptOutcome::Interrupted, AttemptOutcome::Succeeded]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finishing_job_runs_on_and_a_lower_limit_applies_on_battery() {
    let (mut f, source) = start_with_power(on_ac()).await;
    let policy = QueueChange {
        concurrency: Some(Some(3)),
        battery_concurrency: Some(Some(1)),
        require_ac: Some(Some(true)),
        ..Default::default()
    };
    f.engine.set_queue("q", policy).await.unwrap();
    // Finish is the default: unplugging leaves the running job alone.
    let first = f.add(until_go(f.dir.path(), "q")).await;
    let pgid = f.started(first).await;
    source.set(battery(90.0));
    f.power_changed().await;
    assert!(member_states(pgid).iter().all(|s| *s != 'T'));
    std::fs::write(f.dir.path().join("go"), "").unwrap();
    assert_eq!(f.finished(first).await, JobState::Succeeded);

    // On battery without the AC requirement: three queued, one at a time.
    f.engine
        .set_queue(
            "q",
            QueueChange {
                require_ac: Some(Some(false)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let gate = f.dir.path().join("gate");
    let script = format!("while [ ! -e '{}' ]; do sleep 0.02; done", gate.display());
    let ids = [
        f.add(sh(&script, "q")).await,
        f.add(sh(&script, "q")).await,
        f.add(sh(&script, "q")).await,
    ];
    f.started(ids[0]).await;
    let engine = f.engine.clone();
    let running = || async {
        let mut n = 0;
        for id in ids {
            n += usize::from(engine.state(id).await.unwrap() == Some(JobState::Running));
        }
        n
    };
    assert_eq!(running().await, 1, "one at a time on battery");
    // Back on AC the full limit applies at once.
    source.set(on_ac());
    // Both start; in either order.
    let mut waiting = vec![ids[1], ids[2]];
    while !waiting.is_empty() {
        let id = f
            .next("the other two to start", |e| match e {
                Event::Started { id, .. } if waiting.contains(id) => Some(*id),
                _ => None,
            })
            .await;
        waiting.retain(|w| *w != id);
    }
    assert_eq!(running().await, 3);
    std::fs::write(&gate, "").unwrap();
    assert_eq!(f.all_finished(&ids).await, [JobState::Succeeded; 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_set_to_finish_lets_its_paused_job_go_on() {
    let (mut f, source) = start_with_power(on_ac()).await;
    let policy = QueueChange {
        concurrency: Some(Some(1)),
        require_ac: Some(Some(true)),
        on_power_loss: Some(Some(OnPowerLoss::Pause)),
        ..Default::default()
    };
    f.engine.set_queue("heavy", policy).await.unwrap();
    let id = f.add(until_go(f.dir.path(), "heavy")).await;
    let pgid = f.started(id).await;
    source.set(battery(80.0));
    f.next("the job to be paused", |e| match e {
        Event::PowerPaused {
            id: i,
            paused: true,
            ..
        } if *i == id => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(
        f.engine.power_paused().get(&id).map(|p| p.queue.as_str()),
        Some("heavy")
    );
    // Running to the end is the new policy: it goes on, on battery.
    let finish = QueueChange {
        on_power_loss: Some(Some(OnPowerLoss::Finish)),
        ..Default::default()
    };
    f.engine.set_queue("heavy", finish).await.unwrap();
    f.next("the job to go on", |e| match e {
        Event::PowerPaused {
            id: i,
            paused: false,
            ..
        } if *i == id => Some(()),
        _ => None,
    })
    .await;
    eventually("the members to run again", || {
        let states = member_states(pgid);
        !states.is_empty() && states.iter().all(|s| *s != 'T')
    })
    .await;
    std::fs::write(f.dir.path().join("go"), "").unwrap();
    assert_eq!(f.finished(id).await, JobState::Succeeded);
}
