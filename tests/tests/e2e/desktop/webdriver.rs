//! The window over WebDriver: tauri-driver (with Debian's WebKitWebDriver) starts the app,
//! which opens its window under automation; the test reads and clicks the page like a user.
//! The window shows the daemon's own page over HTTP, the page the browser tests drive too
//! (`browser.rs`), so what is tested here is the path users run, not a relay of its own.

use super::{LONG, TIMEOUT};
use nightshift_e2e::desktop::{Desktop, NotificationServer, WdSession, desktop_bin, png_pixels};
use nightshift_e2e::{JOB_TIMEOUT, group_members, wait_for};
use serde_json::Value;
use std::path::PathBuf;

/// Waits until the page is up and its live updates are connected.
pub fn wait_page(s: &WdSession<'_>) {
    s.wait_script(
        TIMEOUT,
        "the page with live updates",
        "const live = document.querySelector('[data-testid=\"live-status\"]'); \
         return !!document.querySelector('[data-testid=\"nav\"]') && !!live \
             && live.getAttribute('data-status') === 'live';",
        |v| *v == Value::Bool(true),
    );
}

/// Goes to a page of the app (`#/jobs`) and waits for its root.
fn go(s: &WdSession<'_>, page: &str) {
    s.script(&format!("location.hash = '#/{page}'; return true;"));
    s.wait_script(
        TIMEOUT,
        &format!("the {page} page"),
        &format!(
            "const p = document.querySelector('[data-testid=\"{page}-page\"]'); \
             return !!p && p.offsetParent !== null;"
        ),
        |v| *v == Value::Bool(true),
    );
}

/// Waits until the page shows incident `id`'s detail.
fn wait_incident(s: &WdSession<'_>, id: i64, what: &str) {
    s.wait_script(
        TIMEOUT,
        what,
        "const p = document.querySelector('[data-testid=\"incident-detail\"]'); \
         return p ? Number(p.getAttribute('data-id')) : null;",
        |v| v.as_i64() == Some(id),
    );
}

/// Waits until the row of job `id` shows `state` (its `data-state`).
fn wait_row(s: &WdSession<'_>, id: i64, state: &str) {
    s.wait_script(
        TIMEOUT,
        &format!("row {id} to show {state}"),
        &format!(
            "const r = document.querySelector('[data-testid=\"job-row-{id}\"]'); \
             return r ? r.getAttribute('data-state') : null;"
        ),
        |v| v == state,
    );
}

#[test]
fn the_window_follows_a_job_live_and_its_buttons_cancel_and_pause() {
    let mut d = Desktop::builder().start();
    let driver = d.tauri_driver();
    let s = driver.session(&desktop_bin());
    d.attach_app();
    wait_page(&s);
    // The window shows the daemon's own page, over HTTP, with the token gone from the address.
    let location = s.script("return location.href;");
    let location = location.as_str().unwrap_or_default();
    assert!(
        location.starts_with(&format!("{}/", d.url())) && !location.contains("token"),
        "the window is at {location}, not the daemon's page at {}",
        d.url()
    );
    go(&s, "jobs");
    // Set on the page now, gone if anything reloads it.
    s.script("window.__e2eMarker = 'same page'; return true;");

    // Held, the job shows as queued; released, the same row turns running by itself.
    d.cli_ok(&["pause"]);
    let id = d.add(LONG);
    wait_row(&s, id, "queued");
    // Under its state, why it waits, in words and by kind.
    s.wait_script(
        TIMEOUT,
        "the row to say why it waits",
        &format!(
            "const w = document.querySelector('[data-testid=\"job-waiting-{id}\"]'); \
             return w && !w.hidden ? [w.textContent, w.dataset.kind] : null;"
        ),
        |v| {
            v[0].as_str()
                .is_some_and(|t| t.contains("every queue is paused"))
                && v[1] == "all_paused"
        },
    );
    d.cli_ok(&["resume"]);
    wait_row(&s, id, "running");
    let pgid = d.wait_running(id);
    assert!(
        !group_members(pgid).is_empty(),
        "job {id} has no live process in group {pgid}"
    );
    assert_eq!(
        s.script("return window.__e2eMarker === 'same page';"),
        true,
        "the page reloaded"
    );

    // Its detail shows what its group uses (the shell and two sleeps), once sampled.
    let link = s.find(&format!("[data-testid=\"job-link-{id}\"]"));
    s.click(&link);
    s.wait_script(
        TIMEOUT,
        "the detail to show the group's CPU and memory",
        "const u = document.querySelector('[data-testid=\"detail-using\"]'); \
         return u ? u.textContent : null;",
        |v| {
            v.as_str()
                .is_some_and(|t| t.contains("CPU time") && t.contains("3 processes"))
        },
    );

    // Its Cancel button stops the whole group (the shell and both sleeps).
    let cancel = s.find(&format!("[data-testid=\"cancel-{id}\"]"));
    s.click(&cancel);
    wait_row(&s, id, "cancelled");
    wait_for(
        JOB_TIMEOUT,
        &format!("process group {pgid} to be gone"),
        || group_members(pgid).is_empty(),
    );
    assert_eq!(d.state(id), "cancelled");
    assert_eq!(crate::outcomes(&d.show(id)), ["cancelled"]);
    assert_eq!(
        s.script("return window.__e2eMarker === 'same page';"),
        true,
        "the page reloaded"
    );

    // The window's Pause all holds every queue: the engine, the button and the tray agree.
    let pause = s.find("[data-testid=\"pause-toggle\"]");
    s.click(&pause);
    wait_for(TIMEOUT, "status --json to say paused", || {
        super::status(&d)["paused"] == true
    });
    s.wait_script(
        TIMEOUT,
        "the button to offer Resume all",
        "return document.querySelector('[data-testid=\"pause-toggle\"]').textContent.trim();",
        |v| v == "Resume all",
    );
    d.tray().wait_menu(TIMEOUT, "offer Resume all", |m| {
        m.iter().any(|e| e.label == "Resume all")
    });
}

