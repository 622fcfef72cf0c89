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
pub(crate) const AFTER_KILL: Duration = Duration::from_secs(5);

/// How the group of an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupEnd {
    /// The leader's exit, if it was reaped here.
    pub exit: Option<Exit>,
    /// Whether SIGKILL was needed.
    pub escalated: bool,
    /// Members still alive after SIGKILL, the leader included if it could not be reaped
    /// (should be zero; logged loudly if not).
    pub survivors: usize,
}

/// Whether `pgid` may be signalled or inspected at all. 0 and 1 never name a job's group:
/// `killpg(0, …)` is our own group, and group 1 is init's. Negative ids are no group.
fn valid_pgid(pgid: i32) -> bool {
    if pgid > 1 {
        return true;
    }
    tracing::error!(
        pgid,
        "refusing to act on process group {pgid}: it is no job's group"
    );
    false
}

/// Sends `signal` to the group; whether it was delivered.
fn signal_group(pgid: i32, signal: Signal) -> bool {
    if !valid_pgid(pgid) {
        return false;
    }
    match killpg(Pid::from_raw(pgid), signal) {
        Ok(()) => true,
        Err(Errno::ESRCH) => false,
        Err(e) => {
            tracing::warn!(pgid, %signal, error = %e, "cannot signal process group");
            false
        }
    }
}

/// How long `pause` keeps signalling a member that has not stopped yet. A process in the
/// middle of exiting never stops (it becomes a zombie instead), and one in uninterruptible
/// sleep stops only when it wakes; on a loaded machine either can take well over 100 ms
/// (a fixed 50 rounds of 2 ms gave up too early under a parallel test run).
const PAUSE_WITHIN: Duration = Duration::from_secs(2);

/// Stops every process of the attempt's group (SIGSTOP: it cannot be caught or ignored), as
/// when power is lost under a job that asked to pause. A process the group forks while the
/// signal goes out may miss it, and delivery takes a moment, so this looks at the members and
/// signals again, backing off, until each is stopped or [`PAUSE_WITHIN`] passes. Whether they
/// all are; `false` may leave some of them stopped (a member in uninterruptible sleep stops
/// only when it wakes), so a caller treats the group as paused either way and `resume`s it
/// later.
pub async fn pause(running: &Running) -> bool {
    let pgid = running.pgid();
    let deadline = Instant::now() + PAUSE_WITHIN;
    let mut wait = Duration::from_millis(1);
    loop {
        if !signal_group(pgid, Signal::SIGSTOP) {
            return false;
        }
        match members(pgid).await {
            Some(members) if members.iter().all(|m| m.stopped) => return true,
            Some(_) if Instant::now() < deadline => {
                sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(20));
            }
            Some(_) => break,
            None => return false,
        }
    }
    tracing::warn!(pgid, "a process of the group did not stop");
    false
}

/// Lets a paused group go on (SIGCONT). Whether the signal was delivered.
pub fn resume(running: &Running) -> bool {
    signal_group(running.pgid(), Signal::SIGCONT)
}

/// Live members of the group, read from `/proc` on the blocking pool (invariant 4: a scan of
/// `/proc` is file I/O). `None` if the scan could not run (the runtime is shutting down).
async fn members(pgid: i32) -> Option<Vec<platform::ProcInfo>> {
    tokio::task::spawn_blocking(move || platform::group_members(pgid))
        .await
        .ok()
}

