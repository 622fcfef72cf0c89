//! Processes that leave the job's process group (a `setsid` child, a double fork, a child that
//! calls setpgid) die with the attempt however it ends: cancel, timeout, its own end, a
//! graceful stop of the daemon, a SIGKILL of the daemon and the next start. A job added with
//! `--leave-running` keeps them.

use crate::sh;
use nightshift_e2e::{Daemon, JOB_TIMEOUT, has_env, proc_ids, wait_for, wait_lines};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::PathBuf;

/// The ways out of the group. Each script is run as `sh -c SCRIPT sh PIDFILE MODE`: it starts
/// a process that leaves the group and writes its own pid to PIDFILE (after leaving), waits
/// for that line, then either ends (`MODE` = `end`) or sleeps in the group (`MODE` = `stay`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// `setsid`: a session and a group of its own.
    Setsid,
    /// A subshell that starts it and exits at once: it stays in the group, orphaned.
    DoubleFork,
    /// `setpgid(0, 0)` (perl's setpgrp): a group of its own in the same session.
    Setpgid,
}

/// One second of grace, and room for the three jobs at once.
const CONFIG: &str = "[jobs]\nkill_grace = \"1s\"\n\n[queues.default]\nconcurrency = 4\n";

const ALL: [Escape; 3] = [Escape::Setsid, Escape::DoubleFork, Escape::Setpgid];

/// The leader's part after starting the escape: wait for its pid, then end or stay.
const THEN: &str = "until [ -s \"$1\" ]; do sleep 0.02; done; \
    if [ \"$2\" = end ]; then exit 0; fi; sleep 300";

impl Escape {
    fn script(self) -> String {
        let start = match self {
            Escape::Setsid => "setsid sh -c 'echo $$ >> \"$1\"; exec sleep 300' sh \"$1\" &",
            Escape::DoubleFork => "(sh -c 'echo $$ >> \"$1\"; exec sleep 300' sh \"$1\" &)",
            Escape::Setpgid => {
                "perl -e 'setpgrp(0, 0); open(my $f, \">>\", $ARGV[0]) or die; \
                 print $f \"$$\\n\"; close($f); exec(\"sleep\", \"300\")' \"$1\" &"
            }
        };
        format!("{start}\n{THEN}")
    }
}

/// One job per escape, and where each writes the pid of its escaped process.
struct Escapes {
    jobs: Vec<(Escape, i64, PathBuf)>,
}

impl Escapes {
    /// Adds one job per kind of escape with `flags` (before the command) and `mode`.
    fn add(d: &Daemon, flags: &[&str], mode: &str) -> Escapes {
        let mut jobs = Vec::new();
        for escape in ALL {
            let file = d.scratch().join(format!("escaped-{escape:?}"));
            let script = escape.script();
            let mut args = flags.to_vec();
            args.extend(sh(&script, &[file.to_str().unwrap(), mode]));
            jobs.push((escape, d.add(&args), file));
        }
        Escapes { jobs }
    }

    fn ids(&self) -> Vec<i64> {
        self.jobs.iter().map(|(_, id, _)| *id).collect()
    }

    /// Waits for each escaped process; with `leader_pgid` (jobs that stay running), checks
    /// that it really left (its group and session, or for the double fork its parent) and
    /// carries this test's home; returns their pids.
    fn started(&self, d: &Daemon, leader_pgid: Option<&dyn Fn(i64) -> i32>) -> Vec<i32> {
        let mut pids = Vec::new();
        for (escape, id, file) in &self.jobs {
            let pid: i32 = wait_lines(file, 1, JOB_TIMEOUT)[0]
                .trim()
                .parse()
                .expect("a pid");
            pids.push(pid);
            let Some(leader_pgid) = leader_pgid else {
                continue;
            };
            // Polled: its environment reads empty for a moment while it execs sleep.
            wait_for(
                JOB_TIMEOUT,
                &format!("{escape:?}: process {pid} of job {id} alive with this test's home"),
                || has_env(pid, &d.home_entry()),
            );
            let (_, pgrp, session) = proc_ids(pid).expect("alive");
            match escape {
                Escape::Setsid => assert_eq!((pgrp, session), (pid, pid), "{escape:?}"),
                Escape::Setpgid => assert_eq!(pgrp, pid, "{escape:?}"),
                Escape::DoubleFork => {
                    assert_eq!(
                        pgrp,
                        leader_pgid(*id),
                        "{escape:?} stays in the job's group"
                    )
                }
            }
        }
        pids
    }
}

/// Waits until none of `pids` is alive with this test's home (a pid handed to some other
/// process later does not count), and no process of this test's jobs is left at all.
fn assert_none_survive(d: &Daemon, pids: &[i32], after: &str) {
    let home = d.home_entry();
    let mut left = Vec::new();
    let gone = nightshift_e2e::wait_until(JOB_TIMEOUT, || {
        left = pids
            .iter()
            .copied()
            .filter(|&p| has_env(p, &home))
            .chain(d.job_processes())
            .collect();
        left.sort_unstable();
        left.dedup();
        left.is_empty()
    });
    assert!(
        gone,
        "after {after}, processes {left:?} of this test's jobs survive"
    );
}

