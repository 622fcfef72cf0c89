//! Ending the processes of an attempt that left its process group.
//!
//! With Nightshift a child subreaper (see `children`), a process that left the attempt's group
//! is, once the group is gone, one of our children or a descendant of one: every ancestor it
//! had in the group has exited, and an orphan goes to the nearest subreaper. So the attempt's
//! escaped processes are found without a scan of all of `/proc`: among the children we adopted
//! (usually none, and then the look is a single read of one small file), and
//! their subtrees, the processes whose environment carries the attempt's tags, and everything
//! below them. They get what the group got: SIGTERM, the grace period, SIGKILL.

use crate::children;
use crate::group::AFTER_KILL;
use crate::platform::{self, ProcInfo};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getpgrp};
use std::time::Duration;
use tokio::time::{Instant, sleep};

/// What became of an attempt's processes outside its group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Escaped {
    /// Processes found outside the group.
    pub found: usize,
    /// Whether SIGKILL was needed.
    pub escalated: bool,
    /// Processes still alive after SIGKILL (should be zero; logged loudly if not).
    pub survivors: usize,
}

/// Ends the processes that left the attempt's group and carry its `tags` (`(name, value)`;
/// all three of instance, job and attempt, so no other attempt's and no other Nightshift's
/// process matches), with their descendants: SIGTERM (and SIGCONT), up to `grace` for them to
/// go, then SIGKILL for what is left or was started meanwhile. Call it once the group is gone.
/// Every wait is bounded.
pub async fn end_escaped(tags: &[(&str, String)], grace: Duration) -> Escaped {
    let tags = encode(tags);
    let Some(found) = find(&tags).await else {
        return Escaped::default();
    };
    let mut escaped = Escaped {
        found: found.len(),
        ..Escaped::default()
    };
    if found.is_empty() {
        return escaped;
    }
    signal_all(&found, Signal::SIGTERM);
    signal_all(&found, Signal::SIGCONT);
    wait_gone(&found, Instant::now() + grace).await;
    let deadline = Instant::now() + AFTER_KILL;
    loop {
        // Looked for again: what was found may have started more before it died.
        let Some(left) = find(&tags).await else {
            break;
        };
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            tracing::error!(
                left = left.len(),
                "processes that left the job's group survived SIGKILL"
            );
            escaped.survivors = left.len();
            break;
        }
        escaped.escalated = true;
        signal_all(&left, Signal::SIGKILL);
        wait_gone(&left, deadline).await;
    }
    escaped
}

/// `NAME=value` entries, as they appear in an environment.
pub(crate) fn encode(tags: &[(&str, String)]) -> Vec<Vec<u8>> {
    tags.iter()
        .map(|(name, value)| format!("{name}={value}").into_bytes())
        .collect()
}

/// The escaped processes, looked for on the blocking pool (invariant 4); `None` if the look
/// could not run (the runtime is shutting down).
async fn find(tags: &[Vec<u8>]) -> Option<Vec<ProcInfo>> {
    if tags.is_empty() {
        // No tag would match every process.
        return Some(Vec::new());
    }
    // Usually no child is unclaimed, and then the end of an attempt needs no blocking work.
    if children::unclaimed().is_empty() {
        return Some(Vec::new());
    }
    let tags = tags.to_vec();
    tokio::task::spawn_blocking(move || find_escaped(&tags))
        .await
        .ok()
}

/// The blocking part of [`find`]: see the module. Our own process group is never included,
/// nor a process that another part of this process spawned and waits for (an attempt leader,
/// whose group is its runner's business).
pub(crate) fn find_escaped(tags: &[Vec<u8>]) -> Vec<ProcInfo> {
    let roots = children::unclaimed();
    let ours = getpgrp().as_raw();
    let mut found = Vec::new();
    // (pid, whether an ancestor below us carries the tags)
    let mut stack: Vec<(i32, bool)> = roots.into_iter().map(|p| (p, false)).collect();
    while let Some((pid, inherited)) = stack.pop() {
        // A zombie has no children left (they went to us) and nothing to signal.
        let Some(before) = platform::proc_info(pid) else {
            continue;
        };
        let tagged = inherited
            || platform::environ(pid).is_some_and(|env| platform::environ_has(&env, tags))
                // Read again after the environment, so a pid that changed hands in between is
                // never taken with another process's tags.
                && before.same_process(platform::proc_info(pid));
        if tagged && before.pgrp != ours && pid > 1 {
            found.push(before);
        }
        stack.extend(platform::children(pid).into_iter().map(|c| (c, tagged)));
    }
    found
}

/// Signals each process that is still the one found.
fn signal_all(processes: &[ProcInfo], signal: Signal) {
    for p in processes {
        if p.same_process(platform::proc_info(p.pid)) {
            let _ = kill(Pid::from_raw(p.pid), signal);
        }
    }
}

/// Polls until none of `processes` lives or `deadline` passes. These are not necessarily our
/// children (one may be the child of another), so there is no exit event to wait for: this
/// polls, only during a bounded stop, starting fast and backing off.
async fn wait_gone(processes: &[ProcInfo], deadline: Instant) {
    let processes = processes.to_vec();
    let mut pause = Duration::from_millis(2);
    loop {
        let list = processes.clone();
        let alive = tokio::task::spawn_blocking(move || {
            list.iter()
                .any(|p| p.same_process(platform::proc_info(p.pid)))
        })
        .await
        .unwrap_or(true);
        if !alive || Instant::now() >= deadline {
            return;
        }
        sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
