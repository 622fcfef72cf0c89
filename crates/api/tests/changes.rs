//! Change ticks coalesce bursts: a view that refetches on each tick is never flooded.

mod common;

use nightshift_api::{EnqueueRequest, TICK_EVERY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_events_is_a_few_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let api = common::held_api(dir.path(), nightshift_core::clock::system()).await;
    let mut changes = api.changes();
    for _ in 0..300 {
        let request = EnqueueRequest {
            cmd: vec!["true".into()],
            queue: Some("held".into()),
            ..Default::default()
        };
        api.enqueue(request).await.unwrap();
    }
    // 300 events while nobody read: one tick is waiting, and at most one more follows for
    // the events that arrived after it.
    changes.next().await.expect("a tick");
    let mut more = 0;
    while tokio::time::timeout(TICK_EVERY * 4, changes.next())
        .await
        .is_ok()
    {
        more += 1;
        assert!(more <= 2, "a burst became {more} extra ticks");
    }
    // And a later change still ticks.
    api.enqueue(EnqueueRequest {
        cmd: vec!["true".into()],
        queue: Some("held".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    tokio::time::timeout(TICK_EVERY * 8, changes.next())
        .await
        .expect("a tick after a quiet spell");
}
