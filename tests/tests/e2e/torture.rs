//! Crash torture: the daemon is SIGKILLed again and again while jobs with grandchildren (one in
//! the job's group, one that left it with setsid) start and end. After every start that
//! follows a kill: no process of an attempt the killed daemon had made is alive, every job
//! that was acknowledged is there, and the database is sound. At the end every job has
//! succeeded, and no attempt ran twice or after its job's success.
//!
//! `NIGHTSHIFT_TORTURE_KILLS` sets the number of kills (default 5); `cargo xtask torture
//! --kills N` runs this test alone with it and prints its figures.

use crate::sh;
use nightshift_e2e::{Daemon, JOB_TIMEOUT, integrity_check, lines, sqlite, wait_until};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// Appends "job attempt" to $1 when it starts, leaves a sleeper in its group and one outside
/// it, works for 0.1 to 0.4 s and ends.
const JOB: &str = "echo \"$NIGHTSHIFT_JOB_ID $NIGHTSHIFT_ATTEMPT\" >> \"$1\"; \
    sleep 30 & setsid sleep 30 & \
    sleep 0.$(( NIGHTSHIFT_JOB_ID % 4 + 1 ))";

/// A job may be running at many kills in a row: it must not fail for it here.
const CONFIG: &str = "[jobs]\nkill_grace = \"1s\"\nmax_interruptions = 1000\n\n\
    [queues.default]\nconcurrency = 4\n";
/// Jobs added in each round, before its kill.
const PER_ROUND: usize = 4;

fn kills() -> usize {
    std::env::var("NIGHTSHIFT_TORTURE_KILLS")
        .ok()
        .map(|n| n.parse().expect("NIGHTSHIFT_TORTURE_KILLS is a number"))
        .unwrap_or(5)
}

/// The highest attempt number each job has in the database.
fn attempts_made(db: &Path) -> BTreeMap<i64, i64> {
    sqlite(
        db,
        "SELECT job_id, max(number) FROM attempts GROUP BY job_id;",
    )
    .lines()
    .map(|line| {
        let (job, attempt) = line.split_once('|').expect("job|attempt");
        (job.parse().unwrap(), attempt.parse().unwrap())
    })
    .collect()
}

/// `NIGHTSHIFT_JOB_ID` and `NIGHTSHIFT_ATTEMPT` of a live process of this test.
fn attempt_of(pid: i32, home: &str) -> Option<(i64, i64)> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let mut job = None;
    let mut attempt = None;
    let mut ours = false;
    for var in env.split(|b| *b == 0) {
        let var = String::from_utf8_lossy(var);
        if var == home {
            ours = true;
        } else if let Some(v) = var.strip_prefix("NIGHTSHIFT_JOB_ID=") {
            job = v.parse().ok();
        } else if let Some(v) = var.strip_prefix("NIGHTSHIFT_ATTEMPT=") {
            attempt = v.parse().ok();
        }
    }
    if !ours || !nightshift_e2e::is_live(pid) {
        return None;
    }
    Some((job?, attempt?))
}

#[test]
fn repeated_sigkills_leave_no_process_behind_and_lose_no_job() {
    let started = Instant::now();
    let kills = kills();
    let mut d = Daemon::with_config(CONFIG);
    let db = d.home().join("nightshift.db");
    let runs = d.scratch().join("runs");
    let runs_arg = runs.to_str().unwrap().to_string();
    let home = d.home_entry();
    let mut ids = Vec::new();
    let mut left_at_kills = 0;
    for round in 0..kills {
        let before = lines(&runs).len();
        for _ in 0..PER_ROUND {
            ids.push(d.add(&sh(JOB, &[&runs_arg])));
        }
        // Killed once a job of this round's has started (more may be starting or ending).
        assert!(
            wait_until(JOB_TIMEOUT, || lines(&runs).len() > before),
            "round {round}: no job started"
        );
        d.kill9();
        left_at_kills += d.job_processes().len();
        let made = attempts_made(&db);
        d.restart();
        // Nothing of an attempt the killed daemon made may live on (the new daemon's own
        // attempts have higher numbers).
        let mut old = Vec::new();
        let gone = wait_until(JOB_TIMEOUT, || {
            old = d
                .job_processes()
                .into_iter()
                .filter(|&pid| {
                    attempt_of(pid, &home)
                        .is_some_and(|(job, n)| made.get(&job).is_some_and(|&last| n <= last))
                })
                .collect();
            old.is_empty()
        });
        assert!(
            gone,
            "round {round}: processes {old:?} of the killed daemon's attempts survive"
        );
        assert_eq!(integrity_check(&db), "ok", "round {round}");
        for &id in &ids {
            let (status, body) = d.http("GET", &format!("/api/jobs/{id}"), None);
            assert_eq!(
                status, 200,
                "round {round}: acknowledged job {id} is missing: {body}"
            );
        }
    }

    let details = d.wait_jobs(&ids, JOB_TIMEOUT * 4);
    let mut ran: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for line in lines(&runs) {
        let mut words = line.split_whitespace().map(|w| w.parse::<i64>().unwrap());
        let (job, attempt) = (words.next().unwrap(), words.next().unwrap());
        ran.entry(job).or_default().push(attempt);
    }
    let mut attempts = 0;
    for (id, detail) in ids.iter().zip(&details) {
        assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
        let recorded = detail["attempts"].as_array().unwrap();
        attempts += recorded.len();
        let last = recorded.last().unwrap()["number"].as_i64().unwrap();
        let mut started = ran.remove(id).unwrap_or_default();
        let count = started.len();
        started.sort_unstable();
        started.dedup();
        assert_eq!(
            started.len(),
            count,
            "job {id}: an attempt ran twice: {detail}"
        );
        assert_eq!(
            started.last(),
            Some(&last),
            "job {id}: the succeeded attempt {last} is the last that ran: {started:?}"
        );
    }
    assert_eq!(integrity_check(&db), "ok");
    d.terminate();
    let mut left = Vec::new();
    let none = wait_until(JOB_TIMEOUT, || {
        left = d.job_processes();
        left.is_empty()
    });
    assert!(none, "processes {left:?} outlived the last graceful stop");
    eprintln!(
        "torture: {kills} kills, {} jobs, {attempts} attempts, {left_at_kills} job processes \
         alive at the kills (all ended by the next start), 0 survivors, {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
}
