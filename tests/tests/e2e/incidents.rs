//! Incidents on a real daemon: failing jobs open one within seconds of their end (evaluation on
//! job ends, not only on the minute), and the CLI and the API list, show, acknowledge, snooze
//! and resolve it, with each door in its timeline; it is in the alert history, the status
//! summary and the metrics.

use nightshift_e2e::{Daemon, JOB_TIMEOUT, wait_for};
use serde_json::{Value, json};

/// Failures count from the third attempt and go active at once; success under 80% would hold
/// too and is switched off, so one incident is followed.
/// (The failure-rate table is last: a test adds keys to it.)
const CONFIG: &str = "[incidents.rules.success_rate]\nenabled = false\n\
                      [incidents.rules.failure_rate]\nfor = \"0s\"\nmin_jobs = 3\n";

fn open(d: &Daemon) -> Vec<Value> {
    serde_json::from_str(&d.cli_ok(&["incidents", "--json"])).unwrap()
}

#[test]
fn failing_jobs_open_an_incident_that_people_act_on_from_the_cli_and_the_api() {
    let d = Daemon::with_config(CONFIG);
    let ids: Vec<i64> = (0..4)
        .map(|_| d.add(&["--attempts", "1", "--", "sh", "-c", "exit 3"]))
        .collect();
    d.wait_jobs(&ids, JOB_TIMEOUT);
    wait_for(JOB_TIMEOUT, "a failure-rate incident", || {
        open(&d).len() == 1
    });
    let incident = &open(&d)[0];
    let id = incident["id"].as_i64().unwrap();
    assert_eq!(incident["rule"], "failure_rate", "{incident}");
    assert_eq!(incident["state"], "active");
    assert_eq!(incident["severity"], "critical");
    assert_eq!(incident["queue"], "default");
    assert_eq!(incident["value"], 100.0);
    let mut jobs: Vec<i64> = incident["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j.as_i64().unwrap())
        .collect();
    jobs.sort();
    assert_eq!(jobs, ids, "the failed jobs are named");
    // Told: the summary the tray reads, the alert history, the metrics.
    let summary = d.api("GET", "/api/summary", None);
    assert_eq!(summary["incidents"][0]["id"], id, "{summary}");
    let history = std::fs::read_to_string(d.home().join("alerts.jsonl")).unwrap();
    let line: Value = serde_json::from_str(history.lines().next().unwrap()).unwrap();
    assert_eq!(
        (line["alert"].as_str(), line["id"].as_i64()),
        (Some("active"), Some(id))
    );
    let (_, metrics) = d.http("GET", "/metrics", None);
    assert!(
        metrics.contains("nightshift_incidents_open{rule=\"failure_rate\",severity=\"critical\",state=\"active\"} 1"),
        "{metrics}"
    );

    // The CLI: show, rules, acknowledge, snooze.
    let shown = d.cli_ok(&["incidents", "show", &id.to_string()]);
    assert!(
        shown.contains("100.0% of attempts failing") && shown.contains("opened"),
        "{shown}"
    );
    let rules = d.cli_ok(&["incidents", "rules"]);
    assert!(
        rules.contains("failure_rate") && rules.contains("default: 100.0%"),
        "{rules}"
    );
    let acked = d.cli_ok(&["incidents", "ack", &id.to_string()]);
    assert!(acked.contains("acknowledged"), "{acked}");
    d.cli_ok(&["incidents", "snooze", &id.to_string(), "2h"]);
    let summary = d.api("GET", "/api/summary", None);
    assert_eq!(
        summary["incidents"],
        json!([]),
        "acknowledged: no attention"
    );

    // The API: bad requests are named, unknown ids not found, the resolved not acted on.
    let post = |path: &str, body: Value| d.http("POST", path, Some(body.to_string().as_bytes()));
    let (status, body) = post(&format!("/api/incidents/{id}/snooze"), json!({}));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("missing field `for`"), "{body}");
    let (status, body) = post(
        &format!("/api/incidents/{id}/snooze"),
        json!({"for": "10s"}),
    );
    assert_eq!(
        (status, body.contains("from 1m to 30d")),
        (400, true),
        "{body}"
    );
    let (status, _) = post("/api/incidents/99999/resolve", json!({}));
    assert_eq!(status, 404);
    let (status, body) = d.http("GET", "/api/incidents/abc", None);
    assert_eq!(
        (status, body.contains("not an incident id")),
        (400, true),
        "{body}"
    );
    let (status, body) = post(
        &format!("/api/incidents/{id}/resolve"),
        json!({"door": "window"}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&format!("/api/incidents/{id}/resolve"), json!({}));
    assert_eq!(
        (status, body.contains("is not open")),
        (409, true),
        "{body}"
    );
    let detail = d.api("GET", &format!("/api/incidents/{id}"), None);
    let doors: Vec<(String, String)> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().into(),
                e["door"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("opened", "nightshift"),
        ("active", "nightshift"),
        ("acknowledged", "cli"),
        ("snoozed", "cli"),
        ("resolved", "window"),
    ];
    assert_eq!(doors, want.map(|(k, d)| (k.to_string(), d.to_string())));
    assert!(open(&d).is_empty());
    let all: Vec<Value> =
        serde_json::from_str(&d.cli_ok(&["incidents", "--state", "all", "--json"])).unwrap();
    assert_eq!(all.len(), 1);
}

fn deliveries(d: &Daemon, id: i64) -> Vec<Value> {
    let detail: Value =
        serde_json::from_str(&d.cli_ok(&["incidents", "show", &id.to_string(), "--json"])).unwrap();
    detail["deliveries"].as_array().cloned().unwrap_or_default()
}

#[test]
fn webhooks_get_one_delivery_per_alert_and_a_receiver_that_was_down_gets_it_later() {
    // The receiver is down at first: its port is closed. The incident is a warning: the
    // receiver that asks for critical ones only gets nothing.
    let port = nightshift_e2e::free_port();
    let d = Daemon::with_config(&format!(
        "{CONFIG}severity = \"warning\"\n\
         [[alerts.webhook]]\nurl = \"http://127.0.0.1:{port}/team\"\n\
         [[alerts.webhook]]\nurl = \"http://127.0.0.1:{port}/pager\"\nmin_severity = \"critical\"\n"
    ));
    let ids: Vec<i64> = (0..3)
        .map(|_| d.add(&["--attempts", "1", "--", "sh", "-c", "exit 3"]))
        .collect();
    d.wait_jobs(&ids, JOB_TIMEOUT);
    wait_for(JOB_TIMEOUT, "an incident", || open(&d).len() == 1);
    let id = open(&d)[0]["id"].as_i64().unwrap();
    assert_eq!(open(&d)[0]["severity"], "warning");
    // The first attempt fails, and the delivery is kept to be tried again.
    wait_for(JOB_TIMEOUT, "a failed first attempt", || {
        let all = deliveries(&d, id);
        all.len() == 1 && all[0]["attempts"].as_u64() >= Some(1) && all[0]["state"] == "pending"
    });
    let tried = deliveries(&d, id);
    assert!(
        tried[0]["last_error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{tried:?}"
    );
    // The receiver comes up: the alert arrives, once.
    let receiver = nightshift_e2e::Receiver::start(port);
    wait_for(JOB_TIMEOUT, "the delivery", || {
        deliveries(&d, id).iter().all(|x| x["state"] == "delivered")
    });
    d.cli_ok(&["incidents", "resolve", &id.to_string()]);
    wait_for(JOB_TIMEOUT, "the resolution's delivery", || {
        let all = deliveries(&d, id);
        all.len() == 2 && all.iter().all(|x| x["state"] == "delivered")
    });
    let got: Vec<(String, String)> = receiver
        .received()
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(body["nightshift"]["incident"]["id"], id, "{body}");
            assert!(
                body["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("attempts failing")),
                "{body}"
            );
            (
                r.path.clone(),
                body["nightshift"]["alert"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [("/team", "active"), ("/team", "resolved")];
    assert_eq!(got, want.map(|(p, a)| (p.to_string(), a.to_string())));
    let shown = d.cli_ok(&["incidents", "show", &id.to_string()]);
    assert!(
        shown.contains("delivered") && shown.contains("/team"),
        "{shown}"
    );
}

#[test]
fn a_receiver_that_never_answers_holds_up_neither_the_others_nor_the_jobs() {
    // The hanging receiver is first: its delivery is the older, and would go first.
    let (slow, good) = (nightshift_e2e::free_port(), nightshift_e2e::free_port());
    let hanging = nightshift_e2e::Hanging::start(slow);
    let receiver = nightshift_e2e::Receiver::start(good);
    let d = Daemon::with_config(&format!(
        "{CONFIG}\n[[alerts.webhook]]\nurl = \"http://127.0.0.1:{slow}/hangs\"\n\
         [[alerts.webhook]]\nurl = \"http://127.0.0.1:{good}/team\"\n"
    ));
    let ids: Vec<i64> = (0..3)
        .map(|_| d.add(&["--attempts", "1", "--", "sh", "-c", "exit 3"]))
        .collect();
    d.wait_jobs(&ids, JOB_TIMEOUT);
    wait_for(JOB_TIMEOUT, "the hanging receiver's connection", || {
        hanging.connections() == (1, 1)
    });
    // The other receiver gets its alert while the first attempt still hangs (the client gives
    // an attempt 10 s; a sender that waited for it would deliver only after it closed).
    wait_for(JOB_TIMEOUT, "the other receiver's delivery", || {
        receiver.received().len() == 1
    });
    assert_eq!(
        hanging.connections(),
        (1, 1),
        "the first attempt still hangs"
    );
    // Jobs go on meanwhile.
    let more = d.add(&["--", "true"]);
    d.wait_jobs(&[more], JOB_TIMEOUT);
    assert_eq!(hanging.connections(), (1, 1), "a job ran while it hung");
    // The hanging attempt times out and is kept to be tried again.
    let id = open(&d)[0]["id"].as_i64().unwrap();
    wait_for(JOB_TIMEOUT, "the timed-out attempt recorded", || {
        deliveries(&d, id).iter().any(|x| {
            x["url"].as_str().is_some_and(|u| u.ends_with("/hangs"))
                && x["state"] == "pending"
                && x["attempts"].as_u64() == Some(1)
                && x["last_error"].as_str().is_some_and(|e| !e.is_empty())
        })
    });
    assert_eq!(hanging.connections().1, 0, "the client closed it");
    let team: Vec<Value> = deliveries(&d, id)
        .into_iter()
        .filter(|x| x["url"].as_str().is_some_and(|u| u.ends_with("/team")))
        .collect();
    assert_eq!(team.len(), 1);
    assert_eq!(team[0]["state"], "delivered", "{team:?}");
}