#[test]
fn a_screenshot_of_the_window_with_jobs_in_each_state() {
    let mut d = Desktop::builder()
        .tables("[queues.later]\nconcurrency = 0\n")
        .start();
    let driver = d.tauri_driver();
    let s = driver.session(&desktop_bin());
    d.attach_app();
    wait_page(&s);
    go(&s, "jobs");

    let sh = |script: &'static str| ["--", "sh", "-c", script];
    let done = d.add(&sh("echo report written"));
    let failed = d.add(&sh("echo disk full >&2; exit 3"));
    let cancelled = d.add(LONG);
    d.wait_running(cancelled);
    d.cli_ok(&["cancel", &cancelled.to_string()]);
    let running = d.add(LONG);
    d.wait_running(running);
    let queued = d.add(&["--queue", "later", "--", "sh", "-c", "echo nightly backup"]);
    d.wait_jobs(&[done, failed, cancelled], JOB_TIMEOUT);
    for (id, state) in [
        (done, "succeeded"),
        (failed, "failed"),
        (cancelled, "cancelled"),
        (running, "running"),
        (queued, "queued"),
    ] {
        wait_row(&s, id, state);
    }

    // The header counts what the table shows.
    for (key, n) in [("running", "1"), ("queued", "1"), ("failed", "1")] {
        s.wait_script(
            TIMEOUT,
            &format!("the header to count {n} {key}"),
            &format!(
                "return document.querySelector('[data-testid=\"summary-{key}\"]').textContent.trim();"
            ),
            |v| v == n,
        );
    }

    let jobs = save_screenshot(&s, "desktop-window.png");

    // The Overview, as the README shows it: its cards count the same jobs.
    go(&s, "overview");
    s.wait_script(
        TIMEOUT,
        "the overview's cards and charts",
        "const v = (id) => document.querySelector(`[data-testid=\"${id}\"] .kpi-value`)?.textContent.trim(); \
         const chart = document.querySelector('[data-testid=\"chart-outcomes\"]'); \
         return [v('kpi-running'), v('kpi-queued'), chart?.dataset.sums ?? null];",
        |v| *v == serde_json::json!(["1", "1", "succeeded:1,failed:1,cancelled:1"]),
    );
    let overview = save_screenshot(&s, "desktop-overview.png");
    if std::env::var_os("NIGHTSHIFT_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
        std::fs::copy(&overview, docs.join("screenshot.png")).expect("cannot update the docs");
        std::fs::copy(&jobs, docs.join("screenshot-jobs.png")).expect("cannot update the docs");
    }
}

/// Saves a screenshot of the window as `target/artifacts/<name>` and checks it shows something.
fn save_screenshot(s: &WdSession<'_>, name: &str) -> PathBuf {
    let png = s.screenshot();
    let path = nightshift_e2e::artifacts_dir().join(name);
    std::fs::write(&path, &png).expect("cannot save the screenshot");
    let (width, height, pixels) = png_pixels(&path).expect("the screenshot is a PNG");
    assert!(width >= 640 && height >= 420, "{name} is {width}x{height}");
    let first = &pixels[..4];
    assert!(
        pixels.chunks(4).any(|p| p != first),
        "{name} is one flat color"
    );
    path
}

