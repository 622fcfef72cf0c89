//! Start-up recovery: attempts a killed instance left running. The "killed instance" is
//! played by writing its rows directly through the store and starting real process groups.

mod support;

use nightshift_core::{AttemptOutcome, JobSpec, JobState, Synchronous};
use nightshift_store::{NewJob, Store};
use nightshift_supervisor::Identity;
use std::os::unix::process::CommandExt;
use support::*;

fn own_group(script: &str) -> std::process::Child {
    std::process::Command::new("/bin/sh")
        .args(["-c", script])
        .process_group(0)
        .spawn()
        .unwrap()
}

/// Writes a job that a previous instance claimed and started as `identity`.
async fn left_running(
    dir: &tempfile::TempDir,
    script: &str,
    attempts: u32,
    identity: &Identity,
) -> nightshift_core::JobId {
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
    store
        .set_identity(
            claimed[0].attempt_id,
            identity.pid,
            identity.start_ticks,
            identity.boot_id.clone(),
        )
        .await
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_group_is_killed_and_its_job_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut orphan = own_group("sleep 300 & sleep 300 & wait");
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
    assert_eq!(f.engine.recovery().requeued, vec![id]);
    assert_eq!(f.engine.recovery().groups_killed, 1);
    assert_eq!(f.finished(id).await, JobState::Succeeded);
    assert_eq!(
        outcomes(&f.engine, id).await,
        vec![AttemptOutcome::Interrupted, AttemptOutcome::Succeeded]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pid_now_used_by_another_process_is_never_signalled() {
    let dir = tempfile::tempdir().unwrap();
    let mut bystander = std::process::Command::new("sleep")
        .arg("300")
        .process_group(0)
        .spawn()
        .unwrap();
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
    // Its only attempt counted: with none left, the job failed.
    assert_eq!(f.engine.recovery().failed, vec![id]);
    assert_eq!(f.engine.state(id).await.unwrap(), Some(JobState::Failed));
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}
