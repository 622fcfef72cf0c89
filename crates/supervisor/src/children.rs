//! Nightshift as a child subreaper, and the reaping that comes with it.
//!
//! A job's process can leave the job's process group (`setsid`, `setpgid`, a daemon's double
//! fork); signalling the group then misses it, and once its parent exits it is handed to init
//! and lost to us. On Linux Nightshift makes itself a child subreaper instead: such an orphan
//! is handed to Nightshift, so it stays among our descendants, where the end of its attempt
//! finds it (`escapes`) and kills it with the group. This is systemd's KillMode=control-group
//! for a service's processes, done with the process tree and the attempt's tags instead of a
//! cgroup (which would need a delegated cgroup tree from the service manager).
//!
//! Being a subreaper means the orphans' zombies are ours to reap. A `waitpid(-1)` would also
//! take the exit status of the attempt leaders that tokio waits for (and of any child other
//! code of this process waits for), so the reaper takes only zombies that are
//! - children we adopted (listed under our main thread, see `platform::adopted_children`),
//! - not a child registered here as someone's own: every attempt leader is registered before
//!   its spawn lets the reaper decide again (`spawning`), so not even a leader that exits at
//!   once is taken; code that spawns children of its own into a group of their own in a
//!   process that reaps registers them with [`keep_child`],
//! - and not in our own process group, where children spawned by other code (the desktop's
//!   window process, a library's helper) stay unless they ask otherwise.
//!
//! It looks when a child changes state (SIGCHLD) and never otherwise, so an idle engine does no
//! work. Other platforms have no subreaper: there, a process that leaves the group is not
//! followed, as before.

use crate::platform;
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{Pid, getpgrp};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};
use tokio::task::JoinHandle;

/// Children that someone in this process waits for itself, with a count per pid: a pid can be
/// handed to a new leader while the registration of the old one (already reaped) still lives.
static OWN: Mutex<BTreeMap<i32, usize>> = Mutex::new(BTreeMap::new());

/// Held shared by each spawn from before its child exists until the child is registered, and
/// exclusively by the reaper while it decides which zombies are no one's: so the reaper never
/// takes a leader whose registration is still on its way, and spawns on different threads do
/// not wait for each other (a plain lock held across the spawn made them take turns).
static SPAWNING: RwLock<()> = RwLock::new(());

/// Taken by a spawn before it starts its child and kept until the child is registered.
pub(crate) fn spawning() -> RwLockReadGuard<'static, ()> {
    SPAWNING.read().unwrap_or_else(|e| e.into_inner())
}