#[test]
fn the_workers_page_in_the_window_follows_a_pool_and_stops_it() {
    let mut d = Desktop::builder().start();
    let driver = d.tauri_driver();
    let s = driver.session(&desktop_bin());
    d.attach_app();
    wait_page(&s);
    go(&s, "workers");
    // Added from the CLI: the open page shows it, its worker ready, without a reload.
    d.add_test_pool("emb", "embed", &[]);
    s.wait_script(
        TIMEOUT,
        "the pool's worker to show as idle",
        "const r = document.querySelector('[data-testid=\"worker-emb-0\"]'); \
         return r ? r.getAttribute('data-state') : null;",
        |v| v == "idle",
    );
    let stop = s.find("[data-testid=\"pool-toggle-emb\"]");
    s.click(&stop);
    wait_for(TIMEOUT, "the pool to be stopped", || {
        let pools: Value = serde_json::from_str(&d.cli_ok(&["workers", "--json"])).unwrap();
        pools[0]["stopped"] == true && pools[0]["workers"][0]["state"] == "stopped"
    });
    s.wait_script(
        TIMEOUT,
        "the page to show the pool stopped",
        "const p = document.querySelector('[data-testid=\"pool-emb\"]'); \
         return p ? p.getAttribute('data-stopped') : null;",
        |v| v == "true",
    );
    save_screenshot(&s, "desktop-workers.png");
}

#[test]
fn the_incidents_page_in_the_window_shows_one_live_acknowledges_and_resolves_it_and_the_tray_follows()
 {
    // Two jobs waiting in a held queue are a backlog here, at once.
    let mut d = Desktop::builder()
        .tables(
            "[queues.later]\nconcurrency = 0\n\
             [incidents.rules.backlog]\nthreshold = 2\nfor = \"0s\"\n",
        )
        .start();
    let server = NotificationServer::with_actions(d.bus());
    let driver = d.tauri_driver();
    let s = driver.session(&desktop_bin());
    d.attach_app();
    wait_page(&s);
    go(&s, "incidents");
    for _ in 0..2 {
        d.cli_ok(&["add", "--queue", "later", "--", "true"]);
    }
    // It appears on the open page without a reload, and the tray calls for attention.
    let id = s.wait_script(
        TIMEOUT,
        "an incident row",
        "const r = document.querySelector('[data-testid^=\"incident-\"][data-state]'); \
         return r ? Number(r.getAttribute('data-testid').slice(9)) : null;",
        |v| v.as_i64().is_some(),
    );
    let id = id.as_i64().unwrap();
    d.tray().wait_icon("attention", TIMEOUT);
    // The incident's toast: its Open brings the window to the incident's own page, from
    // wherever it was.
    let toast = server.wait_count(1, TIMEOUT).remove(0);
    assert_eq!(
        toast.summary, "Incident: later: 2 jobs waiting",
        "{toast:#?}"
    );
    go(&s, "jobs");
    server.invoke(toast.id, "open");
    wait_incident(&s, id, "the incident's page, opened from its toast");
    go(&s, "incidents");
    let link = s.find(&format!("[data-testid=\"incident-{id}\"] a"));
    s.click(&link);
    wait_incident(&s, id, "the incident opened from its row");
    let ack = s.find("[data-testid=\"incident-ack\"]");
    s.click(&ack);
    d.tray().wait_icon("idle", TIMEOUT);
    let detail: Value =
        serde_json::from_str(&d.cli_ok(&["incidents", "show", &id.to_string(), "--json"])).unwrap();
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "acknowledged" && e["door"] == "window"),
        "{detail}"
    );
    save_screenshot(&s, "desktop-incidents.png");
    let resolve = s.find("[data-testid=\"incident-resolve\"]");
    s.click(&resolve);
    s.wait_script(
        TIMEOUT,
        "the page to show it resolved",
        "const p = document.querySelector('[data-testid=\"incident-detail\"]'); \
         return p ? p.getAttribute('data-state') : null;",
        |v| v == "resolved",
    );
    let shown: Value =
        serde_json::from_str(&d.cli_ok(&["incidents", "show", &id.to_string(), "--json"])).unwrap();
    assert_eq!(shown["state"], "resolved", "{shown}");
}
