//! Linux: process facts from `/proc`.

use super::{Kin, ProcInfo};

/// This boot's id; changes on every reboot, so a stored pid from another boot is never trusted.
/// Read once: it cannot change while this process lives, and every spawn asks for it.
pub(crate) fn boot_id() -> Option<String> {
    static BOOT_ID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .clone()
}

/// Parses `/proc/<pid>/stat`; `None` for a zombie or a process that is gone.
pub(crate) fn proc_info(pid: i32) -> Option<ProcInfo> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text)
        .filter(|(_, zombie)| !zombie)
        .map(|(info, _)| info)
}

/// The start time of `pid`, even if it has already exited and awaits reaping (a job that
/// ends within microseconds is a zombie by the time its identity is read).
pub(crate) fn start_ticks(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text).map(|(info, _)| info.start_ticks)
}

/// The process's facts, and whether it is a zombie.
fn parse_stat(pid: i32, text: &str) -> Option<(ProcInfo, bool)> {
    // The command name (field 2) may contain spaces and parentheses: fields resume after the
    // last ')'. After it: state (3), ppid (4), pgrp (5), … starttime (22).
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first().copied()?;
    let zombie = matches!(state, "Z" | "X");
    let info = ProcInfo {
        pid,
        pgrp: fields.get(2)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
        // "T": stopped by a signal; "t": stopped by a tracer (strace, gdb), which holds it too.
        // "D" with SIGSTOP pending counts as stopped: it stops the moment it wakes, and may
        // be unable to wake before the group continues. A shell that vforks a command waits in
        // D for the child to exec; a SIGSTOP that lands between the vfork and the exec stops
        // the child, and the parent then waits in D until SIGCONT (seen under load in tests).
        stopped: match state {
            "T" | "t" => true,
            "D" => stop_pending(pid),
            _ => false,
        },
    };
    Some((info, zombie))
}

/// Whether SIGSTOP is pending for `pid`, sent to it or to its thread group.
fn stop_pending(pid: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status_has_stop_pending(&status)
}

/// Reads the pending-signal masks (`SigPnd`, `ShdPnd`: hex, bit N-1 for signal N) of a
/// `/proc/<pid>/status` text.
fn status_has_stop_pending(status: &str) -> bool {
    // SIGSTOP is 19 on most architectures, not all: take it from the platform's headers.
    const SIGSTOP_BIT: u64 = 1 << (nix::sys::signal::Signal::SIGSTOP as u32 - 1);
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("SigPnd:")
                .or_else(|| l.strip_prefix("ShdPnd:"))
        })
        .filter_map(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .any(|mask| mask & SIGSTOP_BIT != 0)
}

/// What the reaper and the sweep of escaped processes need of any process, zombies included
/// (a zombie keeps its parent, group, session and start time until it is reaped).
pub(crate) fn kin(pid: i32) -> Option<Kin> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_kin(pid, &text)
}

