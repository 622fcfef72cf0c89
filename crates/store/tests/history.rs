//! The history of the work: minute rows, their roll-up into hours, pruning, the spans that
//! tell a quiet minute from a gap, and reading a window back.

mod common;

use common::{job, open};
use nightshift_core::metrics::Tally;
use nightshift_core::metrics::history::{Gauges, HOUR_MS, MINUTE_MS, Row};
use nightshift_store::{NewJob, PowerNow, Resolution};

fn row(at: i64, queue: &str, succeeded: u64, run_ms: &[u64]) -> Row {
    let mut tally = Tally {
        succeeded,
        ..Tally::default()
    };
    for &ms in run_ms {
        tally.run.record(ms);
    }
    Row {
        at,
        queue: queue.into(),
        gauges: Gauges {
            queued: 2,
            ..Gauges::default()
        },
        tally,
    }
}

const DAY: i64 = 24 * HOUR_MS;

#[tokio::test]
async fn minutes_roll_up_into_hours_that_are_their_sums_and_are_pruned_in_steps() {
    let (_dir, store) = open();
    let start = 100 * DAY;
    // Three hours of minutes, one row each minute for "a" and every tenth minute for "b".
    for m in 0..180 {
        let at = start + m * MINUTE_MS;
        let mut rows = vec![row(at, "a", 1, &[m as u64 * 10])];
        if m % 10 == 0 {
            rows.push(row(at, "b", 2, &[5]));
        }
        store.record_minute(at, rows).await.unwrap();
    }
    let now = start + 3 * HOUR_MS + 30_000;
    let done = store.roll_up_history(now, 2 * DAY, 90 * DAY).await.unwrap();
    assert_eq!(done.hours_rolled, 3);
    assert_eq!(
        done.minutes_pruned, 0,
        "minutes are younger than minutes_kept"
    );
    let hours = store
        .history_page(Resolution::Hour, 0, None, None, 100)
        .await
        .unwrap();
    assert_eq!(hours.len(), 6, "two queues, three hours");
    let a0 = &hours[0];
    assert_eq!((a0.at, a0.queue.as_str()), (start, "a"));
    assert_eq!(a0.tally.succeeded, 60);
    assert_eq!(
        a0.gauges.queued, 120,
        "a gauge's sum over the hour's minutes"
    );
    assert_eq!(a0.tally.run.count(), 60);
    assert_eq!(hours[1].tally.succeeded, 12, "b: six minutes of two");
    // A second step does nothing: the hours are rolled up.
    let again = store.roll_up_history(now, 2 * DAY, 90 * DAY).await.unwrap();
    assert_eq!(again.hours_rolled, 0);

    // Three days later, with minutes kept 2 days: they go, a few hours per step, and their
    // hours stay; a window over them reads the hours.
    let later = start + 3 * DAY;
    let mut pruned = 0;
    for _ in 0..10 {
        pruned += store
            .roll_up_history(later, 2 * DAY, 90 * DAY)
            .await
            .unwrap()
            .minutes_pruned;
    }
    assert_eq!(pruned, 180 + 18);
    let window = store
        .history_window(start, start + 3 * HOUR_MS, MINUTE_MS, Some("a".into()))
        .await
        .unwrap();
    let succeeded: u64 = window.rows.iter().map(|r| r.tally.succeeded).sum();
    assert_eq!(
        succeeded, 180,
        "read from the hours once the minutes are gone"
    );
    assert!(window.rows.iter().all(|r| r.at % HOUR_MS == 0));
    assert_eq!(window.spans, vec![(start, start + 179 * MINUTE_MS)]);

    // Past hours_kept, the hours go too, and the span with them.
    let much_later = start + 100 * DAY;
    let mut hours_pruned = 0;
    for _ in 0..5 {
        hours_pruned += store
            .roll_up_history(much_later, 2 * DAY, 90 * DAY)
            .await
            .unwrap()
            .hours_pruned;
    }
    assert_eq!(hours_pruned, 6);
    let window = store
        .history_window(start, much_later, HOUR_MS, None)
        .await
        .unwrap();
    assert!(window.rows.is_empty() && window.spans.is_empty());
}

