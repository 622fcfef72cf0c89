//! SIGKILL of the daemon while jobs (with grandchildren) run: the next start kills the groups
//! left behind, marks those attempts interrupted, runs the jobs again exactly once each, and
//! never touches a process that is not its own.

use crate::{outcomes, sh, show_json};
use nightshift_e2e::{
    Daemon, JOB_TIMEOUT, OwnedProcess, group_members, lines, live_in_group, wait_lines,
};
use std::process::Command;

/// Appends the attempt number to $1; the first run then starts two sleepers (pids to $2) and
/// waits on them; a later run exits 0 at once.
const RUN_ONCE_THEN_FINISH: &str = "n=$(cat \"$1\" 2>/dev/null | wc -l); \
    echo \"$NIGHTSHIFT_ATTEMPT\" >> \"$1\"; \
    if [ \"$n\" -ge 1 ]; then exit 0; fi; \
    sleep 300 & echo $! >> \"$2\"; sleep 300 & echo $! >> \"$2\"; wait";

#[test]
fn sigkill_of_the_daemon_recovers_running_jobs_and_spares_other_processes() {
    let mut d = Daemon::with_config(
        "[jobs]\nkill_grace = \"1s\"\n\n[queues.crash]\nconcurrency = 4\n\n[queues.held]\nconcurrency = 0\n",
    );
    // A process of our own in its own group, like a job's: recovery must never signal it.
    let mut canary = {
        let mut cmd = Command::new("sleep");
        cmd.arg("300");
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        OwnedProcess::spawn(cmd)
    };

    let mut jobs = Vec::new();
    for n in 0..2 {
        let runs = d.scratch().join(format!("runs-{n}"));
        let pids = d.scratch().join(format!("pids-{n}"));
        let mut args = vec!["--queue", "crash", "--attempts", "3"];
        args.extend(sh(
            RUN_ONCE_THEN_FINISH,
            &[runs.to_str().unwrap(), pids.to_str().unwrap()],
        ));
        let id = d.add(&args);
        jobs.push((id, runs, pids));
    }
    // A job that waits in a held queue: it must still be there after the crash.
    let held = d.add(&["--queue", "held", "--", "true"]);

    let mut groups = Vec::new();
    for (id, runs, pids_file) in &jobs {
        let pgid = d.wait_running(*id);
        assert_eq!(wait_lines(runs, 1, JOB_TIMEOUT), ["1"]);
        let pids: Vec<i32> = wait_lines(pids_file, 2, JOB_TIMEOUT)
            .iter()
            .map(|l| l.trim().parse().expect("a pid"))
            .collect();
        for &pid in &pids {
            assert!(
                live_in_group(pid, pgid),
                "sleeper {pid} not in group {pgid}"
            );
        }
        groups.push((pgid, pids));
    }

    let old_pid = d.pid();
    d.kill9();
    // The jobs outlive the daemon: they lead their own groups.
    for (pgid, pids) in &groups {
        assert!(
            pids.iter().all(|&p| live_in_group(p, *pgid)),
            "group {pgid} died with the daemon: nothing left to recover"
        );
    }

    // Release the held queue for the next start.
    d.write_config("[jobs]\nkill_grace = \"1s\"\n\n[queues.crash]\nconcurrency = 4\n");
    d.restart();
    assert_ne!(d.pid(), old_pid);

    let ids: Vec<i64> = jobs.iter().map(|(id, _, _)| *id).collect();
    d.wait_jobs(&ids, JOB_TIMEOUT);
    let details: Vec<_> = ids.iter().map(|&id| show_json(&d, id)).collect();
    for ((pgid, pids), detail) in groups.iter().zip(&details) {
        let left = group_members(*pgid);
        assert!(
            left.is_empty(),
            "the group {pgid} left by the killed daemon still has {left:?}"
        );
        assert!(pids.iter().all(|&p| !live_in_group(p, *pgid)));
        assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
        assert_eq!(
            outcomes(detail),
            ["interrupted", "succeeded"],
            "attempts: {detail}"
        );
    }
    for (id, runs, _) in &jobs {
        assert_eq!(
            lines(runs),
            ["1", "2"],
            "job {id} should have run exactly once more, as attempt 2"
        );
    }

    let health = d.api("GET", "/api/health", None);
    assert_eq!(health["recovered_requeued"], 2, "{health}");
    assert_eq!(health["recovered_failed"], 0, "{health}");

    let held_detail = &d.wait_jobs(&[held], JOB_TIMEOUT)[0];
    assert_eq!(held_detail["job"]["state"], "succeeded", "{held_detail}");
    assert_eq!(outcomes(held_detail), ["succeeded"]);

    assert!(
        canary.is_running(),
        "the unrelated process {} was signalled",
        canary.pid()
    );
    canary.kill();
}

