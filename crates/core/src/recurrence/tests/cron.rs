//! Cron expressions: parsing, error messages, and fire times on a fixed-offset wall clock.

use chrono::{DateTime, Datelike, FixedOffset, Local, Weekday};

use super::{HOUR, MIN, cron, cron_err, next_utc, utc};
use crate::recurrence::{CRON_FORM, Recurrence, RecurrenceError};

// ---- parsing: cron ----

#[test]
fn cron_parses_five_fields_and_keeps_canonical_text() {
    let r = cron("  30   2 * *  * ");
    assert_eq!(r.to_string(), "cron 30 2 * * *");
    assert!(matches!(&r, Recurrence::Cron(c) if c.as_str() == "30 2 * * *"));
    cron("*/15 * * * 1-5");
    cron("0 9 * JAN-MAR mon-fri");
    cron("0 0 L * *");
    cron("0,30 8-18/2 1,15 * *");
}

#[test]
fn cron_accepts_nicknames() {
    let daily = cron("@daily");
    assert_eq!(daily.to_string(), "cron @daily");
    assert_eq!(cron("@DAILY"), daily, "nicknames are case-insensitive");
    // @daily is midnight every day.
    let t = utc(2026, 3, 10, 13, 0, 0);
    assert_eq!(next_utc(&daily, t), utc(2026, 3, 11, 0, 0, 0));
    assert_eq!(
        next_utc(&cron("@hourly"), t + 1),
        utc(2026, 3, 10, 14, 0, 0)
    );
    assert_eq!(next_utc(&cron("@monthly"), t), utc(2026, 4, 1, 0, 0, 0));
    assert_eq!(next_utc(&cron("@yearly"), t), utc(2027, 1, 1, 0, 0, 0));
    // 2026-03-10 is a Tuesday; @weekly is Sunday midnight.
    assert_eq!(next_utc(&cron("@weekly"), t), utc(2026, 3, 15, 0, 0, 0));
}

#[test]
fn cron_errors_name_the_input_the_field_and_the_accepted_form() {
    assert_eq!(
        cron_err("61 * * * *"),
        "invalid cron expression '61 * * * *': minute must be 0-59; expected five fields \
         \"minute hour day-of-month month day-of-week\", e.g. \"30 2 * * *\" (02:30 every \
         day) or \"*/15 * * * 1-5\""
    );
    for (text, needle) in [
        ("0 24 * * *", "hour must be 0-23"),
        ("0 0 0 * *", "day-of-month must be 1-31"),
        ("0 0 32 * *", "day-of-month must be 1-31"),
        ("0 0 * 13 *", "month must be 1-12"),
        ("0 0 * * 8", "day-of-week must be 0-7"),
        ("x * * * *", "minute 'x' is not a number"),
        ("0 0 * * funday", "day-of-week 'funday'"),
        ("*/0 * * * *", "minute '*/0': Step cannot be zero"),
        ("0/5 * * * *", "minute '0/5'"),
        ("* * *", "it has 3 fields"),
        ("", "it is empty"),
        ("@reboot", "unknown nickname"),
        ("0 0 31 2 *", "never fires"),
    ] {
        let msg = cron_err(text);
        assert!(
            msg.starts_with(&format!("invalid cron expression '{text}'")),
            "{msg}"
        );
        assert!(msg.contains(needle), "{text}: {msg}");
        assert!(msg.ends_with(CRON_FORM), "{msg}");
    }
}

#[test]
fn cron_refuses_seconds_and_year_fields_with_the_accepted_form() {
    for text in ["0 30 2 * * *", "*/10 * * * * *", "0 30 2 * * * 2030"] {
        let err = Recurrence::cron(text).unwrap_err();
        assert!(
            matches!(&err, RecurrenceError::Cron { input, .. } if input == text),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("seconds or year field is not supported"),
            "{msg}"
        );
        assert!(msg.contains(CRON_FORM), "{msg}");
    }
}

// ---- next fire time: cron ----