#[tokio::test]
async fn a_minute_written_twice_is_merged_and_a_late_minute_reaches_its_rolled_hour() {
    let (_dir, store) = open();
    let at = 10 * DAY + 5 * MINUTE_MS;
    store
        .record_minute(at, vec![row(at, "a", 1, &[100])])
        .await
        .unwrap();
    store
        .record_minute(at, vec![row(at, "a", 2, &[300])])
        .await
        .unwrap();
    let rows = store
        .history_page(Resolution::Minute, 0, None, None, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].tally.succeeded, 3);
    assert_eq!(rows[0].tally.run.count(), 2);
    store
        .roll_up_history(at + HOUR_MS, 2 * DAY, 90 * DAY)
        .await
        .unwrap();
    // The clock went back: a minute of the rolled hour arrives after its roll-up.
    store
        .record_minute(at + MINUTE_MS, vec![row(at + MINUTE_MS, "a", 4, &[])])
        .await
        .unwrap();
    let hours = store
        .history_page(Resolution::Hour, 0, None, None, 10)
        .await
        .unwrap();
    assert_eq!(hours.len(), 1);
    assert_eq!(hours[0].tally.succeeded, 7);
}

#[tokio::test]
async fn spans_tell_a_quiet_minute_from_a_gap() {
    let (_dir, store) = open();
    let start = 10 * DAY;
    // Running minutes 0..=4 with rows only in minute 1, then again from minute 20.
    for m in 0..5 {
        let at = start + m * MINUTE_MS;
        let rows = if m == 1 {
            vec![row(at, "a", 1, &[])]
        } else {
            Vec::new()
        };
        store.record_minute(at, rows).await.unwrap();
    }
    let second = start + 20 * MINUTE_MS;
    store.record_minute(second, Vec::new()).await.unwrap();
    let window = store
        .history_window(start, start + 30 * MINUTE_MS, MINUTE_MS, None)
        .await
        .unwrap();
    assert_eq!(
        window.spans,
        vec![(start, start + 4 * MINUTE_MS), (second, second)]
    );
    assert_eq!(window.rows.len(), 1);
}

#[tokio::test]
async fn export_pages_follow_each_other_without_loss() {
    let (_dir, store) = open();
    let start = 10 * DAY;
    for m in 0..7 {
        let at = start + m * MINUTE_MS;
        store
            .record_minute(at, vec![row(at, "a", 1, &[]), row(at, "b", 1, &[])])
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .history_page(
                Resolution::Minute,
                start + MINUTE_MS,
                after.clone(),
                None,
                5,
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|r| (r.at, r.queue.clone()));
        seen.extend(page.into_iter().map(|r| (r.at, r.queue)));
    }
    assert_eq!(seen.len(), 12, "minutes 1 to 6, two queues each");
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn depths_count_queued_running_scheduled_held_and_waiting_jobs() {
    let (_dir, store) = open();
    let later = NewJob {
        run_at: Some(1_000_000),
        ..job("a", 1)
    };
    let mut needs_ac = job("a", 1);
    needs_ac.spec.require_ac = true;
    let ids = store
        .insert_jobs(
            vec![job("a", 1), job("a", 1), later, needs_ac, job("b", 1)],
            10,
        )
        .await
        .unwrap();
    let dependant = NewJob {
        after: vec![ids[0]],
        ..job("b", 1)
    };
    store.insert_jobs(vec![dependant], 10).await.unwrap();
    let battery = PowerNow {
        on_ac: false,
        battery_percent: Some(50.0),
    };
    // Claims the two ready jobs of "a"; the one needing AC is held as the claim steps over it.
    let claimed = store.claim("a", 3, 20, battery).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let depths = store.queue_depths().await.unwrap();
    let a = depths["a"];
    // Queued counts every job in the queued state, the scheduled and held among them.
    assert_eq!(
        (a.queued, a.running, a.scheduled, a.held, a.waiting),
        (2, 2, 1, 1, 0)
    );
    // The job behind "a"'s first is queued, and counted apart as waiting on it.
    let b = depths["b"];
    assert_eq!((b.queued, b.waiting), (2, 1));
}

#[tokio::test]
async fn a_damaged_histogram_is_refused_with_its_row_named() {
    let (dir, store) = open();
    let at = 10 * DAY;
    store
        .record_minute(at, vec![row(at, "a", 1, &[5])])
        .await
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("n.db")).unwrap();
    conn.execute("UPDATE metrics_minutes SET run = '{\"b\": 7'", [])
        .unwrap();
    drop(conn);
    let store = nightshift_store::Store::open(
        &dir.path().join("n.db"),
        &dir.path().join("payloads"),
        nightshift_core::Synchronous::Normal,
    )
    .unwrap();
    let err = store
        .history_window(at, at + HOUR_MS, MINUTE_MS, None)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("run times of queue a") && err.is_damaged(),
        "{text}"
    );
}
