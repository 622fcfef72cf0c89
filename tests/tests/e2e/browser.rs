//! The admin UI in a real browser: Debian's Chromium, driven by playwright-core from npm
//! (`ui/e2e/browser.mjs`), against a real daemon with a workload. The script walks every page,
//! checks what it shows against the API, acts from the page and checks the daemon followed;
//! this test sets the scene, runs it, and checks what the page changed from the outside.
//! Screenshots of each page are kept in `target/artifacts/browser-*.png`.

use nightshift_e2e::desktop::png_pixels;
use nightshift_e2e::{Daemon, JOB_TIMEOUT, describe, run_with_timeout, wait_for};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The whole walk through the pages, with room for a slow machine.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

fn ui_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui")
}

#[test]
fn every_page_in_a_real_browser_shows_what_the_api_says_and_acts_on_the_daemon() {
    let mut d = Daemon::builder()
        .config(
            "[power]\nsource = \"simulated\"\npoll = \"1s\"\n\
             [queues.heavy]\nrequire_ac = true\n\
             [queues.later]\nconcurrency = 0\n\
             [incidents.rules.success_rate]\nenabled = false\n\
             [incidents.rules.failure_rate]\nfor = \"0s\"\nmin_jobs = 3\n",
        )
        .prepare();
    let power_file = d.home().join("power.json");
    std::fs::write(&power_file, r#"{"on_ac": true, "percent": 80}"#).unwrap();
    d.restart();

    // The scene: three successes and a failure finished, a job running, one held back.
    let sh = |script: &'static str| ["--", "sh", "-c", script];
    let mut done: Vec<i64> = (0..3).map(|_| d.add(&sh("echo report written"))).collect();
    done.push(d.add(&sh("echo disk full >&2; exit 3")));
    let running = d.add(&["--queue", "index", "--", "sh", "-c", "sleep 300"]);
    let held = d.add(&["--queue", "later", "--", "sh", "-c", "echo nightly backup"]);
    d.wait_jobs(&done, JOB_TIMEOUT);
    d.wait_running(running);
    // A worker pool for the Workers page.
    d.add_test_pool("emb", "embed", &[]);

    let artifacts = nightshift_e2e::artifacts_dir();
    let mut node = Command::new("node");
    node.arg("e2e/browser.mjs")
        .current_dir(ui_dir())
        .env("NIGHTSHIFT_URL", d.url())
        .env("NIGHTSHIFT_TOKEN", d.token())
        .env("NIGHTSHIFT_POWER_FILE", &power_file)
        .env("ARTIFACTS", &artifacts);
    let out = run_with_timeout(node, SCRIPT_TIMEOUT).unwrap_or_else(|out| {
        panic!(
            "the browser walk still ran after {SCRIPT_TIMEOUT:?}:\n{}",
            describe(&out)
        )
    });
    assert!(
        out.status.success(),
        "the browser walk failed (see target/artifacts/browser-failure.png):\n{}",
        describe(&out)
    );

    // What the page did, seen from the CLI.
    let queues: Value = serde_json::from_str(&d.cli_ok(&["queue", "ls", "--json"])).unwrap();
    let later = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "later")
        .expect("queue later");
    assert_eq!(later["concurrency"], 2, "{later}");
    let pools: Value = serde_json::from_str(&d.cli_ok(&["workers", "--json"])).unwrap();
    assert_eq!(pools[0]["count"], 2, "{pools}");
    assert_eq!(pools[0]["stopped"], false, "{pools}");
    assert_eq!(d.state(held), "succeeded");
    assert_eq!(d.state(running), "cancelled");
    let pgid = d.show(running)["attempts"][0]["pgid"].as_i64().unwrap() as i32;
    wait_for(JOB_TIMEOUT, "the cancelled job's group to be gone", || {
        nightshift_e2e::group_members(pgid).is_empty()
    });

    // The incident the page acknowledged and resolved, seen from the CLI, with the window's door.
    let all: Value =
        serde_json::from_str(&d.cli_ok(&["incidents", "--state", "all", "--json"])).unwrap();
    let mail = all
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["queue"] == "mail")
        .expect("the incident of queue mail");
    assert_eq!(mail["state"], "resolved", "{mail}");
    assert!(mail["acknowledged_at"].is_i64(), "{mail}");

    for name in [
        "browser-overview.png",
        "browser-queues.png",
        "browser-job.png",
        "browser-jobs.png",
        "browser-workers.png",
        "browser-incidents.png",
    ] {
        let (width, height, pixels) =
            png_pixels(&artifacts.join(name)).unwrap_or_else(|| panic!("{name} is not a PNG"));
        assert_eq!((width, height), (1280, 800), "{name}");
        assert!(
            pixels.chunks(4).any(|p| p != &pixels[..4]),
            "{name} is one flat color"
        );
    }
}
