//! Figure 6, the idle headless daemon: `nightshift daemon --port 0` on a fresh home, left
//! alone; its resident memory after it settles, and how often its threads wake up (context
//! switches, voluntary and not, summed over every thread, its children's too). Baseline: the same
//! figures for a `sleep 1000` started at the same moment.

use crate::child::{Reaped, tail};
use crate::procfs::{Switches, rss_mb};
use crate::report::{Figure, Target};
use anyhow::{Context, bail, ensure};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the daemon may take to write its address file.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long it may take to stop after SIGTERM.
const STOP_LIMIT: Duration = Duration::from_secs(30);
/// Time left alone after start before measuring (measurement, not synchronisation).
const SETTLE: Duration = Duration::from_secs(2);
/// How often the threads' counters are read during the window, so a thread that exits
/// mid-window still counts up to its last reading.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

pub fn run(bin: &Path, window: Duration) -> anyhow::Result<Vec<Figure>> {
    ensure!(
        bin.is_file(),
        "no nightshift binary at {} (build it with `cargo build --release -p nightshift-cli`, \
         or pass --bin)",
        bin.display()
    );
    let home = tempfile::Builder::new()
        .prefix("nightshift-bench-home-")
        .tempdir()
        .context("cannot create a temporary home")?;
    let log_path = home.path().join("bench-daemon.log");
    let log = std::fs::File::create(&log_path).context("cannot create the daemon's log")?;
    let daemon = Command::new(bin)
        .args(["daemon", "--port", "0"])
        .env("NIGHTSHIFT_HOME", home.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let mut daemon = Reaped(daemon);
    let sleep = Reaped(
        Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .spawn()
            .context("cannot start sleep")?,
    );

    let address = home.path().join("daemon.json");
    let deadline = Instant::now() + START_LIMIT;
    while !address.exists() {
        if let Some(status) = daemon.exited()? {
            bail!(
                "the daemon exited ({status}) before it was ready: {}",
                tail(&log_path)
            );
        }
        if Instant::now() > deadline {
            bail!(
                "the daemon wrote no {} within {START_LIMIT:?}: {}",
                address.display(),
                tail(&log_path)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(SETTLE);

    let (daemon_pid, sleep_pid) = (daemon.id(), sleep.id());
    let daemon_rss = rss_mb(daemon_pid)?;
    let sleep_rss = rss_mb(sleep_pid)?;
    let mut daemon_switches = Switches::start(daemon_pid)?;
    let mut sleep_switches = Switches::start(sleep_pid)?;
    let start = Instant::now();
    while start.elapsed() < window {
        std::thread::sleep(SAMPLE_EVERY.min(window.saturating_sub(start.elapsed())));
        daemon_switches.sample()?;
        sleep_switches.sample()?;
    }
    let seconds = start.elapsed().as_secs_f64();
    let daemon_wakeups = daemon_switches.total() as f64 / seconds;
    let sleep_wakeups = sleep_switches.total() as f64 / seconds;

    let status = daemon
        .terminate(STOP_LIMIT)
        .context("cannot stop the daemon")?;
    if !status.success() {
        eprintln!(
            "warning: the daemon stopped with {status}: {}",
            tail(&log_path)
        );
    }
    drop(sleep);

    Ok(vec![
        Figure {
            key: "idle_rss_mb",
            name: "idle daemon resident memory".into(),
            unit: "MB",
            value: daemon_rss,
            baseline: sleep_rss,
            baseline_name: "`sleep 1000`".into(),
            target: Target::AtMost(15.0),
        },
        Figure {
            key: "idle_wakeups_per_s",
            name: format!("idle daemon wake-ups over {}s", window.as_secs()),
            unit: "/s",
            value: daemon_wakeups,
            baseline: sleep_wakeups,
            baseline_name: "`sleep 1000`".into(),
            target: Target::AtMost(1.0),
        },
    ])
}
