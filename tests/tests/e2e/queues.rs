//! Queues at run time: create, limit, pause and resume from the CLI, kept across restarts, and
//! every queued job says why it waits.

use nightshift_e2e::{Daemon, JOB_TIMEOUT, wait_for};
use serde_json::Value;

fn waiting(d: &Daemon, id: i64) -> String {
    d.show(id)["job"]["waiting"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn queue_commands_hold_release_and_explain() {
    let mut d = Daemon::start();
    d.cli_ok(&["queue", "create", "index", "--concurrency", "1"]);
    let gate = d.scratch().join("gate");
    let first = d.add(&[
        "-q",
        "index",
        "--",
        "sh",
        "-c",
        &format!("while [ ! -e {} ]; do sleep 0.05; done", gate.display()),
    ]);
    d.wait_running(first);
    let second = d.add(&["-q", "index", "--", "true"]);
    assert_eq!(waiting(&d, second), "queue index is full: 1/1 running");
    let ls = d.cli_ok(&["ls"]);
    assert!(
        ls.contains("WAITING") && ls.contains("queue index is full: 1/1 running"),
        "{ls}"
    );

    d.cli_ok(&["queue", "pause", "index"]);
    assert!(
        waiting(&d, second).starts_with("queue index is paused"),
        "{}",
        waiting(&d, second)
    );
    // The hold is kept across a restart.
    std::fs::write(&gate, "").unwrap();
    wait_for(JOB_TIMEOUT, "the first job to finish", || {
        d.state(first) == "succeeded"
    });
    d.terminate();
    d.restart();
    let queues: Value = serde_json::from_str(&d.cli_ok(&["queue", "ls", "--json"])).unwrap();
    let index = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "index")
        .unwrap()
        .clone();
    assert_eq!(
        (
            index["paused"].clone(),
            index["concurrency"].clone(),
            index["limit_source"].clone()
        ),
        (Value::Bool(true), 1.into(), "set".into())
    );
    assert_eq!(d.state(second), "queued");

    d.cli_ok(&["queue", "resume", "index"]);
    wait_for(JOB_TIMEOUT, "the held job to run", || {
        d.state(second) == "succeeded"
    });
    let bad = d.cli(&["queue", "set", "no spaces", "--concurrency", "2"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid queue name"));
}

#[test]
fn a_job_added_for_later_says_when_and_then_runs() {
    let d = Daemon::start();
    let id = d.add(&["--in", "3s", "--", "true"]);
    let why = waiting(&d, id);
    assert!(
        why.starts_with("scheduled: starts at ") && why.contains("(in "),
        "{why}"
    );
    wait_for(JOB_TIMEOUT, "the job to run at its time", || {
        d.state(id) == "succeeded"
    });

    let bad = d.cli(&["add", "--at", "tonight", "--", "true"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr).to_string();
    assert!(err.contains("HH:MM") && err.contains("RFC 3339"), "{err}");
    let both = d.cli(&["add", "--at", "23:00", "--in", "5m", "--", "true"]);
    assert_eq!(
        both.status.code(),
        Some(2),
        "--at and --in together are refused"
    );
}

#[test]
fn a_unique_key_is_not_queued_twice() {
    let d = Daemon::start();
    let gate = d.scratch().join("gate");
    let script = format!("while [ ! -e {} ]; do sleep 0.05; done", gate.display());
    let first = d.add(&["--unique", "backup", "--", "sh", "-c", &script]);
    let again = d.cli(&["add", "--unique", "backup", "--", "sh", "-c", &script]);
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        first.to_string()
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already queued or running"));
    std::fs::write(&gate, "").unwrap();
    wait_for(JOB_TIMEOUT, "the first to finish", || {
        d.state(first) == "succeeded"
    });
    let later = d.add(&["--unique", "backup", "--", "true"]);
    assert_ne!(later, first, "once it has finished, the key is free again");
}
