//! The CLI's everyday paths and its exit codes.

use crate::{error_body, listed_ids, ls_json, outcomes, sh};
use nightshift_e2e::{Daemon, JOB_TIMEOUT, describe, lines, text};
use serde_json::Value;
use std::time::Duration;

#[test]
fn add_prints_the_id_and_logs_keep_stdout_and_stderr_in_order() {
    let d = Daemon::start();
    let first = d.add(&sh("echo out-line; echo err-line >&2", &[]));
    assert!(first > 0);
    let second = d.add(&["--", "true"]);
    assert!(second > first, "ids grow: {first} then {second}");

    let out = d.cli(&["wait", &first.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let logs = d.cli_ok(&["logs", &first.to_string()]);
    assert_eq!(logs, "out-line\nerr-line\n");
    let tail = d.cli_ok(&["logs", &first.to_string(), "--tail", "1"]);
    assert_eq!(tail, "err-line\n");

    let show: Value = serde_json::from_str(&d.cli_ok(&["show", &first.to_string(), "--json"]))
        .expect("show --json prints JSON");
    assert_eq!(show["job"]["state"], "succeeded", "{show}");
    assert_eq!(show["job"]["exit_code"], 0);
    assert_eq!(outcomes(&show), ["succeeded"]);
    let text_show = d.cli_ok(&["show", &first.to_string()]);
    assert!(text_show.contains("succeeded"), "{text_show}");
}

#[test]
fn add_wait_exits_with_the_jobs_exit_code() {
    let d = Daemon::start();
    let out = d.cli(&["add", "--wait", "--", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(7), "{}", describe(&out));
    let out = d.cli(&["add", "--wait", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let out = d.cli(&["add", "--wait", "--shell", "--", "exit", "3"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));

    let failed = ls_json(&d, &["--state", "failed"]);
    let jobs = failed["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{failed}");
    assert!(jobs.iter().any(|j| j["exit_code"] == 7), "{failed}");
}

#[test]
fn ls_filters_by_state_and_queue() {
    let d = Daemon::start();
    let ok = d.add(&["--", "true"]);
    let bad = d.add(&["--", "false"]);
    let other = d.add(&["--queue", "other", "--", "true"]);
    d.wait_jobs(&[ok, bad, other], JOB_TIMEOUT);

    assert_eq!(listed_ids(&ls_json(&d, &["--state", "failed"])), [bad]);
    assert_eq!(
        listed_ids(&ls_json(&d, &["--state", "succeeded"])),
        [other, ok],
        "newest first"
    );
    assert_eq!(listed_ids(&ls_json(&d, &["--queue", "other"])), [other]);
    assert_eq!(
        listed_ids(&ls_json(&d, &["--state", "cancelled"])),
        Vec::<i64>::new()
    );
    let table = d.cli_ok(&["ls", "--state", "failed"]);
    assert!(
        table.contains("false") && !table.contains("true"),
        "the table should list only the failed job: {table}"
    );
    let out = d.cli(&["ls", "--state", "sleeping"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}

#[test]
fn retry_runs_a_failed_job_again() {
    let d = Daemon::start();
    let runs = d.scratch().join("runs");
    // Fails on its first run, succeeds on the second.
    let id = d.add(&sh(
        "echo running; echo run >> \"$1\"; test \"$(wc -l < \"$1\")\" -ge 2",
        &[runs.to_str().unwrap()],
    ));
    let out = d.cli(&["wait", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(d.state(id), "failed");

    let out = d.cli_ok(&["retry", &id.to_string()]);
    assert!(out.contains("queued again"), "{out}");
    let out = d.cli(&["wait", &id.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let detail = d.show(id);
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(outcomes(&detail), ["failed", "succeeded"]);
    assert_eq!(lines(&runs).len(), 2);
    // The log keeps both runs, the second under a header.
    let logs = d.cli_ok(&["logs", &id.to_string()]);
    assert_eq!(logs, "running\n--- nightshift: attempt 2 ---\nrunning\n");
}

#[test]
fn wait_on_several_jobs() {
    let d = Daemon::start();
    let a = d.add(&sh("exit 0", &[]));
    let b = d.add(&sh("exit 0", &[]));
    let bad = d.add(&sh("exit 3", &[]));

    let out = d.cli(&["wait", &a.to_string(), &b.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let listed = text(&out.stdout);
    assert!(
        listed.contains(&format!("{a}\tsucceeded")) && listed.contains(&format!("{b}\tsucceeded")),
        "wait should list both jobs: {listed}"
    );

    let out = d.cli(&["wait", &a.to_string(), &bad.to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let result: Value = serde_json::from_slice(&out.stdout).expect("wait --json prints JSON");
    let finished = result["finished"].as_array().unwrap();
    assert_eq!(finished.len(), 2, "{result}");
    assert_eq!(finished[0]["id"], a);
    assert_eq!(finished[0]["state"], "succeeded");
    assert_eq!(finished[1]["id"], bad);
    assert_eq!(finished[1]["state"], "failed");
    assert_eq!(finished[1]["exit_code"], 3);

    // A job that does not finish in time: exit 5.
    let slow = d.add(&["--", "sleep", "300"]);
    let out = d.cli(&["wait", &slow.to_string(), "--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(5), "{}", describe(&out));
    d.cli_ok(&["cancel", &slow.to_string()]);
    let out = d.cli(&["wait", &slow.to_string()]);
    assert_eq!(
        out.status.code(),
        Some(130),
        "a cancelled job: {}",
        describe(&out)
    );
}

#[test]
fn a_batch_of_1000_jobs_all_run() {
    let d = Daemon::with_config("[queues.batch]\nconcurrency = 8\n");
    let file = d.scratch().join("jobs.jsonl");
    let mut batch = String::new();
    for n in 0..1000 {
        if n % 2 == 0 {
            batch.push_str("{\"cmd\":[\"true\"],\"queue\":\"batch\"}\n");
        } else {
            batch.push_str(&format!(
                "{{\"cmd\":[\"sh\",\"-c\",\"exit 0\",\"job-{n}\"],\"queue\":\"batch\"}}\n"
            ));
        }
    }
    std::fs::write(&file, batch).unwrap();
    let answer: Value =
        serde_json::from_str(&d.cli_ok(&["add", "--batch", file.to_str().unwrap(), "--json"]))
            .expect("add --batch --json prints JSON");
    assert_eq!(answer["count"], 1000, "{answer}");
    let ids: Vec<String> = answer["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap().to_string())
        .collect();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 1000, "ids must be distinct");

    let mut args = vec!["wait", "--timeout", "5m"];
    args.extend(ids.iter().map(String::as_str));
    let out = d
        .cli_timeout(&args, Duration::from_secs(330))
        .unwrap_or_else(|out| panic!("wait hung: {}", describe(&out)));
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    let done = ls_json(
        &d,
        &[
            "--queue",
            "batch",
            "--state",
            "succeeded",
            "--limit",
            "1000",
        ],
    );
    assert_eq!(done["jobs"].as_array().unwrap().len(), 1000);
    let queues: Value = serde_json::from_str(&d.cli_ok(&["queues", "--json"])).unwrap();
    let batch = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "batch")
        .expect("queue batch is listed");
    assert_eq!(batch["counts"]["succeeded"], 1000, "{batch}");
    assert_eq!(batch["counts"]["queued"], 0, "{batch}");
}

#[test]
fn clients_without_a_running_daemon_exit_3_and_say_how_to_start_one() {
    let mut d = Daemon::builder().prepare();
    for args in [
        &["status"][..],
        &["ls"],
        &["add", "--", "true"],
        &["show", "1"],
    ] {
        let out = d.cli(args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", describe(&out));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("not running") && stderr.contains("nightshift daemon"),
            "{args:?} should say how to start Nightshift: {stderr}"
        );
    }

    // A daemon.json left by a SIGKILLed daemon does not confuse the client.
    d.restart();
    d.kill9();
    assert!(d.home().join("daemon.json").exists());
    let out = d.cli(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(d.url()) && stderr.contains("nightshift daemon"),
        "{stderr}"
    );
}

#[test]
fn a_bad_duration_is_refused_with_the_accepted_form() {
    let d = Daemon::start();
    let out = d.cli(&["add", "--timeout", "5", "--", "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("5s") && stderr.contains("unit"),
        "the error should show the accepted form: {stderr}"
    );
    let out = d.cli(&["add", "--timeout", "soon", "--", "true"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(text(&out.stderr).contains("90s"), "{}", describe(&out));
    let out = d.cli(&["wait", "1", "--timeout", "10"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));

    // The API refuses the same with a 400 naming the form.
    let (status, body) = d.http(
        "POST",
        "/api/jobs",
        Some(br#"{"cmd":["true"],"timeout":"5"}"#),
    );
    assert_eq!(status, 400, "{body}");
    assert!(error_body(status, &body, "bad_request").contains("5s"));
    assert_eq!(listed_ids(&ls_json(&d, &[])), Vec::<i64>::new());
}

#[test]
fn unknown_ids_exit_4_and_bad_ids_are_refused() {
    let d = Daemon::start();
    for cmd in ["show", "logs", "cancel", "retry", "rm", "wait"] {
        let out = d.cli(&[cmd, "999999"]);
        assert_eq!(out.status.code(), Some(4), "{cmd}: {}", describe(&out));
    }
    for bad in ["abc", "0", "../1", "1x"] {
        let out = d.cli(&["show", bad]);
        assert!(!out.status.success(), "show {bad}: {}", describe(&out));
        assert_ne!(out.status.code(), Some(4));
        assert!(
            text(&out.stderr).contains("positive whole number"),
            "show {bad}: {}",
            describe(&out)
        );
    }
}

#[test]
fn rm_deletes_a_finished_job_with_its_log_and_refuses_a_running_one() {
    let d = Daemon::start();
    let id = d.add(&sh("echo something", &[]));
    d.wait_jobs(&[id], JOB_TIMEOUT);
    let log = d.home().join("logs").join(format!("{id}.log"));
    assert!(log.exists(), "no log at {}", log.display());
    d.cli_ok(&["rm", &id.to_string()]);
    assert!(!log.exists(), "rm left the log");
    let out = d.cli(&["show", &id.to_string()]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));

    let running = d.add(&["--", "sleep", "300"]);
    d.wait_running(running);
    let out = d.cli(&["rm", &running.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(d.state(running), "running");
    d.cli_ok(&["cancel", &running.to_string()]);
}

#[test]
fn a_batch_with_a_bad_line_stores_nothing_and_names_the_line() {
    let d = Daemon::start();
    let file = d.scratch().join("jobs.jsonl");
    std::fs::write(
        &file,
        "{\"cmd\":[\"true\"]}\n\n{\"cmd\":[\"true\"],\"queu\":\"x\"}\n{\"cmd\":[\"true\"]}\n",
    )
    .unwrap();
    let out = d.cli(&["add", "--batch", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("queu"),
        "the error should name line 3 and the bad field: {stderr}"
    );
    assert_eq!(listed_ids(&ls_json(&d, &[])), Vec::<i64>::new());
}

#[test]
fn job_ids_are_never_reused_after_rm() {
    let d = Daemon::start();
    let first = d.add(&["--", "true"]);
    let newest = d.add(&sh("echo old job output", &[]));
    d.wait_jobs(&[first, newest], JOB_TIMEOUT);
    d.cli_ok(&["rm", &newest.to_string()]);
    // An id is a handle scripts keep (`wait ID`, `logs ID`): after rm it must not name a
    // different job.
    let next = d.add(&["--", "true"]);
    assert!(
        next > newest,
        "job id {newest} was removed and then given to a new job ({next})"
    );
}
