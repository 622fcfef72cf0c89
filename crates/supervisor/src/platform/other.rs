//! Platforms without `/proc`: no identity can be read, so recovery never signals a stored pid
//! there (an unknown identity never matches), and group emptiness falls back to `killpg(0)`.
//! macOS (`proc_pidinfo`) and Windows (Job Objects) are left for when they are built and tested.

use super::ProcInfo;

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

pub(crate) fn with_environment(_tags: &[Vec<u8>]) -> Vec<ProcInfo> {
    Vec::new()
}
