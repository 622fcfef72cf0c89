//! The app's life: one instance per session, no display, quitting on SIGTERM, and a window
//! that comes and goes while the app stays in the tray.

use super::{LONG, TIMEOUT, children, status, window_process};
use nightshift_e2e::desktop::{Desktop, desktop_bin};
use nightshift_e2e::{
    Daemon, catches_signal, describe, group_members, holders_of, is_live, run_with_timeout, text,
    wait_for,
};
use std::process::Command;

/// Signal number of SIGTERM.
const SIGTERM: i32 = 15;

/// Waits until exactly `n` viewable windows are titled "Nightshift"; their ids.
fn wait_windows(d: &Desktop, n: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let ok = nightshift_e2e::wait_until(TIMEOUT, || {
        seen = d.x().viewable_windows("Nightshift");
        seen.len() == n
    });
    assert!(
        ok,
        "expected {n} Nightshift window(s) within {TIMEOUT:?}, have {seen:?}"
    );
    seen
}

#[test]
fn a_second_launch_hands_over_to_the_first_and_exits() {
    let mut d = Desktop::builder().start();
    let first = d.launch(&[]);
    // Tray only at start: no window.
    assert!(
        d.x().windows("Nightshift").is_empty(),
        "a window at start without --open"
    );

    let second = run_with_timeout(d.app_command(&[]), TIMEOUT)
        .unwrap_or_else(|out| panic!("the second launch did not exit: {}", describe(&out)));
    assert!(
        second.status.success(),
        "second launch: {}",
        describe(&second)
    );
    assert!(
        !text(&second.stderr).contains("panicked"),
        "{}",
        describe(&second)
    );

    // The first instance goes on, alone: same API, one engine holding the lock.
    assert_eq!(status(&d)["pid"], first);
    let lock = d.home().join("nightshift.lock");
    assert_eq!(
        holders_of(&lock),
        [first as i32],
        "processes holding {}",
        lock.display()
    );
    // And it opened its window for the user who launched again.
    wait_windows(&d, 1);
    assert!(is_live(first as i32));
}

#[test]
fn without_a_display_it_says_to_run_the_daemon_and_exits_2() {
    let d = Daemon::builder().config("[server]\nport = 0\n").prepare();
    let mut cmd = Command::new(desktop_bin());
    cmd.env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("NIGHTSHIFT_HOME", d.home())
        .current_dir(d.scratch());
    let out = run_with_timeout(cmd, TIMEOUT)
        .unwrap_or_else(|out| panic!("no exit without a display: {}", describe(&out)));
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("nightshift daemon"), "{}", describe(&out));
    assert!(!stderr.contains("panicked"), "{}", describe(&out));
    assert!(
        !d.home().join("daemon.json").exists(),
        "an engine started without a display"
    );
}

#[test]
fn sigterm_quits_gracefully_and_queues_the_running_job_again() {
    let mut d = Desktop::builder().start();
    d.launch(&[]);
    let id = d.add(LONG);
    let pgid = d.wait_running(id);
    wait_for(TIMEOUT, "the shell and both sleeps to run", || {
        group_members(pgid).len() >= 3
    });

    // The app installs its SIGTERM handler a moment after it says it is ready (see the next
    // test): wait for it, so this test checks the graceful stop itself.
    let pid = d.pid() as i32;
    wait_for(TIMEOUT, "the app to catch SIGTERM", || {
        catches_signal(pid, SIGTERM)
    });
    let exit = d.terminate_app();
    assert!(
        exit.success(),
        "SIGTERM exit: {exit}:\n{}",
        d.daemon_stderr()
    );
    assert!(
        group_members(pgid).is_empty(),
        "group {pgid} outlived the app: {:?}",
        group_members(pgid)
    );
    assert!(
        !d.home().join("daemon.json").exists(),
        "daemon.json left behind"
    );

    // Read the job back through a headless daemon whose queue is held, so it stays as the
    // app left it: queued again, its attempt interrupted (not failed), nothing to recover.
    d.write_config("[server]\nport = 0\n\n[queues.default]\nconcurrency = 0\n");
    d.restart();
    let detail = d.show(id);
    assert_eq!(detail["job"]["state"], "queued", "{detail:#}");
    assert_eq!(crate::outcomes(&detail), ["interrupted"]);
    let health = status(&d);
    assert_eq!(
        health["recovered_requeued"], 0,
        "a graceful stop leaves nothing to recover: {health:#}"
    );
}

