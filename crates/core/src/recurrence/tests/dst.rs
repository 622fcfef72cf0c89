//! Daylight saving time: a hand-made zone with one gap and one overlap, and cron across both.

use chrono::{
    Datelike, FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, TimeZone, Timelike,
};

use super::{MIN, cron, utc};

// ---- DST, with a hand-made zone ----

/// Central European time for 2026 only: +01:00, then +02:00 from 2026-03-29 01:00 UTC
/// (local 02:00 jumps to 03:00) until 2026-10-25 01:00 UTC (local 03:00 falls back to 02:00).
#[derive(Debug, Clone, Copy)]
struct Cet2026;

impl Cet2026 {
    fn spring() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap()
    }
    fn fall() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 10, 25)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap()
    }
    fn winter() -> FixedOffset {
        FixedOffset::east_opt(3600).unwrap()
    }
    fn summer() -> FixedOffset {
        FixedOffset::east_opt(7200).unwrap()
    }
}

impl TimeZone for Cet2026 {
    type Offset = FixedOffset;

    fn from_offset(_: &FixedOffset) -> Self {
        Cet2026
    }

    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<FixedOffset> {
        self.offset_from_local_datetime(&local.and_hms_opt(12, 0, 0).unwrap())
    }

    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<FixedOffset> {
        let as_winter = *local - Cet2026::winter();
        let as_summer = *local - Cet2026::summer();
        let winter_ok = as_winter < Cet2026::spring() || as_winter >= Cet2026::fall();
        let summer_ok = as_summer >= Cet2026::spring() && as_summer < Cet2026::fall();
        match (winter_ok, summer_ok) {
            (true, true) => MappedLocalTime::Ambiguous(Cet2026::summer(), Cet2026::winter()),
            (true, false) => MappedLocalTime::Single(Cet2026::winter()),
            (false, true) => MappedLocalTime::Single(Cet2026::summer()),
            (false, false) => MappedLocalTime::None,
        }
    }

    fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
        self.offset_from_utc_datetime(&utc.and_hms_opt(0, 0, 0).unwrap())
    }

    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
        if *utc >= Cet2026::spring() && *utc < Cet2026::fall() {
            Cet2026::summer()
        } else {
            Cet2026::winter()
        }
    }
}

fn cet_wall(ms: i64) -> (u32, u32, u32, i32) {
    let dt = Cet2026.timestamp_millis_opt(ms).unwrap();
    (
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.offset().local_minus_utc(),
    )
}

#[test]
fn test_zone_has_the_gap_and_the_overlap() {
    let gap = NaiveDate::from_ymd_opt(2026, 3, 29)
        .unwrap()
        .and_hms_opt(2, 30, 0)
        .unwrap();
    assert!(matches!(
        Cet2026.from_local_datetime(&gap),
        MappedLocalTime::None
    ));
    let overlap = NaiveDate::from_ymd_opt(2026, 10, 25)
        .unwrap()
        .and_hms_opt(2, 30, 0)
        .unwrap();
    assert!(matches!(
        Cet2026.from_local_datetime(&overlap),
        MappedLocalTime::Ambiguous(..)
    ));
}

#[test]
fn dst_gap_moves_a_fixed_time_job_past_the_gap_and_skips_interval_runs() {
    let nightly = cron("30 2 * * *");
    let sat_noon = utc(2026, 3, 28, 11, 0, 0);
    let sunday = nightly.next_after_in(0, sat_noon, &Cet2026).unwrap();
    // 02:30 does not exist on the 29th: it runs at 03:00 CEST, 01:00 UTC.
    assert_eq!(sunday, utc(2026, 3, 29, 1, 0, 0));
    assert_eq!(cet_wall(sunday), (29, 3, 0, 7200));
    let monday = nightly.next_after_in(0, sunday, &Cet2026).unwrap();
    assert_eq!(cet_wall(monday), (30, 2, 30, 7200));

    let quarter = cron("*/15 * * * *");
    let at_0145 = utc(2026, 3, 29, 0, 45, 0);
    assert_eq!(cet_wall(at_0145), (29, 1, 45, 3600));
    let next = quarter.next_after_in(0, at_0145, &Cet2026).unwrap();
    // 02:00..02:45 do not exist; the next run is 03:00 CEST, 15 real minutes later.
    assert_eq!(next, at_0145 + 15 * MIN);
    assert_eq!(cet_wall(next), (29, 3, 0, 7200));
}

#[test]
fn dst_overlap_runs_a_fixed_time_job_once_and_interval_jobs_on_both_passes() {
    let nightly = cron("30 2 * * *");
    let sat_noon = utc(2026, 10, 24, 10, 0, 0);
    let first = nightly.next_after_in(0, sat_noon, &Cet2026).unwrap();
    // 02:30 CEST, the first of the two 02:30s, is 00:30 UTC.
    assert_eq!(first, utc(2026, 10, 25, 0, 30, 0));
    let next = nightly.next_after_in(0, first, &Cet2026).unwrap();
    assert_eq!(cet_wall(next), (26, 2, 30, 3600), "not again at 02:30 CET");

    let half_hourly = cron("*/30 * * * *");
    let mut t = utc(2026, 10, 24, 23, 45, 0); // 01:45 CEST
    let mut seen = Vec::new();
    for _ in 0..5 {
        t = half_hourly.next_after_in(0, t, &Cet2026).unwrap();
        seen.push(cet_wall(t));
    }
    assert_eq!(
        seen,
        vec![
            (25, 2, 0, 7200),
            (25, 2, 30, 7200),
            (25, 2, 0, 3600),
            (25, 2, 30, 3600),
            (25, 3, 0, 3600),
        ]
    );
}
