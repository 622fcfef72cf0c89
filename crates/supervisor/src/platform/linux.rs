//! Linux: process facts from `/proc`.

use super::ProcInfo;

/// This boot's id; changes on every reboot, so a stored pid from another boot is never trusted.
pub(crate) fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
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

/// Live members of the process group `pgid`.
pub(crate) fn group_members(pgid: i32) -> Vec<ProcInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(proc_info)
        .filter(|p| p.pgrp == pgid)
        .collect()
}

/// Live processes whose environment holds every one of `tags` (`NAME=value` entries), this
/// process excluded. The environment read is the one a process was started with, which its
/// children inherit; processes of other users cannot be read and are skipped. Each process is
/// read before and after its environment, and kept only if both reads are the same process, so
/// a pid that changed hands in between is never reported with the new process's facts.
pub(crate) fn with_environment(tags: &[Vec<u8>]) -> Vec<ProcInfo> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid > 1 && pid != me)
        .filter_map(|pid| {
            let before = proc_info(pid)?;
            let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            (environ_has(&environ, tags) && before.same_process(proc_info(pid))).then_some(before)
        })
        .collect()
}

/// Whether a `/proc/<pid>/environ` text (NUL-separated entries) holds every tag.
fn environ_has(environ: &[u8], tags: &[Vec<u8>]) -> bool {
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
