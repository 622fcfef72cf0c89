//! What the store's test files share: a store in a temporary folder, and jobs and ends to
//! give it.

#![allow(dead_code, reason = "each test file uses its own part of this")]

use nightshift_core::{AttemptOutcome, JobId, JobSpec, JobState, Synchronous};
use nightshift_store::{Finish, NewJob, Store};

pub fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("payloads")).unwrap();
    let store = Store::open(
        &dir.path().join("n.db"),
        &dir.path().join("payloads"),
        Synchronous::Normal,
    )
    .unwrap();
    (dir, store)
}

pub fn job(queue: &str, attempts: u32) -> NewJob {
    let mut spec = JobSpec::command(&["true"], queue);
    spec.max_attempts = attempts;
    NewJob {
        run_at: None,
        spec,
        payload: None,
        after: Vec::new(),
    }
}

pub fn finish(job: JobId, attempt: i64, outcome: AttemptOutcome) -> Finish {
    Finish {
        job,
        attempt,
        outcome,
        consume: outcome.consumes_attempt(),
        exit_code: Some(1),
        signal: None,
        reason: None,
        now: 10,
        retry_at: None,
        crash_limit: None,
        usage: None,
        result: None,
        worker: None,
    }
}

/// The kept counts, as (queue, state, count), sorted.
pub async fn counts(store: &Store) -> Vec<(String, JobState, u64)> {
    let mut counts: Vec<(String, JobState, u64)> = store
        .queue_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.queue, c.state, c.count))
        .collect();
    counts.sort();
    counts
}
