//! Reading and writing schedules: `every` intervals, the stored text, `Display` and serde.

use std::time::Duration;

use super::cron;
use crate::recurrence::{EVERY_FORM, Recurrence, RecurrenceError, TEXT_FORM};

// ---- parsing: every ----

#[test]
fn every_parses_human_intervals() {
    assert_eq!(
        Recurrence::every("1h").unwrap(),
        Recurrence::Every(Duration::from_secs(3600))
    );
    assert_eq!(
        Recurrence::every(" 1h30m ").unwrap(),
        Recurrence::Every(Duration::from_secs(5400))
    );
    assert_eq!(
        Recurrence::every("1s").unwrap(),
        Recurrence::Every(Duration::from_secs(1))
    );
    assert_eq!(
        Recurrence::every("1500ms").unwrap(),
        Recurrence::Every(Duration::from_millis(1500))
    );
}

#[test]
fn every_refuses_zero_sub_second_and_garbage_naming_the_input_and_the_form() {
    for (text, what) in [
        ("0s", "is zero"),
        ("500ms", "shorter than one second"),
        ("999ms", "shorter than one second"),
        ("1s 500us", "whole number of milliseconds"),
    ] {
        let err = Recurrence::every(text).unwrap_err();
        assert!(
            matches!(&err, RecurrenceError::Every { input, .. } if input == text),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&format!("'{text}'")), "{msg}");
        assert!(msg.contains(what), "{msg}");
        assert!(msg.contains(EVERY_FORM), "{msg}");
    }
    // Errors of the duration parser keep its own accepted form.
    let msg = Recurrence::every("soon").unwrap_err().to_string();
    assert!(msg.starts_with("invalid interval: "), "{msg}");
    assert!(msg.contains("'soon'") && msg.contains("e.g. 90s"), "{msg}");
    let msg = Recurrence::every("30").unwrap_err().to_string();
    assert!(msg.contains("30s"), "{msg}");
    assert!(Recurrence::every("").is_err());
}

/// Milliseconds from the API take the same range as the stored form: 1000 up to `i64::MAX`,
/// past what the text parser can hold (it refused 199947489792100 as "too large").
#[test]
fn every_millis_takes_every_whole_millisecond_count_up_to_i64_max() {
    for ms in [1000, 3_600_000, 199_947_489_792_100, i64::MAX as u64] {
        assert_eq!(
            Recurrence::every_millis(ms).unwrap(),
            Recurrence::Every(Duration::from_millis(ms)),
            "{ms}"
        );
        let stored = Recurrence::every_millis(ms).unwrap().to_text();
        assert_eq!(
            Recurrence::from_text(&stored).unwrap(),
            Recurrence::every_millis(ms).unwrap()
        );
    }
    for (ms, what) in [(0, "is zero"), (999, "shorter than one second")] {
        let msg = Recurrence::every_millis(ms).unwrap_err().to_string();
        assert!(msg.contains(what), "{msg}");
    }
    let msg = Recurrence::every_millis(i64::MAX as u64 + 1)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("too long"), "{msg}");
}

// ---- text and serde ----

#[test]
fn text_round_trips() {
    for (r, text) in [
        (Recurrence::every("1h").unwrap(), "every 3600000"),
        (Recurrence::every("1500ms").unwrap(), "every 1500"),
        (cron("30 2 * * *"), "cron 30 2 * * *"),
        (cron("*/15 * * * 1-5"), "cron */15 * * * 1-5"),
        (cron("@weekly"), "cron @weekly"),
    ] {
        assert_eq!(r.to_text(), text);
        assert_eq!(Recurrence::from_text(text).unwrap(), r);
        assert_eq!(text.parse::<Recurrence>().unwrap(), r);
        // The display form reads back too.
        assert_eq!(Recurrence::from_text(&r.to_string()).unwrap(), r, "{r}");
    }
}

#[test]
fn display_is_for_people() {
    assert_eq!(Recurrence::every("60m").unwrap().to_string(), "every 1h");
    assert_eq!(
        Recurrence::every("90m").unwrap().to_string(),
        "every 1h 30m"
    );
    assert_eq!(cron("30 2 * * *").to_string(), "cron 30 2 * * *");
}

#[test]
fn from_text_refuses_bad_text_with_the_accepted_form() {
    for text in ["", "weekly", "every", "cron", "hourly 5"] {
        let err = Recurrence::from_text(text).unwrap_err();
        assert!(
            matches!(err, RecurrenceError::Text { .. }),
            "{text}: {err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(TEXT_FORM), "{msg}");
    }
    let msg = Recurrence::from_text("every 0").unwrap_err().to_string();
    assert!(msg.contains("is zero"), "{msg}");
    let msg = Recurrence::from_text("every 999").unwrap_err().to_string();
    assert!(msg.contains("shorter than one second"), "{msg}");
    assert!(Recurrence::from_text("every 99999999999999999999999").is_err());
    let msg = Recurrence::from_text("cron 61 * * * *")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("minute must be 0-59"), "{msg}");
}

#[test]
fn serde_is_a_tagged_object() {
    let hourly = Recurrence::every("1h").unwrap();
    let json = serde_json::to_string(&hourly).unwrap();
    assert_eq!(json, r#"{"kind":"every","every_ms":3600000}"#);
    assert_eq!(serde_json::from_str::<Recurrence>(&json).unwrap(), hourly);

    let nightly = cron("30 2 * * *");
    let json = serde_json::to_string(&nightly).unwrap();
    assert_eq!(json, r#"{"kind":"cron","expr":"30 2 * * *"}"#);
    assert_eq!(serde_json::from_str::<Recurrence>(&json).unwrap(), nightly);
}

#[test]
fn serde_validates_what_it_reads() {
    for (json, needle) in [
        (r#"{"kind":"every","every_ms":0}"#, "is zero"),
        (
            r#"{"kind":"every","every_ms":500}"#,
            "shorter than one second",
        ),
        (
            r#"{"kind":"cron","expr":"61 * * * *"}"#,
            "minute must be 0-59",
        ),
        (r#"{"kind":"cron","expr":"0 30 2 * * *"}"#, "seconds"),
        (r#"{"kind":"weekly"}"#, "unknown variant"),
    ] {
        let err = serde_json::from_str::<Recurrence>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{json}: {err}");
    }
}