/// Whether any live (non-zombie) process is left in the group. Never true for groups 0 and 1.
pub async fn group_alive(pgid: i32) -> bool {
    if !valid_pgid(pgid) {
        return false;
    }
    // Fast path, a syscall: no process at all in the group, not even a zombie.
    if killpg(Pid::from_raw(pgid), None) == Err(Errno::ESRCH) {
        return false;
    }
    if cfg!(target_os = "linux") {
        // Only zombies awaiting their parent would make killpg succeed; an unknown answer
        // counts as alive, so a stop waits for its deadline rather than trusting a guess.
        members(pgid).await.is_none_or(|m| !m.is_empty())
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
        if !group_alive(pgid).await {
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
/// leader if it was not reaped yet. Every wait is bounded: a leader that does not die even of
/// SIGKILL (uninterruptible sleep on a hung mount) is counted as a survivor, not waited for.
/// Refuses (logs an error, signals nothing) when the group id is 0 or 1.
pub async fn terminate(running: &mut Running, leader_reaped: bool, grace: Duration) -> GroupEnd {
    terminate_within(running, leader_reaped, grace, AFTER_KILL).await
}

/// [`terminate`] with the time allowed after SIGKILL as a parameter (tests shorten it).
pub(crate) async fn terminate_within(
    running: &mut Running,
    leader_reaped: bool,
    grace: Duration,
    after_kill: Duration,
) -> GroupEnd {
    let pgid = running.pgid();
    let mut end = GroupEnd {
        exit: None,
        escalated: false,
        survivors: 0,
    };
    if !valid_pgid(pgid) {
        return end;
    }
    signal_group(pgid, Signal::SIGTERM);
    signal_group(pgid, Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    if !leader_reaped && let Ok(status) = timeout_at(deadline, running.wait()).await {
        end.exit = status.ok();
    }
    let leader_done = leader_reaped || end.exit.is_some();
    if !leader_done || !wait_group_empty(pgid, deadline).await {
        end.escalated = true;
        signal_group(pgid, Signal::SIGKILL);
    }
    let kill_deadline = Instant::now() + after_kill;
    let mut leader_stuck = false;
    if !leader_done {
        match timeout_at(kill_deadline, running.wait()).await {
            Ok(status) => end.exit = status.ok(),
            // One last look, in case it ended just now.
            Err(_) => match running.child.try_wait() {
                Ok(Some(status)) => end.exit = Some(Exit::from_status(status)),
                _ => {
                    leader_stuck = true;
                    tracing::error!(pgid, "the group's leader did not exit after SIGKILL");
                }
            },
        }
    }
    if leader_stuck || !wait_group_empty(pgid, kill_deadline).await {
        let left = members_left(pgid).await.max(usize::from(leader_stuck));
        tracing::error!(pgid, left, "processes survived SIGKILL");
        end.survivors = left;
    }
    end
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
    let pgid = stored.pid;
    if !valid_pgid(pgid) {
        return Reclaim::Unknown;
    }
    let stored = stored.clone();
    // Reading `/proc` is file I/O: on the blocking pool (invariant 4).
    let members = match tokio::task::spawn_blocking(move || kill_if_ours(&stored)).await {
        Ok(Ok(members)) => members,
        Ok(Err(verdict)) => return verdict,
        Err(e) => {
            tracing::error!(pgid, error = %e, "cannot check a group left by a previous run");
            return Reclaim::Unknown;
        }
    };
    let survivors = if wait_group_empty(pgid, Instant::now() + AFTER_KILL).await {
        0
    } else {
        members_left(pgid).await
    };
    Reclaim::Killed { members, survivors }
}

/// Live members of the group, or 1 if they cannot be counted (something is left).
async fn members_left(pgid: i32) -> usize {
    members(pgid).await.map_or(1, |m| m.len())
}

/// The blocking part of [`reclaim`]: checks the identity and SIGKILLs the group if it is ours.
/// `Ok(members signalled)`, or the verdict when nothing was signalled.
fn kill_if_ours(stored: &Identity) -> Result<usize, Reclaim> {
    let (Some(boot), Some(ticks)) = (&stored.boot_id, stored.start_ticks) else {
        return Err(Reclaim::Unknown);
    };
    match platform::boot_id() {
        Some(now) if &now == boot => {}
        Some(_) => return Err(Reclaim::OtherBoot),
        None => return Err(Reclaim::Unknown),
    }
    let pgid = stored.pid;
    match platform::proc_info(pgid) {
        Some(p) if p.start_ticks != ticks || p.pgrp != pgid => Err(Reclaim::NotOurs),
        Some(_) => {
            let members = platform::group_members(pgid).len();
            signal_group(pgid, Signal::SIGKILL);
            Ok(members)
        }
        None => {
            let members: Vec<_> = platform::group_members(pgid)
                .into_iter()
                .filter(|m| m.start_ticks >= ticks && m.pid > 1)
                .collect();
            if members.is_empty() {
                return Err(Reclaim::Gone);
            }
            for m in &members {
                // Re-read just before signalling so a pid recycled in between is never hit.
                if m.same_process(platform::proc_info(m.pid)) {
                    let _ = kill(Pid::from_raw(m.pid), Signal::SIGKILL);
                }
            }
            Ok(members.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logfile::LogWriter;
    use crate::spawn::{SpawnRequest, spawn};

    #[test]
    fn groups_zero_and_one_are_never_signalled() {
        // SIGCONT, so that a regression would do no harm to the test's own group.
        for pgid in [0, 1, -1] {
            assert!(
                !signal_group(pgid, Signal::SIGCONT),
                "signalled group {pgid}"
            );
        }
        assert!(signal_group(
            nix::unistd::getpgrp().as_raw(),
            Signal::SIGCONT
        ));
    }

    fn sleeper(dir: &std::path::Path) -> Running {
        spawn(SpawnRequest {
            program: "sleep".into(),
            args: vec!["300".into()],
            env: vec![],
            cwd: None,
            log: LogWriter::new(dir, 1, 1024),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_leader_that_outlives_sigkill_is_reported_not_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        // A leader that SIGKILL cannot end (uninterruptible sleep on a hung mount) is stood in
        // for by a process outside the group that `terminate` signals.
        let mut group = sleeper(dir.path());
        let mut running = sleeper(dir.path());
        running.identity.pid = group.pgid();
        let end = tokio::time::timeout(
            Duration::from_secs(30),
            terminate_within(
                &mut running,
                false,
                Duration::from_millis(50),
                Duration::from_millis(200),
            ),
        )
        .await
        .expect("terminate waited for ever for a leader that did not die");
        assert_eq!(
            end,
            GroupEnd {
                exit: None,
                escalated: true,
                survivors: 1
            }
        );
        assert_eq!(group.wait().await.unwrap(), Exit::Signal(15));
        running.child.kill().await.unwrap();
    }
}
