//! The local API's checks, from outside: token, Host, Origin, body limits, JSON errors, and job
//! ids that cannot reach outside the logs folder.

use crate::error_body;
use nightshift_e2e::{Daemon, JOB_TIMEOUT, RawResponse};
use std::os::unix::fs::PermissionsExt;

const MIB: usize = 1024 * 1024;

fn assert_error(r: &RawResponse, status: u16, code: &str) -> String {
    assert_eq!(r.status, status, "body: {}", r.text());
    error_body(r.status, &r.text(), code)
}

#[test]
fn every_api_request_needs_the_token() {
    let d = Daemon::start();
    let mode = std::fs::metadata(d.home().join("token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the token file must be private");

    for (method, path) in [
        ("GET", "/api/health"),
        ("GET", "/api/jobs"),
        ("GET", "/api/jobs/1"),
        ("POST", "/api/jobs"),
        ("GET", "/api/queues"),
    ] {
        let (status, body) = d.http_with(method, path, &[], Some(b"{\"cmd\":[\"true\"]}"));
        assert_eq!(status, 401, "{method} {path} without a token: {body}");
        error_body(status, &body, "unauthorized");
        let wrong = format!("Bearer {}", "0".repeat(d.token().len()));
        let (status, body) = d.http_with(
            method,
            path,
            &[("Authorization", &wrong)],
            Some(b"{\"cmd\":[\"true\"]}"),
        );
        assert_eq!(status, 401, "{method} {path} with a wrong token: {body}");
        error_body(status, &body, "unauthorized");
    }
    // Not with the raw token either (it must be a bearer token), and no job was created.
    let (status, _) = d.http_with("GET", "/api/jobs", &[("Authorization", d.token())], None);
    assert_eq!(status, 401);
    let (status, body) = d.http("GET", "/api/jobs", None);
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        page["jobs"],
        serde_json::json!([]),
        "a refused POST created a job"
    );
}

#[test]
fn a_foreign_host_header_is_refused() {
    let d = Daemon::start();
    let bearer = d.bearer();
    let port = d.port();
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        format!("127.0.0.1.evil.example:{port}"),
    ] {
        for (method, path) in [("GET", "/api/health"), ("GET", "/api/jobs"), ("GET", "/")] {
            let r = d.raw_http(
                method,
                path,
                &[("Host", &host), ("Authorization", &bearer)],
                b"",
            );
            assert!(
                r.status == 421 || r.status == 403,
                "{method} {path} with Host {host}: {} {}",
                r.status,
                r.text()
            );
            let code = if r.status == 421 {
                "misdirected_request"
            } else {
                "forbidden"
            };
            error_body(r.status, &r.text(), code);
        }
    }
    // The same requests with our own names are served.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let r = d.raw_http(
            "GET",
            "/api/health",
            &[("Host", &host), ("Authorization", &bearer)],
            b"",
        );
        assert_eq!(r.status, 200, "Host {host}: {}", r.text());
    }
}

#[test]
fn state_changes_from_a_foreign_origin_are_refused() {
    let d = Daemon::start();
    let job = br#"{"cmd":["true"]}"#;
    for origin in [
        "http://evil.example",
        "null",
        "http://127.0.0.1.evil.example",
    ] {
        let (status, body) = d.http_with(
            "POST",
            "/api/jobs",
            &[("Authorization", &d.bearer()), ("Origin", origin)],
            Some(job),
        );
        assert_eq!(status, 403, "POST with Origin {origin}: {body}");
        error_body(status, &body, "forbidden");
    }
    let (status, body) = d.http_with(
        "POST",
        "/api/jobs",
        &[
            ("Authorization", &d.bearer()),
            ("Sec-Fetch-Site", "cross-site"),
        ],
        Some(job),
    );
    assert_eq!(status, 403, "POST marked cross-site: {body}");
    error_body(status, &body, "forbidden");
    // A real job, to try to delete and retry from elsewhere.
    let id = d.add(&["--", "true"]);
    d.wait_jobs(&[id], JOB_TIMEOUT);
    for (method, path) in [
        ("DELETE", format!("/api/jobs/{id}")),
        ("POST", format!("/api/jobs/{id}/retry")),
    ] {
        let (status, body) = d.http_with(
            method,
            &path,
            &[
                ("Authorization", &d.bearer()),
                ("Origin", "http://evil.example"),
            ],
            None,
        );
        assert_eq!(status, 403, "{method} {path} with a foreign Origin: {body}");
        error_body(status, &body, "forbidden");
    }
    assert_eq!(
        d.state(id),
        "succeeded",
        "a refused request changed the job"
    );
    let page = d.api("GET", "/api/jobs", None);
    assert_eq!(page["jobs"].as_array().unwrap().len(), 1, "{page}");

    // Our own origin may.
    let own = format!("http://127.0.0.1:{}", d.port());
    let (status, body) = d.http_with(
        "POST",
        "/api/jobs",
        &[("Authorization", &d.bearer()), ("Origin", &own)],
        Some(job),
    );
    assert_eq!(status, 201, "POST with our own Origin: {body}");
}

