//! Worker pools with real worker processes (`nightshift-test-worker`, built with the tests):
//! jobs fed over standard input and output, results kept, crashes healed, a SIGKILL of
//! Nightshift leaving no worker of the old instance, cancels and timeouts, scale, stop, start,
//! restart and remove.

use nightshift_e2e::{Daemon, JOB_TIMEOUT, is_live, wait_for};
use serde_json::Value;

/// Short restart waits and kill grace, so the tests watch restarts without waiting long.
const CONFIG: &str = "[workers]\nrestart_backoff = \"100ms\"\nrestart_backoff_max = \"400ms\"\n\
                      [jobs]\nkill_grace = \"1s\"\n";

fn worker_bin() -> String {
    nightshift_e2e::bin()
        .with_file_name("nightshift-test-worker")
        .display()
        .to_string()
}

fn add_pool(d: &Daemon, extra: &[&str]) {
    d.add_test_pool("emb", "embed", extra);
}

fn pool(d: &Daemon) -> Value {
    let pools: Value = serde_json::from_str(&d.cli_ok(&["workers", "--json"])).unwrap();
    pools[0].clone()
}

fn workers_in(d: &Daemon, state: &str) -> usize {
    pool(d)["workers"]
        .as_array()
        .map_or(0, |w| w.iter().filter(|w| w["state"] == state).count())
}

fn wait_idle(d: &Daemon, n: usize) {
    wait_for(JOB_TIMEOUT, &format!("{n} idle workers"), || {
        workers_in(d, "idle") == n
    });
}

