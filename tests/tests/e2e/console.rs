//! The console views: `status --line` for a status bar, and `top`, driven on a real
//! pseudo-terminal.

use nightshift_e2e::Daemon;
use std::io::Write;
use std::process::{Command, Stdio};

/// `status --line`: the one-line summary for a status bar, and "not running" with exit 3.
#[test]
fn status_line_sums_up_in_one_line() {
    let d = Daemon::start();
    let ok = d.add(&["--queue", "work", "--", "true"]);
    d.cli(&["wait", &ok.to_string()]);
    let line = d.cli_ok(&["status", "--line"]);
    let line = line.trim_end();
    assert_eq!(line.lines().count(), 1, "{line}");
    let (clock, rest) = line.split_once(' ').unwrap();
    assert!(
        clock.len() == 8 && clock.chars().filter(|c| *c == ':').count() == 2,
        "{line}"
    );
    assert!(
        rest.starts_with("running 0 | queued 0 | ok 100.0% | p95 "),
        "{line}"
    );
    assert!(rest.ends_with("| on AC"), "{line}");

    let home = d.home().to_path_buf();
    drop(d);
    let out = std::process::Command::new(nightshift_e2e::bin())
        .args(["status", "--line"])
        .env("NIGHTSHIFT_HOME", &home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim_end()
            .ends_with(" not running"),
        "{out:?}"
    );
}

/// `top` on a real terminal (a pseudo-terminal from `script`): it draws the queues, a key
/// pauses the selected queue through the API, and `q` quits and gives the terminal back. Piped,
/// it prints the same view once as plain text.
#[test]
fn top_draws_the_work_and_its_keys_act() {
    let d = Daemon::start();
    let ok = d.add(&["--queue", "alpha", "--", "true"]);
    d.cli(&["wait", &ok.to_string()]);

    let plain = d.cli_ok(&["top"]);
    assert!(plain.contains("\nQueues\nQUEUE"), "{plain}");
    assert!(plain.contains("alpha"), "{plain}");

    let bin = nightshift_e2e::bin();
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("stty cols 120 rows 40; exec {} top", bin.display()),
            "/dev/null",
        ])
        .env("NIGHTSHIFT_HOME", d.home())
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script from util-linux");
    let mut keys = child.stdin.take().unwrap();
    // The first queue (alpha) is selected: `p` pauses it. (A key sent before the view has
    // started waits in the terminal until it reads.)
    keys.write_all(b"p").unwrap();
    keys.flush().unwrap();
    let paused = nightshift_e2e::wait_until(std::time::Duration::from_secs(20), || {
        let (_, body) = d.http("GET", "/api/queues", None);
        let queues: serde_json::Value = serde_json::from_str(&body).unwrap();
        queues
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["name"] == "alpha" && q["paused"] == true)
    });
    keys.write_all(b"q").unwrap();
    keys.flush().unwrap();
    let exited = nightshift_e2e::wait_until(std::time::Duration::from_secs(20), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(paused, "p did not pause the queue; the screen:\n{screen}");
    assert!(exited, "q did not quit; the screen:\n{screen}");
    assert!(out.status.success(), "{out:?}");
    assert!(
        screen.contains("Queues") && screen.contains("alpha"),
        "{screen}"
    );
}
