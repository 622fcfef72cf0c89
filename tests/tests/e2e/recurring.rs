//! Recurring jobs from the command line: `add --every` and `--cron`, `schedule ls|pause|resume|
//! run|rm`, and the messages for bad intervals and cron expressions.

use nightshift_e2e::{Daemon, JOB_TIMEOUT, describe, wait_for};
use serde_json::Value;

fn schedules(d: &Daemon) -> Value {
    serde_json::from_str(&d.cli_ok(&["schedule", "ls", "--json"])).unwrap()
}

/// Ids of the finished runs of a schedule.
fn runs(d: &Daemon, name: &str) -> Vec<i64> {
    let page = d.api("GET", "/api/jobs?limit=1000", None);
    page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["unique_key"] == format!("schedule:{name}"))
        .map(|j| j["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn an_interval_job_runs_again_and_again_until_paused_or_removed() {
    let d = Daemon::start();
    let out = d.cli_ok(&["add", "--every", "1s", "--name", "tick", "--", "true"]);
    assert!(
        out.starts_with("schedule tick: every 1s; next run "),
        "{out}"
    );
    wait_for(JOB_TIMEOUT, "two runs", || runs(&d, "tick").len() >= 2);
    let listed = schedules(&d);
    assert_eq!(listed[0]["name"], "tick");
    assert_eq!(listed[0]["recurrence"], "every 1s");
    assert_eq!(listed[0]["catch_up"], true);
    let table = d.cli_ok(&["schedules"]);
    assert!(
        table.contains("tick") && table.contains("every 1s"),
        "{table}"
    );

    let paused = d.cli_ok(&["schedule", "pause", "tick"]);
    assert!(paused.contains("schedule tick paused"), "{paused}");
    assert_eq!(schedules(&d)[0]["paused"], true);
    assert!(schedules(&d)[0]["next_run"].is_null());
    // Run now works while paused; it prints the new run's id.
    let id: i64 = d
        .cli_ok(&["schedule", "run", "tick"])
        .trim()
        .parse()
        .unwrap();
    wait_for(JOB_TIMEOUT, "the run", || d.state(id) == "succeeded");

    d.cli_ok(&["schedule", "rm", "tick"]);
    assert_eq!(schedules(&d), Value::Array(vec![]));
    let out = d.cli(&["schedule", "rm", "tick"]);
    assert!(!out.status.success());
    assert!(
        describe(&out).contains("no schedule named 'tick'"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_cron_job_waits_for_its_time_and_bad_input_shows_the_accepted_form() {
    let d = Daemon::start();
    let out = d.cli_ok(&["add", "--cron", "30 2 * * *", "--", "/usr/bin/backup-tool"]);
    // The name comes from the program.
    assert!(
        out.starts_with("schedule backup-tool: cron 30 2 * * *"),
        "{out}"
    );
    let listed = schedules(&d);
    let next = listed[0]["next_run"].as_i64().unwrap();
    assert!(next > chrono_now(), "the first run is in the future");
    assert!(runs(&d, "backup-tool").is_empty());

    for (args, words) in [
        (
            vec!["add", "--cron", "61 * * * *", "--", "true"],
            "expected five fields",
        ),
        (
            vec!["add", "--cron", "0 0 * * * *", "--", "true"],
            "expected five fields",
        ),
        (vec!["add", "--every", "0s", "--", "true"], "at least 1s"),
        (
            vec!["add", "--every", "soon", "--", "true"],
            "e.g. 90s, 30m",
        ),
        (
            vec!["add", "--min-battery", "120", "--", "true"],
            "0 to 100",
        ),
        (vec!["add", "--at", "25:99", "--", "true"], "HH:MM"),
    ] {
        let out = d.cli(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(
            describe(&out).contains(words),
            "{args:?}: {}",
            describe(&out)
        );
    }
    let out = d.cli(&[
        "add",
        "--cron",
        "* * * * *",
        "--name",
        "backup-tool",
        "--",
        "true",
    ]);
    assert!(!out.status.success());
    assert!(
        describe(&out).contains("already exists"),
        "{}",
        describe(&out)
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
