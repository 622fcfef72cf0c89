//! Process groups on real processes: stop, escalate, reclaim, capture.

use nightshift_e2e::{member_states, wait_for};
use nightshift_supervisor::logfile::{self, LogWriter};
use nightshift_supervisor::{
    Exit, Identity, Reclaim, SpawnRequest, group_alive, pause, reclaim, resume, spawn, terminate,
};
use std::time::{Duration, Instant};

fn members(pgid: i32) -> usize {
    member_states(pgid).len()
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
    assert!(!group_alive(pgid).await);
}

#[tokio::test]
async fn pause_stops_every_member_and_resume_lets_them_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    // A child that keeps counting: while paused, the count must not move.
    let script = format!(
        "(i=0; while :; do i=$((i+1)); echo $i > {c}.tmp; mv {c}.tmp {c}; done) & wait",
        c = count.display()
    );
    let mut running = spawn(request(dir.path(), &script)).unwrap();
    let pgid = running.pgid();
    wait_for(Duration::from_secs(10), "the counter", || count.exists());
    // When pause returns, every member is stopped: no waiting needed.
    assert!(pause(&running).await);
    let states = member_states(pgid);
    assert!(
        states.len() >= 2 && states.iter().all(|s| *s == 'T'),
        "{states:?}"
    );
    let frozen = std::fs::read_to_string(&count).unwrap();
    // Every member is in state T, so nothing can write; read twice to be sure of it.
    assert_eq!(std::fs::read_to_string(&count).unwrap(), frozen);
    assert!(resume(&running));
    wait_for(Duration::from_secs(10), "the counter moving again", || {
        std::fs::read_to_string(&count).is_ok_and(|now| now != frozen)
    });
    assert!(member_states(pgid).iter().all(|s| *s != 'T'));
    // A paused group can still be stopped: terminate continues it to deliver SIGTERM.
    assert!(pause(&running).await);
    let end = terminate(&mut running, false, Duration::from_secs(10)).await;
    assert_eq!(end.survivors, 0);
    assert!(!end.escalated, "SIGTERM reached the stopped group");
    assert!(!group_alive(pgid).await);
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

/// A unique environment variable for the processes a test starts, so the test can find, and
/// kill, those that left their group.
struct Marked(String);

impl Marked {
    fn new(test: &str) -> Marked {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Marked(format!("{test}-{}-{nanos}", std::process::id()))
    }

    fn env(&self) -> (std::ffi::OsString, std::ffi::OsString) {
        ("NIGHTSHIFT_TEST_MARKER".into(), self.0.clone().into())
    }

    /// Live (non-zombie) processes carrying the marker.
    fn pids(&self) -> Vec<i32> {
        let needle = format!("NIGHTSHIFT_TEST_MARKER={}\0", self.0);
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
                env.windows(needle.len()).any(|w| w == needle.as_bytes())
            })
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    !matches!(
                        s[s.rfind(')').unwrap() + 2..].chars().next(),
                        Some('Z' | 'X')
                    )
                })
            })
            .collect()
    }
}

impl Drop for Marked {
    fn drop(&mut self) {
        for pid in self.pids() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Opens a fifo for writing once a process waits on it for reading.
fn open_when_read(fifo: &std::path::Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = None;
    wait_for(Duration::from_secs(10), "a reader on the fifo", || {
        // Non-blocking: fails with ENXIO while nobody has it open for reading.
        file = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(fifo)
            .ok();
        file.is_some()
    });
    file.unwrap()
}

#[test]
fn nothing_reads_the_output_after_the_attempt_even_if_a_process_escaped_the_group() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("go");
    mkfifo(&fifo);
    let marked = Marked::new("escaped");
    let mut req = request(
        dir.path(),
        "setsid sh -c 'read x < \"$GO\"; echo late' & echo done",
    );
    req.env = vec![marked.env(), ("GO".into(), fifo.clone().into())];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let limit = Duration::from_millis(300);
    let finishing = runtime.block_on(async {
        let mut running = spawn(req).unwrap();
        assert_eq!(running.wait().await.unwrap(), Exit::Code(0));
        let started = Instant::now();
        running.finish_output(limit).await;
        started.elapsed()
    });
    assert!(
        finishing < limit * 2 + Duration::from_secs(5),
        "finish_output took {finishing:?}"
    );
    assert_eq!(marked.pids().len(), 1, "the escaped process holds the pipe");

    // Nothing of the attempt may keep the runtime from shutting down.
    let (done, dropped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(runtime);
        let _ = done.send(());
    });
    assert!(
        dropped.recv_timeout(Duration::from_secs(20)).is_ok(),
        "the runtime cannot shut down: something still reads the job's output"
    );

    // The escaped process writes now; its output must not reach the log.
    let mut go = open_when_read(&fifo);
    go.write_all(b"go\n").unwrap();
    drop(go);
    wait_for(
        Duration::from_secs(20),
        "the escaped process to end",
        || marked.pids().is_empty(),
    );
    let log = logfile::read(dir.path(), 1, None).unwrap();
    assert_eq!(String::from_utf8(log).unwrap(), "done\n");
}

#[tokio::test]
async fn a_log_that_cannot_be_written_does_not_kill_the_job() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let fifo = dir.path().join("go");
    mkfifo(&fifo);
    // Far more output than a pipe holds, so it has to be drained while the log is missing.
    let mut req = request(&logs, "seq 1 200000; read x < \"$GO\"; echo after");
    req.env = vec![("GO".into(), fifo.clone().into())];
    let mut running = spawn(req).unwrap();
    let go = fifo.clone();
    tokio::task::spawn_blocking(move || {
        let mut go = open_when_read(&go);
        std::fs::create_dir(&logs).unwrap();
        go.write_all(b"go\n").unwrap();
    })
    .await
    .unwrap();
    assert_eq!(running.wait().await.unwrap(), Exit::Code(0));
    running.finish_output(Duration::from_secs(10)).await;
    let log = String::from_utf8(logfile::read(&dir.path().join("logs"), 1, None).unwrap()).unwrap();
    assert!(
        log.starts_with("--- nightshift: ") && log.contains(" bytes of output were lost"),
        "{}",
        &log[..log.len().min(200)]
    );
    assert!(
        log.ends_with("after\n"),
        "{}",
        &log[log.len().saturating_sub(200)..]
    );
}

#[tokio::test]
async fn groups_zero_and_one_are_never_touched() {
    for pgid in [0, 1, -1] {
        assert!(!group_alive(pgid).await, "group {pgid}");
    }
    // Identities that do not match (start times no process has): with a valid pid these
    // would be looked at, and with pid 0 or 1 they must be refused before anything else.
    let boot = Identity::of(std::process::id() as i32).boot_id;
    for pid in [0, 1] {
        let stored = Identity {
            pid,
            start_ticks: Some(u64::MAX),
            boot_id: boot.clone(),
        };
        assert_eq!(reclaim(&stored).await, Reclaim::Unknown, "pid {pid}");
    }
}
