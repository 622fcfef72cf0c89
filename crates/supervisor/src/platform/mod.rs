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
    /// Stopped by a signal (state `T`), as a paused job's processes are.
    pub stopped: bool,
}
