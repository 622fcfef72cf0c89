//! Ending process groups: SIGTERM, a grace period, SIGKILL, then a check that none is left.
//! And at start-up, reclaiming groups a killed instance left behind, only when their identity
//! still matches.

use crate::identity::Identity;
use crate::platform;
use crate::spawn::{Exit, Running};
use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout_at};

/// How long to wait for the kernel to finish off a group after SIGKILL before reporting
/// survivors (a process in uninterruptible sleep can take a moment).
const AFTER_KILL: Duration = Duration::from_secs(5);

/// How the group of an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupEnd {
    /// The leader's exit, if it was reaped here.
    pub exit: Option<Exit>,
    /// Whether SIGKILL was needed.
    pub escalated: bool,
    /// Members still alive after SIGKILL (should be zero; logged loudly if not).
    pub survivors: usize,
}

fn signal_group(pgid: i32, signal: Signal) {
    match killpg(Pid::from_raw(pgid), signal) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(e) => tracing::warn!(pgid, %signal, error = %e, "cannot signal process group"),
    }
}

/// Whether any live (non-zombie) process is left in the group.
pub fn group_alive(pgid: i32) -> bool {
    // Fast path: no process at all in the group, not even a zombie.
    if killpg(Pid::from_raw(pgid), None) == Err(Errno::ESRCH) {
        return false;
    }
    if cfg!(target_os = "linux") {
        !platform::group_members(pgid).is_empty()
    } else {
        true
    }
}

/// Polls until the group is empty or `deadline` passes. The kernel has no event for "this
/// group is now empty" for processes that are not our children, so this polls, only during
/// a bounded stop, starting fast and backing off.
async fn wait_group_empty(pgid: i32, deadline: Instant) -> bool {
    let mut pause = Duration::from_millis(2);
    loop {
        if !group_alive(pgid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Stops the attempt's whole group: SIGTERM (and SIGCONT, so a stopped process can act on it),
/// then SIGKILL to whatever is left after `grace`, then confirms the group is empty. Reaps the
/// leader if it was not reaped yet.
pub async fn terminate(running: &mut Running, leader_reaped: bool, grace: Duration) -> GroupEnd {
    let pgid = running.pgid();
    signal_group(pgid, Signal::SIGTERM);
    signal_group(pgid, Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    let mut exit = None;
    if !leader_reaped && let Ok(status) = timeout_at(deadline, running.wait()).await {
        exit = status.ok();
    }
    let mut escalated = false;
    if exit.is_none() && !leader_reaped || !wait_group_empty(pgid, deadline).await {
        escalated = true;
        signal_group(pgid, Signal::SIGKILL);
        if exit.is_none() && !leader_reaped {
            exit = running.wait().await.ok();
        }
    }
    let survivors = if wait_group_empty(pgid, Instant::now() + AFTER_KILL).await {
        0
    } else {
        let left = platform::group_members(pgid).len();
        tracing::error!(pgid, left, "processes survived SIGKILL");
        left
    };
    GroupEnd {
        exit,
        escalated,
        survivors,
    }
}

/// What start-up recovery did with a group a previous instance left running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reclaim {
    /// Recorded in another boot: everything from then is gone.
    OtherBoot,
    /// No process of the group is left.
    Gone,
    /// The pid now belongs to a different process (its start time differs): not signalled.
    NotOurs,
    /// The identity could not be read or was never stored: nothing signalled.
    Unknown,
    /// The group matched and was killed; `survivors` is what SIGKILL did not end.
    Killed { members: usize, survivors: usize },
}

/// Kills the group of a stored identity if, and only if, it is provably the same group: same
/// boot, and either the leader is alive with the stored start time, or the leader is gone and
/// the remaining members of its group started after it. While any member of a group exists the
/// kernel does not hand its id out as a new pid, so a leaderless group with that id is still
/// the one we started.
pub async fn reclaim(stored: &Identity) -> Reclaim {
    let (Some(boot), Some(ticks)) = (&stored.boot_id, stored.start_ticks) else {
        return Reclaim::Unknown;
    };
    match platform::boot_id() {
        Some(now) if &now == boot => {}
        Some(_) => return Reclaim::OtherBoot,
        None => return Reclaim::Unknown,
    }
    let pgid = stored.pid;
    let leader = platform::proc_info(pgid);
    let members = match leader {
        Some(p) if p.start_ticks != ticks || p.pgrp != pgid => return Reclaim::NotOurs,
        Some(_) => {
            let members = platform::group_members(pgid).len();
            signal_group(pgid, Signal::SIGKILL);
            members
        }
        None => {
            let members: Vec<_> = platform::group_members(pgid)
                .into_iter()
                .filter(|m| m.start_ticks >= ticks)
                .collect();
            if members.is_empty() {
                return Reclaim::Gone;
            }
            for m in &members {
                // Re-read just before signalling so a pid recycled in between is never hit.
                if platform::proc_info(m.pid) == Some(*m) {
                    let _ = kill(Pid::from_raw(m.pid), Signal::SIGKILL);
                }
            }
            members.len()
        }
    };
    let survivors = if wait_group_empty(pgid, Instant::now() + AFTER_KILL).await {
        0
    } else {
        platform::group_members(pgid).len()
    };
    Reclaim::Killed { members, survivors }
}
