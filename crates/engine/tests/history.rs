//! The metrics history on a real full disk: a minute that cannot be written keeps its counts
//! for the next one, so a full disk delays them and loses none.

mod support;

use nightshift_core::metrics::history::HOUR_MS;
use nightshift_e2e::SmallFs;
use nightshift_engine::{Engine, EngineOptions};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_that_meets_a_full_disk_is_written_with_the_next_one() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let fs = SmallFs::mount(&data, 16);
    let engine = Engine::start(EngineOptions {
        paths: nightshift_core::Paths::under(&data),
        config: config(),
        clock: nightshift_core::clock::system(),
    })
    .await
    .unwrap();
    let mut events = engine.subscribe();
    let ids = engine
        .enqueue((0..3).map(|_| sh("exit 0", "q")).collect())
        .await
        .unwrap();
    let mut done = 0;
    while done < ids.len() {
        let event = tokio::time::timeout(DEADLINE, events.recv())
            .await
            .expect("the jobs end")
            .unwrap();
        if let nightshift_engine::Event::Ended { state, .. } = event
            && state.is_final()
        {
            done += 1;
        }
    }

    let filler = fs.fill();
    let failed = engine.flush_history().await;
    assert!(failed.is_err(), "the disk is full: {failed:?}");
    std::fs::remove_file(&filler).unwrap();
    engine.flush_history().await.unwrap();

    let now = engine.now_ms();
    let steps = engine
        .history((now - HOUR_MS, now + 1), HOUR_MS + 1, 1, Some("q"))
        .await
        .unwrap();
    let q = &steps[0].queues["q"];
    assert_eq!(
        (q.tally.added, q.tally.succeeded),
        (3, 3),
        "counted once, after the disk had room: {q:?}"
    );
    // Written, not merely live: what the minute held is now in the table.
    let now = engine.now_ms();
    let stored = engine
        .history_page(
            nightshift_store::Resolution::Minute,
            now - HOUR_MS,
            None,
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(stored.iter().map(|r| r.tally.succeeded).sum::<u64>(), 3);
    engine.shutdown().await;
    drop(fs);
}