#[test]
fn a_job_during_which_nightshift_crashed_too_often_in_a_row_fails() {
    // One crash in a row is the limit here: the job may be what brings Nightshift down.
    let mut d = Daemon::with_config("[jobs]\nkill_grace = \"1s\"\nmax_interruptions = 1\n");
    let runs = d.scratch().join("runs");
    let pids = d.scratch().join("pids");
    let mut args = vec!["--attempts", "5"];
    args.extend(sh(
        RUN_ONCE_THEN_FINISH,
        &[runs.to_str().unwrap(), pids.to_str().unwrap()],
    ));
    let id = d.add(&args);
    let pgid = d.wait_running(id);
    wait_lines(&pids, 2, JOB_TIMEOUT);
    d.kill9();
    d.restart();

    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "failed", "{detail}");
    assert_eq!(outcomes(detail), ["interrupted"]);
    let reason = detail["job"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("in a row"), "{detail}");
    assert_eq!(detail["job"]["attempts_used"], 0, "{detail}");
    assert!(group_members(pgid).is_empty(), "group {pgid} survived");
    assert_eq!(lines(&runs), ["1"], "the job must not run again");
}

#[test]
fn a_crash_of_nightshift_does_not_use_the_jobs_only_attempt() {
    let mut d = Daemon::with_config("[jobs]\nkill_grace = \"1s\"\n");
    let runs = d.scratch().join("runs");
    let pids = d.scratch().join("pids");
    let mut args = vec!["--attempts", "1"];
    args.extend(sh(
        RUN_ONCE_THEN_FINISH,
        &[runs.to_str().unwrap(), pids.to_str().unwrap()],
    ));
    let id = d.add(&args);
    d.wait_running(id);
    wait_lines(&pids, 2, JOB_TIMEOUT);
    d.kill9();
    d.restart();

    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(outcomes(detail), ["interrupted", "succeeded"]);
    assert_eq!(lines(&runs), ["1", "2"], "run again once, and only once");
}

#[test]
fn a_group_whose_leader_exited_while_the_daemon_was_down_is_still_killed() {
    let mut d = Daemon::with_config("[jobs]\nkill_grace = \"1s\"\n");
    let gate = crate::Gate::new(d.scratch(), "gate");
    let pids_file = d.scratch().join("pids");
    // The leader leaves a subshell with two sleepers in its group, then waits on the gate.
    let id = d.add(&sh(
        "(sleep 300 & echo $! >> \"$1\"; sleep 300 & echo $! >> \"$1\"; wait) & read x < \"$2\"",
        &[pids_file.to_str().unwrap(), gate.path()],
    ));
    let pgid = d.wait_running(id);
    let pids: Vec<i32> = wait_lines(&pids_file, 2, JOB_TIMEOUT)
        .iter()
        .map(|l| l.trim().parse().expect("a pid"))
        .collect();
    d.kill9();
    // With the daemon gone, the leader exits; its group lives on without it.
    gate.open();
    nightshift_e2e::wait_for(JOB_TIMEOUT, "the job's leader to exit", || {
        !nightshift_e2e::is_live(pgid)
    });
    assert!(pids.iter().all(|&p| live_in_group(p, pgid)));

    d.restart();
    let left = group_members(pgid);
    assert!(
        left.is_empty(),
        "recovery left {left:?} of the leaderless group {pgid}"
    );
    let detail = d.show(id);
    assert_eq!(outcomes(&detail)[0], "interrupted", "{detail}");
}

#[test]
fn a_large_payload_survives_a_crash_and_reaches_the_second_attempt() {
    let mut d = Daemon::with_config("[jobs]\nkill_grace = \"1s\"\n");
    // Over the 10 KiB inline limit, so it lives in payloads/.
    let mut payload = String::from("[");
    for n in 0..20_000 {
        payload.push_str(&format!("{n},"));
    }
    payload.push_str("0]");
    let source = d.scratch().join("payload.json");
    std::fs::write(&source, &payload).unwrap();
    let copies = d.scratch().join("copy");
    let payload_arg = format!("@{}", source.display());
    let mut args = vec!["--payload", payload_arg.as_str(), "--attempts", "2"];
    // Each attempt keeps a copy of its payload; the first then blocks until killed.
    args.extend(sh(
        "cp \"$NIGHTSHIFT_PAYLOAD_FILE\" \"$1-$NIGHTSHIFT_ATTEMPT\"; \
         if [ \"$NIGHTSHIFT_ATTEMPT\" = 1 ]; then sleep 300; fi",
        &[copies.to_str().unwrap()],
    ));
    let id = d.add(&args);
    d.wait_running(id);
    let first = d.scratch().join("copy-1");
    nightshift_e2e::wait_for(JOB_TIMEOUT, "the first copy of the payload", || {
        std::fs::read(&first).is_ok_and(|b| b.len() == payload.len())
    });
    d.kill9();
    d.restart();

    let detail = &d.wait_jobs(&[id], JOB_TIMEOUT)[0];
    assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    assert_eq!(outcomes(detail), ["interrupted", "succeeded"]);
    let second = std::fs::read(d.scratch().join("copy-2")).expect("no second copy");
    assert!(
        second == payload.as_bytes(),
        "the payload changed across the crash"
    );
}
