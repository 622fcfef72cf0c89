//! Next fire times of `every` schedules, and the catch-up [`Plan`].

use std::time::Duration;

use chrono::{FixedOffset, Utc};

use super::{DAY, HOUR, MIN, cron, utc};
use crate::recurrence::{MISSED_COUNT_CAP, ON_TIME_TOLERANCE_MS, Plan, Recurrence, next_every};

// ---- next fire time: every ----

#[test]
fn next_every_is_the_first_grid_time_strictly_after() {
    let anchor = 1_000_000;
    let p = 10_000;
    assert_eq!(next_every(anchor, p, anchor - 1), anchor);
    assert_eq!(
        next_every(anchor, p, anchor - 5 * p),
        anchor,
        "before the anchor"
    );
    assert_eq!(next_every(anchor, p, anchor), anchor + p, "strictly after");
    assert_eq!(next_every(anchor, p, anchor + 1), anchor + p);
    assert_eq!(next_every(anchor, p, anchor + p - 1), anchor + p);
    assert_eq!(next_every(anchor, p, anchor + p), anchor + 2 * p);
    assert_eq!(next_every(anchor, p, anchor + 7 * p + 3), anchor + 8 * p);
    // Negative instants (before 1970) work the same.
    assert_eq!(next_every(-25, 10, -25), -15);
    assert_eq!(next_every(-25, 10, -1), 5);
    // Saturation and a degenerate period.
    assert_eq!(next_every(0, i64::MAX, 1), i64::MAX);
    assert_eq!(next_every(i64::MAX - 5, 10, i64::MAX - 5), i64::MAX);
    assert_eq!(next_every(0, 0, 41), 42);
}

#[test]
fn every_next_after_is_anchored_not_drifting() {
    let hourly = Recurrence::every("1h").unwrap();
    let anchor = utc(2026, 6, 1, 9, 17, 0);
    // A run that finished late does not move the grid.
    let late = anchor + HOUR + 23 * MIN;
    assert_eq!(hourly.next_after(anchor, late), Some(anchor + 2 * HOUR));
    assert_eq!(hourly.next_after(anchor, anchor - DAY), Some(anchor));
    assert_eq!(hourly.next_after(anchor, anchor), Some(anchor + HOUR));
    // The zone does not matter to an interval.
    let tz = FixedOffset::east_opt(-7 * 3600).unwrap();
    assert_eq!(
        hourly.next_after_in(anchor, late, &tz),
        Some(anchor + 2 * HOUR)
    );
    // Past the end of i64 there is no next time.
    let huge = Recurrence::Every(Duration::from_millis(i64::MAX as u64));
    assert_eq!(huge.next_after(1, 2), None);
}

// ---- plan ----

#[test]
fn plan_before_due_does_nothing() {
    let hourly = Recurrence::every("1h").unwrap();
    let due = 10 * HOUR;
    for catch_up in [true, false] {
        let plan = hourly.plan_in(0, due, due - 1, catch_up, &Utc);
        assert_eq!(
            plan,
            Plan {
                fire_now: false,
                missed: 0,
                missed_capped: false,
                next_due_ms: Some(due)
            }
        );
        assert!(!plan.skipped());
    }
}

#[test]
fn plan_on_time_and_slightly_late_fires_without_catch_up() {
    let hourly = Recurrence::every("1h").unwrap();
    let due = 10 * HOUR;
    for now in [due, due + 1, due + ON_TIME_TOLERANCE_MS] {
        let plan = hourly.plan_in(0, due, now, false, &Utc);
        assert!(plan.fire_now, "now={now}");
        assert_eq!(plan.missed, 1);
        assert_eq!(plan.next_due_ms, Some(due + HOUR));
        assert!(!plan.skipped());
    }
    // Just past the tolerance the single passed time is stale: skipped.
    let plan = hourly.plan_in(0, due, due + ON_TIME_TOLERANCE_MS + 1, false, &Utc);
    assert!(!plan.fire_now);
    assert!(plan.skipped());
    assert_eq!(plan.missed, 1);
    assert_eq!(plan.next_due_ms, Some(due + HOUR));

    let nightly = cron("30 2 * * *");
    let due = utc(2026, 5, 5, 2, 30, 0);
    let plan = nightly.plan_in(0, due, due + 20_000, false, &Utc);
    assert!(plan.fire_now);
    assert_eq!(plan.missed, 1);
    assert_eq!(plan.next_due_ms, Some(due + DAY));
}

