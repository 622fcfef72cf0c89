//! An enqueue says whether its unique key matched a job already there, on a clock that stands
//! still: the answer comes from the insert, not from comparing creation times.

mod common;

use nightshift_api::{Api, DurationValue, EnqueueRequest, ScheduleRequest};
use std::sync::Arc;

/// The api over a queue that never starts a job (so a keyed job stays queued), on a clock that
/// never moves (so every job is created in the same millisecond).
async fn api(dir: &std::path::Path) -> Api {
    common::held_api(
        dir,
        Arc::new(nightshift_core::clock::ManualClock::new(1_700_000_000_000)),
    )
    .await
}

fn request(unique: Option<&str>) -> EnqueueRequest {
    EnqueueRequest {
        cmd: vec!["true".into()],
        queue: Some("held".into()),
        unique: unique.map(str::to_string),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_reports_a_matched_unique_key_in_the_same_millisecond() {
    let dir = tempfile::tempdir().unwrap();
    let api = api(dir.path()).await;
    let first = api.enqueue(request(Some("backup"))).await.unwrap();
    assert!(!first.existing);
    let again = api.enqueue(request(Some("backup"))).await.unwrap();
    assert_eq!(again.id, first.id);
    assert!(again.existing, "the queued job holds the key");
    let other = api.enqueue(request(Some("restore"))).await.unwrap();
    assert_ne!(other.id, first.id);
    assert!(!other.existing);
    assert!(!api.enqueue(request(None)).await.unwrap().existing);
    api.engine().shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_a_schedule_twice_finds_the_queued_run() {
    let dir = tempfile::tempdir().unwrap();
    let api = api(dir.path()).await;
    let mut job = request(None);
    // The first run by the schedule's times is an hour away: only `run_schedule` adds runs.
    job.delay = Some(DurationValue::Human("1h".into()));
    api.add_schedule(ScheduleRequest {
        name: Some("nightly".into()),
        every: Some(DurationValue::Human("1d".into())),
        catch_up: true,
        job,
        ..Default::default()
    })
    .await
    .unwrap();
    let first = api.run_schedule("nightly").await.unwrap();
    assert!(!first.existing);
    let again = api.run_schedule("nightly").await.unwrap();
    assert_eq!(again.id, first.id);
    assert!(again.existing, "the first run is still queued");
    api.engine().shutdown().await;
}
