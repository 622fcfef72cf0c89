//! The tray over D-Bus, as a desktop shell sees it. A test StatusNotifierWatcher receives the
//! app's registration; the test then reads the StatusNotifierItem's properties and the
//! com.canonical.dbusmenu layout, and fires menu items with `Event(id, "clicked")`, exactly as
//! a panel does when the user picks one.
//!
//! Verified: who registers (the app's own connection, by pid), the item's Status, Menu and
//! IconName; that the icon file shows the right state's picture (pixels equal to
//! `icons/tray-<state>.png`: idle, running, paused, attention); the menu's labels, enabled
//! flags and checkbox; that the counts line follows the engine; that Pause all / Resume all
//! hold and release every queue (seen through `nightshift status --json`) and relabel
//! themselves; that opening the window acknowledges failures (attention → idle); that Quit
//! stops the app cleanly.
//!
//! Not verifiable, because the platform has no such thing: a tooltip (appindicator's
//! StatusNotifierItem has no ToolTip property, and tray-icon's `set_tooltip` does nothing on
//! Linux), which is why the counts are the menu's first line. Not checked: Title (appindicator
//! sets it to the program name, `nightshift-desktop`, not something the app chooses), and how a
//! real panel draws the item (no panel runs under Xvfb).

use super::{FAILING, LONG, TIMEOUT, status};
use nightshift_e2e::desktop::{Desktop, MenuEntry, Registration, STOP_TIMEOUT};
use nightshift_e2e::{JOB_TIMEOUT, wait_for};
use std::path::Path;

fn counts(running: u32, queued: u32, failed: u32) -> String {
    format!("Running {running} · Queued {queued} · Failed {failed}")
}

/// Waits until the menu's first line is `line`.
fn wait_counts(item: &nightshift_e2e::desktop::TrayItem, line: &str) -> Vec<MenuEntry> {
    item.wait_menu(TIMEOUT, &format!("show {line:?}"), |m| {
        m.first().is_some_and(|e| e.label == line)
    })
}

fn wait_paused(d: &Desktop, paused: bool) {
    wait_for(
        TIMEOUT,
        &format!("status --json to say paused={paused}"),
        || status(d)["paused"] == paused,
    );
}

#[test]
fn the_tray_registers_follows_the_engine_and_its_menu_drives_it() {
    let mut d = Desktop::builder().start();
    let pid = d.launch(&[]);

    // The app's own connection registered an appindicator item, by object path, with the
    // fixture's watcher.
    let item = d.tray().clone();
    assert_eq!(
        d.bus().try_pid_of(&d.bus().connect(), &item.owner),
        Some(pid),
        "registered by {item:?}"
    );
    let registration = Registration {
        sender: item.owner.clone(),
        service: item.path.clone(),
    };
    assert_eq!(d.watcher().registrations(), [registration]);
    assert!(
        item.path.starts_with("/org/ayatana/NotificationItem/"),
        "item path {}",
        item.path
    );
    assert_eq!(item.status(), "Active");
    assert_eq!(item.menu_path(), format!("{}/Menu", item.path));
    let idle = item.wait_icon("idle", TIMEOUT);
    assert!(Path::new(&idle).is_absolute(), "IconName {idle:?}");

    // The menu: counts (disabled), the incident line (disabled while none calls for the user),
    // Pause all, Open, Start at login (a checkbox, off), Quit.
    let menu = wait_counts(&item, &counts(0, 0, 0));
    let (separators, entries): (Vec<&MenuEntry>, Vec<&MenuEntry>) = menu
        .iter()
        .partition(|e| e.kind.as_deref() == Some("separator"));
    let labels: Vec<&str> = entries.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            counts(0, 0, 0).as_str(),
            "No incident needs you",
            "Pause all",
            "Open Nightshift",
            "Start at login",
            "Quit Nightshift"
        ],
        "menu: {menu:#?}"
    );
    assert_eq!(separators.len(), 2, "menu: {menu:#?}");
    assert!(
        !entries[0].enabled && !entries[1].enabled,
        "the counts and incident lines are not clickable: {:?}",
        &entries[..2]
    );
    assert!(entries[2..].iter().all(|e| e.enabled), "menu: {menu:#?}");
    assert_eq!(entries[4].toggle_type.as_deref(), Some("checkmark"));
    assert_eq!(entries[4].toggle_state, Some(0));

    // A running job: the counts and the icon follow.
    let long = d.add(LONG);
    d.wait_running(long);
    wait_counts(&item, &counts(1, 0, 0));
    let running = item.wait_icon("running", TIMEOUT);
    assert_ne!(running, idle, "a new icon is a new file");
    d.cli_ok(&["cancel", &long.to_string()]);
    wait_counts(&item, &counts(0, 0, 0));
    item.wait_icon("idle", TIMEOUT);

    // Pause all from the menu holds every queue; the item then offers Resume all.
    item.click("Pause all");
    wait_paused(&d, true);
    item.wait_menu(TIMEOUT, "offer Resume all", |m| {
        m.iter().any(|e| e.label == "Resume all") && !m.iter().any(|e| e.label == "Pause all")
    });
    let paused = item.wait_icon("paused", TIMEOUT);
    assert_ne!(paused, idle);
    let held = d.add(&["--", "true"]);
    wait_counts(&item, &counts(0, 1, 0));
    assert_eq!(d.state(held), "queued");

    // Resume all releases them.
    item.click("Resume all");
    wait_paused(&d, false);
    d.wait_jobs(&[held], JOB_TIMEOUT);
    wait_counts(&item, &counts(0, 0, 0));
    item.wait_menu(TIMEOUT, "offer Pause all again", |m| {
        m.iter().any(|e| e.label == "Pause all")
    });
    item.wait_icon("idle", TIMEOUT);

    // A job that fails for good: counted, and the icon asks for attention.
    let failed = d.add(FAILING);
    d.wait_jobs(&[failed], JOB_TIMEOUT);
    assert_eq!(d.state(failed), "failed");
    wait_counts(&item, &counts(0, 0, 1));
    let attention = item.wait_icon("attention", TIMEOUT);
    assert_ne!(attention, paused);

    // Opening the window is looking: the failure is still counted but no longer calls for
    // attention.
    item.click("Open Nightshift");
    item.wait_icon("idle", TIMEOUT);
    assert_eq!(item.menu()[0].label, counts(0, 0, 1));

    // Quit from the menu: a clean exit that removes daemon.json.
    item.click("Quit Nightshift");
    let exit = d.wait_exit(STOP_TIMEOUT);
    assert!(
        exit.success(),
        "Quit exited with {exit}:\n{}",
        d.daemon_stderr()
    );
    assert!(
        !d.home().join("daemon.json").exists(),
        "daemon.json left behind after Quit"
    );
}
