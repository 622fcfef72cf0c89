//! A full disk, for real: the data folder is a small tmpfs that the test fills. Jobs that end
//! while it is full are recorded once space returns, with their real outcome, and never run
//! again, even across a stop or a SIGKILL meanwhile; the health says "degraded" while it lasts;
//! an enqueue is refused with 507 and nothing acknowledged is lost.

use crate::{Gate, error_body, sh};
use nightshift_e2e::{Daemon, JOB_TIMEOUT, SmallFs, integrity_check, lines, wait_for};
use serde_json::Value;

fn health(d: &Daemon) -> Value {
    d.api("GET", "/api/health", None)
}

/// A daemon whose whole data folder is a fresh 16 MiB tmpfs.
fn on_small_fs() -> (Daemon, SmallFs) {
    let mut d = Daemon::builder().prepare();
    let fs = SmallFs::mount(d.home(), 16);
    d.write_config("[jobs]\nkill_grace = \"1s\"\n");
    d.restart();
    (d, fs)
}

/// A job that notes each run in `runs`, waits on `gate`, then exits 0.
fn gated_job(d: &Daemon, gate: &Gate, runs: &std::path::Path) -> i64 {
    d.add(&sh(
        "echo run >> \"$1\"; read x < \"$2\"; exit 0",
        &[runs.to_str().unwrap(), gate.path()],
    ))
}

#[test]
fn a_job_that_ends_on_a_full_disk_is_recorded_when_space_returns() {
    let (d, fs) = on_small_fs();
    let runs = d.scratch().join("runs");
    let gate = Gate::new(d.scratch(), "gate");
    let id = gated_job(&d, &gate, &runs);
    d.wait_running(id);
    let before = d.api("GET", "/api/jobs", None);

    let filler = fs.fill();
    gate.open();
    wait_for(JOB_TIMEOUT, "the health to say degraded", || {
        health(&d)["status"] == "degraded"
    });
    let h = health(&d);
    let problems = h["problems"].to_string();
    assert!(problems.contains("full"), "{h}");
    // The summary does not contradict itself: the ended attempt holds its slot until recorded.
    let summary = d.api("GET", "/api/summary", None);
    assert_eq!(summary["counts"]["running"], 1, "{summary}");
    assert_eq!(summary["running"], 1, "{summary}");
    assert!(
        !summary["problems"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    // A new job is refused with its own status, and nothing is half-stored.
    let (status, body) = d.http("POST", "/api/jobs", Some(br#"{"cmd":["true"]}"#));
    assert_eq!(status, 507, "{body}");
    error_body(status, &body, "insufficient_storage");

    std::fs::remove_file(filler).unwrap();
    let done = d.wait_jobs(&[id], JOB_TIMEOUT);
    assert_eq!(done[0]["job"]["state"], "succeeded", "{}", done[0]);
    assert_eq!(done[0]["job"]["exit_code"], 0);
    wait_for(JOB_TIMEOUT, "the health to be ok again", || {
        health(&d)["status"] == "ok"
    });
    assert_eq!(lines(&runs), ["run"], "the job ran once");
    // Everything acknowledged before is still there.
    let after = d.api("GET", "/api/jobs", None);
    assert_eq!(
        after["jobs"].as_array().unwrap().len(),
        before["jobs"].as_array().unwrap().len()
    );
    assert_eq!(integrity_check(&d.home().join("nightshift.db")), "ok");
}

#[test]
fn an_outcome_that_could_not_be_written_survives_a_sigkill() {
    let (mut d, fs) = on_small_fs();
    let runs = d.scratch().join("runs");
    let gate = Gate::new(d.scratch(), "gate");
    // Two attempts allowed: recorded as a crash instead of its outcome, it would run again.
    let mut args = vec!["--attempts", "2"];
    let script = sh(
        "echo run >> \"$1\"; read x < \"$2\"; exit 0",
        &[runs.to_str().unwrap(), gate.path()],
    );
    args.extend(script);
    let id = d.add(&args);
    d.wait_running(id);

    let filler = fs.fill();
    gate.open();
    wait_for(JOB_TIMEOUT, "the outcome to wait for the disk", || {
        health(&d)["problems"]
            .to_string()
            .contains("wait to be recorded")
    });
    d.kill9();
    std::fs::remove_file(filler).unwrap();
    d.restart();

    let done = d.wait_jobs(&[id], JOB_TIMEOUT);
    let job = &done[0]["job"];
    assert_eq!(job["state"], "succeeded", "{}", done[0]);
    assert_eq!(job["exit_code"], 0, "{}", done[0]);
    assert_eq!(
        lines(&runs),
        ["run"],
        "a job that exited 0 must not run again"
    );
    assert_eq!(health(&d)["status"], "ok");
    assert_eq!(integrity_check(&d.home().join("nightshift.db")), "ok");
}
