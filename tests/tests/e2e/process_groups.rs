//! Cancel, timeout and a leader that exits early each end the job's whole process group,
//! grandchildren included; a job that ignores SIGTERM is SIGKILLed after the grace period.

use crate::{FAST_GRACE, outcomes, sh, show_json};
use nightshift_e2e::{Daemon, JOB_TIMEOUT, group_members, live_in_group, wait_lines};
use std::path::Path;

/// Two grandchildren that would sleep for five minutes; their pids go to $1.
const TWO_SLEEPERS: &str = "sleep 300 & echo $! >> \"$1\"; sleep 300 & echo $! >> \"$1\"; wait";
/// The same, in a shell that ignores SIGTERM (and so do its children: an ignored signal stays
/// ignored across fork and exec).
const TWO_SLEEPERS_IGNORING_TERM: &str =
    "trap '' TERM; sleep 300 & echo $! >> \"$1\"; sleep 300 & echo $! >> \"$1\"; wait";

/// The pids of the two sleepers, once both have been started.
fn sleepers(pids_file: &Path) -> Vec<i32> {
    wait_lines(pids_file, 2, JOB_TIMEOUT)
        .iter()
        .map(|l| l.trim().parse().expect("a pid"))
        .collect()
}

/// Waits until the job runs and both grandchildren live in its group; returns the group.
fn running_group(d: &Daemon, id: i64, pids_file: &Path) -> (i32, Vec<i32>) {
    d.wait_running(id);
    let detail = show_json(d, id);
    let pgid = pgid_of_attempt(&detail, 0);
    assert_eq!(
        detail["attempts"][0]["pid"], pgid,
        "the leader leads its own group"
    );
    let pids = sleepers(pids_file);
    for &pid in &pids {
        assert!(
            live_in_group(pid, pgid),
            "sleeper {pid} of job {id} is not a live member of the job's group {pgid}"
        );
    }
    assert!(
        group_members(pgid).len() >= 3,
        "group {pgid} should hold the shell and two sleepers: {:?}",
        group_members(pgid)
    );
    (pgid, pids)
}

fn assert_group_gone(pgid: i32, pids: &[i32], after: &str) {
    let left = group_members(pgid);
    assert!(
        left.is_empty(),
        "after {after}, processes {left:?} are still alive in the job's group {pgid}"
    );
    for &pid in pids {
        assert!(
            !live_in_group(pid, pgid),
            "after {after}, grandchild {pid} is still alive"
        );
    }
}

fn pgid_of_attempt(detail: &serde_json::Value, n: usize) -> i32 {
    detail["attempts"][n]["pgid"]
        .as_i64()
        .unwrap_or_else(|| panic!("attempt {n} has no pgid: {detail}")) as i32
}

#[test]
fn cancel_ends_the_whole_group() {
    let d = Daemon::with_config(FAST_GRACE);
    let pids_file = d.scratch().join("pids");
    let pids_arg = pids_file.to_str().unwrap();
    let id = d.add(&sh(TWO_SLEEPERS, &[pids_arg]));
    let (pgid, pids) = running_group(&d, id, &pids_file);

    let out = d.cli_ok(&["cancel", &id.to_string()]);
    assert!(out.contains("cancelled"), "cancel printed {out:?}");
    // `cancel` of a running job answers only once the group is gone: no waiting here.
    assert_group_gone(pgid, &pids, "cancel");

    let detail = d.show(id);
    assert_eq!(detail["job"]["state"], "cancelled", "{detail}");
    assert_eq!(outcomes(&detail), ["cancelled"]);
    assert_eq!(pgid_of_attempt(&detail, 0), pgid);
}

#[test]
fn timeout_ends_the_whole_group() {
    let d = Daemon::with_config(FAST_GRACE);
    let pids_file = d.scratch().join("pids");
    let mut args = vec!["--timeout", "3s"];
    args.extend(sh(TWO_SLEEPERS, &[pids_file.to_str().unwrap()]));
    let id = d.add(&args);

    let out = d.cli(&["wait", &id.to_string()]);
    let pids = sleepers(&pids_file);
    let detail = d.show(id);
    let pgid = pgid_of_attempt(&detail, 0);
    assert_group_gone(pgid, &pids, "a timeout");

    assert_eq!(detail["job"]["state"], "failed", "{detail}");
    assert_eq!(outcomes(&detail), ["timed_out"]);
    let reason = detail["job"]["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("timed out"), "reason: {reason:?}");
    // `wait` on one job exits with the job's code, and crates/cli/src/exit.rs promises 124
    // for a timeout, whatever signal the timeout's stop delivered.
    assert_eq!(
        out.status.code(),
        Some(124),
        "`nightshift wait` on a timed-out job (job: {detail}): {}",
        nightshift_e2e::describe(&out)
    );
}

#[test]
fn cancel_of_a_job_ignoring_sigterm_kills_it_after_the_grace_period() {
    let d = Daemon::with_config(FAST_GRACE);
    let pids_file = d.scratch().join("pids");
    let id = d.add(&sh(
        TWO_SLEEPERS_IGNORING_TERM,
        &[pids_file.to_str().unwrap()],
    ));
    let (pgid, pids) = running_group(&d, id, &pids_file);

    d.cli_ok(&["cancel", &id.to_string()]);
    assert_group_gone(pgid, &pids, "cancel of a job ignoring SIGTERM");

    let detail = d.show(id);
    assert_eq!(detail["job"]["state"], "cancelled", "{detail}");
    // The shell ignored SIGTERM, so only SIGKILL (9) can have ended it.
    assert_eq!(detail["attempts"][0]["signal"], 9, "{detail}");
}

#[test]
fn timeout_of_a_job_ignoring_sigterm_kills_it_after_the_grace_period() {
    let d = Daemon::with_config(FAST_GRACE);
    let pids_file = d.scratch().join("pids");
    let mut args = vec!["--timeout", "3s"];
    args.extend(sh(
        TWO_SLEEPERS_IGNORING_TERM,
        &[pids_file.to_str().unwrap()],
    ));
    let id = d.add(&args);
    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    let pids = sleepers(&pids_file);
    assert_group_gone(pgid_of_attempt(detail, 0), &pids, "a timeout");
    assert_eq!(detail["job"]["state"], "failed", "{detail}");
    assert_eq!(outcomes(detail), ["timed_out"]);
    let reason = detail["job"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("killed after the grace period"),
        "reason should say SIGKILL was needed: {reason:?}"
    );
}

#[test]
fn processes_left_behind_by_a_finished_leader_are_ended() {
    let d = Daemon::with_config(FAST_GRACE);
    let pids_file = d.scratch().join("pids");
    // The leader exits at once, leaving a sleeper in its group.
    let id = d.add(&sh(
        "sleep 300 & echo $! >> \"$1\"; exit 0",
        &[pids_file.to_str().unwrap()],
    ));
    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    let pids: Vec<i32> = wait_lines(&pids_file, 1, JOB_TIMEOUT)
        .iter()
        .map(|l| l.trim().parse().expect("a pid"))
        .collect();
    assert_group_gone(pgid_of_attempt(detail, 0), &pids, "the leader's exit");
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
}
