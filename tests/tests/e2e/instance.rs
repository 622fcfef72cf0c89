//! One instance per data folder: a second one is refused with a message naming the first; a
//! lock left by a SIGKILLed instance never blocks the next start; SIGTERM stops cleanly.

use crate::{FAST_GRACE, outcomes, sh};
use nightshift_e2e::{
    Daemon, JOB_TIMEOUT, describe, group_members, lines, live_in_group, text, wait_lines,
};
use std::time::Duration;

#[test]
fn a_second_instance_on_the_same_home_is_refused_and_names_the_first() {
    let d = Daemon::start();
    let first = d.pid();
    let out = d
        .cli_timeout(&["daemon", "--port", "0"], Duration::from_secs(15))
        .unwrap_or_else(|out| {
            panic!(
                "a second daemon on the same home kept running:\n{}",
                describe(&out)
            )
        });
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("already running") && stderr.contains(&first.to_string()),
        "the refusal should name the running instance (pid {first}): {stderr}"
    );

    // The first one is untouched and still the one the CLI finds.
    let status = d.cli_ok(&["status"]);
    assert!(status.contains(&format!("pid {first}")), "status: {status}");
    let address: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.home().join("daemon.json")).unwrap())
            .unwrap();
    assert_eq!(address["pid"], first);
}

#[test]
fn a_lock_left_by_a_sigkilled_instance_does_not_block_the_next_start() {
    let mut d = Daemon::start();
    let old = d.pid();
    d.kill9();
    assert!(
        d.home().join("nightshift.lock").exists(),
        "the lock file should still be there after SIGKILL (the OS lock is what counts)"
    );
    d.restart();
    assert_ne!(d.pid(), old);
    let status = d.cli_ok(&["status"]);
    assert!(
        status.contains(&format!("pid {}", d.pid())),
        "status: {status}"
    );
    // And it works.
    let out = d.cli(&["add", "--wait", "--", "true"]);
    assert!(out.status.success(), "{}", describe(&out));
}

#[test]
fn sigterm_stops_running_jobs_and_the_next_start_runs_them_again() {
    let mut d = Daemon::with_config(FAST_GRACE);
    let runs = d.scratch().join("runs");
    let pids_file = d.scratch().join("pids");
    let script = "n=$(cat \"$1\" 2>/dev/null | wc -l); echo \"$NIGHTSHIFT_ATTEMPT\" >> \"$1\"; \
        if [ \"$n\" -ge 1 ]; then exit 0; fi; \
        sleep 300 & echo $! >> \"$2\"; sleep 300 & echo $! >> \"$2\"; wait";
    // One attempt only: a stop of Nightshift itself must not use it up.
    let mut args = vec!["--attempts", "1"];
    args.extend(sh(
        script,
        &[runs.to_str().unwrap(), pids_file.to_str().unwrap()],
    ));
    let id = d.add(&args);
    let pgid = d.wait_running(id);
    let pids: Vec<i32> = wait_lines(&pids_file, 2, JOB_TIMEOUT)
        .iter()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert!(pids.iter().all(|&p| live_in_group(p, pgid)));

    let status = d.terminate();
    assert!(status.success(), "daemon exit on SIGTERM: {status}");
    let left = group_members(pgid);
    assert!(
        left.is_empty(),
        "the daemon exited leaving {left:?} in the job's group"
    );
    assert!(
        !d.home().join("daemon.json").exists(),
        "a clean stop removes daemon.json"
    );
    let out = d.cli(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));

    d.restart();
    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(outcomes(detail), ["interrupted", "succeeded"]);
    assert_eq!(lines(&runs), ["1", "2"]);
}

#[test]
fn a_config_with_an_unknown_key_is_refused_with_its_name() {
    let d = Daemon::builder()
        .config("[jobs]\nkill_grce = \"1s\"\n")
        .prepare();
    let out = d
        .cli_timeout(&["daemon", "--port", "0"], Duration::from_secs(15))
        .unwrap_or_else(|out| panic!("the daemon started anyway:\n{}", describe(&out)));
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("kill_grce"),
        "the error should name the key: {stderr}"
    );
    assert!(!d.home().join("daemon.json").exists());
}

#[test]
fn the_first_start_writes_the_commented_default_config() {
    let d = Daemon::start();
    let config = std::fs::read_to_string(d.home().join("config.toml")).unwrap();
    for key in [
        "kill_grace",
        "max_payload_bytes",
        "log_max_bytes",
        "concurrency",
    ] {
        assert!(config.contains(key), "config.toml does not mention {key}");
    }
}

#[test]
fn a_port_in_use_is_refused_with_a_clear_message() {
    let d = Daemon::builder().prepare();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = d
        .cli_timeout(&["daemon", "--port", &port], Duration::from_secs(15))
        .unwrap_or_else(|out| panic!("the daemon kept running:\n{}", describe(&out)));
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&port) && stderr.contains("another program uses this port"),
        "{stderr}"
    );
}

#[test]
fn the_api_listens_on_loopback_only() {
    let d = Daemon::start();
    assert!(d.url().starts_with("http://127.0.0.1:"), "{}", d.url());
    // /proc/net/tcp lists listening sockets (state 0A) as hex ADDR:PORT; ours must be
    // 0100007F (127.0.0.1), and none on another address.
    let port = format!(":{:04X}", d.port());
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let ours: Vec<&str> = tcp
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(3) == Some(&"0A") && f[1].ends_with(&port)).then_some(f[1])
        })
        .collect();
    assert_eq!(
        ours,
        [format!("0100007F{port}")],
        "listening sockets on our port"
    );
    let tcp6 = std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    assert!(
        !tcp6.lines().skip(1).any(|l| l
            .split_whitespace()
            .nth(1)
            .is_some_and(|a| a.ends_with(&port))
            && l.split_whitespace().nth(3) == Some("0A")),
        "the API also listens on IPv6"
    );
}