/// Closing the window the way a user does. Not with WebDriver's Close Window: on the last
/// window that ends the WebDriver session, and WebKitWebDriver then kills the browser process
/// it launched — here the app itself — so that would test the driver, not the app. Instead the
/// app runs with `--open` and the test sends the window manager's close request
/// (WM_DELETE_WINDOW), which is what the close button does.
#[test]
fn closing_the_window_keeps_the_app_in_the_tray_and_open_brings_it_back() {
    let mut d = Desktop::builder().start();
    let pid = d.launch(&["--open"]);
    let item = d.tray().clone();
    let first = wait_windows(&d, 1);
    // The window runs in a process of its own, so closing it gives back WebKit's memory.
    let first_process = window_process(pid as i32).expect("a window process");
    // Its page reaches the engine through the local API: WebKit's network process (a child
    // of the window process) holds the page's change stream open (a refused token would have
    // closed it).
    wait_for(
        TIMEOUT,
        "the window's page to follow the change stream",
        || {
            children(first_process)
                .into_iter()
                .any(|p| holds_connection_to(p, d.port()))
        },
    );

    d.x().request_close(&first[0]);
    // Destroyed, not hidden: no window of that title is left at all.
    wait_for(TIMEOUT, "the window to be destroyed", || {
        d.x().windows("Nightshift").is_empty()
    });
    assert!(
        is_live(pid as i32),
        "the app exited when its window closed:\n{}",
        d.daemon_stderr()
    );
    wait_for(TIMEOUT, "the window process to end", || {
        !is_live(first_process)
    });
    assert_eq!(
        status(&d)["pid"],
        pid,
        "the API still answers, from the same app"
    );
    assert!(
        item.find("Open Nightshift").is_some(),
        "the tray menu: {:#?}",
        item.menu()
    );

    // Open Nightshift from the tray makes a new window.
    item.click("Open Nightshift");
    wait_windows(&d, 1);
    let second_process = window_process(pid as i32).expect("a new window process");
    // X may hand the new window the same id as the old one (ids are per client and reused),
    // so the proof of a new window is its new process.
    assert_ne!(
        first_process, second_process,
        "a new window, not the old one shown again"
    );
    assert!(is_live(pid as i32));
    assert_eq!(status(&d)["pid"], pid);
}

/// Product bug (reported): `daemon.json` — the sign that the app is up, and what the CLI and
/// scripts wait for — is written by `Host::start` at the start of `setup` (src-tauri/src/app.rs),
/// while the SIGTERM/SIGINT handlers are installed at its end, by a task `stop_on_signals`
/// spawns (the handler exists only once that task first runs). A SIGTERM in between (a logout
/// right after an autostart, a service manager, a script that waits for daemon.json) takes the
/// default action: the app dies at once, its running jobs are orphaned and daemon.json stays.
/// This test sees the window: it looks at the app's caught signals (`SigCgt`) the moment
/// daemon.json names it. Under parallel load the SIGTERM test above hit it for real.
#[test]
fn the_app_handles_sigterm_as_soon_as_it_says_it_is_ready() {
    let mut d = Desktop::builder().start();
    let pid = d.spawn_until_announced(&[]);
    let caught = catches_signal(pid as i32, SIGTERM);
    assert!(
        caught,
        "daemon.json names the app, yet SIGTERM would still kill it outright"
    );
}

/// Whether `pid` has an established TCP connection to 127.0.0.1:`port`.
fn holds_connection_to(pid: i32, port: u16) -> bool {
    let sockets: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .filter_map(|link| {
                    let link = link.to_string_lossy().to_string();
                    Some(
                        link.strip_prefix("socket:[")?
                            .strip_suffix(']')?
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let table = std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
    let remote = format!("0100007F:{port:04X}");
    table.lines().skip(1).any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // local, remote, state ("01" = established), …, inode at index 9
        f.len() > 9 && f[2] == remote && f[3] == "01" && sockets.iter().any(|s| s == f[9])
    })
}
