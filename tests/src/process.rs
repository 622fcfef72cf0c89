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

/// `/proc/<pid>/stat`: the parent, the process group and the session, if the process exists.
pub fn proc_ids(pid: i32) -> Option<(i32, i32, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(1);
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    let session = fields.next()?.parse().ok()?;
    Some((ppid, pgrp, session))
}

/// Whether the live process `pid` has `entry` (`NAME=value`) in its environment.
pub fn has_env(pid: i32, entry: &str) -> bool {
    is_live(pid)
        && fs::read(format!("/proc/{pid}/environ"))
            .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == entry.as_bytes()))
}

/// Whether `pid` is a live process (zombies are dead: they only wait to be reaped).
pub fn is_live(pid: i32) -> bool {
    matches!(proc_stat(pid), Some((state, _)) if state != 'Z' && state != 'X')
}

/// The state letter of `pid` (`/proc/<pid>/stat` field 3), with one correction: a process in
/// uninterruptible sleep (`D`) with SIGSTOP pending reads as `T`, because it stops the moment
/// it wakes. A shell that vforks a command waits in `D` until the child execs; a SIGSTOP that
/// lands before the exec stops the child and leaves the parent in `D` until SIGCONT.
pub fn state_of(pid: i32) -> Option<char> {
    match proc_stat(pid)? {
        ('D', _) if stop_pending(pid) => Some('T'),
        (state, _) => Some(state),
    }
}

/// Whether `pid` is stopped (see [`state_of`]; `t` is stopped by a tracer).
pub fn stopped(pid: i32) -> bool {
    matches!(state_of(pid), Some('T' | 't'))
}

/// Whether SIGSTOP is pending for `pid`, in its own mask or its thread group's.
fn stop_pending(pid: i32) -> bool {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("SigPnd:")
                .or_else(|| l.strip_prefix("ShdPnd:"))
        })
        .filter_map(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        // SIGSTOP is signal 19 on x86 and arm: bit 18.
        .any(|mask| mask & (1 << 18) != 0)
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

/// The states (see [`state_of`]) of the live members of the process group `pgid`.
pub fn member_states(pgid: i32) -> Vec<char> {
    group_members(pgid)
        .into_iter()
        .filter_map(state_of)
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

/// Live processes that have `path` open (any of their file descriptors points at it).
pub fn holders_of(path: &std::path::Path) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|&pid| is_live(pid))
        .filter(|pid| {
            fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                fds.flatten()
                    .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target == path))
            })
        })
        .collect()
}

/// Whether `pid` has a handler installed for signal number `signal` (`SigCgt` in
/// `/proc/<pid>/status`): until then the signal's default action applies.
pub fn catches_signal(pid: i32, signal: i32) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
}
