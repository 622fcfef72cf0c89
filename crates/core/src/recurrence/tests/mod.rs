//! Unit tests of schedules, split by concern; the shared helpers live here.

mod cron;
mod dst;
mod parse;
mod plan;
mod props;

use chrono::{TimeZone, Utc};

use super::Recurrence;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// Unix ms of a UTC wall-clock time.
fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .timestamp_millis()
}

fn cron(text: &str) -> Recurrence {
    Recurrence::cron(text).unwrap()
}

/// Next fire time in UTC.
fn next_utc(r: &Recurrence, after_ms: i64) -> i64 {
    r.next_after_in(0, after_ms, &Utc).unwrap()
}

fn cron_err(text: &str) -> String {
    Recurrence::cron(text).unwrap_err().to_string()
}
