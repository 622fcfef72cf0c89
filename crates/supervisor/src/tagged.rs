//! Reclaiming an attempt whose identity was never stored: Nightshift was killed after
//! spawning it and before its pid was committed. Every job process carries its Nightshift's
//! instance id, job id and attempt number in its environment, and its children inherit them, so
//! the attempt's processes are found by those tags. Only a process with every tag is signalled.

use crate::group::{AFTER_KILL, Reclaim, group_alive};
use crate::platform::{self, ProcInfo};
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::time::Duration;
use tokio::time::{Instant, sleep};

/// Kills every process whose environment holds all of `tags` (`(name, value)` pairs), and
/// the whole group of each such process that leads its group (members that cleared their
/// environment are still the attempt's). `Gone` if none was found.
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
    let scan = tags.clone();
    let killed = match tokio::task::spawn_blocking(move || kill_tagged(&scan)).await {
        Ok(killed) => killed,
        Err(e) => {
            tracing::error!(error = %e, "cannot look for the processes of an attempt");
            return Reclaim::Unknown;
        }
    };
    if killed.is_empty() {
        return Reclaim::Gone;
    }
    let survivors = wait_gone(tags, &killed, Instant::now() + AFTER_KILL).await;
    Reclaim::Killed {
        members: killed.len(),
        survivors,
    }
}

/// The blocking part: finds the tagged processes and SIGKILLs them (and the groups they lead).
fn kill_tagged(tags: &[Vec<u8>]) -> Vec<ProcInfo> {
    let found = platform::with_environment(tags);
    for p in &found {
        // Re-read just before signalling so a pid recycled in between is never hit.
        if !p.same_process(platform::proc_info(p.pid)) {
            continue;
        }
        let _ = if p.pid == p.pgrp {
            killpg(Pid::from_raw(p.pgrp), Signal::SIGKILL)
        } else {
            kill(Pid::from_raw(p.pid), Signal::SIGKILL)
        };
    }
    found
}

/// Polls until no tagged process and no member of a killed group is left, or `deadline`
/// passes; how many are left then.
async fn wait_gone(tags: Vec<Vec<u8>>, killed: &[ProcInfo], deadline: Instant) -> usize {
    let groups: Vec<i32> = killed
        .iter()
        .filter(|p| p.pid == p.pgrp)
        .map(|p| p.pgrp)
        .collect();
    let mut pause = Duration::from_millis(2);
    loop {
        let scan = tags.clone();
        let tagged = tokio::task::spawn_blocking(move || platform::with_environment(&scan).len())
            .await
            .unwrap_or(1);
        let mut left = tagged;
        for &pgid in &groups {
            left += usize::from(group_alive(pgid).await);
        }
        if left == 0 || Instant::now() >= deadline {
            return left;
        }
        sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