#[test]
fn plan_after_three_days_off_fires_once_with_catch_up_and_skips_without() {
    let nightly = cron("30 2 * * *");
    let due = utc(2026, 5, 5, 2, 30, 0);
    // Off from the evening of the 4th until 09:00 on the 8th: 5th, 6th, 7th and 8th at 02:30.
    let now = utc(2026, 5, 8, 9, 0, 0);
    // Four missed, the next on the 9th; one run now only with catch-up.
    let expected = |fire_now| Plan {
        fire_now,
        missed: 4,
        missed_capped: false,
        next_due_ms: Some(utc(2026, 5, 9, 2, 30, 0)),
    };
    let with = nightly.plan_in(0, due, now, true, &Utc);
    assert_eq!(with, expected(true));
    let without = nightly.plan_in(0, due, now, false, &Utc);
    assert_eq!(without, expected(false));
    assert!(without.skipped());

    // The same with an interval: anchor at 02:30 on the 1st, every day.
    let daily = Recurrence::every("1day").unwrap();
    let anchor = utc(2026, 5, 1, 2, 30, 0);
    let with = daily.plan_in(anchor, due, now, true, &Utc);
    assert_eq!(with, expected(true));
    let without = daily.plan_in(anchor, due, now, false, &Utc);
    assert!(!without.fire_now && without.missed == 4);
    assert!(without.next_due_ms.unwrap() > now);
}

#[test]
fn plan_fires_when_the_latest_passed_time_is_fresh_even_without_catch_up() {
    // Every 5 minutes, off for a weekend, woke 30 s after a grid time: that grid time is on
    // time, so one run (never a burst) fires; all the others are counted as missed.
    let five = Recurrence::every("5m").unwrap();
    let anchor = 0;
    let due = 1_000 * 5 * MIN;
    let now = due + 2 * DAY + 30_000;
    let plan = five.plan_in(anchor, due, now, false, &Utc);
    assert!(plan.fire_now);
    assert_eq!(plan.missed, 1 + (2 * DAY / (5 * MIN)) as u64);
    assert!(!plan.missed_capped);
    assert_eq!(plan.next_due_ms, Some(due + 2 * DAY + 5 * MIN));
    // Woken 2 minutes after a grid time: stale.
    let plan = five.plan_in(anchor, due, due + 2 * DAY + 2 * MIN, false, &Utc);
    assert!(!plan.fire_now);
}

#[test]
fn plan_counts_an_off_grid_next_due_and_the_grid_after_it() {
    // next_due was set by hand to 00:10; the grid is on the hour.
    let hourly = Recurrence::every("1h").unwrap();
    let plan = hourly.plan_in(0, 10 * MIN, 3 * HOUR + 10 * MIN, false, &Utc);
    // 00:10, 01:00, 02:00, 03:00 passed; the latest, 03:00, is 10 minutes old.
    assert_eq!(plan.missed, 4);
    assert!(!plan.fire_now);
    assert_eq!(plan.next_due_ms, Some(4 * HOUR));
    // Only next_due passed, and it was long ago: latest is next_due itself.
    let plan = hourly.plan_in(0, 10 * MIN, 50 * MIN, false, &Utc);
    assert_eq!((plan.missed, plan.fire_now), (1, false));
    assert_eq!(plan.next_due_ms, Some(HOUR));
}

#[test]
fn plan_caps_the_cron_count_and_still_finds_the_latest_and_next() {
    let every_minute = cron("* * * * *");
    let due = utc(2026, 5, 5, 0, 0, 0);
    let now = due + 3 * DAY + 10_000;
    let plan = every_minute.plan_in(0, due, now, false, &Utc);
    assert_eq!(plan.missed, MISSED_COUNT_CAP);
    assert!(plan.missed_capped);
    // The latest passed minute is 10 s old: on time.
    assert!(plan.fire_now);
    assert_eq!(plan.next_due_ms, Some(due + 3 * DAY + MIN));

    // Exactly the cap, not more: not capped.
    let now = due + (MISSED_COUNT_CAP as i64 - 1) * MIN;
    let plan = every_minute.plan_in(0, due, now, false, &Utc);
    assert_eq!((plan.missed, plan.missed_capped), (MISSED_COUNT_CAP, false));

    // Stale after the cap: skipped.
    let hourly = cron("0 * * * *");
    let due = utc(2026, 1, 1, 0, 0, 0);
    let now = due + 60 * DAY + 30 * MIN;
    let plan = hourly.plan_in(0, due, now, false, &Utc);
    assert!(plan.missed_capped && !plan.fire_now);
    let plan = hourly.plan_in(0, due, now, true, &Utc);
    assert!(plan.fire_now);
    assert_eq!(plan.next_due_ms, Some(due + 60 * DAY + HOUR));
}
