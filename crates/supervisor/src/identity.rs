//! What identifies a process across restarts of Nightshift: pid, start time, boot.

use crate::platform;

/// A process's identity. Two processes with the same pid in the same boot have different start
/// times, so a stored identity matches only the process it was taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub pid: i32,
    pub start_ticks: Option<u64>,
    pub boot_id: Option<String>,
}

impl Identity {
    /// Reads the identity of a live process (right after spawning it).
    pub fn of(pid: i32) -> Identity {
        Identity {
            pid,
            start_ticks: platform::start_ticks(pid),
            boot_id: platform::boot_id(),
        }
    }
}

/// This boot's id, if the platform has one.
pub fn current_boot_id() -> Option<String> {
    platform::boot_id()
}
