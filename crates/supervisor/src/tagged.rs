//! Reclaiming attempts a killed Nightshift left open, by the tags in their processes'
//! environment. Every job process carries its Nightshift's instance id, job id and attempt
//! number, and its children inherit them, so an attempt's processes are found by those tags:
//! those of an attempt whose pid was never stored (Nightshift was killed between spawning it
//! and committing its pid), and those that left an attempt's group (setsid, setpgid, a daemon),
//! which its stored identity does not reach. All open attempts are looked for in one pass over
//! `/proc`.
//!
//! What is killed is, first, the process groups: a group led by a tagged process, or a group
//! whose leader is gone and which holds a tagged process. A tagged process that left for a
//! group of its own leads that group and is killed with it, since nothing tells it from the
//! attempt's own leader. Then, unless the attempt's job asked to leave such processes running,
//! each tagged process in a group led by someone else. The group that holds this process is
//! never signalled, nor any process in it.

use crate::group::{AFTER_KILL, Reclaim, group_alive};
use crate::platform::{self, ProcInfo};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::{Pid, getpgrp};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

/// How long the scan of `/proc` may take. Reading a process's environment waits on its
/// memory map, which a process stuck on a hung mount can hold for ever; recovery must not.
const SCAN_WITHIN: Duration = Duration::from_secs(10);

/// One attempt to look for by its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedAttempt {
    /// `(name, value)` pairs, every one of which a process must carry.
    pub tags: Vec<(&'static str, String)>,
    /// Also kill, one by one, tagged processes in groups led by someone else. Off for a job
    /// that asked to leave the processes that left its group running.
    pub every_process: bool,
}

/// What was killed for one attempt: the processes and the groups signalled.
#[derive(Debug, Default)]
struct Killed {
    members: usize,
    groups: Vec<i32>,
    singles: Vec<ProcInfo>,
}

/// Kills the processes of each attempt (see the module), after one scan of `/proc` for all of
/// them; one verdict per attempt, in order. `Gone` if no process of it is alive, `Unknown` if
/// the scan could not finish (or the attempt has no tags, which would match every process).
pub async fn reclaim_tagged(attempts: &[TaggedAttempt]) -> Vec<Reclaim> {
    if attempts.is_empty() {
        return Vec::new();
    }
    let sets: Vec<(Vec<Vec<u8>>, bool)> = attempts
        .iter()
        .map(|a| (crate::escapes::encode(&a.tags), a.every_process))
        .collect();
    // Reading `/proc` is file I/O: on the blocking pool (invariant 4).
    let scan = tokio::task::spawn_blocking(move || kill_tagged(&sets));
    let killed = match timeout(SCAN_WITHIN, scan).await {
        Ok(Ok(killed)) => killed,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot look for the processes of open attempts");
            return vec![Reclaim::Unknown; attempts.len()];
        }
        Err(_) => {
            tracing::error!("looking for the processes of open attempts took over {SCAN_WITHIN:?}");
            return vec![Reclaim::Unknown; attempts.len()];
        }
    };
    let deadline = Instant::now() + AFTER_KILL;
    let mut verdicts = Vec::with_capacity(killed.len());
    for (attempt, killed) in attempts.iter().zip(killed) {
        verdicts.push(if attempt.tags.is_empty() {
            Reclaim::Unknown
        } else if killed.groups.is_empty() && killed.singles.is_empty() {
            Reclaim::Gone
        } else {
            Reclaim::Killed {
                members: killed.members,
                survivors: wait_gone(&killed, deadline).await,
            }
        });
    }
    verdicts
}