fn parse_kin(pid: i32, text: &str) -> Option<Kin> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Kin {
        pid,
        zombie: matches!(fields.first().copied()?, "Z" | "X"),
        ppid: fields.get(1)?.parse().ok()?,
        pgrp: fields.get(2)?.parse().ok()?,
        session: fields.get(3)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// The children of this process that it adopted as a subreaper (and any its main thread
/// forked), from `/proc/self/task/<pid>/children`, a single small read. A child is listed
/// under the thread that forked it, but an orphan is handed to the subreaper's first live
/// thread (the kernel's `find_new_reaper` and `find_alive_thread`), which is the main thread
/// for as long as it runs, as it does in every program that hosts the engine; so are the
/// children of a thread that exits. An attempt leader forked by another thread is not listed
/// here, and needs not be: it is never an orphan or an escaped process. Empty if the kernel
/// has no such files (CONFIG_PROC_CHILDREN).
pub(crate) fn adopted_children() -> Vec<i32> {
    let me = std::process::id();
    std::fs::read_to_string(format!("/proc/{me}/task/{me}/children"))
        .map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The children of `pid`, from `/proc/<pid>/task/*/children`: a child is listed under the
/// thread that forked it, so every thread is read. Empty if the kernel has no such files
/// (CONFIG_PROC_CHILDREN).
pub(crate) fn children(pid: i32) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let mut path = task.path();
        path.push("children");
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    out
}

/// Makes this process a child subreaper (prctl PR_SET_CHILD_SUBREAPER): an orphan among its
/// descendants is handed to it rather than to init, so a job's process that left the group
/// stays where Nightshift can find it, and its zombie comes to us to be reaped.
pub(crate) fn become_subreaper() -> std::io::Result<bool> {
    nix::sys::prctl::set_child_subreaper(true)
        .map(|()| true)
        .map_err(std::io::Error::from)
}

/// The environment `pid` was started with (NUL-separated `NAME=value` entries); `None` for a
/// process that is gone or another user's. A zombie's reads as empty, and so, for a moment,
/// does that of a process in the middle of an exec (the read finds the old memory map already
/// released, or the new one before its environment bounds are set): a job script that ends
/// with `exec sleep 300` would slip through a sweep then. So an empty read of a live process
/// is tried again a few times, a millisecond apart; kernel threads (children of kthreadd,
/// pid 2), which never have one, are taken at their word.
pub(crate) fn environ(pid: i32) -> Option<Vec<u8>> {
    const TRIES: usize = 4;
    for attempt in 1..=TRIES {
        let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let settled = !env.is_empty()
            || attempt == TRIES
            || kin(pid).is_none_or(|k| k.zombie || k.ppid == 2 || k.pid == 2);
        if settled {
            return Some(env);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    None
}

/// CPU time and resident memory of each group in `pgids`, from one pass over `/proc`.
pub(crate) fn group_usage(
    pgids: &[i32],
) -> std::collections::HashMap<i32, crate::usage::GroupUsage> {
    use std::io::Read;
    let mut sums = std::collections::HashMap::new();
    if pgids.is_empty() {
        return sums;
    }
    let units = || -> Option<(u64, u64)> {
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
        let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE).ok()??;
        Some((
            1000 / u64::try_from(ticks).ok()?.max(1),
            u64::try_from(page).ok()?,
        ))
    };
    let Some((ms_per_tick, page_bytes)) = units() else {
        return sums;
    };
    // One buffer for every read: a stat line is a few hundred bytes.
    let mut text = String::with_capacity(512);
    for pid in all_pids() {
        text.clear();
        let read = std::fs::File::open(format!("/proc/{pid}/stat"))
            .and_then(|mut f| f.read_to_string(&mut text));
        if read.is_ok() {
            crate::usage::add_stat(&mut sums, pgids, &text, ms_per_tick, page_bytes);
        }
    }
    sums
}

/// The pids in `/proc`, every process of the machine that we may see.
pub(crate) fn all_pids() -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// Live members of the process group `pgid`.
pub(crate) fn group_members(pgid: i32) -> Vec<ProcInfo> {
    all_pids()
        .into_iter()
        .filter_map(proc_info)
        .filter(|p| p.pgrp == pgid)
        .collect()
}

/// For each set of `tags` (`NAME=value` entries), the live processes whose environment holds
/// every one of them, this process excluded: one pass over `/proc` for all the sets. The
/// environment read is the one a process was started with, which its children inherit;
/// processes of other users cannot be read and are skipped. Each process is read before and
/// after its environment, and kept only if both reads are the same process, so a pid that
/// changed hands in between is never reported with the new process's facts.
pub(crate) fn with_environments(sets: &[Vec<Vec<u8>>]) -> Vec<Vec<ProcInfo>> {
    let mut found = vec![Vec::new(); sets.len()];
    let me = std::process::id() as i32;
    for pid in all_pids().into_iter().filter(|&pid| pid > 1 && pid != me) {
        let Some(before) = proc_info(pid) else {
            continue;
        };
        let Some(environ) = environ(pid) else {
            continue;
        };
        let matching: Vec<usize> = sets
            .iter()
            .enumerate()
            .filter(|(_, tags)| environ_has(&environ, tags))
            .map(|(i, _)| i)
            .collect();
        if !matching.is_empty() && before.same_process(proc_info(pid)) {
            for i in matching {
                found[i].push(before);
            }
        }
    }
    found
}

/// Whether a `/proc/<pid>/environ` text (NUL-separated entries) holds every tag.
pub(crate) fn environ_has(environ: &[u8], tags: &[Vec<u8>]) -> bool {
    tags.iter().all(|tag| {
        environ
            .split(|b| *b == 0)
            .any(|entry| entry == tag.as_slice())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parentheses() {
        let stat = "123 (a b) c) S 1 456 456 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 98765 0 0";
        let (info, zombie) = parse_stat(123, stat).unwrap();
        assert_eq!((info.pgrp, info.start_ticks, zombie), (456, 98765, false));
        let (info, zombie) =
            parse_stat(1, "1 (z) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 5 0").unwrap();
        assert_eq!((info.start_ticks, zombie), (5, true));
    }

    #[test]
    fn reads_parent_group_session_and_zombies() {
        let parsed = parse_kin(7, "7 (x) Z 3 4 5 0 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 99 0").unwrap();
        assert_eq!(
            parsed,
            Kin {
                pid: 7,
                zombie: true,
                ppid: 3,
                pgrp: 4,
                session: 5,
                start_ticks: 99
            }
        );
        let me = std::process::id() as i32;
        let mine = kin(me).unwrap();
        assert_eq!(mine.ppid, nix::unistd::getppid().as_raw());
        assert!(!mine.zombie);
    }

    #[test]
    fn reads_a_pending_sigstop_from_either_mask() {
        let status = |sig: &str, shd: &str| format!("Name:\tsh\nSigPnd:\t{sig}\nShdPnd:\t{shd}\n");
        assert!(status_has_stop_pending(&status(
            "0000000000000000",
            "0000000000050000"
        )));
        assert!(status_has_stop_pending(&status(
            "0000000000040000",
            "0000000000000000"
        )));
        // SIGCHLD (17) and SIGCONT (18) pending, no SIGSTOP.
        assert!(!status_has_stop_pending(&status(
            "0000000000000000",
            "0000000000030000"
        )));
    }

    #[test]
    fn an_environment_matches_only_with_every_tag_whole() {
        let environ = b"HOME=/h\0NIGHTSHIFT_JOB_ID=12\0NIGHTSHIFT_ATTEMPT=1\0";
        let tags = |t: &[&str]| t.iter().map(|t| t.as_bytes().to_vec()).collect::<Vec<_>>();
        assert!(environ_has(
            environ,
            &tags(&["NIGHTSHIFT_JOB_ID=12", "NIGHTSHIFT_ATTEMPT=1"])
        ));
        assert!(
            !environ_has(environ, &tags(&["NIGHTSHIFT_JOB_ID=1"])),
            "a prefix is no match"
        );
        assert!(!environ_has(
            environ,
            &tags(&["NIGHTSHIFT_JOB_ID=12", "NIGHTSHIFT_ATTEMPT=2"])
        ));
    }

    #[test]
    fn reads_this_process() {
        let me = std::process::id() as i32;
        let info = proc_info(me).unwrap();
        assert!(info.start_ticks > 0);
        assert!(boot_id().is_some_and(|b| b.len() >= 32));
    }
}
