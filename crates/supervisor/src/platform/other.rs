//! Platforms without `/proc`: no identity can be read, so recovery never signals a stored pid
//! there (an unknown identity never matches), and group emptiness falls back to `killpg(0)`.
//! macOS (`proc_pidinfo`) and Windows (Job Objects) are left for when they are built and tested.

use super::{Kin, ProcInfo};

pub(crate) fn boot_id() -> Option<String> {
    None
}

pub(crate) fn proc_info(_pid: i32) -> Option<ProcInfo> {
    None
}

pub(crate) fn start_ticks(_pid: i32) -> Option<u64> {
    None
}

pub(crate) fn group_members(_pgid: i32) -> Vec<ProcInfo> {
    Vec::new()
}

pub(crate) fn with_environments(sets: &[Vec<Vec<u8>>]) -> Vec<Vec<ProcInfo>> {
    vec![Vec::new(); sets.len()]
}

pub(crate) fn kin(_pid: i32) -> Option<Kin> {
    None
}

pub(crate) fn adopted_children() -> Vec<i32> {
    Vec::new()
}

pub(crate) fn children(_pid: i32) -> Vec<i32> {
    Vec::new()
}

/// No subreaper here: a process that leaves the group is not followed (see the module).
pub(crate) fn become_subreaper() -> std::io::Result<bool> {
    Ok(false)
}

pub(crate) fn environ(_pid: i32) -> Option<Vec<u8>> {
    None
}

pub(crate) fn all_pids() -> Vec<i32> {
    Vec::new()
}

pub(crate) fn environ_has(_environ: &[u8], _tags: &[Vec<u8>]) -> bool {
    false
}

pub(crate) fn group_usage(
    _pgids: &[i32],
) -> std::collections::HashMap<i32, crate::usage::GroupUsage> {
    std::collections::HashMap::new()
}
