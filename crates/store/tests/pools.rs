//! Worker pools as stored: one per name and one per queue, changed and removed by name.

mod common;

use common::open;
use nightshift_core::worker::pool::PoolSpec;
use nightshift_store::{PoolChange, StoreError};
use std::collections::BTreeMap;

fn pool(name: &str, queue: &str) -> PoolSpec {
    PoolSpec {
        name: name.into(),
        queue: queue.into(),
        count: 2,
        program: "python3".into(),
        args: vec!["worker.py".into(), "--model".into(), "small".into()],
        env: BTreeMap::from([("MODEL_DIR".into(), "/models".into())]),
        cwd: Some("/srv/embed".into()),
        heartbeat_ms: Some(10_000),
    }
}

#[tokio::test]
async fn a_pool_is_kept_as_given_and_names_and_queues_are_unique() {
    let (_dir, store) = open();
    let added = store.add_pool(pool("embedders", "embed"), 5).await.unwrap();
    assert_eq!(added.spec, pool("embedders", "embed"));
    assert!(!added.stopped);
    assert_eq!((added.created_at, added.updated_at), (5, 5));

    let same_name = store
        .add_pool(pool("embedders", "other"), 6)
        .await
        .unwrap_err();
    assert!(
        matches!(&same_name, StoreError::Exists(m) if m.contains("already a pool named 'embedders'")),
        "{same_name}"
    );
    let same_queue = store
        .add_pool(pool("second", "embed"), 6)
        .await
        .unwrap_err();
    assert!(
        matches!(&same_queue, StoreError::Exists(m) if m.contains("served by pool 'embedders'")),
        "{same_queue}"
    );

    assert_eq!(
        store
            .pool_serving("embed")
            .await
            .unwrap()
            .unwrap()
            .spec
            .name,
        "embedders"
    );
    assert!(store.pool_serving("other").await.unwrap().is_none());
    assert_eq!(store.pools().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_pool_is_scaled_stopped_and_removed() {
    let (_dir, store) = open();
    store.add_pool(pool("p", "q"), 1).await.unwrap();
    let scaled = store
        .change_pool(
            "p",
            PoolChange {
                count: Some(7),
                stopped: None,
            },
            2,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (scaled.spec.count, scaled.stopped, scaled.updated_at),
        (7, false, 2)
    );
    let stopped = store
        .change_pool(
            "p",
            PoolChange {
                count: None,
                stopped: Some(true),
            },
            3,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stopped.spec.count, stopped.stopped), (7, true));
    assert!(
        store
            .change_pool("nope", PoolChange::default(), 4)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.remove_pool("p").await.unwrap());
    assert!(!store.remove_pool("p").await.unwrap());
    // The queue is free for another pool.
    store.add_pool(pool("p2", "q"), 5).await.unwrap();
}
