//! Hostile and edge input at the API's door: every one is answered with a status and a message
//! that names the problem, and none of them stops the engine from dispatching the next job.

use crate::error_body;
use nightshift_e2e::{Daemon, JOB_TIMEOUT};
use serde_json::{Value, json};

/// POSTs a job and expects a 400 whose message starts with `field`.
fn refused(d: &Daemon, body: Value, field: &str) -> String {
    let (status, text) = d.http("POST", "/api/jobs", Some(body.to_string().as_bytes()));
    assert_eq!(status, 400, "{body} was accepted: {text}");
    let message = error_body(status, &text, "bad_request");
    assert!(message.contains(field), "{body}: {message}");
    message
}

#[test]
fn times_and_waits_from_outside_cannot_overflow_the_engine() {
    let d = Daemon::start();
    for run_at in [
        json!(i64::MIN),
        json!(i64::MAX),
        json!("10000-01-01T00:00:00Z"),
    ] {
        refused(&d, json!({"cmd": ["true"], "run_at": run_at}), "run_at");
    }
    for delay in [
        json!(i64::MAX),
        json!(1u64 << 63),
        json!(u64::MAX),
        json!("9000years"),
    ] {
        refused(&d, json!({"cmd": ["true"], "delay": delay}), "delay");
    }
    // The forms the docs show are accepted: an offset, and the first year RFC 3339 writes
    // (in the past, so due at once).
    let later = d.api(
        "POST",
        "/api/jobs",
        Some(&json!({"cmd": ["true"], "run_at": "9999-12-31T23:00:00+01:00"})),
    );
    let early = d.api(
        "POST",
        "/api/jobs",
        Some(&json!({"cmd": ["true"], "run_at": "0001-01-01T00:00:00Z"})),
    );
    // A job far in the future is listed with its waiting message (formatting it once panicked),
    // and the engine still dispatches: the early job runs.
    let page = d.api("GET", "/api/jobs", None);
    let far = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == later["id"])
        .expect("the far job is listed");
    let message = far["waiting"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("9999-12-31T22:00:00"), "{far}");
    let early = early["id"].as_i64().unwrap();
    let done = d.wait_jobs(&[early], JOB_TIMEOUT);
    assert_eq!(done[0]["job"]["state"], "succeeded");
    let health = d.api("GET", "/api/health", None);
    assert_eq!(health["status"], "ok", "{health}");
}

#[test]
fn commands_that_could_only_fail_at_start_are_refused_when_added() {
    let d = Daemon::start();
    let missing = d.scratch().join("no-such-folder");
    let message = refused(&d, json!({"cmd": ["true"], "cwd": missing}), "cwd");
    assert!(message.contains("no-such-folder"), "{message}");
    let file = d.scratch().join("a-file");
    std::fs::write(&file, b"").unwrap();
    refused(&d, json!({"cmd": ["true"], "cwd": file}), "not a directory");
    refused(&d, json!({"cmd": ["true"], "cwd": "/tmp/a\u{0}b"}), "NUL");
    let long = "x".repeat(200 * 1024);
    refused(&d, json!({"cmd": ["echo", long]}), "at most 131072 bytes");
    let many = vec!["y".repeat(100 * 1024); 12];
    let mut cmd = vec!["echo".to_string()];
    cmd.extend(many);
    refused(&d, json!({"cmd": cmd}), "over the limit");
    // A batch names the line and stores nothing.
    let body = format!(
        "{}\n{}\n",
        json!({"cmd": ["true"]}),
        json!({"cmd": ["true"], "cwd": missing})
    );
    let (status, text) = d.http("POST", "/api/jobs/batch", Some(body.as_bytes()));
    assert_eq!(status, 400, "{text}");
    let page = d.api("GET", "/api/jobs", None);
    assert_eq!(page["jobs"], json!([]), "a refused batch stored a job");
}

#[test]
fn ids_limits_and_names_get_their_own_answers() {
    let d = Daemon::start();
    // Every id the store can make is an id: 19 digits is a 404, not a 400.
    let (status, text) = d.http("GET", &format!("/api/jobs/{}", i64::MAX), None);
    assert_eq!(status, 404, "{text}");
    error_body(status, &text, "not_found");
    let (status, text) = d.http("GET", "/api/jobs/9223372036854775808", None);
    assert_eq!(status, 400, "{text}");
    for limit in ["0", "1001", "-1"] {
        let (status, text) = d.http("GET", &format!("/api/jobs?limit={limit}"), None);
        assert_eq!(status, 400, "limit={limit}: {text}");
        error_body(status, &text, "bad_request");
    }
    let (status, text) = d.http("GET", "/api/jobs?limit=1000", None);
    assert_eq!(status, 200, "{text}");
    refused(&d, json!({"cmd": ["true"], "after": [0]}), "positive");
    let schedule = json!({"name": "nightly", "every": "1h", "job": {"cmd": ["true"]}});
    d.api("POST", "/api/schedules", Some(&schedule));
    let (status, text) = d.http(
        "POST",
        "/api/schedules",
        Some(schedule.to_string().as_bytes()),
    );
    assert_eq!(status, 409, "{text}");
    let message = error_body(status, &text, "conflict");
    assert!(message.contains("already exists"), "{message}");
}
