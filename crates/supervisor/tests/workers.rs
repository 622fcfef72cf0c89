//! Workers on real processes: a process group talking over its standard input and output, its
//! standard error going to whichever log it is switched to.

use nightshift_e2e::wait_for;
use nightshift_supervisor::logfile::{self, LogWriter};
use nightshift_supervisor::{Exit, SpawnRequest, spawn_worker, terminate};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const SOON: Duration = Duration::from_secs(10);

// Multi-threaded: the stderr reader is a task, and `wait_for` blocks the test's thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_answers_on_stdout_and_its_stderr_follows_the_switch() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("own");
    std::fs::create_dir(&own).unwrap();
    // Each line in: a line on stderr (into whichever log is current), then the answer on stdout
    // (so the answer comes only once the stderr line is written to the pipe).
    let script = "while read line; do echo \"working on $line\" >&2; echo \"done $line\"; done";
    let mut worker = spawn_worker(SpawnRequest {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![],
        cwd: None,
        log: LogWriter::new(&own, 0, 1 << 20),
    })
    .unwrap();
    let mut answers = BufReader::new(worker.stdout).lines();

    for job in [41_i64, 42] {
        assert!(
            worker
                .stderr
                .switch(LogWriter::new(dir.path(), job, 1 << 20))
                .await
        );
        worker
            .stdin
            .write_all(format!("{job}\n").as_bytes())
            .await
            .unwrap();
        let answer = tokio::time::timeout(SOON, answers.next_line())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(answer.as_deref(), Some(format!("done {job}").as_str()));
        wait_for(SOON, "the job's log to hold its stderr line", || {
            logfile::read(dir.path(), job, None)
                .is_ok_and(|b| b == format!("working on {job}\n").as_bytes())
        });
    }
    // Between jobs, back to the worker's own log.
    assert!(worker.stderr.switch(LogWriter::new(&own, 0, 1 << 20)).await);
    worker.stdin.write_all(b"idle\n").await.unwrap();
    tokio::time::timeout(SOON, answers.next_line())
        .await
        .unwrap()
        .unwrap();
    wait_for(SOON, "the worker's own log", || {
        logfile::read(&own, 0, None).is_ok_and(|b| b == b"working on idle\n")
    });

    // Closing its standard input ends it; its group goes like any attempt's.
    drop(worker.stdin);
    let exit = tokio::time::timeout(SOON, worker.running.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit, Exit::Code(0));
    drop(worker.stderr);
    worker.running.finish_output(SOON).await;
}

#[tokio::test]
async fn a_worker_that_ignores_its_stdin_is_ended_with_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let mut worker = spawn_worker(SpawnRequest {
        program: "/bin/sh".into(),
        args: vec!["-c".into(), "sleep 300 & sleep 300; wait".into()],
        env: vec![],
        cwd: None,
        log: LogWriter::new(dir.path(), 0, 1 << 20),
    })
    .unwrap();
    let pgid = worker.running.pgid();
    wait_for(SOON, "the worker's sleeps", || {
        nightshift_e2e::group_members(pgid).len() >= 3
    });
    let end = terminate(&mut worker.running, false, SOON).await;
    assert_eq!(end.survivors, 0);
    assert_eq!(nightshift_e2e::group_members(pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn a_program_that_does_not_exist_is_a_spawn_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = spawn_worker(SpawnRequest {
        program: "/nonexistent/worker".into(),
        args: vec![],
        env: vec![],
        cwd: None,
        log: LogWriter::new(dir.path(), 0, 1 << 20),
    })
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/worker"), "{err}");
}