#[test]
fn malformed_and_invalid_bodies_are_400_with_json_errors() {
    let d = Daemon::start();
    for body in [
        &b"{\"cmd\": [\"true\""[..],
        b"not json at all",
        b"",
        b"[]",
        b"{\"cmd\": \"true\"}",
        b"{\"cmd\": []}",
        b"{\"cmd\": [\"true\"], \"unknown_field\": 1}",
        b"{\"cmd\": [\"true\"], \"timeout\": \"5\"}",
        b"{\"cmd\": [\"true\"], \"queue\": \"no spaces allowed\"}",
        b"{\"cmd\": [\"true\"], \"max_attempts\": 0}",
        b"\xff\xfe{}",
    ] {
        let (status, answer) = d.http("POST", "/api/jobs", Some(body));
        assert_eq!(
            status,
            400,
            "POST /api/jobs {:?}: {answer}",
            String::from_utf8_lossy(body)
        );
        error_body(status, &answer, "bad_request");
    }
    let (status, answer) = d.http("POST", "/api/jobs/wait", Some(b"{\"ids\": [1,"));
    assert_eq!(status, 400, "{answer}");
    error_body(status, &answer, "bad_request");
    let (status, answer) = d.http("GET", "/api/jobs?state=sleeping", None);
    assert_eq!(status, 400, "{answer}");
    error_body(status, &answer, "bad_request");
    let page = d.api("GET", "/api/jobs", None);
    assert_eq!(
        page["jobs"],
        serde_json::json!([]),
        "a bad request created a job"
    );
}

