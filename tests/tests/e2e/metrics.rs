//! `/metrics`: what jobs did, counted, in both exposition formats, clean under promtool, and
//! only for a caller with the token.

use nightshift_e2e::Daemon;
use std::io::Write;
use std::process::{Command, Stdio};

/// The value of the sample whose line starts with `series` (name and labels as printed).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l[series.len()..].trim().parse().ok())
}

/// `promtool check metrics` on `text`: its complaints, empty when clean.
pub(crate) fn promtool_check(text: &str) -> String {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool from Debian's prometheus package (cargo xtask test installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() || !said.is_empty(),
        "promtool failed silently"
    );
    if out.status.success() {
        String::new()
    } else {
        said
    }
}

#[test]
fn metrics_count_what_jobs_did_in_both_formats_clean_under_promtool() {
    let d = Daemon::start();
    let ok = d.add(&["--queue", "work", "--", "true"]);
    let failed = d.add(&["--queue", "work", "--", "sh", "-c", "exit 3"]);
    let retried = d.add(&[
        "--queue",
        "other",
        "--attempts",
        "2",
        "--",
        "sh",
        "-c",
        "exit 1",
    ]);
    for id in [ok, failed, retried] {
        d.cli(&["wait", &id.to_string()]);
    }
    d.add(&["--queue", "later", "--in", "1h", "--", "true"]);

    let (status, text) = d.http("GET", "/metrics", None);
    assert_eq!(status, 200, "{text}");
    for (series, want) in [
        (r#"nightshift_jobs_added_total{queue="work"}"#, 2.0),
        (r#"nightshift_attempts_started_total{queue="work"}"#, 2.0),
        (
            r#"nightshift_jobs_finished_total{queue="work",outcome="succeeded"}"#,
            1.0,
        ),
        (
            r#"nightshift_jobs_finished_total{queue="work",outcome="failed"}"#,
            1.0,
        ),
        (
            r#"nightshift_attempt_failures_total{queue="work",cause="exit_code"}"#,
            1.0,
        ),
        (r#"nightshift_jobs_retried_total{queue="other"}"#, 1.0),
        (
            r#"nightshift_attempt_failures_total{queue="other",cause="exit_code"}"#,
            2.0,
        ),
        (
            r#"nightshift_jobs_finished_total{queue="other",outcome="failed"}"#,
            1.0,
        ),
        (r#"nightshift_attempt_run_seconds_count{queue="work"}"#, 2.0),
        (r#"nightshift_job_wait_seconds_count{queue="other"}"#, 2.0),
        (r#"nightshift_queue_jobs{queue="work",state="queued"}"#, 0.0),
        (
            r#"nightshift_queue_jobs{queue="later",state="scheduled"}"#,
            1.0,
        ),
        (
            r#"nightshift_queue_jobs{queue="later",state="queued"}"#,
            0.0,
        ),
        ("nightshift_power_on_ac", 1.0),
    ] {
        assert_eq!(sample(&text, series), Some(want), "{series} in:\n{text}");
    }
    assert!(
        sample(&text, "nightshift_process_resident_memory_bytes").is_some_and(|b| b > 1e6),
        "{text}"
    );
    let free = sample(&text, "nightshift_data_disk_free_bytes").expect("disk free");
    let size = sample(&text, "nightshift_data_disk_size_bytes").expect("disk size");
    assert!(free > 0.0 && free <= size, "{free} of {size}");
    // Labels are bounded: only these names, and queues by their names.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(labels) = line
            .split_once('{')
            .and_then(|(_, rest)| rest.split_once('}'))
        else {
            continue;
        };
        for pair in labels.0.split(',') {
            let (key, value) = pair.split_once('=').expect(line);
            assert!(
                [
                    "queue", "outcome", "cause", "state", "le", "version", "rule", "severity"
                ]
                .contains(&key),
                "unexpected label {key} in {line}"
            );
            // The incidents' labels are fixed sets: rule names and severities.
            if key == "severity" {
                assert!(
                    ["\"info\"", "\"warning\"", "\"critical\""].contains(&value),
                    "{line}"
                );
            }
            if key == "rule" {
                let rules = [
                    "failure_rate",
                    "success_rate",
                    "backlog",
                    "backlog_growing",
                    "stalled",
                    "slow_processing",
                    "success_below_baseline",
                    "worker_down",
                    "unclean_restart",
                    "disk_full",
                    "power_held",
                    "long_running",
                ];
                assert!(rules.contains(&value.trim_matches('"')), "{line}");
            }
            if key == "queue" {
                assert!(
                    ["\"work\"", "\"other\"", "\"later\""].contains(&value),
                    "{line}"
                );
            }
        }
    }
    assert_eq!(promtool_check(&text), "", "promtool on:\n{text}");

    // OpenMetrics when asked for it, and the same counts.
    let auth = d.bearer();
    let (status, open) = d.http_with(
        "GET",
        "/metrics",
        &[
            ("Authorization", &auth),
            (
                "Accept",
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
            ),
        ],
        None,
    );
    assert_eq!(status, 200);
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert_eq!(
        sample(&open, r#"nightshift_jobs_added_total{queue="work"}"#),
        Some(2.0)
    );
}

#[test]
fn metrics_need_the_token() {
    let d = Daemon::start();
    let (status, body) = d.http_with("GET", "/metrics", &[], None);
    assert_eq!(status, 401, "{body}");
    let (status, _) = d.http_with(
        "GET",
        "/metrics",
        &[("Authorization", "Bearer wrong")],
        None,
    );
    assert_eq!(status, 401);
}

/// The history over HTTP: a summary and trends that count jobs at once (the minute under way
/// is live), and after a graceful restart the same counts from the stored minute, exported as
/// JSON Lines.
#[test]
fn history_summary_trends_and_export_over_http_survive_a_restart() {
    let mut d = Daemon::start();
    let ok = d.add(&["--queue", "work", "--", "true"]);
    let failed = d.add(&["--queue", "work", "--", "sh", "-c", "exit 3"]);
    for id in [ok, failed] {
        d.cli(&["wait", &id.to_string()]);
    }
    let summary = |d: &Daemon| -> serde_json::Value {
        let (status, body) = d.http("GET", "/api/metrics/summary?window=1h", None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    };
    let s = summary(&d);
    assert_eq!(s["total"]["succeeded"], 1, "{s:#}");
    assert_eq!(s["total"]["failed"], 1, "{s:#}");
    assert_eq!(s["total"]["success_rate"], 0.5, "{s:#}");
    assert_eq!(s["queues"][0]["queue"], "work", "{s:#}");

    let (status, body) = d.http("GET", "/api/metrics/trends?window=1h", None);
    assert_eq!(status, 200, "{body}");
    let t: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(t["step_seconds"], 60, "a minute a point over an hour");
    let points = t["at"].as_array().unwrap().len();
    assert_eq!(points, 60);
    let last_succeeded = &t["total"]["succeeded"][points - 1];
    // Both jobs ran in this minute or the one before (if the minute turned meanwhile).
    let recent: u64 = (points - 2..points)
        .filter_map(|i| t["total"]["succeeded"][i].as_u64())
        .sum();
    assert_eq!(recent, 1, "last point {last_succeeded}: {t:#}");
    assert!(
        t["total"]["succeeded"][0].is_null(),
        "before the daemon ran: a gap"
    );

    let (status, body) = d.http("GET", "/api/metrics/summary?window=soon", None);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("window"), "{body}");

    d.restart();
    let s = summary(&d);
    assert_eq!(s["total"]["succeeded"], 1, "kept across the restart: {s:#}");
    let (status, body) = d.http("GET", "/api/metrics/history?queue=work", None);
    assert_eq!(status, 200, "{body}");
    let rows: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let succeeded: u64 = rows.iter().map(|r| r["succeeded"].as_u64().unwrap()).sum();
    let failed: u64 = rows
        .iter()
        .map(|r| r["failed_exit_code"].as_u64().unwrap())
        .sum();
    assert_eq!((succeeded, failed), (1, 1), "{body}");
    assert!(
        rows.iter()
            .all(|r| r["queue"] == "work" && r["run"]["n"].is_u64())
    );
}

/// `[metrics] listen`: `GET /metrics` alone on its own address, with its own token (not the
/// API's), reachable by any host name; nothing else of the API is served there.
#[test]
fn the_metrics_listener_serves_only_metrics_with_its_own_token() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = Daemon::with_config(&format!(
        "[metrics]\nlisten = \"127.0.0.1:{port}\"\nlisten_token_file = \"metrics-token\"\n"
    ));
    let id = d.add(&["--queue", "work", "--", "true"]);
    d.cli(&["wait", &id.to_string()]);
    let token = std::fs::read_to_string(d.home().join("metrics-token")).unwrap();
    assert_ne!(token.trim(), d.token(), "a token of its own");
    let own = format!("Bearer {}", token.trim());
    let api = d.bearer();
    let get = |path: &str, auth: &str| {
        let mut headers = vec![("Host", "prometheus-target.example:9464")];
        if !auth.is_empty() {
            headers.push(("Authorization", auth));
        }
        nightshift_e2e::raw_request(port, "GET", path, &headers, b"")
    };
    let ok = get("/metrics", &own);
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(
        sample(&ok.text(), r#"nightshift_jobs_added_total{queue="work"}"#),
        Some(1.0)
    );
    assert_eq!(get("/metrics", "").status, 401);
    assert_eq!(
        get("/metrics", &api).status,
        401,
        "the API's token is not this one"
    );
    for path in ["/api/jobs", "/api/health", "/", "/metrics/../api/jobs"] {
        let r = get(path, &own);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
    }
    let post = nightshift_e2e::raw_request(
        port,
        "POST",
        "/metrics",
        &[
            ("Host", "x"),
            ("Authorization", &own),
            ("Content-Length", "0"),
        ],
        b"",
    );
    assert_eq!(post.status, 405);
    let perms = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(d.home().join("metrics-token"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(perms & 0o777, 0o600);
}

/// A listen address that cannot be had stops the start with a message that names the key.
#[test]
fn a_metrics_listen_address_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let d = Daemon::builder()
        .config(&format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"))
        .prepare();
    // Any free port for the API, so only the metrics address can be the one in use.
    let out = d.cli(&["daemon", "--port", "0"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("metrics.listen"), "{said}");
}
