//! Notifications: a test server owning org.freedesktop.Notifications on the session bus records
//! every `Notify` the app sends (what notify-rust calls, as dunst or GNOME Shell would get it).

use super::{FAILING, LONG, TIMEOUT, window_process};
use nightshift_e2e::desktop::{Desktop, NotificationServer};
use nightshift_e2e::{JOB_TIMEOUT, holders_of, wait_for, wait_until};
use std::process::Command;
use std::time::Duration;

/// The jobs of the burst.
const BURST: usize = 30;

/// Critical urgency (the notification spec's `urgency` hint), which failures use.
const CRITICAL: u8 = 2;

#[test]
fn a_failure_is_one_toast_and_a_burst_of_failures_is_one_summary() {
    // The burst's queue runs all its jobs at once, so they can be held at a gate together.
    let mut d = Desktop::builder()
        .tables(&format!("[queues.burst]\nconcurrency = {BURST}\n"))
        .start();
    let server = NotificationServer::start(d.bus());
    d.launch(&[]);

    // One job that fails for good: one toast that names it, with its command and reason.
    let one = d.add(FAILING);
    let got = server.wait_count(1, TIMEOUT);
    assert_eq!(got[0].summary, format!("Job {one} failed"), "{got:#?}");
    assert!(
        got[0].body.contains("exit 3"),
        "the body names the command: {got:#?}"
    );
    assert!(
        got[0].body.contains("exited with code 3"),
        "the body gives the reason: {got:#?}"
    );
    assert_eq!(got[0].app_name, "Nightshift");
    assert_eq!(got[0].urgency, Some(CRITICAL));

    // Thirty jobs fail together. The test holds a FIFO open for reading and writing, so each
    // job's `read x < fifo` opens it at once and then blocks reading; when all thirty have it
    // open, the test closes its end and every `read` gets end-of-file at the same moment: all
    // thirty fail within milliseconds, well inside the 3 s the app gathers events for.
    let fifo = d.scratch().join("burst.fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("cannot run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let barrier = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .expect("cannot open the FIFO");
    let path = fifo.to_str().expect("a UTF-8 path");
    let line = serde_json::json!({"cmd": ["sh", "-c", "read x < \"$1\"; exit 3", "sh", path], "queue": "burst"});
    let batch = d.scratch().join("burst.jsonl");
    std::fs::write(&batch, format!("{line}\n").repeat(BURST)).expect("cannot write the batch");
    d.cli_ok(&["add", "--batch", batch.to_str().expect("UTF-8")]);
    let me = std::process::id() as i32;
    wait_for(
        JOB_TIMEOUT,
        &format!("{BURST} burst jobs to be reading the FIFO"),
        || {
            holders_of(&fifo)
                .into_iter()
                .filter(|&pid| pid != me)
                .count()
                == BURST
        },
    );
    drop(barrier);
    let got = server.wait_count(2, TIMEOUT);
    assert_eq!(got[1].summary, format!("{BURST} jobs failed"), "{got:#?}");
    assert!(
        got[1].body.contains(&format!("and {} more", BURST - 5)),
        "{got:#?}"
    );
    assert_eq!(got[1].urgency, Some(CRITICAL));

    // No straggler toast follows: the next one is about the next failure, a marker job added
    // after the burst's toast arrived.
    let marker = d.add(FAILING);
    let got = server.wait_count(3, TIMEOUT);
    assert_eq!(got[2].summary, format!("Job {marker} failed"), "{got:#?}");

    // A job added with --notify says when it finished (and is not urgent).
    let notified = d.add(&["--notify", "--", "sh", "-c", "exit 0"]);
    let got = server.wait_count(4, TIMEOUT);
    assert_eq!(
        got[3].summary,
        format!("Job {notified} finished"),
        "{got:#?}"
    );
    assert!(got[3].body.contains("exit 0"), "{got:#?}");
    assert_ne!(got[3].urgency, Some(CRITICAL));
    assert_eq!(got.len(), 4, "{got:#?}");
}

/// How long after a failure a toast would have been sent at the latest: the app gathers events
/// for 3 s after the first one, then sends. Twice that, for a loaded machine.
const TOAST_WINDOW: Duration = Duration::from_secs(6);

#[test]
fn with_notifications_off_a_failure_sends_nothing() {
    let mut d = Desktop::builder().desktop("notifications = false").start();
    let server = NotificationServer::start(d.bus());
    d.launch(&[]);
    let failed = d.add(FAILING);
    d.wait_jobs(&[failed], JOB_TIMEOUT);
    assert_eq!(d.state(failed), "failed");
    // Nothing positive can be awaited when notifications are off, so after the job's final
    // state (the earliest moment a toast could be composed) the test watches for one during
    // the window in which it would have been sent. This can only miss a very late toast, never
    // fail a correct app; the other test shows the same failure does send one when on.
    let toast = wait_until(TOAST_WINDOW, || !server.all().is_empty());
    assert!(
        !toast,
        "notifications = false, yet the app sent {:#?}",
        server.all()
    );
}

#[test]
fn after_an_unclean_stop_the_next_start_says_what_recovery_did() {
    // One crash of Nightshift during a job is its limit here.
    let mut d = Desktop::builder().jobs("max_interruptions = 1").start();
    d.launch(&[]);
    let id = d.add(LONG);
    d.wait_running(id);
    d.kill_app();

    // Started again: recovery finds the job the killed app left running. Nightshift crashed
    // during it as often as it may, so it failed; the toast says so, and the tray asks for
    // attention.
    let server = NotificationServer::start(d.bus());
    d.launch(&[]);
    assert_eq!(d.state(id), "failed");
    let got = server.wait_count(1, TIMEOUT);
    assert_eq!(got[0].summary, "Nightshift recovered", "{got:#?}");
    assert!(got[0].body.contains("1 failed"), "{got:#?}");
    d.tray().wait_icon("attention", TIMEOUT);
}

/// Product bug (reported; same cause as
/// `lifecycle::the_app_handles_sigterm_as_soon_as_it_says_it_is_ready`): the app writes
/// daemon.json — the CLI and scripts take it as "up" — in `Host::start`, at the start of its
/// setup, but subscribes the notifier to engine events (`notify::start`) only later in setup.
/// A job that fails in between is never announced. Here a job is added through the API the
/// moment daemon.json names the app, and fails at once.
#[test]
fn a_job_failing_right_after_start_is_still_announced() {
    let mut d = Desktop::builder().start();
    let server = NotificationServer::start(d.bus());
    d.spawn_until_announced(&[]);
    let body = serde_json::json!({"cmd": ["sh", "-c", "exit 3"]});
    let id = d.api("POST", "/api/jobs", Some(&body))["id"]
        .as_i64()
        .expect("an id");
    d.wait_jobs(&[id], JOB_TIMEOUT);
    assert_eq!(d.state(id), "failed");
    let got = server.wait_count(1, TIMEOUT);
    assert_eq!(got[0].summary, format!("Job {id} failed"), "{got:#?}");
}

#[test]
fn work_held_for_power_going_on_is_announced_once() {
    let mut d = Desktop::builder()
        .tables(
            "[power]\nsource = \"simulated\"\npoll = \"1s\"\n\n[queues.heavy]\nrequire_ac = true\n",
        )
        .start();
    let file = d.home().join("power.json");
    std::fs::write(&file, r#"{"on_ac": false, "percent": 70}"#).expect("power file");
    let server = NotificationServer::start(d.bus());
    d.launch(&[]);
    let ids: Vec<i64> = (0..3)
        .map(|_| d.add(&["-q", "heavy", "--", "true"]))
        .collect();
    d.tray().wait_icon("waiting", TIMEOUT);
    assert!(ids.iter().all(|id| d.state(*id) == "queued"));

    std::fs::write(&file, r#"{"on_ac": true, "percent": 71}"#).expect("power file");
    d.wait_jobs(&ids, JOB_TIMEOUT);
    let got = server.wait_count(1, TIMEOUT);
    assert_eq!(got[0].summary, "Held work goes on", "{got:#?}");
    assert!(
        got[0].body.starts_with("Power is back: ")
            && got[0].body.contains("that waited for it started"),
        "{got:#?}"
    );
    assert_ne!(got[0].urgency, Some(CRITICAL));
}

/// Failures open a failure-rate incident at once (from the third), and success under 80% is
/// left out so one incident is followed. The failure-rate table is last: a test adds to it.
const INCIDENTS: &str = "[incidents.rules.success_rate]\nenabled = false\n\
                         [incidents.rules.failure_rate]\nfor = \"0s\"\nmin_jobs = 3\n";

#[test]
fn a_failure_storm_and_its_incident_are_one_toast_whose_acknowledge_acts_on_it() {
    let mut d = Desktop::builder()
        .tables(&format!("[queues.storm]\nconcurrency = 10\n{INCIDENTS}"))
        .start();
    let server = NotificationServer::with_actions(d.bus());
    d.launch(&[]);
    let line = serde_json::json!({"cmd": ["sh", "-c", "exit 3"], "queue": "storm"});
    let batch = d.scratch().join("storm.jsonl");
    std::fs::write(&batch, format!("{line}\n").repeat(5)).expect("cannot write the batch");
    d.cli_ok(&["add", "--batch", batch.to_str().expect("UTF-8")]);
    // One toast: the incident's, with the failures as a line, and its actions.
    let got = server.wait_count(1, TIMEOUT);
    assert_eq!(
        got[0].summary, "Incident: storm: 100.0% of attempts failing",
        "{got:#?}"
    );
    assert!(got[0].body.contains("5 jobs failed"), "{got:#?}");
    assert!(
        got[0].actions.iter().any(|a| a == "acknowledge"),
        "{got:#?}"
    );
    assert_eq!(got[0].urgency, Some(CRITICAL));
    let incidents: serde_json::Value =
        serde_json::from_str(&d.cli_ok(&["incidents", "--json"])).unwrap();
    let id = incidents[0]["id"].as_i64().expect("an open incident");

    // Acknowledge, from the toast: the incident says so, with the notification's door.
    server.invoke(got[0].id, "acknowledge");
    wait_for(JOB_TIMEOUT, "the incident to be acknowledged", || {
        let detail: serde_json::Value =
            serde_json::from_str(&d.cli_ok(&["incidents", "show", &id.to_string(), "--json"]))
                .unwrap();
        detail["timeline"].as_array().is_some_and(|t| {
            t.iter()
                .any(|e| e["kind"] == "acknowledged" && e["door"] == "notification")
        })
    });
    // No straggler toast: the next one is about the next failure, added after.
    let marker = d.add(FAILING);
    let got = server.wait_count(2, TIMEOUT);
    assert_eq!(got[1].summary, format!("Job {marker} failed"), "{got:#?}");
}

#[test]
fn an_incident_turns_the_tray_to_attention_its_menu_names_it_and_acknowledging_it_turns_it_back() {
    // Two jobs waiting in a held queue are a backlog here, at once.
    let mut d = Desktop::builder()
        .tables(
            "[queues.later]\nconcurrency = 0\n\
             [incidents.rules.backlog]\nthreshold = 2\nfor = \"0s\"\n",
        )
        .start();
    d.launch(&[]);
    d.tray().wait_icon("idle", TIMEOUT);
    for _ in 0..2 {
        d.cli_ok(&["add", "--queue", "later", "--", "true"]);
    }
    d.tray().wait_icon("attention", TIMEOUT);
    let label = "Acknowledge: later: 2 jobs waiting";
    d.tray().wait_menu(TIMEOUT, "name the incident", |m| {
        m.iter().any(|e| e.label == label && e.enabled)
    });
    d.tray().click(label);
    d.tray().wait_icon("idle", TIMEOUT);
    let incidents: serde_json::Value =
        serde_json::from_str(&d.cli_ok(&["incidents", "--json"])).unwrap();
    assert_eq!(incidents[0]["rule"], "backlog", "{incidents}");
    let id = incidents[0]["id"].as_i64().unwrap();
    let detail: serde_json::Value =
        serde_json::from_str(&d.cli_ok(&["incidents", "show", &id.to_string(), "--json"])).unwrap();
    let last = detail["timeline"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        (last["kind"].as_str(), last["door"].as_str()),
        (Some("acknowledged"), Some("tray"))
    );
    d.tray()
        .wait_menu(TIMEOUT, "say no incident needs the user", |m| {
            m.iter()
                .any(|e| e.label == "No incident needs you" && !e.enabled)
        });
}

/// The open incident of queue `queue`, by its id.
fn incident_of(d: &Desktop, queue: &str) -> Option<i64> {
    let open: serde_json::Value = serde_json::from_str(&d.cli_ok(&["incidents", "--json"])).ok()?;
    open.as_array()?
        .iter()
        .find(|i| i["queue"] == queue)
        .and_then(|i| i["id"].as_i64())
}

#[test]
fn an_incidents_open_starts_the_window_on_its_page_and_sends_an_open_window_there() {
    // Two jobs waiting in a held queue are a backlog here, at once; each queue its own.
    let mut d = Desktop::builder()
        .tables(
            "[queues.later]\nconcurrency = 0\n[queues.after]\nconcurrency = 0\n\
             [incidents.rules.backlog]\nthreshold = 2\nfor = \"0s\"\n",
        )
        .start();
    let server = NotificationServer::with_actions(d.bus());
    let app = d.launch(&[]) as i32;
    for _ in 0..2 {
        d.cli_ok(&["add", "--queue", "later", "--", "true"]);
    }
    let toast = server.wait_count(1, TIMEOUT).remove(0);
    let first = incident_of(&d, "later").expect("the backlog's incident");
    // No window yet: Open starts one, on the incident's page.
    assert_eq!(window_process(app), None);
    server.invoke(toast.id, "open");
    let route = format!("/incidents/{first}");
    wait_for(TIMEOUT, "a window process on the incident's page", || {
        window_process(app).is_some_and(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            args.windows(2)
                .any(|w| w[0] == b"--route" && w[1] == route.as_bytes())
        })
    });
    let window = window_process(app).unwrap();
    // With the window open, a second incident's Open sends that window to its page.
    for _ in 0..2 {
        d.cli_ok(&["add", "--queue", "after", "--", "true"]);
    }
    let toast = server.wait_count(2, TIMEOUT).remove(1);
    let second = incident_of(&d, "after").expect("the second backlog's incident");
    server.invoke(toast.id, "open");
    // Its log line says so (the page itself is the window test's to read, over WebDriver).
    let route = format!("/incidents/{second}");
    let went = nightshift_e2e::wait_until(TIMEOUT, || {
        d.daemon_stderr()
            .lines()
            .any(|l| l.contains("the window goes to a page") && l.ends_with(&route))
    });
    assert!(
        went,
        "no line of the window going to {route}:\n{}",
        d.daemon_stderr()
    );
    assert_eq!(
        window_process(app),
        Some(window),
        "the same window, not a second"
    );
}
