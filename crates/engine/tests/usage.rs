//! What a running job's process group uses, sampled: a real job that burns CPU and holds memory
//! in two processes shows both while it runs, and keeps them with its attempt when it ends.

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_cpu_and_peak_memory_are_sampled_and_kept_with_its_attempt() {
    let mut f = start(config()).await;
    let flag = f.dir.path().join("go");
    // A shell loop burns CPU; then dd fills a 48 MiB buffer and blocks writing it into a pipe
    // whose reader waits for the flag: the group holds the memory until the test lets it go.
    let script = format!(
        "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done; \
         dd if=/dev/zero bs=48M count=1 2>/dev/null | \
         (while [ ! -e {flag} ]; do sleep 0.05; done; cat >/dev/null)",
        flag = flag.display()
    );
    let id = f.add(sh(&script, "q")).await;
    f.started(id).await;
    // Sampled once a second: polled with a deadline (the shared helper, off the runtime).
    let mut live = None;
    let sampled = tokio::task::block_in_place(|| {
        nightshift_e2e::wait_until(DEADLINE, || {
            live = f
                .engine
                .usage()
                .get(&id)
                .copied()
                .filter(|u| u.rss_bytes >= 40 << 20 && u.cpu_ms >= 100);
            live.is_some()
        })
    });
    assert!(
        sampled,
        "no sample showed the job's memory and CPU: {:?}",
        f.engine.usage().get(&id)
    );
    let live = live.unwrap();
    assert!(live.processes >= 2, "{live:?}");
    assert!(live.peak_rss_bytes >= live.rss_bytes);

    std::fs::write(&flag, b"").unwrap();
    assert_eq!(f.finished(id).await, nightshift_core::JobState::Succeeded);
    let attempts = f.engine.attempts(id).await.unwrap();
    let a = &attempts[0];
    assert!(a.cpu_ms.is_some_and(|ms| ms >= live.cpu_ms), "{a:?}");
    assert!(a.peak_rss_bytes.is_some_and(|b| b >= 40 << 20), "{a:?}");
    assert!(f.engine.usage().is_empty(), "no longer sampled once ended");
    // The minute's snapshot measures the logs folder (the job wrote nothing; the folder is
    // read all the same).
    f.engine.flush_history().await.unwrap();
    assert!(f.engine.self_stats().await.logs_bytes.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_ends_before_its_first_sample_has_no_figures() {
    let mut f = start(config()).await;
    let id = f.add(sh("exit 0", "q")).await;
    assert_eq!(f.finished(id).await, nightshift_core::JobState::Succeeded);
    let a = &f.engine.attempts(id).await.unwrap()[0];
    // Unknown, not zero: nothing was measured.
    assert_eq!((a.cpu_ms, a.peak_rss_bytes), (None, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_metrics_off_nothing_is_counted_sampled_or_kept() {
    let mut config = config();
    config.metrics.enabled = false;
    let mut f = start(config).await;
    let id = f.add(sh("sleep 1.5", "q")).await;
    f.started(id).await;
    assert_eq!(f.finished(id).await, nightshift_core::JobState::Succeeded);
    let a = &f.engine.attempts(id).await.unwrap()[0];
    assert_eq!((a.cpu_ms, a.peak_rss_bytes), (None, None), "not sampled");
    assert!(f.engine.metrics().totals().is_empty(), "not counted");
    f.engine.flush_history().await.unwrap();
    let now = f.engine.now_ms();
    let spans = f
        .engine
        .history_spans(now - 3_600_000, now + 1)
        .await
        .unwrap();
    assert!(spans.is_empty(), "no history: {spans:?}");
}
