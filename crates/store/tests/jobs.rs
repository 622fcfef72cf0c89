//! Job life cycle in the store: claim, identity, finish, cancel, retry, remove, payloads.

use nightshift_core::{AttemptOutcome, JobId, JobState};
use nightshift_store::{CancelResult, Finish, INLINE_LIMIT, ListFilter, NewJob, StoreError};

mod common;

use common::{counts, finish, job, open};

#[tokio::test]
async fn claim_takes_priority_then_age_and_only_its_queue() {
    let (_dir, store) = open();
    let mut high = job("a", 1);
    high.spec.priority = 5;
    store
        .insert_jobs(vec![job("a", 1), job("b", 1), high, job("a", 1)], 1)
        .await
        .unwrap();
    let claimed = store
        .claim("a", 2, 2, nightshift_store::PowerNow::AC)
        .await
        .unwrap();
    let ids: Vec<i64> = claimed.iter().map(|c| c.job.id.0).collect();
    assert_eq!(ids, vec![3, 1]);
    assert!(
        claimed
            .iter()
            .all(|c| c.job.state == JobState::Running && c.attempt_number == 1)
    );
    let rest = store
        .claim("a", 5, 3, nightshift_store::PowerNow::AC)
        .await
        .unwrap();
    assert_eq!(rest.iter().map(|c| c.job.id.0).collect::<Vec<_>>(), vec![4]);
    assert!(
        store
            .claim("a", 5, 3, nightshift_store::PowerNow::AC)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn failures_use_attempts_and_cancels_do_not() {
    let (_dir, store) = open();
    let id = store.insert_jobs(vec![job("q", 2)], 1).await.unwrap()[0];
    let c = &store
        .claim("q", 1, 2, nightshift_store::PowerNow::AC)
        .await
        .unwrap()[0];
    store
        .set_identity(c.attempt_id, 4242, Some(7), Some("boot".into()))
        .await
        .unwrap();
    assert_eq!(
        store
            .finish(finish(id, c.attempt_id, AttemptOutcome::Failed))
            .await
            .unwrap()
            .state,
        JobState::Queued
    );
    let c = &store
        .claim("q", 1, 3, nightshift_store::PowerNow::AC)
        .await
        .unwrap()[0];
    assert_eq!(c.attempt_number, 2);
    // A graceful stop re-queues without using an attempt.
    let interrupted = Finish {
        consume: false,
        ..finish(id, c.attempt_id, AttemptOutcome::Interrupted)
    };
    assert_eq!(
        store.finish(interrupted).await.unwrap().state,
        JobState::Queued
    );
    let c = &store
        .claim("q", 1, 4, nightshift_store::PowerNow::AC)
        .await
        .unwrap()[0];
    assert_eq!(
        store
            .finish(finish(id, c.attempt_id, AttemptOutcome::TimedOut))
            .await
            .unwrap()
            .state,
        JobState::Failed
    );
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!((job.attempts_used, job.attempt_count), (2, 3));
    let attempts = store.attempts(id).await.unwrap();
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            AttemptOutcome::Failed,
            AttemptOutcome::Interrupted,
            AttemptOutcome::TimedOut
        ]
    );
    assert_eq!(attempts[0].pid, Some(4242));
    assert_eq!(attempts[0].boot_id.as_deref(), Some("boot"));

    // Retry gives a fresh set of attempts and keeps the history.
    let retried = store.retry(id, 20).await.unwrap();
    assert_eq!(
        (retried.state, retried.attempts_used),
        (JobState::Queued, 0)
    );
    assert_eq!(store.attempts(id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn cancel_retry_and_remove_check_the_state() {
    let (_dir, store) = open();
    let ids = store
        .insert_jobs(vec![job("q", 1), job("q", 1)], 1)
        .await
        .unwrap();
    assert_eq!(
        store.cancel_queued(ids[0], "no".into(), 2).await.unwrap(),
        CancelResult::Cancelled {
            queue: "q".into(),
            dependants: Default::default()
        }
    );
    assert_eq!(
        store.cancel_queued(ids[0], "no".into(), 2).await.unwrap(),
        CancelResult::NotQueued(JobState::Cancelled)
    );
    assert!(matches!(
        store.cancel_queued(JobId(99), "no".into(), 2).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.retry(ids[1], 3).await,
        Err(StoreError::WrongState { .. })
    ));
    assert!(matches!(
        store.remove(ids[1]).await,
        Err(StoreError::WrongState { .. })
    ));
    store.remove(ids[0]).await.unwrap();
    assert!(store.job(ids[0]).await.unwrap().is_none());
    let left = store
        .list(ListFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(left.iter().map(|j| j.id).collect::<Vec<_>>(), vec![ids[1]]);
}

#[tokio::test]
async fn listing_filters_and_pages() {
    let (_dir, store) = open();
    let jobs: Vec<NewJob> = (0..25)
        .map(|i| job(if i % 2 == 0 { "even" } else { "odd" }, 1))
        .collect();
    store.insert_jobs(jobs, 1).await.unwrap();
    let page = store
        .list(ListFilter {
            queue: Some("even".into()),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|j| j.id.0).collect::<Vec<_>>(),
        vec![25, 23, 21, 19, 17]
    );
    let next = store
        .list(ListFilter {
            queue: Some("even".into()),
            limit: 5,
            before: Some(JobId(17)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(next[0].id, JobId(15));
    let running = store
        .list(ListFilter {
            state: Some(JobState::Running),
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(running.is_empty());
}

#[tokio::test]
async fn large_payloads_live_in_files_and_round_trip() {
    let (dir, store) = open();
    let small = br#"{"small":true}"#.to_vec();
    let large: Vec<u8> = format!("\"{}\"", "x".repeat(INLINE_LIMIT * 3)).into_bytes();
    let mut a = job("q", 1);
    a.payload = Some(small.clone());
    let mut b = job("q", 1);
    b.payload = Some(large.clone());
    let ids = store.insert_jobs(vec![a, b], 1).await.unwrap();
    assert_eq!(store.payload(ids[0]).await.unwrap(), Some(small));
    assert_eq!(store.payload(ids[1]).await.unwrap(), Some(large.clone()));
    let files: Vec<_> = std::fs::read_dir(dir.path().join("payloads"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(files.len(), 1, "only the large payload is a file");
    assert_eq!(
        store.job(ids[1]).await.unwrap().unwrap().payload_size,
        Some(large.len() as u64)
    );

    // A file with no row (a crash between file and commit) is removed at start-up; the
    // referenced one stays.
    std::fs::write(dir.path().join("payloads").join("stray.json.gz"), b"x").unwrap();
    std::fs::write(dir.path().join("payloads").join(".tmp-half"), b"x").unwrap();
    assert_eq!(store.remove_orphan_payloads().await.unwrap(), 2);
    assert_eq!(
        std::fs::read_dir(dir.path().join("payloads"))
            .unwrap()
            .count(),
        1
    );

    // Removing the job removes its file.
    let c = store
        .claim("q", 2, 2, nightshift_store::PowerNow::AC)
        .await
        .unwrap();
    for c in &c {
        store
            .finish(finish(c.job.id, c.attempt_id, AttemptOutcome::Succeeded))
            .await
            .unwrap();
    }
    store.remove(ids[1]).await.unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("payloads"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn a_failing_request_in_a_batch_does_not_undo_the_others() {
    let (_dir, store) = open();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            if i % 10 == 0 {
                // Fails inside the writer: no such job.
                store
                    .finish(finish(JobId(1_000_000 + i), 1, AttemptOutcome::Failed))
                    .await
                    .map(|_| ())
            } else {
                store.insert_jobs(vec![job("q", 1)], 1).await.map(|_| ())
            }
        }));
    }
    let mut ok = 0;
    let mut failed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::NotFound(_)) => failed += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((ok, failed), (180, 20));
    let all = store
        .list(ListFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 180);
}

/// The kept counts always equal a full count, through every kind of change: insert, claim,
/// end (done, failed for good, back to the queue), cancel, the cancel of dependants down a
/// chain, retry and removal.
#[tokio::test]
async fn state_and_queue_counts_follow_every_change() {
    let (_dir, store) = open();
    let ids = store
        .insert_jobs((0..6).map(|_| job("q", 2)).collect(), 1)
        .await
        .unwrap();
    let other = store
        .insert_jobs((0..2).map(|_| job("r", 1)).collect(), 1)
        .await
        .unwrap();
    store.cancel_queued(other[0], "x".into(), 2).await.unwrap();
    let claimed = store
        .claim("q", 3, 2, nightshift_store::PowerNow::AC)
        .await
        .unwrap();
    store
        .finish(finish(
            claimed[0].job.id,
            claimed[0].attempt_id,
            AttemptOutcome::Succeeded,
        ))
        .await
        .unwrap();
    store
        .finish(finish(
            claimed[1].job.id,
            claimed[1].attempt_id,
            AttemptOutcome::Failed,
        ))
        .await
        .unwrap();
    store.cancel_queued(ids[5], "x".into(), 3).await.unwrap();
    store.remove(ids[5]).await.unwrap();
    store.retry(claimed[0].job.id, 4).await.unwrap();
    // A job that fails for good cancels the jobs after it, in another queue, down the chain.
    let first = store.insert_jobs(vec![job("t", 1)], 5).await.unwrap()[0];
    let after = |queue: &str, id: JobId| NewJob {
        after: vec![id],
        ..job(queue, 1)
    };
    let second = store.insert_jobs(vec![after("s", first)], 5).await.unwrap()[0];
    store
        .insert_jobs(vec![after("s", second)], 5)
        .await
        .unwrap();
    let lone = store
        .claim("t", 1, 6, nightshift_store::PowerNow::AC)
        .await
        .unwrap();
    let ended = store
        .finish(finish(
            lone[0].job.id,
            lone[0].attempt_id,
            AttemptOutcome::Failed,
        ))
        .await
        .unwrap();
    assert_eq!(ended.dependants.cancelled.len(), 2);
    let by_state = store.state_counts().await.unwrap();
    let all = store
        .list(ListFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    for state in JobState::ALL {
        let real = all.iter().filter(|j| j.state == state).count() as u64;
        assert_eq!(by_state[&state], real, "{state}");
    }
    assert_eq!(by_state[&JobState::Running], 1);
    assert_eq!(by_state[&JobState::Queued], 5);
    // Per queue: every (queue, state) with jobs, and only those.
    let mut real: Vec<(String, JobState, u64)> = Vec::new();
    for j in &all {
        match real
            .iter_mut()
            .find(|(q, s, _)| *q == j.spec.queue && *s == j.state)
        {
            Some((_, _, n)) => *n += 1,
            None => real.push((j.spec.queue.clone(), j.state, 1)),
        }
    }
    real.sort();
    let kept = counts(&store).await;
    assert_eq!(kept, real);
    for expected in [
        ("r".to_string(), JobState::Cancelled, 1),
        ("s".to_string(), JobState::Cancelled, 2),
        ("t".to_string(), JobState::Failed, 1),
    ] {
        assert!(kept.contains(&expected), "{expected:?} in {kept:?}");
    }
}

#[tokio::test]
async fn a_unique_key_returns_the_queued_or_running_job_instead_of_a_duplicate() {
    let (dir, store) = open();
    let keyed = |payload: Option<Vec<u8>>| {
        let mut j = job("q", 1);
        j.spec.unique_key = Some("nightly-backup".into());
        j.payload = payload;
        j
    };
    let big = Some(format!("\"{}\"", "x".repeat(INLINE_LIMIT * 2)).into_bytes());
    // Twice in one batch and once more later: one job.
    let ids = store
        .insert_jobs(vec![keyed(None), keyed(None)], 1)
        .await
        .unwrap();
    assert_eq!(ids[0], ids[1]);
    let again = store.insert_jobs(vec![keyed(big)], 2).await.unwrap();
    assert_eq!(again[0], ids[0]);
    let files = std::fs::read_dir(dir.path().join("payloads"))
        .unwrap()
        .count();
    assert_eq!(files, 0, "the duplicate's payload file is removed");
    // Still held while running; free again once it has finished.
    let c = &store
        .claim("q", 1, 3, nightshift_store::PowerNow::AC)
        .await
        .unwrap()[0];
    assert_eq!(
        store.insert_jobs(vec![keyed(None)], 4).await.unwrap()[0],
        ids[0]
    );
    store
        .finish(finish(c.job.id, c.attempt_id, AttemptOutcome::Succeeded))
        .await
        .unwrap();
    let fresh = store.insert_jobs(vec![keyed(None)], 5).await.unwrap()[0];
    assert_ne!(fresh, ids[0]);
}

/// The insert itself says which jobs its unique key matched, so the facade need not guess from
/// creation times (which cannot tell a job made in the same millisecond).
#[tokio::test]
async fn the_insert_reports_whether_a_unique_key_matched_an_existing_job() {
    let (_dir, store) = open();
    let keyed = |key: &str| {
        let mut j = job("q", 1);
        j.spec.unique_key = Some(key.into());
        j
    };
    let first = store
        .insert_jobs_keyed(vec![keyed("nightly")], 1)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(!first[0].existing, "nothing held the key yet");
    // Same time as the first insert: only the store can tell these apart.
    let again = store
        .insert_jobs_keyed(vec![keyed("nightly"), keyed("weekly"), job("q", 1)], 1)
        .await
        .unwrap();
    assert_eq!(again[0].id, first[0].id);
    assert!(again[0].existing, "the queued job holds the key");
    assert_ne!(again[1].id, first[0].id);
    assert!(!again[1].existing, "no job holds this key");
    assert!(!again[2].existing, "a job without a key is always new");
    // The plain insert returns the same ids.
    let ids = store
        .insert_jobs(vec![keyed("nightly"), keyed("weekly")], 2)
        .await
        .unwrap();
    assert_eq!(ids, vec![first[0].id, again[1].id]);
}

#[tokio::test]
async fn crashes_of_nightshift_use_no_attempt_but_end_the_job_after_a_run_of_them() {
    let (_dir, store) = open();
    let id = store.insert_jobs(vec![job("q", 1)], 0).await.unwrap()[0];
    let crash = |attempt| Finish {
        consume: false,
        crash_limit: Some(3),
        usage: None,
        result: None,
        worker: None,
        ..finish(id, attempt, AttemptOutcome::Interrupted)
    };
    let claim = || async {
        store
            .claim("q", 1, 0, nightshift_store::PowerNow::AC)
            .await
            .unwrap()
            .pop()
            .expect("the job is claimable")
    };
    // Two crashes, then a graceful stop (which neither counts nor clears), with one attempt
    // allowed: the job is still queued each time.
    for _ in 0..2 {
        let c = claim().await;
        assert_eq!(
            store.finish(crash(c.attempt_id)).await.unwrap().state,
            JobState::Queued
        );
    }
    let c = claim().await;
    let stop = Finish {
        consume: false,
        ..finish(id, c.attempt_id, AttemptOutcome::Interrupted)
    };
    assert_eq!(store.finish(stop).await.unwrap().state, JobState::Queued);
    // The third crash in a row ends it, with a reason that says why.
    let c = claim().await;
    assert_eq!(
        store.finish(crash(c.attempt_id)).await.unwrap().state,
        JobState::Failed
    );
    let failed = store.job(id).await.unwrap().unwrap();
    let reason = failed.reason.unwrap_or_default();
    assert!(
        reason.contains("after 3 interruptions of this job in a row"),
        "{reason}"
    );
    assert_eq!(failed.attempts_used, 0, "crashes use no attempt");

    // A retry starts the count again; an attempt that ends on its own clears it.
    store.retry(id, 1).await.unwrap();
    for _ in 0..2 {
        let c = claim().await;
        store.finish(crash(c.attempt_id)).await.unwrap();
    }
    let c = claim().await;
    let failed_once = Finish {
        crash_limit: None,
        usage: None,
        result: None,
        worker: None,
        ..finish(id, c.attempt_id, AttemptOutcome::Failed)
    };
    // One attempt allowed, and it failed: failed by attempts, not by crashes.
    let ended = store.finish(failed_once).await.unwrap();
    assert_eq!(ended.state, JobState::Failed);
    let job = store.job(id).await.unwrap().unwrap();
    assert!(
        !job.reason.unwrap_or_default().contains("in a row"),
        "a failure of the job's own is reported as such"
    );
}

#[tokio::test]
async fn a_checkpoint_leaves_the_database_file_complete_on_its_own() {
    let (dir, store) = open();
    store.insert_jobs(vec![job("q", 1)], 0).await.unwrap();
    let wal = store.path().with_extension("db-wal");
    let before = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(before > 0, "the insert went to the WAL first");
    store.checkpoint().await.unwrap();
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
    // A copy of the database file alone holds the job.
    let copy = dir.path().join("copy.db");
    std::fs::copy(store.path(), &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn an_end_and_the_claim_that_fills_its_slot_commit_together_or_not_at_all() {
    use nightshift_store::{ClaimAsk, PowerNow};
    let (_dir, store) = open();
    let ids = store
        .insert_jobs(vec![job("q", 1), job("q", 1), job("q", 1)], 1)
        .await
        .unwrap();
    let first = store
        .claim("q", 1, 2, PowerNow::AC)
        .await
        .unwrap()
        .remove(0);
    let ask = |limit| ClaimAsk {
        queue: "q".into(),
        limit,
        now: 3,
        power: PowerNow::AC,
    };
    let (ended, (claimed, set_aside)) = store
        .finish_then_claim(
            finish(ids[0], first.attempt_id, AttemptOutcome::Succeeded),
            ask(1),
        )
        .await
        .unwrap();
    assert_eq!(ended.state, JobState::Succeeded);
    assert_eq!((claimed.len(), set_aside), (1, 0));
    assert_eq!(claimed[0].job.id, ids[1]);
    let states = store.states(ids.clone()).await.unwrap();
    assert_eq!(
        states.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        vec![JobState::Succeeded, JobState::Running, JobState::Queued]
    );

    // An end the store refuses (this attempt is already closed) takes its claim with it.
    let refused = store
        .finish_then_claim(
            finish(ids[0], first.attempt_id, AttemptOutcome::Succeeded),
            ask(1),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(
        store.states(vec![ids[2]]).await.unwrap()[0].1,
        JobState::Queued,
        "the claim that went with a refused end is not kept"
    );
}

#[tokio::test]
async fn a_batch_counts_each_new_job_in_its_queue_and_a_matched_key_not_at_all() {
    let (_dir, store) = open();
    let keyed = |queue: &str| {
        let mut j = job(queue, 1);
        j.spec.unique_key = Some("same".into());
        j
    };
    // Two queues in one batch; the second job with the key matches the first.
    let batch = vec![
        job("a", 1),
        job("b", 1),
        keyed("a"),
        job("a", 1),
        keyed("b"),
    ];
    let inserted = store.insert_jobs_keyed(batch, 1).await.unwrap();
    assert_eq!(
        inserted.iter().map(|i| i.existing).collect::<Vec<_>>(),
        [false, false, false, false, true]
    );
    assert_eq!(
        counts(&store).await,
        [
            ("a".to_string(), JobState::Queued, 3),
            ("b".to_string(), JobState::Queued, 1)
        ]
    );
}

/// A job's wait for a slot starts when it became ready: when added, or when it fell due.
#[tokio::test]
async fn a_claim_says_when_its_job_became_ready() {
    let (_dir, store) = open();
    let later = NewJob {
        run_at: Some(50),
        ..job("q", 1)
    };
    store
        .insert_jobs(vec![job("q", 1), later], 5)
        .await
        .unwrap();
    let first = store
        .claim("q", 10, 20, nightshift_store::PowerNow::AC)
        .await
        .unwrap();
    assert_eq!(first.len(), 1, "the later one is not due");
    assert_eq!(first[0].ready_at, 5);
    // Promoted late (at 80): it was ready from its due time on.
    assert_eq!(store.promote_due(80).await.unwrap(), vec!["q".to_string()]);
    let second = store
        .claim("q", 10, 90, nightshift_store::PowerNow::AC)
        .await
        .unwrap();
    assert_eq!(second[0].ready_at, 50);
}
