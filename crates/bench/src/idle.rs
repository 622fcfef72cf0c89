//! Figure 6, the idle headless daemon: `nightshift daemon --port 0` on a fresh home, left
//! alone; its resident memory after it settles, and how often its threads wake up (context
//! switches, voluntary and not, summed over every thread, its children's too). Then the wake-ups
//! again, from a second daemon on another fresh home, with `NIGHTSHIFT_POWER_FILE` naming a
//! simulated power file that says "on battery, 80%": a source that can change, so the daemon
//! polls it (every `power.poll`, 2 s by default) through the whole window; after the window the
//! bench asks that daemon (`nightshift power`) that it does read the file. Baseline for each:
//! the same figures for a `sleep 1000` started as soon as that daemon is ready.

use crate::child::Reaped;
use crate::daemon::Daemon;
use crate::procfs::{Switches, rss_mb};
use crate::report::{Figure, Target};
use anyhow::{Context, ensure};
use nightshift_power::{SimulatedPower, SimulatedState};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Time left alone after start before measuring (measurement, not synchronisation): past
/// the start's own work, the memory it freed given back (5 s after it), and the blocking
/// threads it used ended (the runtime keeps an idle one 10 s). Figures from 2 s in counted
/// those endings as wake-ups and the start's freed memory as resident.
const SETTLE: Duration = Duration::from_secs(12);
/// How often the threads' counters are read during the window, so a thread that exits
/// mid-window still counts up to its last reading.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// The shortest window: a whole minute, so the history's one snapshot a minute (and whatever
/// follows it) is counted once wherever the window falls. A 10 s window showed 0 wake-ups a
/// second or 2 to 6, by whether a minute's start fell in it.
pub(crate) const WHOLE_MINUTE: Duration = Duration::from_secs(60);

pub fn run(bin: &Path, window: Duration) -> anyhow::Result<Vec<Figure>> {
    let window = window.max(WHOLE_MINUTE);
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
    let daemon = Daemon::start(bin, "", env)?;
    let sleep = Reaped(
        Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .spawn()
            .context("cannot start sleep")?,
    );
    std::thread::sleep(SETTLE);

    let (daemon_pid, sleep_pid) = (daemon.pid(), sleep.id());
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

    check(daemon.home())?;
    daemon.stop()?;
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
