//! Worker pools on a running engine with a clock moved by hand: the restart backoff of a worker
//! that keeps crashing follows 5, 10, 20, 40, 60, 60 s within its jitter, and the pool is then
//! crash-looping and says why. The worker is a real process that exits at once; only the clock
//! is a fake, so the test waits for none of those minutes.

mod support;

use nightshift_core::Clock;
use nightshift_core::clock::ManualClock;
use nightshift_core::worker::pool::PoolSpec;
use nightshift_engine::{EngineHandle, PoolView, WorkerState};
use std::sync::Arc;
use support::*;

fn crashing_pool() -> PoolSpec {
    PoolSpec {
        name: "crashy".into(),
        queue: "embed".into(),
        count: 1,
        program: "sh".into(),
        args: vec!["-c".into(), "echo 'model file missing' >&2; exit 3".into()],
        env: Default::default(),
        cwd: None,
        heartbeat_ms: None,
    }
}

/// The pool once its worker has been restarted `n` times and waits for the next restart.
async fn backing_off(engine: &EngineHandle, n: u32) -> PoolView {
    poll(&format!("restart {n} to be waited for"), || {
        let pool = engine.pool("crashy").unwrap();
        let w = &pool.workers[0];
        std::future::ready(
            (w.restarts == n && w.state == WorkerState::BackingOff && w.restart_at.is_some())
                .then_some(pool),
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_keeps_crashing_is_restarted_after_5_10_20_40_60_60_s_then_crash_loops() {
    let now = nightshift_core::clock::system().now_ms();
    let clock = Arc::new(ManualClock::new(now));
    let (_dir, engine) = start_with_clock(config(), clock.clone()).await;
    engine.add_pool(crashing_pool()).await.unwrap();
    for (i, secs) in [5i64, 10, 20, 40, 60, 60].into_iter().enumerate() {
        let pool = backing_off(&engine, i as u32 + 1).await;
        let w = &pool.workers[0];
        let wait = w.restart_at.unwrap() - clock.now_ms();
        // The default jitter takes up to a fifth off, never adds.
        assert!(
            wait <= secs * 1000 && wait >= secs * 800,
            "restart {}: waited {wait} ms, not {secs} s less up to a fifth",
            i + 1
        );
        // Crash-looping from the fifth quick exit in a row, with the exit and its last words.
        if i + 1 >= 5 {
            let why = pool.crash_looping.as_deref().expect("crash-looping");
            assert!(why.contains("exited with code 3"), "{why}");
            assert!(why.contains("model file missing"), "{why}");
        } else {
            assert_eq!(pool.crash_looping, None, "restart {}", i + 1);
        }
        // Time passes to the restart. (Past the first, the waits are longer than the test's
        // deadline: only the clock can bring the restart in time.)
        clock.set(w.restart_at.unwrap());
        engine.clock_moved();
    }
    backing_off(&engine, 7).await;
    engine.shutdown().await;
}
