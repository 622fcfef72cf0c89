//! Start at login: the tray's checkbox and `[desktop] autostart` write and remove the XDG
//! autostart entry `$HOME/.config/autostart/Nightshift.desktop` (HOME is the test's own).

use super::TIMEOUT;
use nightshift_e2e::desktop::{Desktop, TrayItem, desktop_bin};
use nightshift_e2e::wait_for;
use std::path::Path;

fn wait_checkbox(item: &TrayItem, on: bool) {
    let state = i32::from(on);
    item.wait_menu(
        TIMEOUT,
        &format!("show Start at login with toggle-state {state}"),
        |m| {
            m.iter()
                .any(|e| e.label == "Start at login" && e.toggle_state == Some(state))
        },
    );
}

/// Waits until the entry is written (it is created empty, then filled: wait for its `Exec=`
/// line), then checks that it runs this very app binary.
fn assert_runs_the_app(file: &Path) {
    wait_for(
        TIMEOUT,
        &format!("{} to be written", file.display()),
        || std::fs::read_to_string(file).is_ok_and(|e| e.lines().any(|l| l.starts_with("Exec="))),
    );
    let entry = std::fs::read_to_string(file).expect("cannot read the autostart entry");
    let exec = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .unwrap_or_else(|| panic!("no Exec= line in {}:\n{entry}", file.display()));
    let app = std::fs::canonicalize(desktop_bin()).expect("the app binary");
    let program = exec
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_matches('"');
    assert_eq!(Path::new(program), app, "Exec={exec}");
    assert!(entry.contains("[Desktop Entry]"), "{entry}");
}

#[test]
fn the_start_at_login_checkbox_writes_and_removes_the_entry() {
    let mut d = Desktop::builder().start();
    d.launch(&[]);
    let item = d.tray();
    let file = d.autostart_file();
    wait_checkbox(item, false);
    assert!(
        !file.exists(),
        "{} exists before anyone asked",
        file.display()
    );

    item.click("Start at login");
    assert_runs_the_app(&file);
    wait_checkbox(item, true);

    item.click("Start at login");
    wait_for(
        TIMEOUT,
        &format!("{} to be removed", file.display()),
        || !file.exists(),
    );
    wait_checkbox(item, false);
}

#[test]
fn autostart_true_in_the_config_writes_the_entry_at_start() {
    let mut d = Desktop::builder().desktop("autostart = true").start();
    d.launch(&[]);
    let file = d.autostart_file();
    assert_runs_the_app(&file);
    // The tray's checkbox agrees with the config.
    wait_checkbox(d.tray(), true);
}
