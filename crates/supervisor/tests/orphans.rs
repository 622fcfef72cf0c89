//! This process as a child subreaper: a job's process that leaves the group and is orphaned
//! comes to us, is ended by `end_escaped` with the attempt's tags, and its zombie is reaped;
//! the leaders' exit statuses stay with whoever waits for them.

use nightshift_e2e::{proc_stat, wait_for};
use nightshift_supervisor::logfile::LogWriter;
use nightshift_supervisor::{Exit, SpawnRequest, adopt_orphans, end_escaped, spawn};
use std::time::Duration;

const TAGS: [(&str, &str); 3] = [
    ("NIGHTSHIFT_INSTANCE", "orphans-test"),
    ("NIGHTSHIFT_JOB_ID", "7"),
    ("NIGHTSHIFT_ATTEMPT", "1"),
];

/// Our children (every thread's), with their state letters.
fn children() -> Vec<(i32, char)> {
    let me = std::process::id();
    std::fs::read_dir(format!("/proc/{me}/task"))
        .unwrap()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<i32>>()
        })
        .filter_map(|pid| proc_stat(pid).map(|(state, _)| (pid, state)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escaped_orphans_are_ended_and_reaped_and_leaders_keep_their_status() {
    let _orphans = adopt_orphans();
    let logs = tempfile::tempdir().unwrap();
    let pids = logs.path().join("pids");
    let tags: Vec<(&str, String)> = TAGS.iter().map(|(k, v)| (*k, v.to_string())).collect();
    // Leaders that exit at once, each leaving an orphan outside its group: the reaper runs on
    // every SIGCHLD meanwhile and must never take a leader's status.
    for n in 0..20 {
        let mut running = spawn(SpawnRequest {
            program: "sh".into(),
            args: vec![
                "-c".into(),
                "setsid sleep 300 & echo $! >> \"$1\"; exit 7".into(),
                "sh".into(),
                pids.to_str().unwrap().into(),
            ],
            env: tags.iter().map(|(k, v)| (k.into(), v.into())).collect(),
            cwd: None,
            log: LogWriter::new(logs.path(), n, 1 << 16),
        })
        .unwrap();
        assert_eq!(running.wait().await.unwrap(), Exit::Code(7), "leader {n}");
    }
    wait_for(Duration::from_secs(30), "20 orphans handed to us", || {
        children().iter().filter(|(_, s)| *s != 'Z').count() == 20
    });
    // Another Nightshift's attempt with the same numbers is not ours.
    let other = [
        ("NIGHTSHIFT_INSTANCE", "another".to_string()),
        ("NIGHTSHIFT_JOB_ID", "7".to_string()),
        ("NIGHTSHIFT_ATTEMPT", "1".to_string()),
    ];
    assert_eq!(end_escaped(&other, Duration::ZERO).await.found, 0);
    let end = end_escaped(&tags, Duration::from_secs(5)).await;
    assert_eq!(end.found, 20, "{end:?}");
    assert_eq!(end.survivors, 0, "{end:?}");
    // Their zombies are ours, and the reaper takes them (on SIGCHLD, without being asked).
    wait_for(
        Duration::from_secs(30),
        "the orphans' zombies to be reaped",
        || children().is_empty(),
    );
}
