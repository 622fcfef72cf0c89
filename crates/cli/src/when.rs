//! Reading `--at` times as a person writes them, in local time.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

const ACCEPTED: &str = "expected HH:MM (today, or tomorrow if already past), \
    \"YYYY-MM-DD HH:MM\" in local time, or RFC 3339 such as 2026-11-22T23:00:00+01:00";

/// Parses a `--at` value into Unix milliseconds.
pub fn parse_at(text: &str) -> Result<i64, String> {
    parse_at_from(text, Local::now()).and_then(nightshift_core::timestamp::check)
}

fn local(naive: NaiveDateTime) -> Option<DateTime<Local>> {
    // In a DST fold the earlier of the two times; in a DST gap there is no such time.
    Local.from_local_datetime(&naive).earliest()
}

fn parse_at_from(text: &str, now: DateTime<Local>) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return local(naive).map(|t| t.timestamp_millis()).ok_or_else(|| {
                format!("{text} does not exist in local time (a clock change skips it)")
            });
        }
    }
    for format in ["%H:%M", "%H:%M:%S"] {
        if let Ok(time) = NaiveTime::parse_from_str(text, format) {
            let today: NaiveDate = now.date_naive();
            let mut at = local(today.and_time(time));
            if at.is_none_or(|t| t <= now) {
                at = today.succ_opt().and_then(|d| local(d.and_time(time)));
            }
            return at.map(|t| t.timestamp_millis()).ok_or_else(|| {
                format!("{text} does not exist in local time (a clock change skips it)")
            });
        }
    }
    Err(format!("invalid time '{text}'; {ACCEPTED}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Local> {
        local(
            NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_clock_time_is_today_or_tomorrow() {
        let now = at(2026, 11, 22, 10, 0);
        assert_eq!(
            parse_at_from("23:00", now).unwrap(),
            at(2026, 11, 22, 23, 0).timestamp_millis()
        );
        assert_eq!(
            parse_at_from("09:30", now).unwrap(),
            at(2026, 11, 23, 9, 30).timestamp_millis()
        );
    }

    #[test]
    fn dates_and_rfc3339_are_exact() {
        let now = at(2026, 11, 22, 10, 0);
        assert_eq!(
            parse_at_from("2026-12-01 08:15", now).unwrap(),
            at(2026, 12, 1, 8, 15).timestamp_millis()
        );
        assert_eq!(
            parse_at_from("2026-11-22T23:00:00Z", now).unwrap(),
            1_795_388_400_000
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_accepted_forms() {
        let err = parse_at_from("tonight", Local::now()).unwrap_err();
        assert!(err.contains("HH:MM") && err.contains("RFC 3339"), "{err}");
        assert!(parse_at_from("25:00", Local::now()).is_err());
    }
}
