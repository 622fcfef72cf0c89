//! `nightshift report`: the day's report from real jobs, in its three formats.

use nightshift_e2e::Daemon;
use serde_json::Value;

#[test]
fn the_report_counts_the_day_names_what_failed_most_and_stands_alone_as_html() {
    let d = Daemon::start();
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(d.add(&["--queue", "work", "--", "true"]));
    }
    for _ in 0..3 {
        ids.push(d.add(&[
            "--queue",
            "work",
            "--",
            "sh",
            "-c",
            "echo starting; echo 'boom: the disk <is> full' >&2; exit 2",
        ]));
    }
    ids.push(d.add(&["--queue", "other", "--", "sh", "-c", "exit 7"]));
    ids.push(d.add(&["--queue", "slow", "--", "sleep", "0.4"]));
    for id in &ids {
        d.cli(&["wait", &id.to_string()]);
    }

    let json: Value = serde_json::from_str(&d.cli_ok(&["report", "--format", "json"])).unwrap();
    let total = &json["summary"]["total"];
    assert_eq!(total["succeeded"], 3, "{json:#}");
    assert_eq!(total["failed"], 4, "{json:#}");
    assert_eq!(json["hours"], 24);
    assert_eq!(json["hourly"].as_array().unwrap().len(), 24);
    let last_hour = json["hourly"].as_array().unwrap().last().unwrap();
    assert_eq!(last_hour["failed"], 4, "{json:#}");
    assert!(last_hour["covered_minutes"].as_u64().unwrap() >= 1);
    assert_eq!(json["starts"], 1, "{json:#}");
    let failing = json["failing_commands"].as_array().unwrap();
    assert_eq!(failing.len(), 2, "{json:#}");
    assert_eq!(failing[0]["failures"], 3);
    assert_eq!(failing[0]["last_exit_code"], 2);
    let lines: Vec<&str> = failing[0]["last_lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(lines.contains(&"boom: the disk <is> full"), "{lines:?}");
    assert_eq!(failing[1]["failures"], 1);
    assert!(
        json["slowest"][0]["command"]
            .as_str()
            .unwrap()
            .starts_with("sleep 0.4")
    );
    assert!(json["slowest"][0]["run_ms"].as_u64().unwrap() >= 400);

    let md = d.cli_ok(&["report"]);
    assert!(md.starts_with("# Nightshift: the last 24 hours"), "{md}");
    assert!(md.contains("| all queues | 7 | 3 | 4 |"), "{md}");
    assert!(md.contains("3 failed"), "{md}");

    let path = d.scratch().join("report.html");
    d.cli_ok(&["report", "--format", "html", "-o", path.to_str().unwrap()]);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<svg"), "a chart");
    assert!(
        html.contains("boom: the disk &lt;is&gt; full"),
        "output is escaped: {html}"
    );
    // Self-contained: nothing is fetched from anywhere.
    for outside in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(outside), "{outside} in {html}");
    }

    let out = d.cli(&["report", "--hours", "0"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
