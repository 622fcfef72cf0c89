//! Process groups on real processes: stop, escalate, reclaim, capture.

use nightshift_supervisor::logfile::{self, LogWriter};
use nightshift_supervisor::{
    Exit, Identity, Reclaim, SpawnRequest, group_alive, reclaim, spawn, terminate,
};
use std::time::{Duration, Instant};

fn members(pgid: i32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter(|stat| {
            let rest = &stat[stat.rfind(')').unwrap() + 1..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            f[0] != "Z" && f[2].parse::<i32>().unwrap() == pgid
        })
        .count()
}

/// Polls until `cond` holds, failing the test after `limit`.
fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn request(dir: &std::path::Path, script: &str) -> SpawnRequest {
    SpawnRequest {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![],
        cwd: None,
        log: LogWriter::new(dir, 1, 1 << 20),
    }
}

#[tokio::test]
async fn sigterm_ends_a_whole_tree() {
    let dir = tempfile::tempdir().unwrap();
    let mut running = spawn(request(dir.path(), "sleep 300 & sleep 300 & wait")).unwrap();
    let pgid = running.pgid();
    wait_for(Duration::from_secs(10), "three members", || {
        members(pgid) == 3
    });
    let end = terminate(&mut running, false, Duration::from_secs(10)).await;
    assert!(!end.escalated, "SIGTERM was enough");
    assert_eq!(end.survivors, 0);
    assert_eq!(end.exit, Some(Exit::Signal(15)));
    assert_eq!(members(pgid), 0);
    assert!(!group_alive(pgid));
}

#[tokio::test]
async fn a_group_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let mut running = spawn(request(
        dir.path(),
        "trap '' TERM; sleep 300 & sleep 300 & echo ready; wait; wait",
    ))
    .unwrap();
    let pgid = running.pgid();
    wait_for(Duration::from_secs(10), "three members", || {
        members(pgid) == 3
    });
    let started = Instant::now();
    let end = terminate(&mut running, false, Duration::from_millis(300)).await;
    assert!(end.escalated, "SIGKILL was needed");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "killed before the grace period"
    );
    assert_eq!(end.exit, Some(Exit::Signal(9)));
    assert_eq!((end.survivors, members(pgid)), (0, 0));
}

#[tokio::test]
async fn output_of_both_streams_lands_in_the_log_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut running = spawn(request(dir.path(), "echo one; echo two >&2; echo three")).unwrap();
    assert_eq!(running.wait().await.unwrap(), Exit::Code(0));
    running.finish_output(Duration::from_secs(5)).await;
    let log = logfile::read(dir.path(), 1, None).unwrap();
    assert_eq!(String::from_utf8(log).unwrap(), "one\ntwo\nthree\n");
}

#[tokio::test]
async fn a_missing_program_is_a_clear_spawn_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(dir.path(), "");
    req.program = "/no/such/program".into();
    let err = spawn(req).unwrap_err().to_string();
    assert!(
        err.contains("/no/such/program") && err.contains("No such file"),
        "{err}"
    );
}

fn own_group(cmd: &str) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    std::process::Command::new("/bin/sh")
        .args(["-c", cmd])
        .process_group(0)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn reclaim_kills_only_a_group_whose_identity_matches() {
    let mut child = own_group("sleep 300 & sleep 300 & wait");
    let pid = child.id() as i32;
    wait_for(Duration::from_secs(10), "three members", || {
        members(pid) == 3
    });
    let identity = Identity::of(pid);
    assert!(identity.start_ticks.is_some() && identity.boot_id.is_some());

    // The same pid with another start time is someone else: never signalled.
    let stranger = Identity {
        start_ticks: identity.start_ticks.map(|t| t + 1),
        ..identity.clone()
    };
    assert_eq!(reclaim(&stranger).await, Reclaim::NotOurs);
    // From another boot: everything of then is gone, nothing is signalled.
    let old_boot = Identity {
        boot_id: Some("another-boot".into()),
        ..identity.clone()
    };
    assert_eq!(reclaim(&old_boot).await, Reclaim::OtherBoot);
    assert_eq!(
        members(pid),
        3,
        "a non-matching identity must not be signalled"
    );

    assert_eq!(
        reclaim(&identity).await,
        Reclaim::Killed {
            members: 3,
            survivors: 0
        }
    );
    child.wait().unwrap();
    assert_eq!(members(pid), 0);
    assert_eq!(reclaim(&identity).await, Reclaim::Gone);
}

#[tokio::test]
async fn reclaim_finds_a_group_whose_leader_already_died() {
    // The leader exits at once, leaving its two sleepers in the group.
    let mut child = own_group("sleep 300 & sleep 300 & exit 0");
    let pid = child.id() as i32;
    let identity = Identity::of(pid);
    child.wait().unwrap();
    wait_for(Duration::from_secs(10), "two orphaned members", || {
        members(pid) == 2
    });
    assert_eq!(
        reclaim(&identity).await,
        Reclaim::Killed {
            members: 2,
            survivors: 0
        }
    );
    assert_eq!(members(pid), 0);
}
