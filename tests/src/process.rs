//! Processes seen through `/proc`, and processes a test starts itself.

use std::fs;
use std::process::{Child, Command, ExitStatus, Stdio};

/// `/proc/<pid>/stat`: the state letter and the process group, if the process exists. Fields
/// resume after the last ')' because the command name may contain spaces and parentheses.
pub fn proc_stat(pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

/// Whether `pid` is a live process (zombies are dead: they only wait to be reaped).
pub fn is_live(pid: i32) -> bool {
    matches!(proc_stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
}

/// Whether `pid` is a live process in the process group `pgid`.
pub fn live_in_group(pid: i32, pgid: i32) -> bool {
    matches!(proc_stat(pid), Some((state, pgrp)) if state != 'Z' && state != 'X' && pgrp == pgid)
}

pub(crate) fn all_pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .expect("cannot list /proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every live (non-zombie) process whose process group is `pgid`.
pub fn group_members(pgid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&pid| live_in_group(pid, pgid))
        .collect()
}

/// A process this test started itself, killed (and reaped) when dropped.
#[derive(Debug)]
pub struct OwnedProcess {
    child: Child,
}

impl OwnedProcess {
    /// Starts `cmd` with no stdin and its output discarded.
    pub fn spawn(mut cmd: Command) -> OwnedProcess {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        OwnedProcess { child }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Whether it is still running (it has not exited, not even as an unreaped zombie).
    pub fn is_running(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("cannot poll a child process")
            .is_none()
            && is_live(self.pid())
    }

    /// Kills and reaps it.
    pub fn kill(mut self) -> ExitStatus {
        let _ = self.child.kill();
        self.child.wait().expect("cannot reap a child process")
    }
}

impl Drop for OwnedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
