//! The desktop app (`nightshift-desktop`) end to end, each test in its own Xvfb display and
//! D-Bus session bus (see `nightshift_e2e::desktop`): the window over WebDriver, notifications
//! and the tray through test peers on the bus, start at login, single instance, no display, and
//! quitting.

mod autostart;
mod lifecycle;
mod notifications;
mod tray;
mod webdriver;

use nightshift_e2e::desktop::Desktop;
use serde_json::Value;
use std::time::Duration;

/// How long the app may take to show a change (tray, window, notification).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A job that runs until stopped, with grandchildren in its process group.
pub const LONG: &[&str] = &["--", "sh", "-c", "sleep 300 & sleep 300 & wait"];

/// A job that fails at once, for good (one attempt is the default).
pub const FAILING: &[&str] = &["--", "sh", "-c", "exit 3"];

/// `nightshift status --json`.
pub fn status(d: &Desktop) -> Value {
    serde_json::from_str(&d.cli_ok(&["status", "--json"])).expect("status --json prints JSON")
}

/// The app's window process (`nightshift-desktop --window`), if it has one.
pub fn window_process(app: i32) -> Option<i32> {
    children(app).into_iter().find(|pid| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        cmdline.split(|b| *b == 0).any(|arg| arg == b"--window")
    })
}

/// The processes whose parent is `parent`.
pub fn children(parent: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let ppid = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().nth(1)?.parse::<i32>().ok());
            ppid == Some(parent)
        })
        .collect()
}
