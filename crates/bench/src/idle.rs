//! Figure 6, the idle headless daemon: `nightshift daemon --port 0` on a fresh home, left
//! alone; its resident memory after it settles, and how often its threads wake up (context
//! switches, voluntary and not, summed over every thread). Baseline: the same figures for a
//! `sleep 1000` started at the same moment.

use crate::report::{Figure, Target};
use anyhow::{Context, bail, ensure};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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
    let mut sleep = Reaped(
        Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .spawn()
            .context("cannot start sleep")?,
    );

    let address = home.path().join("daemon.json");
    let deadline = Instant::now() + START_LIMIT;
    while !address.exists() {
        if let Some(status) = daemon.0.try_wait()? {
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

    let (daemon_pid, sleep_pid) = (daemon.0.id(), sleep.0.id());
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

    kill(Pid::from_raw(daemon_pid as i32), Signal::SIGTERM).context("cannot signal the daemon")?;
    let deadline = Instant::now() + STOP_LIMIT;
    let status = loop {
        if let Some(status) = daemon.0.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            bail!("the daemon did not stop within {STOP_LIMIT:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if !status.success() {
        eprintln!(
            "warning: the daemon stopped with {status}: {}",
            tail(&log_path)
        );
    }
    sleep.stop();

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

/// A child killed and reaped if it is still running when this drops (on an early error).
struct Reaped(Child);

impl Reaped {
    fn stop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last lines of the daemon's output, for error messages.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

/// A `key: value kB` field of a `/proc/.../status` file.
fn status_field(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Resident memory in MB (10^6 bytes).
fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let kb = status_field(&status, "VmRSS").with_context(|| format!("no VmRSS in {path}"))?;
    Ok(kb as f64 * 1024.0 / 1e6)
}

/// Context switches of each thread of a process: the first and the latest reading.
struct Switches {
    pid: u32,
    first: HashMap<u32, u64>,
    last: HashMap<u32, u64>,
}

impl Switches {
    fn start(pid: u32) -> anyhow::Result<Switches> {
        let first = per_thread(pid)?;
        Ok(Switches {
            pid,
            last: first.clone(),
            first,
        })
    }

    /// Reads again; threads that have exited keep their last reading.
    fn sample(&mut self) -> anyhow::Result<()> {
        self.last.extend(per_thread(self.pid)?);
        Ok(())
    }

    /// Switches since the first reading; threads born since count from zero.
    fn total(&self) -> u64 {
        self.last
            .iter()
            .map(|(tid, last)| last.saturating_sub(self.first.get(tid).copied().unwrap_or(0)))
            .sum()
    }
}

/// Voluntary plus involuntary context switches of every thread of `pid`, by thread id.
fn per_thread(pid: u32) -> anyhow::Result<HashMap<u32, u64>> {
    let dir = format!("/proc/{pid}/task");
    let mut switches = HashMap::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {dir}"))? {
        let entry = entry?;
        let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        // A thread may exit between the listing and the read.
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let count = status_field(&status, "voluntary_ctxt_switches").unwrap_or(0)
            + status_field(&status, "nonvoluntary_ctxt_switches").unwrap_or(0);
        switches.insert(tid, count);
    }
    Ok(switches)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_status_fields() {
        let status = "Name:\tx\nVmRSS:\t    1234 kB\nvoluntary_ctxt_switches:\t7\n\
                      nonvoluntary_ctxt_switches:\t2\n";
        assert_eq!(super::status_field(status, "VmRSS"), Some(1234));
        assert_eq!(
            super::status_field(status, "voluntary_ctxt_switches"),
            Some(7)
        );
        assert_eq!(
            super::status_field(status, "nonvoluntary_ctxt_switches"),
            Some(2)
        );
        assert_eq!(super::status_field(status, "VmSwap"), None);
    }
}