fn pids(d: &Daemon) -> Vec<i64> {
    pool(d)["workers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["pid"].as_i64())
        .collect()
}

fn add_job(d: &Daemon, args: &[&str]) -> i64 {
    let mut all = vec!["add", "--queue", "embed", "--"];
    all.extend_from_slice(args);
    d.cli_ok(&all).trim().parse().unwrap()
}

#[test]
fn a_pool_runs_jobs_on_its_workers_and_keeps_their_results() {
    let d = Daemon::with_config(CONFIG);
    add_pool(&d, &["-c", "2"]);
    wait_idle(&d, 2);
    let workers = pids(&d);
    let ids: Vec<i64> = (0..6)
        .map(|i| {
            let payload = format!("{{\"n\": {i}}}");
            d.cli_ok(&[
                "add",
                "--queue",
                "embed",
                "--payload",
                &payload,
                "--",
                "echo",
                "w",
            ])
            .trim()
            .parse()
            .unwrap()
        })
        .collect();
    let failing = add_job(&d, &["fail"]);
    let talking = add_job(&d, &["stderr", "warming the cache"]);
    // A job with no words at all is a job too: the payload may be all a worker needs.
    let bare: i64 = d
        .cli_ok(&["add", "--queue", "embed"])
        .trim()
        .parse()
        .unwrap();
    d.wait_jobs(
        &[ids.clone(), vec![failing, talking, bare]].concat(),
        JOB_TIMEOUT,
    );
    for (i, id) in ids.iter().enumerate() {
        let show = d.show(*id);
        assert_eq!(show["job"]["state"], "succeeded", "{show}");
        assert_eq!(show["job"]["command"], "worker: echo w");
        let attempt = &show["attempts"][0];
        assert!(
            attempt["worker"]
                .as_str()
                .is_some_and(|w| w == "emb/0" || w == "emb/1"),
            "{attempt}"
        );
        let result = &attempt["result"];
        assert_eq!(result["payload"]["n"], i, "{result}");
        assert_eq!(result["args"], serde_json::json!(["w"]));
        assert!(
            workers.contains(&result["pid"].as_i64().unwrap()),
            "{result}"
        );
    }
    let failed = d.show(failing);
    assert_eq!(failed["job"]["state"], "failed");
    assert_eq!(failed["job"]["reason"], "asked to fail");
    // The worker's error output and its log messages go to the log of the job it works on.
    let log = d.cli_ok(&["logs", &talking.to_string()]);
    assert!(log.contains("warming the cache"), "{log}");
    let log = d.cli_ok(&["logs", &ids[0].to_string()]);
    assert!(log.contains("echoing 2"), "{log}");
    assert_eq!(d.state(bare), "succeeded");
    // The same two workers did it all.
    assert_eq!(pids(&d), workers);
    let done: u64 = pool(&d)["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["jobs_done"].as_u64().unwrap() + w["jobs_failed"].as_u64().unwrap())
        .sum();
    assert_eq!(done, 9);
}

#[test]
fn a_job_without_a_command_is_refused_where_no_pool_serves_its_queue() {
    let d = Daemon::with_config(CONFIG);
    let out = d.cli(&["add", "--queue", "plain"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("no pool serves queue 'plain'") && said.contains("worker add"),
        "{said}"
    );
    add_pool(&d, &[]);
    // A second pool for the same queue, or a pool with a taken name, is refused by name.
    let bin = worker_bin();
    let out = d.cli(&["worker", "add", "other", "--queue", "embed", "--", &bin]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already served by pool 'emb'"));
    let out = d.cli(&["worker", "add", "emb", "--queue", "x", "--", &bin]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already a pool named 'emb'"));
    let out = d.cli(&["worker", "scale", "nope", "2"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no worker pool named 'nope'"));
}

#[test]
fn a_worker_killed_mid_job_is_replaced_and_its_job_runs_again_once() {
    let d = Daemon::with_config(CONFIG);
    add_pool(&d, &[]);
    wait_idle(&d, 1);
    let before = pids(&d)[0];
    let id = add_job(&d, &["sleep", "1500"]);
    wait_for(JOB_TIMEOUT, "the worker to be busy", || {
        workers_in(&d, "busy") == 1
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(before as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    d.wait_jobs(&[id], JOB_TIMEOUT);
    let show = d.show(id);
    assert_eq!(
        crate::outcomes(&show),
        ["interrupted", "succeeded"],
        "{show}"
    );
    let reason = show["attempts"][0]["outcome"].clone();
    assert_eq!(reason, "interrupted");
    wait_idle(&d, 1);
    let worker = &pool(&d)["workers"][0];
    assert_eq!(worker["restarts"], 1, "{worker}");
    assert_ne!(worker["pid"].as_i64(), Some(before));
    assert!(!is_live(before as i32));
}

#[test]
fn a_worker_that_crashes_at_start_makes_its_pool_crash_looping_and_says_why() {
    let d = Daemon::with_config(CONFIG);
    // It crashes at start while this file exists.
    let broken = d.scratch().join("model-missing");
    std::fs::write(&broken, "").unwrap();
    let env = format!("TEST_WORKER_CRASH_IF={}", broken.display());
    add_pool(&d, &["--env", &env]);
    wait_for(JOB_TIMEOUT, "the pool to be crash-looping", || {
        pool(&d)["crash_looping"].as_str().is_some_and(|why| {
            why.contains("exited with code 3 before it was ready")
                && why.contains("cannot load the model")
        })
    });
    // The summary the tray and the page read says so (the tray turns to attention).
    let summary = d.api("GET", "/api/summary", None);
    assert!(
        summary["pools_down"][0]
            .as_str()
            .is_some_and(|s| s.starts_with("pool emb is crash-looping")),
        "{summary}"
    );
    // Still restarted (at the longest wait), and said in the listing.
    let text = d.cli_ok(&["workers"]);
    assert!(text.contains("crash-looping:"), "{text}");
    assert!(pool(&d)["workers"][0]["restarts"].as_u64().unwrap() >= 5);

    // Mended: the next start stays up, and once it has run a while the pool is well again.
    std::fs::remove_file(&broken).unwrap();
    wait_idle(&d, 1);
    wait_for(JOB_TIMEOUT, "the crash-looping to clear", || {
        pool(&d)["crash_looping"].is_null()
            && d.api("GET", "/api/summary", None)["pools_down"] == serde_json::json!([])
    });
}

#[test]
fn after_a_sigkill_of_nightshift_no_worker_of_the_old_instance_survives() {
    let mut d = Daemon::with_config(CONFIG);
    add_pool(&d, &["-c", "2"]);
    wait_idle(&d, 2);
    // One worker hangs in a job (it ignores everything, even its input closing), one is idle.
    let hung = add_job(&d, &["hang"]);
    wait_for(JOB_TIMEOUT, "a busy worker", || workers_in(&d, "busy") == 1);
    let old = pids(&d);
    d.kill9();
    let survivors: Vec<i64> = old.iter().copied().filter(|p| is_live(*p as i32)).collect();
    assert!(
        !survivors.is_empty(),
        "the hung worker outlives a SIGKILL of Nightshift"
    );
    d.restart();
    // Recovery ended it before the new workers started; exactly two new ones run.
    for pid in &old {
        assert!(
            !is_live(*pid as i32),
            "worker {pid} of the old instance survived"
        );
    }
    wait_for(JOB_TIMEOUT, "two workers again", || {
        let now = pids(&d);
        now.len() == 2 && now.iter().all(|p| !old.contains(p))
    });
    // The hung job went back to its queue (an interruption) and hangs again; a cancel ends it:
    // the worker does not stop it, so after the kill grace the worker goes and comes back.
    let again = nightshift_e2e::wait_until(JOB_TIMEOUT, || d.state(hung) == "running");
    assert!(
        again,
        "the hung job did not run again: {}\n{}\n{}",
        d.show(hung),
        d.cli_ok(&["workers", "--json"]),
        d.daemon_stderr()
    );
    // The job is running once claimed; its worker is busy a moment later, once handed it.
    let busy = || {
        pool(&d)["workers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["state"] == "busy")
            .and_then(|w| w["pid"].as_i64())
    };
    wait_for(JOB_TIMEOUT, "a busy worker", || busy().is_some());
    let busy_pid = busy().expect("a busy worker");
    d.cli_ok(&["cancel", &hung.to_string()]);
    d.wait_jobs(&[hung], JOB_TIMEOUT);
    assert_eq!(d.state(hung), "cancelled");
    let shown = d.show(hung);
    assert_eq!(
        crate::outcomes(&shown),
        ["interrupted", "cancelled"],
        "{shown}\n{}",
        d.daemon_stderr()
    );
    wait_for(JOB_TIMEOUT, "the stuck worker to be replaced", || {
        !is_live(busy_pid as i32) && workers_in(&d, "idle") == 2
    });
}

#[test]
fn a_cancel_or_a_timeout_stops_a_worker_job_and_the_worker_takes_the_next() {
    let d = Daemon::with_config(CONFIG);
    add_pool(&d, &[]);
    wait_idle(&d, 1);
    let pid = pids(&d)[0];
    let long = add_job(&d, &["sleep", "60000"]);
    wait_for(JOB_TIMEOUT, "the job to run", || d.state(long) == "running");
    // While it works, the next job of its queue waits for it, and says so.
    let next = add_job(&d, &["echo", "next"]);
    let waiting = &d.show(next)["job"]["waiting"];
    assert_eq!(waiting["kind"], "workers", "{waiting}");
    assert_eq!(
        waiting["message"], "pool emb: its worker is busy (1 of 1)",
        "{waiting}"
    );
    let ls = d.cli_ok(&["ls"]);
    assert!(ls.contains("pool emb: its worker is busy"), "{ls}");
    // The running attempt names its worker before its end is stored.
    let attempt = &d.show(long)["attempts"][0];
    assert_eq!(attempt["worker"], "emb/0", "{attempt}");
    assert_eq!(attempt["outcome"], "running", "{attempt}");
    assert_eq!(attempt["pid"].as_i64(), Some(pid), "{attempt}");
    // A working worker's process group is measured when the pools are listed.
    let worker = &pool(&d)["workers"][0];
    assert!(worker["cpu_ms"].is_u64(), "{worker}");
    assert!(
        worker["rss_bytes"].as_u64().is_some_and(|b| b > 0),
        "{worker}"
    );
    d.cli_ok(&["cancel", &long.to_string()]);
    d.wait_jobs(&[long, next], JOB_TIMEOUT);
    assert_eq!(d.state(long), "cancelled");
    assert_eq!(d.state(next), "succeeded");
    let timed: i64 = d
        .cli_ok(&[
            "add",
            "--queue",
            "embed",
            "--timeout",
            "500ms",
            "--",
            "sleep",
            "60000",
        ])
        .trim()
        .parse()
        .unwrap();
    d.wait_jobs(&[timed], JOB_TIMEOUT);
    let show = d.show(timed);
    assert_eq!(show["job"]["state"], "failed", "{show}");
    assert_eq!(crate::outcomes(&show), ["timed_out"]);
    // The worker answered both stops itself: it is the same process, idle again.
    wait_idle(&d, 1);
    assert_eq!(pids(&d), [pid]);
}

#[test]
fn a_silent_busy_worker_is_unresponsive_killed_and_replaced() {
    // A restart wait long enough to see the worker as unresponsive before it comes back.
    let d = Daemon::with_config(
        "[workers]\nrestart_backoff = \"30s\"\nrestart_backoff_max = \"1m\"\n\
         [jobs]\nkill_grace = \"1s\"\nmax_interruptions = 1\n",
    );
    // Its workers send a heartbeat every 300ms while they work (the test worker does so while
    // it sleeps; a hanging job sends nothing).
    add_pool(
        &d,
        &["--heartbeat", "1s", "--env", "TEST_WORKER_HEARTBEAT_MS=300"],
    );
    wait_idle(&d, 1);
    let pid = pids(&d)[0];
    // Longer than three heartbeat intervals, and left alone: it says it is alive.
    let beating = add_job(&d, &["sleep", "4000"]);
    d.wait_jobs(&[beating], JOB_TIMEOUT);
    assert_eq!(d.state(beating), "succeeded");
    assert_eq!(pids(&d), [pid]);

    let id = add_job(&d, &["hang"]);
    d.wait_jobs(&[id], JOB_TIMEOUT);
    let show = d.show(id);
    assert_eq!(show["job"]["state"], "failed", "{show}");
    let reason = show["job"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("was unresponsive: it said nothing for 3")
            && reason.contains("after 1 interruptions"),
        "{reason}"
    );
    wait_for(JOB_TIMEOUT, "the worker to show as unresponsive", || {
        workers_in(&d, "unresponsive") == 1
    });
    let worker = &pool(&d)["workers"][0];
    assert!(
        worker["restart_at"].is_i64() && worker["pid"].is_null(),
        "{worker}"
    );
    let table = d.cli_ok(&["workers"]);
    assert!(table.contains("unresponsive"), "{table}");
    // Restarted by hand rather than after its 30 s.
    d.cli_ok(&["worker", "restart", "emb"]);
    wait_idle(&d, 1);
    assert!(!is_live(pid as i32));
    assert_eq!(pool(&d)["workers"][0]["restarts"], 1);
}

#[test]
fn a_pool_is_scaled_stopped_started_restarted_and_removed() {
    let d = Daemon::with_config(CONFIG);
    add_pool(&d, &[]);
    wait_idle(&d, 1);
    d.cli_ok(&["worker", "scale", "emb", "3"]);
    wait_idle(&d, 3);
    d.cli_ok(&["worker", "scale", "emb", "1"]);
    wait_for(JOB_TIMEOUT, "two workers stopped", || {
        workers_in(&d, "stopped") == 2 && workers_in(&d, "idle") == 1
    });
    assert_eq!(pids(&d).len(), 1);

    d.cli_ok(&["worker", "stop", "emb"]);
    wait_for(JOB_TIMEOUT, "every worker stopped", || pids(&d).is_empty());
    let id = add_job(&d, &["echo"]);
    // Nothing runs it while the pool is stopped.
    assert_eq!(d.state(id), "queued");
    let out = d.cli(&["worker", "rm", "emb"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("1 waiting") && said.contains("worker stop emb"),
        "{said}"
    );

    d.cli_ok(&["worker", "start", "emb"]);
    d.wait_jobs(&[id], JOB_TIMEOUT);
    assert_eq!(d.state(id), "succeeded");
    wait_idle(&d, 1);
    let before = pids(&d);
    d.cli_ok(&["worker", "restart", "emb"]);
    wait_for(JOB_TIMEOUT, "a new worker", || {
        let now = pids(&d);
        now.len() == 1 && now != before && workers_in(&d, "idle") == 1
    });
    // A restart asked for is not an exit: no restart counted.
    assert_eq!(pool(&d)["workers"][0]["restarts"], 0);

    // A process that left the worker's group goes when the worker goes.
    let pid_file = d.scratch().join("escaped.pid");
    let escaper = add_job(&d, &["escape", &pid_file.display().to_string()]);
    d.wait_jobs(&[escaper], JOB_TIMEOUT);
    wait_for(JOB_TIMEOUT, "the escaped process's pid", || {
        std::fs::read_to_string(&pid_file).is_ok_and(|t| t.ends_with('\n'))
    });
    let escaped: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(is_live(escaped));
    let last = pids(&d);

    d.cli_ok(&["worker", "rm", "emb"]);
    assert_eq!(d.cli_ok(&["workers", "--json"]).trim(), "[]");
    wait_for(JOB_TIMEOUT, "the worker and what it left to end", || {
        !is_live(last[0] as i32) && !is_live(escaped)
    });
}

/// The reference worker in plain Python (examples/worker.py) does what docs/workers.md says.
#[test]
fn the_python_example_worker_counts_words() {
    let d = Daemon::with_config(CONFIG);
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/worker.py");
    d.cli_ok(&[
        "worker",
        "add",
        "words",
        "--queue",
        "words",
        "--",
        "python3",
        &example.display().to_string(),
    ]);
    wait_idle(&d, 1);
    let id: i64 = d
        .cli_ok(&[
            "add",
            "--queue",
            "words",
            "--payload",
            r#"{"text": "the quick brown fox"}"#,
        ])
        .trim()
        .parse()
        .unwrap();
    let bad: i64 = d
        .cli_ok(&["add", "--queue", "words", "--payload", "[1, 2]"])
        .trim()
        .parse()
        .unwrap();
    d.wait_jobs(&[id, bad], JOB_TIMEOUT);
    let show = d.show(id);
    assert_eq!(show["job"]["state"], "succeeded", "{show}");
    assert_eq!(
        show["attempts"][0]["result"],
        serde_json::json!({"words": 4})
    );
    let log = d.cli_ok(&["logs", &id.to_string()]);
    assert!(log.contains(&format!("job {id}, attempt 1")), "{log}");
    // A payload it cannot read fails the job and leaves the worker running.
    assert_eq!(d.show(bad)["job"]["state"], "failed");
    assert_eq!(workers_in(&d, "idle"), 1);
    assert_eq!(pool(&d)["workers"][0]["restarts"], 0);
}

/// `/metrics` counts each pool's workers by state, its restarts, jobs and busy share, clean
/// under promtool.
#[test]
fn pools_are_in_the_metrics() {
    let d = Daemon::with_config(CONFIG);
    add_pool(&d, &["-c", "2"]);
    wait_idle(&d, 2);
    let id = add_job(&d, &["echo"]);
    d.wait_jobs(&[id], JOB_TIMEOUT);
    let hung = add_job(&d, &["sleep", "30000"]);
    wait_for(JOB_TIMEOUT, "a busy worker", || workers_in(&d, "busy") == 1);
    let (status, text) = d.http("GET", "/metrics", None);
    assert_eq!(status, 200);
    for line in [
        "nightshift_pool_workers{pool=\"emb\",state=\"idle\"} 1",
        "nightshift_pool_workers{pool=\"emb\",state=\"busy\"} 1",
        "nightshift_pool_desired_workers{pool=\"emb\"} 2",
        "nightshift_pool_crash_looping{pool=\"emb\"} 0",
        "nightshift_pool_worker_restarts_total{pool=\"emb\"} 0",
        "nightshift_pool_jobs_total{pool=\"emb\",outcome=\"succeeded\"} 1",
        "nightshift_pool_busy_ratio{pool=\"emb\"} 0.5",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line} in:\n{text}");
    }
    assert_eq!(crate::metrics::promtool_check(&text), "");
    d.cli_ok(&["cancel", &hung.to_string()]);
}

/// A pool follows its queue's power policy: on battery an AC-only queue's job waits, saying
/// why, and a worker takes it once AC is back.
#[test]
fn a_pool_follows_its_queues_power_policy() {
    let d = Daemon::builder()
        .config(&format!(
            "{CONFIG}[power]\nsource = \"simulated\"\npoll = \"1s\"\n[queues.embed]\nrequire_ac = true\n"
        ))
        .prepare();
    let power = d.home().join("power.json");
    std::fs::write(&power, r#"{"on_ac": false, "percent": 80}"#).unwrap();
    let mut d = d;
    d.restart();
    add_pool(&d, &[]);
    wait_idle(&d, 1);
    let id = add_job(&d, &["echo"]);
    wait_for(JOB_TIMEOUT, "the job to say it waits for AC", || {
        d.show(id)["job"]["waiting"]["kind"] == "on_battery"
    });
    assert_eq!(d.state(id), "queued");
    assert_eq!(workers_in(&d, "idle"), 1, "the worker waits idle, not busy");
    std::fs::write(&power, r#"{"on_ac": true, "percent": 81}"#).unwrap();
    d.wait_jobs(&[id], JOB_TIMEOUT);
    assert_eq!(d.state(id), "succeeded");
}

/// A recurring job in a pool's queue runs on the pool's workers.
#[test]
fn a_recurring_job_runs_on_a_pools_workers() {
    let d = Daemon::with_config(CONFIG);
    add_pool(&d, &[]);
    wait_idle(&d, 1);
    d.cli_ok(&[
        "add", "--queue", "embed", "--every", "1h", "--name", "nightly", "--", "echo", "x",
    ]);
    d.cli_ok(&["schedule", "run", "nightly"]);
    wait_for(JOB_TIMEOUT, "the run to succeed on a worker", || {
        let jobs: Value =
            serde_json::from_str(&d.cli_ok(&["ls", "--queue", "embed", "--json"])).unwrap();
        jobs["jobs"].as_array().is_some_and(|j| {
            j.iter()
                .any(|j| j["state"] == "succeeded" && j["command"] == "worker: echo x")
        })
    });
}

/// `[pools.NAME]` in the config file, with the test worker, `count` workers and `env`.
fn config_pool(name: &str, queue: &str, count: u32, env: &str) -> String {
    format!(
        "[pools.{name}]\nqueue = \"{queue}\"\ncount = {count}\ncommand = [\"{}\"]\nenv = {{ {env} }}\n",
        worker_bin()
    )
}

#[test]
fn pools_in_the_config_file_are_made_kept_in_line_and_removed_at_each_start() {
    let mut d = Daemon::with_config(&format!(
        "{CONFIG}{}",
        config_pool("emb", "embed", 2, "MODEL = \"small\"")
    ));
    wait_idle(&d, 2);
    let p = pool(&d);
    assert_eq!(p["from_config"], true, "{p}");
    let id = add_job(&d, &["echo", "hi"]);
    d.wait_jobs(&[id], JOB_TIMEOUT);
    assert_eq!(d.state(id), "succeeded");
    // The file owns it: it cannot be removed by hand, and says where it comes from.
    let out = d.cli(&["worker", "rm", "emb"]);
    assert!(!out.status.success());
    let err = nightshift_e2e::text(&out.stderr);
    assert!(
        err.contains("declared in the config file ([pools.emb])"),
        "{err}"
    );
    assert!(d.cli_ok(&["workers"]).contains("from the config file"));
    // A scale lasts until the next start, when the file's count is back.
    d.cli_ok(&["worker", "scale", "emb", "1"]);
    wait_for(JOB_TIMEOUT, "one worker", || workers_in(&d, "stopped") == 1);
    d.write_config(&format!(
        "{CONFIG}{}",
        config_pool("emb", "embed", 3, "MODEL = \"large\"")
    ));
    d.restart();
    wait_idle(&d, 3);
    // Removed from the file while a job waits in its queue: kept, as an ordinary pool.
    d.cli_ok(&["worker", "stop", "emb"]);
    let waiting = add_job(&d, &["echo", "later"]);
    d.write_config(CONFIG);
    d.restart();
    let p = pool(&d);
    assert_eq!(
        (p["name"].as_str(), p["from_config"].as_bool()),
        (Some("emb"), Some(false))
    );
    d.cli_ok(&["worker", "start", "emb"]);
    d.wait_jobs(&[waiting], JOB_TIMEOUT);
    // Declared again, then removed from a file with nothing waiting: gone.
    d.write_config(&format!("{CONFIG}{}", config_pool("emb", "embed", 1, "")));
    d.restart();
    wait_idle(&d, 1);
    assert_eq!(pool(&d)["from_config"], true);
    d.write_config(CONFIG);
    d.restart();
    assert_eq!(d.cli_ok(&["workers", "--json"]).trim(), "[]");
    // A table for a queue another pool serves is refused at start, naming both.
    add_pool(&d, &[]);
    d.terminate();
    d.write_config(&format!("{CONFIG}{}", config_pool("other", "embed", 1, "")));
    let out = d
        .cli_timeout(
            &["daemon", "--port", "0"],
            std::time::Duration::from_secs(30),
        )
        .expect("the daemon refuses to start");
    assert!(!out.status.success());
    let err = nightshift_e2e::text(&out.stderr);
    assert!(
        err.contains("[pools.other] in the config file serves queue 'embed', which pool 'emb'"),
        "{err}"
    );
}