#[test]
fn cancel_ends_processes_that_left_the_group() {
    let d = Daemon::with_config(CONFIG);
    let escapes = Escapes::add(&d, &[], "stay");
    let pids = escapes.started(&d, Some(&|id| d.wait_running(id)));
    for id in escapes.ids() {
        d.cli_ok(&["cancel", &id.to_string()]);
    }
    for detail in d.wait_jobs(&escapes.ids(), JOB_TIMEOUT) {
        assert_eq!(detail["job"]["state"], "cancelled", "{detail}");
    }
    assert_none_survive(&d, &pids, "cancel");
}

#[test]
fn timeout_ends_processes_that_left_the_group() {
    let d = Daemon::with_config(CONFIG);
    let escapes = Escapes::add(&d, &["--timeout", "3s"], "stay");
    let pids = escapes.started(&d, None);
    for detail in d.wait_jobs(&escapes.ids(), JOB_TIMEOUT) {
        assert_eq!(detail["attempts"][0]["outcome"], "timed_out", "{detail}");
    }
    assert_none_survive(&d, &pids, "a timeout");
}

#[test]
fn the_end_of_the_job_ends_processes_that_left_the_group() {
    let d = Daemon::with_config(CONFIG);
    let escapes = Escapes::add(&d, &[], "end");
    let pids = escapes.started(&d, None);
    for detail in d.wait_jobs(&escapes.ids(), JOB_TIMEOUT) {
        assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    }
    assert_none_survive(&d, &pids, "the job's end");
}

#[test]
fn a_graceful_stop_ends_processes_that_left_the_group() {
    let mut d = Daemon::with_config(CONFIG);
    let escapes = Escapes::add(&d, &[], "stay");
    let pids = escapes.started(&d, Some(&|id| d.wait_running(id)));
    let status = d.terminate();
    assert!(status.success(), "the daemon's exit: {status}");
    assert_none_survive(&d, &pids, "a graceful stop of the daemon");
}

#[test]
fn the_start_after_a_sigkill_ends_processes_that_left_the_group() {
    let mut d = Daemon::with_config(CONFIG);
    let escapes = Escapes::add(&d, &["--attempts", "2"], "stay");
    let pids = escapes.started(&d, Some(&|id| d.wait_running(id)));
    d.kill9();
    // They outlived the daemon: there is something to recover.
    let home = d.home_entry();
    // (Polled: a process's environment reads empty for a moment while it execs.)
    wait_for(
        JOB_TIMEOUT,
        "the escaped processes to outlive the daemon",
        || pids.iter().all(|&p| has_env(p, &home)),
    );
    // Held, so that the next attempts do not start new ones.
    d.write_config("[jobs]\nkill_grace = \"1s\"\n\n[queues.default]\nconcurrency = 0\n");
    d.restart();
    assert_none_survive(&d, &pids, "a SIGKILL of the daemon and a new start");
    for id in escapes.ids() {
        let detail = d.show(id);
        assert_eq!(detail["attempts"][0]["outcome"], "interrupted", "{detail}");
    }
}

#[test]
fn a_job_that_asks_keeps_what_left_the_group_running() {
    let d = Daemon::with_config(CONFIG);
    let in_group = d.scratch().join("in-group");
    // One process stays in the group, one leaves it: only the second may outlive the job.
    let script = format!(
        "sleep 300 & echo $! > '{}'; {}",
        in_group.display(),
        Escape::Setsid.script()
    );
    let file = d.scratch().join("escaped");
    let mut args = vec!["--leave-running"];
    args.extend(sh(&script, &[file.to_str().unwrap(), "end"]));
    let id = d.add(&args);
    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(detail["job"]["leave_running"], true, "{detail}");
    let pid: i32 = wait_lines(&file, 1, JOB_TIMEOUT)[0].trim().parse().unwrap();
    let sleeper: i32 = wait_lines(&in_group, 1, JOB_TIMEOUT)[0]
        .trim()
        .parse()
        .unwrap();
    let home = d.home_entry();
    wait_for(JOB_TIMEOUT, "the group's own sleeper to be ended", || {
        !has_env(sleeper, &home)
    });
    // Polled (its environment reads empty for a moment while it execs sleep); had it been
    // ended, this fails at the deadline.
    wait_for(
        JOB_TIMEOUT,
        "the process that left the group to be alive although the job ended",
        || has_env(pid, &home),
    );
    // Ours to end now (it carries this test's home, checked just above).
    kill(Pid::from_raw(pid), Signal::SIGKILL).unwrap();
    assert_none_survive(&d, &[pid], "the test's own kill");
}

#[test]
fn an_escaped_process_holding_the_output_is_dead_when_the_end_is_recorded() {
    let d = Daemon::with_config(CONFIG);
    let marker = d.scratch().join("marker");
    // The escaped process inherits the output pipe and would hold it for five minutes.
    let script = format!(
        "setsid sh -c 'echo escaped; echo $$ > \"$1\"; exec sleep 300' sh '{}' & \
         until [ -s '{}' ]; do sleep 0.02; done; echo leader done",
        marker.display(),
        marker.display()
    );
    let id = d.add(&sh(&script, &[]));
    // The end is recorded once the leader exited and the escaped process was ended: by the
    // time the job reads as succeeded, it is gone.
    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    let pid: i32 = std::fs::read_to_string(&marker)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !has_env(pid, &d.home_entry()),
        "process {pid} still held the output when the end was recorded: {detail}"
    );
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    let log = d.cli_ok(&["logs", &id.to_string()]);
    assert!(
        log.contains("escaped") && log.contains("leader done"),
        "{log:?}"
    );
}
