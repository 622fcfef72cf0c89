//! Start-up recovery: attempts a killed instance left running. The "killed instance" is
//! played by writing its rows directly through the store and starting real process groups.

mod support;

use nightshift_core::{AttemptOutcome, JobSpec, JobState, Synchronous};
use nightshift_e2e::is_live;
use nightshift_store::{NewJob, Store};
use nightshift_supervisor::Identity;
use std::os::unix::process::CommandExt;
use support::*;

/// A process of the test's own in a group of its own, which the test waits for itself: kept
/// from the engine's orphan reaper (it would take the zombie of a child in a group other than
/// ours that nobody registered).
fn own_group(script: &str) -> (std::process::Child, nightshift_supervisor::OwnChild) {
    let child = std::process::Command::new("/bin/sh")
        .args(["-c", script])
        .process_group(0)
        .spawn()
        .unwrap();
    let kept = nightshift_supervisor::keep_child(child.id());
    (child, kept)
}

/// Writes a job that a previous instance claimed and started as `identity`.
async fn left_running(
    dir: &tempfile::TempDir,
    script: &str,
    attempts: u32,
    identity: &Identity,
) -> nightshift_core::JobId {
    let (store, id, attempt_id) = claimed(dir, script, attempts).await;
    store
        .set_identity(
            attempt_id,
            identity.pid,
            identity.start_ticks,
            identity.boot_id.clone(),
        )
        .await
        .unwrap();
    id
}

/// Writes a job that a previous instance claimed (its first attempt is open, with no pid
/// stored yet): the store, the job and the attempt's row id.
async fn claimed(
    dir: &tempfile::TempDir,
    script: &str,
    attempts: u32,
) -> (Store, nightshift_core::JobId, i64) {
    let p = paths(dir);
    p.ensure_dirs().unwrap();
    let store = Store::open(&p.db_file, &p.payloads_dir, Synchronous::Normal).unwrap();
    let mut spec = JobSpec::command(&["/bin/sh", "-c", script], "q");
    spec.max_attempts = attempts;
    let id = store
        .insert_jobs(
            vec![NewJob {
                run_at: None,
                spec,
                payload: None,
                after: Vec::new(),
            }],
            1,
        )
        .await
        .unwrap()[0];
    let claimed = store
        .claim("q", 1, 2, nightshift_store::PowerNow::AC)
        .await
        .unwrap();
    let attempt = claimed[0].attempt_id;
    (store, id, attempt)
}

/// Recovery killed one group, put its job back, and the job then ran to success, its
/// interrupted attempt kept in the history.
async fn killed_and_ran_again(f: &mut Fixture, id: nightshift_core::JobId) {
    assert_eq!(f.engine.recovery().requeued, vec![id]);
    assert_eq!(f.engine.recovery().groups_killed, 1);
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    assert_eq!(
        outcomes(&f.engine, id).await,
        vec![AttemptOutcome::Interrupted, AttemptOutcome::Succeeded]
    );
}

/// A process started with an attempt's tags in its environment, as a job's would be: the
/// leader of a group of its own, or a member of the test's group. Killed (its group, if it
/// leads one) when dropped, so a failing test leaves nothing running.
struct Tagged {
    child: std::process::Child,
    own_group: bool,
    _kept: nightshift_supervisor::OwnChild,
}

impl Tagged {
    fn start(script: &str, instance: &str, job: nightshift_core::JobId) -> Tagged {
        Tagged::spawn(script, instance, job, true)
    }

