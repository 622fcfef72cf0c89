//! Operating-system facts about processes, one module per platform.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(not(target_os = "linux"))]
mod other;
#[cfg(not(target_os = "linux"))]
pub(crate) use other::*;

/// A live (not zombie) process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcInfo {
    pub pid: i32,
    pub pgrp: i32,
    pub start_ticks: u64,
    /// Stopped by a signal (state `T`), as a paused job's processes are, or about to be.
    pub stopped: bool,
}

impl ProcInfo {
    /// Whether `now`, read again, is still this process: the same pid and start time. (Its
    /// state may have changed in between; that does not make it another process.)
    pub fn same_process(&self, now: Option<ProcInfo>) -> bool {
        now.is_some_and(|now| now.pid == self.pid && now.start_ticks == self.start_ticks)
    }
}

/// Any process, zombie or not: who its parent is and where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kin {
    pub pid: i32,
    pub zombie: bool,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    pub start_ticks: u64,
}
