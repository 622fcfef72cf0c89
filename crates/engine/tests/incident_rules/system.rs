//! The rules about Nightshift's surroundings: a pool short of workers, the data folder's disk
//! nearly full (on a real small filesystem), and work held for power (a fake battery: the
//! one part that cannot be real here).

use crate::rig::*;
use crate::support::*;
use nightshift_core::incident::{IncidentState, RuleId, Severity};
use nightshift_core::worker::pool::PoolSpec;
use nightshift_engine::WorkerState;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_whose_worker_cannot_start_is_down_after_2_minutes_and_recovers() {
    let rig = Rig::start(only(RuleId::WorkerDown, |_| {})).await;
    let model = rig.f.dir.path().join("model");
    // A real worker that crashes at start until its model file exists, then serves.
    let script = format!(
        "[ -e '{}' ] || {{ echo 'model file missing' >&2; exit 3; }}; \
         echo '{{\"type\":\"ready\"}}'; exec cat >/dev/null",
        model.display()
    );
    rig.f
        .engine
        .add_pool(PoolSpec {
            name: "emb".into(),
            queue: "embed".into(),
            count: 1,
            program: "sh".into(),
            args: vec!["-c".into(), script],
            env: Default::default(),
            cwd: None,
            heartbeat_ms: None,
        })
        .await
        .unwrap();
    let pending = rig.expect(IncidentState::Pending).await;
    assert_eq!(pending.pool.as_deref(), Some("emb"));
    assert_eq!((pending.value, pending.severity), (1.0, Severity::Critical));
    rig.at(2 * MIN);
    let active = rig.expect(IncidentState::Active).await;
    assert_eq!(rig.alerts(), [("active".to_string(), active.id)]);
    // The model arrives; the next restart (on the engine's clock) comes up ready.
    std::fs::write(&model, b"").unwrap();
    rig.at(3 * MIN);
    let engine = rig.f.engine.clone();
    eventually("the worker to be ready", || {
        engine.pool("emb").unwrap().workers[0].state == WorkerState::Idle
    })
    .await;
    rig.resolves(active.id, 3 * MIN).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_folder_disk_over_90_percent_is_critical_after_a_minute_and_resolves_when_freed() {
    let base = tempfile::tempdir().unwrap();
    let fs = nightshift_e2e::SmallFs::mount(&base.path().join("fs"), 16);
    let data = tempfile::tempdir_in(base.path().join("fs")).unwrap();
    let filler = data.path().join("filler");
    let rig = Rig::start_in(only(RuleId::DiskFull, |_| {}), data, None).await;
    rig.expect_none().await;
    // Fill the filesystem to 95%, leaving the database room to record the incident.
    let st = nix::sys::statvfs::statvfs(&filler.parent().unwrap().to_path_buf()).unwrap();
    let block = st.fragment_size() as u64;
    let total = st.blocks() as u64 * block;
    let used = (st.blocks() - st.blocks_free()) as u64 * block;
    let fill = (total * 95 / 100).saturating_sub(used);
    std::fs::write(&filler, vec![0xa5u8; fill as usize]).unwrap();
    rig.at(MIN);
    let pending = rig.expect(IncidentState::Pending).await;
    assert!(
        pending.value >= 90.0 && pending.value < 100.0,
        "{pending:#?}"
    );
    assert_eq!(
        (pending.queue.as_deref(), pending.pool.as_deref()),
        (None, None)
    );
    rig.at(2 * MIN);
    let active = rig.expect(IncidentState::Active).await;
    assert_eq!(active.severity, Severity::Critical);
    std::fs::remove_file(&filler).unwrap();
    rig.resolves(active.id, 3 * MIN).await;
    drop(rig);
    drop(fs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_held_for_power_for_2_hours_are_told_and_resolve_once_plugged_in() {
    let power = FakePower::new(battery(80.0));
    let mut config = only(RuleId::PowerHeld, |_| {});
    config.power.poll = std::time::Duration::from_secs(1);
    let mut rig = Rig::start_in(config, tempfile::tempdir().unwrap(), Some(power.clone())).await;
    let jobs: Vec<_> = (0..2)
        .map(|_| {
            let mut job = sh("exit 0", "backup");
            job.spec.require_ac = true;
            job
        })
        .collect();
    let ids = rig.f.engine.enqueue(jobs).await.unwrap();
    let r = &rig;
    let pending = poll("the jobs to be held", || async move {
        let all = r.evaluate().await;
        all.first()
            .filter(|i| i.state == IncidentState::Pending && i.value == 2.0)
            .cloned()
    })
    .await;
    assert_eq!(pending.queue.as_deref(), Some("backup"));
    rig.at(2 * HOUR - 1);
    rig.expect(IncidentState::Pending).await;
    rig.at(2 * HOUR);
    let active = rig.expect(IncidentState::Active).await;
    assert_eq!(rig.alerts(), [("active".to_string(), active.id)]);
    power.set(on_ac());
    rig.f.all_finished(&ids).await;
    rig.resolves(active.id, 2 * HOUR + MIN).await;
}
