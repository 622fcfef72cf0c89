//! Jobs that run after others (`--after`): waiting, release, cancellation down the chain, and
//! retries.

mod common;

use common::{finish, job, open};
use nightshift_core::{AttemptOutcome, JobId, JobState};
use nightshift_store::{CancelResult, NewJob, StoreError};

#[tokio::test]
async fn a_job_after_others_waits_for_all_to_succeed_and_failure_cancels_down_the_chain() {
    use nightshift_store::PowerNow;
    let (_dir, store) = open();
    let ids = store
        .insert_jobs(vec![job("q", 1), job("q", 1)], 1)
        .await
        .unwrap();
    let (a, b) = (ids[0], ids[1]);
    let after = |deps: Vec<JobId>| NewJob {
        after: deps,
        ..job("q", 1)
    };
    let c = store.insert_jobs(vec![after(vec![a, b])], 1).await.unwrap()[0];
    let d = store.insert_jobs(vec![after(vec![c])], 1).await.unwrap()[0];
    let e = store.insert_jobs(vec![after(vec![d])], 1).await.unwrap()[0];
    assert_eq!(store.job(c).await.unwrap().unwrap().waiting_on, 2);
    // Only a and b can be claimed; the rest wait on them.
    let claimed = store.claim("q", 10, 2, PowerNow::AC).await.unwrap();
    let claimed_ids: Vec<JobId> = claimed.iter().map(|c| c.job.id).collect();
    assert_eq!(claimed_ids, vec![a, b]);
    assert_eq!(claimed[0].ready_at, 1, "ready since it was added");
    let ended = store
        .finish(finish(a, claimed[0].attempt_id, AttemptOutcome::Succeeded))
        .await
        .unwrap();
    assert!(ended.dependants.released.is_empty(), "c still waits on b");
    assert_eq!(store.job(c).await.unwrap().unwrap().waiting_on, 1);
    let ended = store
        .finish(finish(b, claimed[1].attempt_id, AttemptOutcome::Succeeded))
        .await
        .unwrap();
    assert_eq!(ended.dependants.released, vec!["q".to_string()]);
    assert_eq!(
        store.dependencies(c).await.unwrap(),
        vec![(a, JobState::Succeeded), (b, JobState::Succeeded)]
    );
    let claimed = store.claim("q", 10, 30, PowerNow::AC).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].job.id, c);
    assert_eq!(
        claimed[0].ready_at, 10,
        "ready since its last dependency succeeded"
    );
    // c fails for good: d and, through it, e are cancelled, each saying why.
    let ended = store
        .finish(finish(c, claimed[0].attempt_id, AttemptOutcome::Failed))
        .await
        .unwrap();
    assert_eq!(ended.state, JobState::Failed);
    let cancelled: Vec<JobId> = ended.dependants.cancelled.iter().map(|c| c.id).collect();
    assert_eq!(cancelled, vec![d, e]);
    let d_job = store.job(d).await.unwrap().unwrap();
    assert_eq!(d_job.state, JobState::Cancelled);
    assert_eq!(
        d_job.reason.as_deref(),
        Some(format!("job {c}, which it runs after, failed").as_str())
    );
    let e_job = store.job(e).await.unwrap().unwrap();
    assert_eq!(
        e_job.reason.as_deref(),
        Some(format!("job {d}, which it runs after, was cancelled").as_str())
    );

    // A dependency that can never succeed, or does not exist, is refused with nothing stored.
    let before = store.state_counts().await.unwrap();
    let err = store
        .insert_jobs(vec![job("q", 1), after(vec![c])], 4)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("has failed")),
        "{err}"
    );
    let err = store
        .insert_jobs(vec![job("q", 1), after(vec![JobId(999)])], 4)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::NoDependency(JobId(999))),
        "{err}"
    );
    assert!(err.to_string().contains("there is no job 999"), "{err}");
    assert_eq!(store.state_counts().await.unwrap(), before);
    // Cancelling a queued job cancels its dependants too.
    let f = store.insert_jobs(vec![job("q", 1)], 5).await.unwrap()[0];
    let g = store.insert_jobs(vec![after(vec![f])], 5).await.unwrap()[0];
    match store.cancel_queued(f, "by user".into(), 6).await.unwrap() {
        CancelResult::Cancelled { queue, dependants } => {
            assert_eq!(queue, "q");
            assert_eq!(dependants.cancelled.len(), 1);
            assert_eq!(dependants.cancelled[0].id, g);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_retry_recounts_what_a_job_waits_for_and_never_clashes_with_its_unique_key() {
    use nightshift_store::PowerNow;
    let (_dir, store) = open();
    let a = store.insert_jobs(vec![job("q", 1)], 1).await.unwrap()[0];
    let b = store
        .insert_jobs(
            vec![NewJob {
                after: vec![a],
                ..job("q", 1)
            }],
            1,
        )
        .await
        .unwrap()[0];
    let c = &store.claim("q", 1, 2, PowerNow::AC).await.unwrap()[0];
    store
        .finish(finish(a, c.attempt_id, AttemptOutcome::Failed))
        .await
        .unwrap();
    assert_eq!(
        store.job(b).await.unwrap().unwrap().state,
        JobState::Cancelled
    );
    // b cannot run while a has failed.
    let err = store.retry(b, 3).await.unwrap_err();
    assert!(
        err.to_string().contains(&format!("retry job {a} first")),
        "{err}"
    );
    // a again, and this time it succeeds: b may be retried and runs at once.
    store.retry(a, 4).await.unwrap();
    let c = &store.claim("q", 1, 5, PowerNow::AC).await.unwrap()[0];
    store
        .finish(finish(a, c.attempt_id, AttemptOutcome::Succeeded))
        .await
        .unwrap();
    assert_eq!(store.retry(b, 6).await.unwrap().waiting_on, 0);
    let claimed = store.claim("q", 5, 7, PowerNow::AC).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].job.id, b);

    // A finished job whose unique key a newer queued job holds is not retried over it.
    let mut keyed = job("k", 1);
    keyed.spec.unique_key = Some("nightly".into());
    let old = store.insert_jobs(vec![keyed.clone()], 8).await.unwrap()[0];
    store.cancel_queued(old, "by user".into(), 9).await.unwrap();
    let new = store.insert_jobs(vec![keyed], 10).await.unwrap()[0];
    assert_ne!(old, new);
    let err = store.retry(old, 11).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::WrongState { message, .. } if message.contains(&format!("job {new}"))),
        "{err}"
    );
}
