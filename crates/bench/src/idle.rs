//! Figure 6, the idle headless daemon: `nightshift daemon --port 0` on a fresh home, left
//! alone; its resident memory after it settles, and how often its threads wake up (context
//! switches, voluntary and not, summed over every thread, its children's too). Then the wake-ups
//! again, from a second daemon on another fresh home, with `NIGHTSHIFT_POWER_FILE` naming a
//! simulated power file that says "on battery, 80%": a source that can change, so the daemon
//! polls it (every `power.poll`, 2 s by default) through the whole window; after the window the
//! bench asks that daemon (`nightshift power`) that it does read the file. Baseline for each:
//! the same figures for a `sleep 1000` started at the same moment as that daemon.

use crate::child::{Reaped, tail};
use crate::procfs::{Switches, rss_mb};
use crate::report::{Figure, Target};
use anyhow::{Context, bail, ensure};
use nightshift_power::{SimulatedPower, SimulatedState};
use std::ffi::OsStr;
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
    let plain = watch(bin, window, &[], |_| Ok(()))?;

    let power_dir = tempfile::Builder::new()
        .prefix("nightshift-bench-power-")
        .tempdir()
        .context("cannot create a folder for the power file")?;
    let power_file = power_dir.path().join("power.json");
    SimulatedPower::write(
        &power_file,
        SimulatedState {
            on_ac: false,
            percent: Some(80.0),
        },
    )
    .with_context(|| format!("cannot write {}", power_file.display()))?;
    let env = [(nightshift_engine::POWER_FILE_ENV, power_file.as_os_str())];
    let polled = watch(bin, window, &env, |home| reads_power_file(bin, home))?;

    Ok(vec![
        Figure {
            key: "idle_rss_mb",
            name: "idle daemon resident memory".into(),
            unit: "MB",
            value: plain.daemon_rss,
            baseline: plain.sleep_rss,
            baseline_name: "`sleep 1000`".into(),
            target: Target::AtMost(15.0),
        },
        Figure {
            key: "idle_wakeups_per_s",
            name: format!("idle daemon wake-ups over {}s", window.as_secs()),
            unit: "/s",
            value: plain.daemon_wakeups,
            baseline: plain.sleep_wakeups,
            baseline_name: "`sleep 1000`".into(),
            target: Target::AtMost(1.0),
        },
        Figure {
            key: "idle_power_poll_wakeups_per_s",
            name: format!(
                "idle daemon wake-ups over {}s, polling a battery (simulated file)",
                window.as_secs()
            ),
            unit: "/s",
            value: polled.daemon_wakeups,
            baseline: polled.sleep_wakeups,
            baseline_name: "`sleep 1000`".into(),
            target: Target::AtMost(1.0),
        },
    ])
}

/// One idle daemon and its `sleep` beside it, measured over `window`.
struct Idle {
    daemon_rss: f64,
    sleep_rss: f64,
    daemon_wakeups: f64,
    sleep_wakeups: f64,
}

/// Starts `bin daemon` on a fresh home with `env` added, measures it beside a `sleep`, then
/// runs `check` on the home while the daemon still runs (after the window, so it does not
/// count) and stops it.
fn watch(
    bin: &Path,
    window: Duration,
    env: &[(&str, &OsStr)],
    check: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<Idle> {
    let home = tempfile::Builder::new()
        .prefix("nightshift-bench-home-")
        .tempdir()
        .context("cannot create a temporary home")?;
    let log_path = home.path().join("bench-daemon.log");
    let log = std::fs::File::create(&log_path).context("cannot create the daemon's log")?;
    let daemon = Command::new(bin)
        .args(["daemon", "--port", "0"])
        .env("NIGHTSHIFT_HOME", home.path())
        // Only what `env` says: not a power file this program may have been given.
        .env_remove(nightshift_engine::POWER_FILE_ENV)
        .envs(env.iter().copied())
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

    check(home.path())?;
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
    Ok(Idle {
        daemon_rss,
        sleep_rss,
        daemon_wakeups,
        sleep_wakeups,
    })
}

/// Asks the daemon on `home` which power source it reads: it must be the simulated file,
/// reporting the battery.
fn reads_power_file(bin: &Path, home: &Path) -> anyhow::Result<()> {
    let output = Command::new(bin)
        .arg("power")
        .env("NIGHTSHIFT_HOME", home)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {} power", bin.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success() && text.contains("simulated") && text.contains("on battery"),
        "the daemon does not read the simulated power file: `nightshift power` said {text:?} {:?}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