/// Polls (a bounded stop: nothing tells us when processes that are not our children end)
/// until what was killed is gone or `deadline` passes; how many groups and processes are left.
async fn wait_gone(killed: &Killed, deadline: Instant) -> usize {
    let mut pause = Duration::from_millis(2);
    loop {
        let mut survivors = 0;
        for &pgid in &killed.groups {
            survivors += usize::from(group_alive(pgid).await);
        }
        let singles = killed.singles.clone();
        survivors += tokio::task::spawn_blocking(move || {
            singles
                .iter()
                .filter(|p| p.same_process(platform::proc_info(p.pid)))
                .count()
        })
        .await
        .unwrap_or(killed.singles.len());
        if survivors == 0 || Instant::now() >= deadline {
            return survivors;
        }
        sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The blocking part: finds the tagged processes of every attempt in one scan, picks their
/// groups (see the module) and SIGKILLs each, then the tagged processes left outside them.
fn kill_tagged(sets: &[(Vec<Vec<u8>>, bool)]) -> Vec<Killed> {
    // A set without tags would match every process: it is looked for as no process at all.
    let tags: Vec<Vec<Vec<u8>>> = sets
        .iter()
        .map(|(tags, _)| {
            if tags.is_empty() {
                vec![b"\0".to_vec()]
            } else {
                tags.clone()
            }
        })
        .collect();
    let found = platform::with_environments(&tags);
    let ours = getpgrp().as_raw();
    let mut all = Vec::with_capacity(sets.len());
    for ((_, every_process), found) in sets.iter().zip(found) {
        let mut killed = Killed {
            members: found.len(),
            ..Killed::default()
        };
        let groups = groups_to_kill(&found, ours, |pgid| platform::proc_info(pgid).is_some());
        for (&pgid, witness) in &groups {
            // While a member lives the kernel does not hand the group's id out again, so a
            // witness that is still the same process means the group is still the one found.
            if witness.same_process(platform::proc_info(witness.pid))
                && killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok()
            {
                killed.groups.push(pgid);
            }
        }
        if *every_process {
            for p in singles(&found, ours, &groups) {
                // Re-read just before signalling so a pid recycled in between is never hit.
                if p.same_process(platform::proc_info(p.pid))
                    && kill(Pid::from_raw(p.pid), Signal::SIGKILL).is_ok()
                {
                    killed.singles.push(p);
                }
            }
        }
        if found.iter().any(|p| p.pgrp == ours) {
            tracing::warn!(
                "a process of this Nightshift's own group carries an attempt's tags; not signalled"
            );
        }
        all.push(killed);
    }
    all
}

/// Tagged processes that no chosen group holds, outside our own group and groups 0 and 1.
fn singles(found: &[ProcInfo], ours: i32, groups: &BTreeMap<i32, ProcInfo>) -> Vec<ProcInfo> {
    found
        .iter()
        .filter(|p| p.pid > 1 && p.pgrp > 1 && p.pgrp != ours && !groups.contains_key(&p.pgrp))
        .copied()
        .collect()
}

/// The groups to kill for the tagged processes `found` (see the module), each with one tagged
/// member to check again just before the signal. `ours` is this process's group;
/// `leader_alive(pgid)` whether the group's leader still lives.
fn groups_to_kill(
    found: &[ProcInfo],
    ours: i32,
    leader_alive: impl Fn(i32) -> bool,
) -> BTreeMap<i32, ProcInfo> {
    let mut groups = BTreeMap::new();
    for p in found {
        if p.pgrp <= 1 || p.pgrp == ours {
            continue;
        }
        let led_by_tagged = found.iter().any(|q| q.pid == p.pgrp);
        if led_by_tagged || !leader_alive(p.pgrp) {
            groups.entry(p.pgrp).or_insert(*p);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: i32, pgrp: i32) -> ProcInfo {
        ProcInfo {
            pid,
            pgrp,
            start_ticks: 1_000 + pid as u64,
            stopped: false,
        }
    }

    #[test]
    fn the_attempts_groups_are_chosen_and_nothing_else() {
        let found = [
            // The attempt's group: leader 100 and a child.
            process(100, 100),
            process(101, 100),
            // A child that left for a group of its own.
            process(150, 150),
            // A group whose leader (200) is gone, with a tagged member left in it.
            process(201, 200),
            // A tagged process in a group led by a live process without the tags.
            process(301, 300),
            // Tagged members of our own group, led by a tagged process (we were started
            // inside the attempt): never.
            process(400, 400),
            process(401, 400),
        ];
        let alive = |pgid: i32| pgid != 200;
        let groups = groups_to_kill(&found, 400, alive);
        assert_eq!(groups.keys().copied().collect::<Vec<_>>(), [100, 150, 200]);
        assert_eq!(groups[&200].pid, 201, "the witness is a tagged member");
        // Groups 0 and 1 never, whatever the tags say.
        assert!(groups_to_kill(&[process(5, 1), process(6, 0)], 400, |_| false).is_empty());
        // One by one: only the tagged process in a group led by someone else, never one of
        // our own group's.
        let one_by_one = singles(&found, 400, &groups);
        assert_eq!(one_by_one.iter().map(|p| p.pid).collect::<Vec<_>>(), [301]);
        assert!(singles(&[process(5, 1), process(6, 0)], 400, &BTreeMap::new()).is_empty());
    }
}