#[test]
fn oversize_bodies_are_413() {
    let d = Daemon::start();
    let bearer = d.bearer();
    let host = d.host();
    let headers = [
        ("Host", host.as_str()),
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    // A wait request is capped at 8 MiB.
    let mut wait = b"{\"ids\":[".to_vec();
    while wait.len() < 9 * MIB {
        wait.extend_from_slice(b"1,");
    }
    wait.extend_from_slice(b"1]}");
    let r = d.raw_http("POST", "/api/jobs/wait", &headers, &wait);
    assert_error(&r, 413, "payload_too_large");

    // An enqueue is capped at twice the payload cap plus 1 MiB (21 MiB by default).
    let mut job = b"{\"cmd\":[\"true\"],\"payload\":\"".to_vec();
    job.resize(job.len() + 22 * MIB, b'x');
    job.extend_from_slice(b"\"}");
    let r = d.raw_http("POST", "/api/jobs", &headers, &job);
    assert_error(&r, 413, "payload_too_large");

    // The server is still fine, and nothing was stored.
    let page = d.api("GET", "/api/jobs", None);
    assert_eq!(page["jobs"], serde_json::json!([]), "{page}");
}

#[test]
fn unknown_jobs_and_routes_are_404() {
    let d = Daemon::start();
    for (method, path, code) in [
        ("GET", "/api/jobs/999999", "not_found"),
        ("GET", "/api/jobs/999999/logs", "not_found"),
        ("POST", "/api/jobs/999999/cancel", "not_found"),
        ("POST", "/api/jobs/999999/retry", "not_found"),
        ("DELETE", "/api/jobs/999999", "not_found"),
        ("GET", "/api/nothing-here", "not_found"),
    ] {
        let (status, body) = d.http(method, path, None);
        assert_eq!(status, 404, "{method} {path}: {body}");
        error_body(status, &body, code);
    }
    let out = d.cli(&["show", "999999"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        nightshift_e2e::describe(&out)
    );
}

#[test]
fn job_ids_in_log_routes_cannot_reach_outside_the_logs_folder() {
    let d = Daemon::start();
    // A real job 1 with a log, so paths that begin with "1" have something to find.
    let id = d.add(&["--", "sh", "-c", "echo job-one-output"]);
    assert_eq!(id, 1);
    d.wait_jobs(&[id], JOB_TIMEOUT);
    // A file just outside logs/ that a traversal would reach.
    std::fs::write(d.home().join("secret.log"), "secret-outside-logs").unwrap();

    let bearer = d.bearer();
    let host = d.host();
    let headers = [("Host", host.as_str()), ("Authorization", bearer.as_str())];
    for target in [
        "/api/jobs/..%2F..%2Fetc%2Fpasswd/logs",
        "/api/jobs/../../etc/passwd/logs",
        "/api/jobs/..%2Fsecret/logs",
        "/api/jobs/%2E%2E%2Fsecret/logs",
        "/api/jobs/..%2Ftoken/logs",
        "/api/jobs/-1/logs",
        "/api/jobs/0/logs",
        "/api/jobs/1%2F..%2F..%2Fsecret/logs",
        "/api/jobs/1%00/logs",
        "/api/jobs/1.log/logs",
        "/api/jobs/%2Fetc%2Fpasswd/logs",
        "/api/jobs/99999999999999999999/logs",
        "/api/jobs/1/../../../etc/passwd",
        "/api/jobs/%20/logs",
    ] {
        let r = d.raw_http("GET", target, &headers, b"");
        let body = r.text();
        assert!(
            r.status == 400 || r.status == 404,
            "GET {target}: {} {body}",
            r.status
        );
        assert!(
            !body.contains("root:") && !body.contains("secret-outside-logs"),
            "GET {target} leaked a file: {body}"
        );
        let code = if r.status == 400 {
            "bad_request"
        } else {
            "not_found"
        };
        error_body(r.status, &body, code);
    }
    // The honest route still works.
    let (status, body) = d.http("GET", "/api/jobs/1/logs", None);
    assert_eq!(status, 200);
    assert_eq!(body, "job-one-output\n");
}

#[test]
fn the_files_holding_secrets_are_private() {
    let d = Daemon::start();
    for name in ["token", "daemon.json"] {
        let mode = std::fs::metadata(d.home().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name} must be private");
    }
}

#[test]
fn the_bearer_scheme_is_case_insensitive_but_the_token_is_not() {
    let d = Daemon::start();
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let auth = format!("{scheme} {}", d.token());
        let (status, body) = d.http_with("GET", "/api/health", &[("Authorization", &auth)], None);
        assert_eq!(status, 200, "{auth}: {body}");
    }
    let upper = format!("Bearer {}", d.token().to_uppercase());
    assert_ne!(
        upper,
        d.bearer(),
        "the token has letters to change the case of"
    );
    for auth in [
        upper,
        format!("Basic {}", d.token()),
        format!("Bearer{}", d.token()),
    ] {
        let (status, body) = d.http_with("GET", "/api/health", &[("Authorization", &auth)], None);
        assert_eq!(status, 401, "{auth}: {body}");
        error_body(status, &body, "unauthorized");
    }
}

#[test]
fn cross_site_requests_are_refused_in_any_case() {
    let d = Daemon::start();
    for site in ["cross-site", "Cross-Site", "CROSS-SITE"] {
        let (status, body) = d.http_with(
            "POST",
            "/api/jobs",
            &[("Authorization", &d.bearer()), ("Sec-Fetch-Site", site)],
            Some(br#"{"cmd":["true"]}"#),
        );
        assert_eq!(status, 403, "Sec-Fetch-Site: {site}: {body}");
        error_body(status, &body, "forbidden");
    }
    let page = d.api("GET", "/api/jobs", None);
    assert_eq!(page["jobs"], serde_json::json!([]), "{page}");
}

#[test]
fn wrong_methods_are_405_with_their_own_code() {
    let d = Daemon::start();
    let bearer = d.bearer();
    let host = d.host();
    let headers = [("Host", host.as_str()), ("Authorization", bearer.as_str())];
    // An API route that exists, with a method it does not take.
    for (method, path) in [("DELETE", "/api/health"), ("GET", "/api/jobs/batch")] {
        let r = d.raw_http(method, path, &headers, b"");
        assert_error(&r, 405, "method_not_allowed");
        assert!(
            r.header("allow").is_some(),
            "{method} {path}: {:?}",
            r.headers
        );
    }
    // The web UI is only read.
    for (method, path) in [
        ("POST", "/"),
        ("PUT", "/index.html"),
        ("DELETE", "/"),
        ("PATCH", "/assets/anything.js"),
        ("OPTIONS", "/"),
    ] {
        let r = d.raw_http(method, path, &headers, b"");
        assert_error(&r, 405, "method_not_allowed");
        assert_eq!(r.header("allow"), Some("GET, HEAD"), "{method} {path}");
    }
    for method in ["GET", "HEAD"] {
        let (status, body) = d.http_with(method, "/", &[], None);
        assert_eq!(status, 200, "{method} /: {body}");
    }
}
