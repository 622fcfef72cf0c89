//! Queues: the concurrency limit holds, higher priority runs first, a held queue holds, and a
//! queued job can be cancelled before it ever runs.

use crate::{Gate, outcomes, sh};
use nightshift_e2e::{Daemon, JOB_TIMEOUT, describe, lines, wait_for};

fn running_in(d: &Daemon, queue: &str) -> Vec<i64> {
    let page = d.api(
        "GET",
        &format!("/api/jobs?state=running&queue={queue}"),
        None,
    );
    crate::listed_ids(&page)
}

#[test]
fn a_queue_never_runs_more_than_its_limit() {
    let d = Daemon::with_config("[queues.two]\nconcurrency = 2\n");
    let gates: Vec<Gate> = (0..3)
        .map(|n| Gate::new(d.scratch(), &format!("gate-{n}")))
        .collect();
    let ids: Vec<i64> = gates
        .iter()
        .map(|g| {
            let mut args = vec!["--queue", "two"];
            args.extend(sh("read x < \"$1\"", &[g.path()]));
            d.add(&args)
        })
        .collect();
    wait_for(JOB_TIMEOUT, "two jobs of queue two running", || {
        running_in(&d, "two").len() == 2
    });
    // The first two block on their gates, so the third cannot have started.
    assert_eq!(running_in(&d, "two"), [ids[1], ids[0]]);
    let third = d.show(ids[2]);
    assert_eq!(third["job"]["state"], "queued", "{third}");
    assert_eq!(outcomes(&third), Vec::<String>::new());

    gates[0].open();
    d.wait_running(ids[2]);
    gates[1].open();
    gates[2].open();
    for detail in d.wait_jobs(&ids, JOB_TIMEOUT) {
        assert_eq!(detail["job"]["state"], "succeeded", "{detail}");
    }
}

#[test]
fn higher_priority_runs_first() {
    let d = Daemon::with_config("[queues.serial]\nconcurrency = 1\n");
    let gate = Gate::new(d.scratch(), "gate");
    let mut args = vec!["--queue", "serial"];
    args.extend(sh("read x < \"$1\"", &[gate.path()]));
    let first = d.add(&args);
    d.wait_running(first);

    let order = d.scratch().join("order");
    let order_arg = order.to_str().unwrap();
    let mut ids = vec![first];
    for (name, priority) in [
        ("low", "0"),
        ("high", "10"),
        ("negative", "-3"),
        ("mid", "5"),
    ] {
        let mut args = vec!["--queue", "serial", "--priority", priority];
        args.extend(sh("echo \"$2\" >> \"$1\"", &[order_arg, name]));
        ids.push(d.add(&args));
    }
    gate.open();
    d.wait_jobs(&ids, JOB_TIMEOUT);
    assert_eq!(lines(&order), ["high", "mid", "low", "negative"]);
}

#[test]
fn a_queued_job_can_be_cancelled_and_never_runs() {
    let d = Daemon::with_config("[queues.held]\nconcurrency = 0\n");
    let marker = d.scratch().join("ran");
    let mut args = vec!["--queue", "held"];
    args.extend(sh("touch \"$1\"", &[marker.to_str().unwrap()]));
    let id = d.add(&args);
    let queued = d.show(id);
    assert_eq!(
        queued["job"]["state"], "queued",
        "a held queue runs nothing: {queued}"
    );

    let out = d.cli_ok(&["cancel", &id.to_string()]);
    assert!(out.contains("cancelled"), "{out}");
    let out = d.cli(&["wait", &id.to_string()]);
    assert_eq!(out.status.code(), Some(130), "{}", describe(&out));
    let detail = d.show(id);
    assert_eq!(detail["job"]["state"], "cancelled", "{detail}");
    assert_eq!(outcomes(&detail), Vec::<String>::new());
    assert!(!marker.exists(), "a cancelled queued job ran");

    // Cancelling it again is refused.
    let out = d.cli(&["cancel", &id.to_string()]);
    assert!(!out.status.success(), "{}", describe(&out));
}

#[test]
fn a_job_after_another_waits_says_for_which_and_is_cancelled_when_it_fails() {
    let d = Daemon::start();
    let gate = Gate::new(d.scratch(), "first");
    let mut args = vec![];
    args.extend(sh("read x < \"$1\"; exit \"$x\"", &[gate.path()]));
    let first = d.add(&args);
    let first_text = first.to_string();
    let second = d.add(&["--after", &first_text, "--", "true"]);
    let third = d.add(&["--after", &second.to_string(), "--", "true"]);
    d.wait_running(first);
    let shown = d.show(second);
    assert_eq!(shown["job"]["state"], "queued");
    assert_eq!(shown["job"]["waiting"]["kind"], "dependency", "{shown}");
    assert_eq!(shown["job"]["waiting"]["job"], first);
    assert_eq!(shown["after"][0]["id"], first);
    let text = d.cli_ok(&["show", &second.to_string()]);
    assert!(
        text.contains(&format!("waiting for job {first} (running) to succeed")),
        "{text}"
    );

    // The first fails: both jobs after it are cancelled, each naming the job before it.
    gate.open_with("3\n");
    wait_for(JOB_TIMEOUT, "the chain to be cancelled", || {
        d.state(third) == "cancelled"
    });
    assert_eq!(d.state(first), "failed");
    assert_eq!(d.state(second), "cancelled");
    assert_eq!(
        d.show(second)["job"]["reason"],
        format!("job {first}, which it runs after, failed")
    );
    // Adding after a failed job is refused, saying why and how to go on.
    let out = d.cli(&["add", "--after", &first_text, "--", "true"]);
    assert!(!out.status.success());
    let err = describe(&out);
    assert!(
        err.contains("has failed") && err.contains(&format!("nightshift retry {first}")),
        "{err}"
    );

    // After a success, the next one runs.
    let ok = d.add(&["--", "true"]);
    let next = d.add(&["--after", &ok.to_string(), "--", "true"]);
    wait_for(JOB_TIMEOUT, "the job after a success to run", || {
        d.state(next) == "succeeded"
    });
}

/// The end of an attempt is recorded with the claim of the job that takes its slot, in one
/// transaction. A claim that fails (here a queued row that cannot be read, written by another
/// program) must not hold back the end: the attempt's outcome is recorded alone, at once.
#[test]
fn an_end_is_recorded_even_when_the_claim_that_goes_with_it_fails() {
    let d = Daemon::with_config("[queues.one]\nconcurrency = 1\n");
    let gate = Gate::new(d.scratch(), "gate");
    let mut args = vec!["--queue", "one"];
    args.extend(sh("read x < \"$1\"", &[gate.path()]));
    let first = d.add(&args);
    d.wait_running(first);
    let second = d.add(&["--queue", "one", "--", "true"]);
    // The next in line becomes a row the claim cannot read.
    nightshift_e2e::sqlite_write(
        &d.home().join("nightshift.db"),
        &format!("UPDATE jobs SET args = 'not a list' WHERE id = {second};"),
    );
    gate.open();
    let ended = d.wait_jobs(&[first], JOB_TIMEOUT);
    assert_eq!(ended[0]["job"]["state"], "succeeded", "{}", ended[0]);
    assert_eq!(outcomes(&ended[0]), ["succeeded"]);
}
