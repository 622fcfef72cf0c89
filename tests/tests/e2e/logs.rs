//! Job output: what a job gets in its environment, the size cap that keeps the newest output,
//! and `logs -f` following a running job to its end.

use crate::{Gate, sh};
use nightshift_e2e::{Daemon, JOB_TIMEOUT, describe, text, wait_until};
use std::io::Read;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn a_job_gets_its_id_attempt_and_env() {
    let d = Daemon::start();
    let out = d.cli(&[
        "add",
        "--wait",
        "--env",
        "GREETING=hello world",
        "--",
        "sh",
        "-c",
        "echo \"$NIGHTSHIFT_JOB_ID/$NIGHTSHIFT_ATTEMPT/${NIGHTSHIFT_PAYLOAD_FILE:-none}/$GREETING/$(pwd)\"",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let logs = d.cli_ok(&["logs", "1"]);
    let cwd = d.scratch().canonicalize().unwrap();
    assert_eq!(logs, format!("1/1/none/hello world/{}\n", cwd.display()));
}

#[test]
fn a_program_that_cannot_start_exits_127() {
    let d = Daemon::start();
    let out = d.cli(&["add", "--wait", "--", "/nonexistent/program"]);
    assert_eq!(out.status.code(), Some(127), "{}", describe(&out));
    let detail = d.show(1);
    assert_eq!(detail["job"]["state"], "failed", "{detail}");
    assert_eq!(crate::outcomes(&detail), ["spawn_failed"]);
}

#[test]
fn the_log_cap_keeps_the_newest_output() {
    let d = Daemon::with_config("[jobs]\nlog_max_bytes = 65536\n");
    let id = d.add(&sh(
        "i=0; while [ $i -lt 20000 ]; do echo \"line $i\"; i=$((i+1)); done",
        &[],
    ));
    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");

    let logs = d.cli(&["logs", &id.to_string()]);
    assert!(logs.status.success(), "{}", describe(&logs));
    let kept = text(&logs.stdout);
    assert!(
        kept.len() <= 65536,
        "{} bytes kept, over the 65536 cap",
        kept.len()
    );
    assert!(kept.len() >= 16384, "only {} bytes kept", kept.len());
    assert!(kept.ends_with("line 19999\n"), "the newest output is lost");
    // What is kept is one unbroken stretch of the newest lines (the first may be cut).
    let numbers: Vec<u32> = kept
        .lines()
        .skip(1)
        .map(|l| {
            l.strip_prefix("line ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("garbled line {l:?}"))
        })
        .collect();
    for pair in numbers.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "a gap in the kept output");
    }
    let on_disk: u64 = std::fs::read_dir(d.home().join("logs"))
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    assert!(on_disk <= 65536, "{on_disk} bytes of logs on disk");

    let tail = d.cli_ok(&["logs", &id.to_string(), "--tail", "3"]);
    assert_eq!(tail, "line 19997\nline 19998\nline 19999\n");
}

#[test]
fn logs_follow_streams_until_the_job_ends() {
    let d = Daemon::start();
    let gate = Gate::new(d.scratch(), "gate");
    let id = d.add(&sh(
        "echo first; read x < \"$1\"; echo second",
        &[gate.path()],
    ));
    d.wait_running(id);

    let mut follower = d
        .command(&["logs", "-f", &id.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run nightshift logs -f");
    let mut stdout = follower.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + JOB_TIMEOUT;
    while !text(&seen).contains("first\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.extend(chunk),
            Err(_) => {
                let _ = follower.kill();
                panic!("logs -f showed {:?}, not the first line", text(&seen));
            }
        }
    }
    // The job is still running: the follower must still be there.
    assert!(
        follower.try_wait().unwrap().is_none(),
        "logs -f ended early"
    );

    gate.open();
    let mut status = None;
    let ended = wait_until(Duration::from_secs(30), || {
        status = follower.try_wait().unwrap();
        status.is_some()
    });
    if !ended {
        let _ = follower.kill();
        let _ = follower.wait();
    }
    reader.join().unwrap();
    seen.extend(rx.try_iter().flatten());
    assert!(ended, "logs -f did not end when the job did");
    assert!(status.unwrap().success());
    assert_eq!(text(&seen), "first\nsecond\n");
}
