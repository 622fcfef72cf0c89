//! Programs the bench starts: stopped politely, and never left running when a measurement
//! fails half-way.

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// How long a program may take to stop after SIGTERM when the bench is cleaning up after an
/// error (a clean stop passes its own limit to `terminate`).
const CLEANUP_LIMIT: Duration = Duration::from_secs(5);

/// A child stopped (SIGTERM, then SIGKILL) and reaped if it is still running when this drops.
/// SIGTERM first, so Xvfb removes its lock file and an app writes its last log lines.
pub struct Reaped(pub Child);

impl Reaped {
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        self.0.try_wait().context("cannot check on a child process")
    }

    /// SIGTERM, then up to `within` to exit; SIGKILL (and an error) if it does not.
    pub fn terminate(&mut self, within: Duration) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.exited()? {
            return Ok(status);
        }
        let _ = kill(Pid::from_raw(self.id() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.exited()? {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
        bail!(
            "pid {} did not stop within {within:?} of SIGTERM, killed",
            self.id()
        )
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.terminate(CLEANUP_LIMIT);
    }
}

/// The last lines of a program's log, for error messages.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}
