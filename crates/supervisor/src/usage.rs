//! What process groups use: CPU time and resident memory summed over each group's live
//! members, for many groups in one pass over the process table (so sampling 32 running jobs
//! reads each process once, not once per job).
//!
//! CPU time counts a member's own time and the time of the children it has waited for
//! (`cutime`, `cstime`): a shell's finished commands stay counted in the shell. A member that
//! exits and is reaped by its parent moves its time into the parent's, so the sum does not drop;
//! it drops only when a member is reaped by no member (an orphan adopted by Nightshift), which
//! is why callers keep the largest sum seen.

use std::collections::HashMap;

/// One group's use at the moment of a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupUsage {
    /// CPU time of the live members and of the children they waited for, in milliseconds.
    pub cpu_ms: u64,
    /// Resident memory of the live members, summed (shared pages count in each).
    pub rss_bytes: u64,
    /// Live members.
    pub processes: u32,
}

/// The use of each group in `pgids` that has live members (a group with none is left out).
pub fn sample(pgids: &[i32]) -> HashMap<i32, GroupUsage> {
    crate::platform::group_usage(pgids)
}

/// Adds one process's `/proc/<pid>/stat` line to the sums of its group, if its group is among
/// `pgids`. Ticks and pages are converted by the caller's units.
pub(crate) fn add_stat(
    sums: &mut HashMap<i32, GroupUsage>,
    pgids: &[i32],
    stat: &str,
    ms_per_tick: u64,
    page_bytes: u64,
) -> Option<()> {
    // The command name (field 2) may hold spaces and ')': the fields resume after the last ')'.
    // Then state (3), ppid (4), pgrp (5), … utime (14), stime (15), cutime (16), cstime (17),
    // … rss (24, in pages).
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?;
    if matches!(state, "Z" | "X") {
        return None;
    }
    let pgrp: i32 = fields.nth(1)?.parse().ok()?;
    if !pgids.contains(&pgrp) {
        return None;
    }
    // After pgrp (index 2 of these fields), utime is index 11: skip 8.
    let mut next = |skip: usize| -> Option<u64> { fields.nth(skip)?.parse().ok() };
    let utime = next(8)?;
    let stime = next(0)?;
    let cutime = next(0)?;
    let cstime = next(0)?;
    let rss_pages = next(6)?;
    let ticks = utime
        .saturating_add(stime)
        .saturating_add(cutime)
        .saturating_add(cstime);
    let sum = sums.entry(pgrp).or_default();
    sum.cpu_ms = sum.cpu_ms.saturating_add(ticks.saturating_mul(ms_per_tick));
    sum.rss_bytes = sum
        .rss_bytes
        .saturating_add(rss_pages.saturating_mul(page_bytes));
    sum.processes = sum.processes.saturating_add(1);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STAT: &str = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
        150 50 30 20 20 0 1 0 12345 10000000 256 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn a_member_adds_its_own_and_its_waited_childrens_time_and_its_pages() {
        let mut sums = HashMap::new();
        add_stat(&mut sums, &[4242], STAT, 10, 4096).unwrap();
        add_stat(&mut sums, &[4242], STAT, 10, 4096).unwrap();
        let g = sums[&4242];
        assert_eq!(g.cpu_ms, 2 * (150 + 50 + 30 + 20) * 10);
        assert_eq!(g.rss_bytes, 2 * 256 * 4096);
        assert_eq!(g.processes, 2);
    }

    #[test]
    fn other_groups_and_zombies_are_left_out() {
        let mut sums = HashMap::new();
        assert!(add_stat(&mut sums, &[7], STAT, 10, 4096).is_none());
        let zombie = STAT.replace(") S 1", ") Z 1");
        assert!(add_stat(&mut sums, &[4242], &zombie, 10, 4096).is_none());
        assert!(sums.is_empty());
    }

    #[test]
    fn this_process_is_found_in_its_own_group() {
        let me = nix::unistd::getpgrp().as_raw();
        let found = sample(&[me]);
        if cfg!(target_os = "linux") {
            let g = found.get(&me).expect("this test's own group");
            assert!(g.processes >= 1 && g.rss_bytes > 0, "{g:?}");
        }
    }

    proptest! {
        /// Any text, as a damaged or truncated stat line would be, is read or refused without
        /// a panic, and never adds to a group it does not name.
        #[test]
        fn any_text_is_read_or_refused_without_a_panic(text in ".{0,300}") {
            let mut sums = HashMap::new();
            let _ = add_stat(&mut sums, &[1, 4242], &text, 10, 4096);
            prop_assert!(sums.keys().all(|k| [1, 4242].contains(k)));
        }
    }
}