    fn spawn(script: &str, instance: &str, job: nightshift_core::JobId, own_group: bool) -> Tagged {
        let mut command = std::process::Command::new("/bin/sh");
        command
            .args(["-c", script])
            .env("NIGHTSHIFT_INSTANCE", instance)
            .env("NIGHTSHIFT_JOB_ID", job.to_string())
            .env("NIGHTSHIFT_ATTEMPT", "1");
        if own_group {
            command.process_group(0);
        }
        let child = command.spawn().unwrap();
        Tagged {
            _kept: nightshift_supervisor::keep_child(child.id()),
            child,
            own_group,
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Tagged {
    fn drop(&mut self) {
        if self.own_group {
            let group = nix::unistd::Pid::from_raw(self.pid());
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_whose_pid_was_never_stored_is_found_by_its_environment() {
    let dir = tempfile::tempdir().unwrap();
    let (store, id, _) = claimed(&dir, "exit 0", 2).await;
    let instance = store.instance_id().to_string();
    drop(store);
    // The killed instance spawned the attempt and died before storing its pid. One of its
    // processes left the group (setsid): it still carries the tags.
    let escaped_file = dir.path().join("escaped");
    let script = format!(
        "sleep 300 & setsid sleep 300 & echo $! > '{}'; wait",
        escaped_file.display()
    );
    let orphan = Tagged::start(&script, &instance, id);
    let pgid = orphan.pid();
    // Another Nightshift (another data directory) with a job of the same id and attempt.
    let other = Tagged::start("sleep 300 & wait", "0123456789abcdef0123456789abcdef", id);
    // A tagged process in a group led by a live process without the tags (the test's own):
    // that group is not the attempt's, and is never signalled.
    let beside_us = Tagged::spawn("exec sleep 300", &instance, id, false);
    let escaped = || -> Option<i32> {
        std::fs::read_to_string(&escaped_file)
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    eventually("the orphan's processes", || {
        members(pgid) == 2 && escaped().is_some_and(is_live) && members(other.pid()) == 2
    })
    .await;
    let escaped = escaped().unwrap();

    let mut f = start_in(dir, config()).await;
    assert_eq!(members(pgid), 0, "recovery killed the attempt's group");
    assert!(!is_live(escaped), "and the process that left the group");
    assert_eq!(
        members(other.pid()),
        2,
        "another instance's processes are never signalled"
    );
    assert!(
        is_live(beside_us.pid()),
        "nor a group the attempt does not lead"
    );
    drop(orphan);
    killed_and_ran_again(&mut f, id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_process_carries_its_attempt_tags() {
    let mut f = start(config()).await;
    let mut job = sh(
        "echo \"$NIGHTSHIFT_INSTANCE $NIGHTSHIFT_JOB_ID $NIGHTSHIFT_ATTEMPT\"",
        "q",
    );
    // A job's own variable of the same name does not hide the tag.
    job.spec
        .env
        .insert("NIGHTSHIFT_INSTANCE".into(), "mine".into());
    let id = f.add(job).await;
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    let log = nightshift_supervisor::logfile::read(&paths(&f.dir).logs_dir, id.0, None).unwrap();
    let log = String::from_utf8(log).unwrap();
    let instance = f.engine.store().instance_id();
    assert_eq!(instance.len(), 32, "{instance}");
    assert_eq!(log.trim(), format!("{instance} {id} 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_group_is_killed_and_its_job_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let (mut orphan, _kept) = own_group("sleep 300 & sleep 300 & wait");
    let pgid = orphan.id() as i32;
    eventually("the orphan group", || members(pgid) == 3).await;
    let id = left_running(&dir, "exit 0", 2, &Identity::of(pgid)).await;

    let mut f = start_in(dir, config()).await;
    assert_eq!(
        members(pgid),
        0,
        "recovery killed the old group before dispatch"
    );
    orphan.wait().unwrap();
    killed_and_ran_again(&mut f, id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pid_now_used_by_another_process_is_never_signalled() {
    let dir = tempfile::tempdir().unwrap();
    let mut bystander = std::process::Command::new("sleep")
        .arg("300")
        .process_group(0)
        .spawn()
        .unwrap();
    let _kept = nightshift_supervisor::keep_child(bystander.id());
    let pid = bystander.id() as i32;
    let real = Identity::of(pid);
    // The stored identity has the same pid but an earlier start time: another process.
    let stored = Identity {
        start_ticks: real.start_ticks.map(|t| t - 1),
        ..real
    };
    let id = left_running(&dir, "exit 0", 1, &stored).await;

    let f = start_in(dir, config()).await;
    assert_eq!(f.engine.recovery().not_ours, 1);
    assert_eq!(members(pid), 1, "the bystander is alive");
    // The crash was Nightshift's: the job goes back to its queue without using its only
    // attempt.
    assert_eq!(f.engine.recovery().requeued, vec![id]);
    assert!(f.engine.recovery().failed.is_empty());
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}

/// The unclean restart rule through the engine: a start that reclaimed a killed instance's job
/// opens an incident at once (its `for` is 0) naming the job, which resolves once the hour
/// after the start has passed and 5 minutes more. Every other rule is off; the clock is moved
/// by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unclean_restart_is_an_incident_for_the_hour_after_the_start() {
    use nightshift_core::incident::{IncidentState, RuleId};
    let dir = tempfile::tempdir().unwrap();
    let (mut orphan, _kept) = own_group("sleep 300 & wait");
    let pgid = orphan.id() as i32;
    eventually("the orphan group", || members(pgid) == 2).await;
    let id = left_running(&dir, "exit 0", 2, &Identity::of(pgid)).await;

    let config = only(RuleId::UncleanRestart, |_| {});
    let t0 = nightshift_core::clock::system().now_ms();
    let clock = std::sync::Arc::new(nightshift_core::clock::ManualClock::new(t0));
    let mut f = start_full(dir, config, clock.clone(), None).await;
    orphan.wait().unwrap();
    killed_and_ran_again(&mut f, id).await;
    let open = |f: &Fixture| {
        let engine = f.engine.clone();
        async move {
            engine.evaluate_incidents().await;
            engine
                .incidents(nightshift_store::IncidentFilter {
                    limit: 10,
                    ..Default::default()
                })
                .await
                .unwrap()
        }
    };
    let all = open(&f).await;
    assert_eq!(all.len(), 1, "{all:#?}");
    let incident = &all[0];
    assert_eq!(
        (incident.rule, incident.state, incident.value),
        (RuleId::UncleanRestart, IncidentState::Active, 1.0)
    );
    assert_eq!(incident.jobs, [id], "the reclaimed job is named");
    const MIN: i64 = 60_000;
    clock.set(t0 + 60 * MIN - 1);
    assert_eq!(open(&f).await[0].state, IncidentState::Active);
    clock.set(t0 + 60 * MIN);
    assert_eq!(open(&f).await[0].state, IncidentState::Active, "clear now");
    clock.set(t0 + 65 * MIN);
    let done = open(&f).await;
    assert_eq!((done.len(), done[0].state), (1, IncidentState::Resolved));
}