/// The registry, locked. A panic elsewhere while holding it leaves a consistent map (every
/// change is one insert or remove), so a poisoned lock is taken anyway.
pub(crate) fn registry() -> Registry {
    Registry(OWN.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The locked registry of children waited for elsewhere.
pub(crate) struct Registry(MutexGuard<'static, BTreeMap<i32, usize>>);

impl Registry {
    /// Registers `pid` until the returned value is dropped.
    pub(crate) fn register(&mut self, pid: i32) -> OwnChild {
        *self.0.entry(pid).or_default() += 1;
        OwnChild { pid }
    }

    pub(crate) fn contains(&self, pid: i32) -> bool {
        self.0.contains_key(&pid)
    }
}

/// A child that the reaper leaves alone, as long as this value lives.
#[derive(Debug)]
pub struct OwnChild {
    pid: i32,
}

impl Drop for OwnChild {
    fn drop(&mut self) {
        let mut own = registry();
        if let Some(n) = own.0.get_mut(&self.pid) {
            *n -= 1;
            if *n == 0 {
                own.0.remove(&self.pid);
            }
        }
    }
}

/// Tells the reaper that the child `pid` is waited for by its spawner: keep the value until it
/// has been waited for. For a child spawned into a process group of its own by code other than
/// the supervisor, in a process whose engine reaps orphans (a test, an embedding app). Register
/// it before it can exit: the reaper may take a zombie it does not know.
pub fn keep_child(pid: u32) -> OwnChild {
    registry().register(pid as i32)
}

/// The children we adopted that no one in this process waits for: where an orphaned job
/// process is, and so where an escaped one is looked for. Usually none. Read on the caller's
/// thread: `/proc/self/task/<pid>/children` is made from the kernel's own task list and never
/// waits for a disk or another process (unlike a process's environment, read on the blocking
/// pool), so this stays within the spirit of invariant 4 at a tenth of the cost of a hand-off
/// to the blocking pool, paid at every attempt's end and every SIGCHLD.
pub(crate) fn unclaimed() -> Vec<i32> {
    let children = platform::adopted_children();
    if children.is_empty() {
        return children;
    }
    let own = registry();
    children.into_iter().filter(|&p| !own.contains(p)).collect()
}

/// Reaps the zombies among our children that are no one else's (see the module); how many.
/// Blocking: reads `/proc`.
pub(crate) fn reap_adopted() -> usize {
    let me = std::process::id() as i32;
    let ours = getpgrp().as_raw();
    // No spawn is between starting its child and registering it while this decides.
    let _settled = SPAWNING.write().unwrap_or_else(|e| e.into_inner());
    // Children someone waits for are passed over before anything is read of them.
    let zombies: Vec<_> = unclaimed()
        .into_iter()
        .filter_map(platform::kin)
        .filter(|k| k.zombie && k.ppid == me && k.pgrp != ours)
        .collect();
    if zombies.is_empty() {
        return 0;
    }
    let own = registry();
    let mut reaped = 0;
    for zombie in zombies {
        // Read again under the lock: a pid reaped meanwhile (by another engine of this process)
        // may have been handed to a new child since.
        if own.contains(zombie.pid) || platform::kin(zombie.pid) != Some(zombie) {
            continue;
        }
        if waitpid(Pid::from_raw(zombie.pid), Some(WaitPidFlag::WNOHANG)).is_ok() {
            reaped += 1;
        }
    }
    reaped
}

/// This process's adoption of orphaned job processes: the reaper runs while it lives.
#[derive(Debug)]
pub struct Orphans {
    reaper: Option<JoinHandle<()>>,
}

impl Drop for Orphans {
    fn drop(&mut self) {
        if let Some(reaper) = self.reaper.take() {
            reaper.abort();
        }
    }
}

/// Makes this process a child subreaper (Linux) and starts reaping the zombies that brings,
/// on each SIGCHLD. Needs a Tokio runtime. Where the platform has no subreaper, or it cannot be
/// set, it says so in the log and nothing runs.
pub fn adopt_orphans() -> Orphans {
    match platform::become_subreaper() {
        Ok(true) => {}
        Ok(false) => return Orphans { reaper: None },
        Err(e) => {
            tracing::warn!(error = %e, "cannot become a child subreaper: processes that leave a job's group are not followed");
            return Orphans { reaper: None };
        }
    }
    use tokio::signal::unix::{SignalKind, signal};
    let mut sigchld = match signal(SignalKind::child()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch for SIGCHLD: orphaned job processes stay zombies until Nightshift exits");
            return Orphans { reaper: None };
        }
    };
    let reaper = tokio::spawn(async move {
        // Once at the start, for zombies that came before we listened; then once per signal
        // (signals that arrive together are delivered as one, and each pass takes them all).
        loop {
            // Most signals are for attempt leaders, which tokio reaps: then no child is
            // unclaimed and there is nothing here to reap. Reading the children's `/proc`
            // entries is left to the blocking pool (invariant 4).
            if !unclaimed().is_empty() {
                match tokio::task::spawn_blocking(reap_adopted).await {
                    Ok(n) if n > 0 => {
                        tracing::debug!(reaped = n, "reaped orphaned job processes");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "the reaper's pass failed"),
                }
            }
            if sigchld.recv().await.is_none() {
                return;
            }
        }
    });
    Orphans {
        reaper: Some(reaper),
    }
}
