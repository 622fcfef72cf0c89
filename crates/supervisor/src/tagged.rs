//! Reclaiming an attempt whose identity was never stored: Nightshift was killed after
//! spawning it and before its pid was committed. Every job process carries its Nightshift's
//! instance id, job id and attempt number in its environment, and its children inherit them, so
//! the attempt's processes are found by those tags.
//!
//! What is killed is the attempt's process group, as a stop or a reclaim by stored identity
//! would: a group led by a tagged process, or a group whose leader is gone and which holds a
//! tagged process. A tagged process that left for a group of its own (setsid, a daemon) leads
//! that group and is killed with it, since nothing tells it from the attempt's own leader; a
//! group that holds this process is never signalled.

use crate::group::{AFTER_KILL, Reclaim, group_alive};
use crate::platform::{self, ProcInfo};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpgrp};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::{Instant, sleep, timeout};

/// How long the scan of `/proc` may take. Reading a process's environment waits on its
/// memory map, which a process stuck on a hung mount can hold for ever; recovery must not.
const SCAN_WITHIN: Duration = Duration::from_secs(10);

/// Kills the process groups of the processes whose environment holds all of `tags`
/// (`(name, value)` pairs; see the module). `Gone` if no such process is alive, `Unknown` if
/// the scan could not finish.
pub async fn reclaim_tagged(tags: &[(&str, String)]) -> Reclaim {
    if tags.is_empty() {
        // No tag would match every process.
        return Reclaim::Unknown;
    }
    let tags: Vec<Vec<u8>> = tags
        .iter()
        .map(|(name, value)| format!("{name}={value}").into_bytes())
        .collect();
    // Reading `/proc` is file I/O: on the blocking pool (invariant 4).
    let scan = tokio::task::spawn_blocking(move || kill_tagged_groups(&tags));
    let (members, groups) = match timeout(SCAN_WITHIN, scan).await {
        Ok(Ok(killed)) => killed,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot look for the processes of an attempt");
            return Reclaim::Unknown;
        }
        Err(_) => {
            tracing::error!("looking for the processes of an attempt took over {SCAN_WITHIN:?}");
            return Reclaim::Unknown;
        }
    };
    if groups.is_empty() {
        return Reclaim::Gone;
    }
    let deadline = Instant::now() + AFTER_KILL;
    let mut pause = Duration::from_millis(2);
    loop {
        let mut survivors = 0;
        for &pgid in &groups {
            survivors += usize::from(group_alive(pgid).await);
        }
        if survivors == 0 || Instant::now() >= deadline {
            return Reclaim::Killed { members, survivors };
        }
        sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The blocking part: finds the tagged processes, picks their groups (see the module) and
/// SIGKILLs each. The number of tagged processes, and the groups signalled.
fn kill_tagged_groups(tags: &[Vec<u8>]) -> (usize, Vec<i32>) {
    let found = platform::with_environment(tags);
    let ours = getpgrp().as_raw();
    let groups = groups_to_kill(&found, ours, |pgid| platform::proc_info(pgid).is_some());
    let mut signalled = Vec::new();
    for (pgid, witness) in groups {
        // While a member lives the kernel does not hand the group's id out again, so a
        // witness that is still the same process means the group is still the one found.
        if witness.same_process(platform::proc_info(witness.pid))
            && killpg(Pid::from_raw(pgid), Signal::SIGKILL).is_ok()
        {
            signalled.push(pgid);
        }
    }
    if found.iter().any(|p| p.pgrp == ours) {
        tracing::warn!(
            "a process of this Nightshift's own group carries the attempt's tags; not signalled"
        );
    }
    (found.len(), signalled)
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
    }
}
