//! The end-to-end fixture: a real `nightshift daemon` in a private temp folder, driven only from
//! outside, the way a person or a script drives it (the CLI, the HTTP API, signals, restarts).
//!
//! [`Daemon::start`] makes a temp folder with `home/` (the daemon's `NIGHTSHIFT_HOME`) and
//! `scratch/` (files the tests and their jobs write, and the CLI's working directory), runs
//! `nightshift daemon --port 0` with its output in files beside them, and waits, polling with a
//! deadline, until `home/daemon.json` names that very process. Nothing here sleeps to
//! synchronise: every wait is a condition polled with short pauses until a deadline, and a
//! missed deadline fails with what was awaited. Dropping a `Daemon` kills it and every process
//! that still carries its `NIGHTSHIFT_HOME` in its environment (the jobs it started and their
//! children), and nothing else: the folder is unique to the test, so no other process matches.
//!
//! The binary is `target/<profile>/nightshift` beside the test executable (build it with
//! `cargo build -p nightshift-cli`), or whatever `NIGHTSHIFT_BIN` names.

mod daemon;
pub mod desktop;
mod http;
mod process;
mod receiver;
mod small_fs;
mod sqlite;

pub use daemon::{Daemon, DaemonBuilder};
pub use http::{RawResponse, contains_bytes, is_closed, raw_request, read_answer, write_request};
pub use process::{
    OwnedProcess, catches_signal, group_members, has_env, holders_of, is_live, live_in_group,
    member_states, proc_ids, proc_stat, state_of, stopped,
};
pub use receiver::{Hanging, Received, Receiver, free_port};
pub use small_fs::{ReadOnlyBind, SmallFs};
pub use sqlite::{integrity_check, sqlite, sqlite_write};

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon may take to start (recovery included) before the test fails.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one CLI call may take unless a test says otherwise.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a job made to finish quickly may take to do so.
pub const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// The `nightshift` binary under test.
pub fn bin() -> PathBuf {
    if let Some(path) = std::env::var_os("NIGHTSHIFT_BIN") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "NIGHTSHIFT_BIN is {}, which is not a file",
            path.display()
        );
        return path;
    }
    let exe = std::env::current_exe().expect("cannot find the test executable");
    // The test runs as target/<profile>/deps/e2e-<hash>; the binary is target/<profile>/nightshift.
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable is not inside target/<profile>/deps");
    let path = profile_dir.join("nightshift");
    assert!(
        path.is_file(),
        "the nightshift binary is not at {}: build it first with `cargo build -p nightshift-cli` \
         (or `cargo build --workspace`), or set NIGHTSHIFT_BIN to its path",
        path.display()
    );
    path
}

/// `target/artifacts`: what tests keep for people to look at (screenshots), made if missing.
pub fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("cannot find the test executable");
    // target/<profile>/deps/<exe> → target/
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test executable is not inside target/<profile>/deps");
    let dir = target.join("artifacts");
    std::fs::create_dir_all(&dir).expect("cannot create target/artifacts");
    dir
}

/// Polls `cond` with short, growing pauses until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if cond() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Like [`wait_until`], but fails the test with `what` when the deadline passes.
pub fn wait_for(timeout: Duration, what: &str, cond: impl FnMut() -> bool) {
    assert!(
        wait_until(timeout, cond),
        "timed out after {timeout:?} waiting for {what}"
    );
}

/// Bytes as text, lossily.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A command's exit and output, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// Runs `cmd` with its output captured; `Err` (with what it printed) if it was still running
/// after `timeout`, in which case it has been killed.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Output, Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let mut status = None;
    let finished = wait_until(timeout, || {
        status = child.try_wait().expect("cannot poll a child process");
        status.is_some()
    });
    if !finished {
        let _ = child.kill();
        status = Some(child.wait().expect("cannot reap a killed child process"));
    }
    let output = Output {
        status: status.expect("the child's status is known"),
        stdout: stdout.join().expect("stdout reader panicked"),
        stderr: stderr.join().expect("stderr reader panicked"),
    };
    if finished { Ok(output) } else { Err(output) }
}

/// The lines of a file, or none if it does not exist (yet).
pub fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .map(|s| s.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Waits until the file has at least `n` lines, and returns them.
pub fn wait_lines(path: &Path, n: usize, timeout: Duration) -> Vec<String> {
    wait_for(
        timeout,
        &format!("{n} line(s) in {}", path.display()),
        || lines(path).len() >= n,
    );
    lines(path)
}