#[test]
fn cron_next_is_strictly_after_at_minute_boundaries() {
    let every_minute = cron("* * * * *");
    let noon = utc(2026, 5, 4, 12, 0, 0);
    assert_eq!(next_utc(&every_minute, noon), noon + MIN, "strictly after");
    assert_eq!(next_utc(&every_minute, noon - 1), noon);
    assert_eq!(next_utc(&every_minute, noon + 1), noon + MIN);
    assert_eq!(next_utc(&every_minute, noon + MIN - 1), noon + MIN);

    let quarter = cron("*/15 * * * *");
    assert_eq!(
        next_utc(&quarter, noon + 14 * MIN + 59_999),
        noon + 15 * MIN
    );
    assert_eq!(next_utc(&quarter, noon + 15 * MIN), noon + 30 * MIN);
    assert_eq!(next_utc(&quarter, noon + 45 * MIN), noon + HOUR);

    let nightly = cron("30 2 * * *");
    assert_eq!(next_utc(&nightly, noon), utc(2026, 5, 5, 2, 30, 0));
    assert_eq!(
        next_utc(&nightly, utc(2026, 5, 5, 2, 30, 0)),
        utc(2026, 5, 6, 2, 30, 0)
    );
}

#[test]
fn cron_next_handles_month_ends_and_leap_years() {
    let on_31st = cron("0 0 31 * *");
    // From January 31st, the next 31st is in March.
    assert_eq!(
        next_utc(&on_31st, utc(2026, 1, 31, 0, 0, 0)),
        utc(2026, 3, 31, 0, 0, 0)
    );
    let last_day = cron("0 0 L * *");
    assert_eq!(
        next_utc(&last_day, utc(2026, 2, 1, 0, 0, 0)),
        utc(2026, 2, 28, 0, 0, 0)
    );
    assert_eq!(
        next_utc(&last_day, utc(2028, 2, 1, 0, 0, 0)),
        utc(2028, 2, 29, 0, 0, 0)
    );
    let leap_day = cron("0 0 29 2 *");
    assert_eq!(
        next_utc(&leap_day, utc(2026, 1, 1, 0, 0, 0)),
        utc(2028, 2, 29, 0, 0, 0)
    );
    // One millisecond before the new year.
    let first = cron("0 0 1 * *");
    let ny = utc(2027, 1, 1, 0, 0, 0);
    assert_eq!(next_utc(&first, ny - 1), ny);
}

#[test]
fn cron_next_honours_day_of_week() {
    let weekdays = cron("0 9 * * 1-5");
    // 2026-01-02 is a Friday.
    let friday_10 = utc(2026, 1, 2, 10, 0, 0);
    let next = next_utc(&weekdays, friday_10);
    assert_eq!(next, utc(2026, 1, 5, 9, 0, 0));
    let dt = DateTime::from_timestamp_millis(next).unwrap();
    assert_eq!(dt.weekday(), Weekday::Mon);

    let sundays = cron("0 0 * * 7");
    assert_eq!(
        next_utc(&cron("0 0 * * 0"), friday_10),
        next_utc(&sundays, friday_10)
    );
    assert_eq!(next_utc(&sundays, friday_10), utc(2026, 1, 4, 0, 0, 0));
    assert_eq!(
        next_utc(&cron("0 0 * * SUN"), friday_10),
        utc(2026, 1, 4, 0, 0, 0)
    );

    // Vixie cron: a restricted day-of-month OR a restricted day-of-week.
    let first_or_monday = cron("0 0 1 * MON");
    assert_eq!(
        next_utc(&first_or_monday, utc(2026, 1, 27, 0, 0, 0)),
        utc(2026, 2, 1, 0, 0, 0)
    );
    assert_eq!(
        next_utc(&first_or_monday, utc(2026, 2, 1, 0, 0, 0)),
        utc(2026, 2, 2, 0, 0, 0)
    );
}

#[test]
fn cron_is_read_on_the_wall_clock_of_the_given_zone() {
    let nightly = cron("30 2 * * *");
    let after = utc(2026, 5, 4, 12, 0, 0);
    let india = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    // 02:30 at +05:30 is 21:00 UTC the day before.
    assert_eq!(
        nightly.next_after_in(0, after, &india),
        Some(utc(2026, 5, 4, 21, 0, 0))
    );
    let new_york_winter = FixedOffset::west_opt(5 * 3600).unwrap();
    assert_eq!(
        nightly.next_after_in(0, after, &new_york_winter),
        Some(utc(2026, 5, 5, 7, 30, 0))
    );
    // The Local entry point agrees with an explicit Local.
    assert_eq!(
        nightly.next_after(0, after),
        nightly.next_after_in(0, after, &Local)
    );
}
