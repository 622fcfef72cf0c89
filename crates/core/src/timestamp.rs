//! Points in time as Unix milliseconds, bounded to the years RFC 3339 can write (0001 to 9999).
//!
//! Times arrive from outside (a request's `run_at` or `delay`, a CLI flag, a stored row written
//! by an older version) and are added to and subtracted from the clock's "now". An `i64` of
//! milliseconds overflows on such arithmetic near its ends, and a time past year 9999 cannot be
//! formatted. So every time from outside is checked against [`EARLIEST_MS`]..=[`LATEST_MS`] at
//! the door ([`check`], [`parse`], [`after`]), and the arithmetic the engine does on stored times
//! ([`until`], [`later`]) saturates instead of overflowing, so even a row that slipped past an
//! older door cannot panic a task.

use std::time::Duration;

/// 0001-01-01T00:00:00Z, the earliest time RFC 3339 can write.
pub const EARLIEST_MS: i64 = -62_135_596_800_000;
/// 9999-12-31T23:59:59.999Z, the latest time RFC 3339 can write.
pub const LATEST_MS: i64 = 253_402_300_799_999;
/// The accepted range in words, for error messages and docs.
pub const RANGE: &str = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z";
/// The accepted forms in words, for error messages.
pub const FORMS: &str = "RFC 3339 such as 2026-11-22T23:00:00Z or 2026-11-22T23:00:00+01:00, \
     or Unix milliseconds";

/// `ms` if it lies in the accepted range.
pub fn check(ms: i64) -> Result<i64, String> {
    if (EARLIEST_MS..=LATEST_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "{ms} ms is outside the accepted range of times, {RANGE} \
             ({EARLIEST_MS} to {LATEST_MS} in Unix milliseconds)"
        ))
    }
}

/// Parses an RFC 3339 time with its UTC offset (`Z`, `+01:00`, `-05:30`); a space may stand for
/// the `T`. A time without an offset is read as UTC, as earlier versions did.
pub fn parse(text: &str) -> Result<i64, String> {
    let trimmed = text.trim();
    let parsed = chrono::DateTime::parse_from_rfc3339(trimmed)
        .map(|t| t.timestamp_millis())
        .or_else(|_| {
            // No offset: UTC. chrono's own parser needs one, so the naive forms are tried here.
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(trimmed, f).ok())
                .map(|naive| naive.and_utc().timestamp_millis())
                .ok_or(())
        })
        .map_err(|()| {
            format!(
                "invalid time '{}'; expected {FORMS}",
                trimmed.escape_debug()
            )
        })?;
    check(parsed).map_err(|_| {
        format!(
            "the time '{}' is outside the accepted range, {RANGE}",
            trimmed.escape_debug()
        )
    })
}

/// `now` plus `wait`, refused when the result would be past [`LATEST_MS`].
pub fn after(now: i64, wait: Duration) -> Result<i64, String> {
    i64::try_from(wait.as_millis())
        .ok()
        .and_then(|ms| now.checked_add(ms))
        .filter(|at| *at <= LATEST_MS)
        .ok_or_else(|| {
            format!(
                "{} from now is past the latest accepted time, 9999-12-31",
                crate::duration::format_short(wait)
            )
        })
}

/// How long from `now` until `at`; zero when `at` has passed. Never overflows, whatever the two.
pub fn until(now: i64, at: i64) -> Duration {
    let ms = at.saturating_sub(now).max(0);
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

/// `at` plus `wait`, saturating at the ends of `i64`: for times the engine computes from its own
/// clock and bounded settings, where a refusal would have nowhere to go.
pub fn later(at: i64, wait: Duration) -> i64 {
    at.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
}

/// RFC 3339 in UTC with milliseconds. Times outside the range are written as its nearest end, so
/// formatting never fails or panics.
pub fn format(ms: i64) -> String {
    let clamped = ms.clamp(EARLIEST_MS, LATEST_MS);
    chrono::DateTime::from_timestamp_millis(clamped)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| format!("{clamped} ms"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn offsets_name_the_same_instant() {
        let z = parse("2026-11-22T23:00:00Z").unwrap();
        assert_eq!(z, 1_795_388_400_000);
        assert_eq!(parse("2026-11-23T00:00:00+01:00").unwrap(), z);
        assert_eq!(parse("2026-11-22 18:00:00-05:00").unwrap(), z);
        assert_eq!(parse("2026-11-22T23:00:00").unwrap(), z, "no offset is UTC");
    }

    #[test]
    fn the_ends_of_the_range_are_accepted_and_past_them_refused() {
        assert_eq!(parse("0001-01-01T00:00:00Z").unwrap(), EARLIEST_MS);
        assert_eq!(parse("9999-12-31T23:59:59.999Z").unwrap(), LATEST_MS);
        assert!(check(EARLIEST_MS - 1).is_err());
        assert!(check(LATEST_MS + 1).is_err());
        let err = check(i64::MIN).unwrap_err();
        assert!(err.contains(RANGE), "{err}");
        let err = parse("10000-01-01T00:00:00Z").unwrap_err();
        assert!(err.contains("expected RFC 3339"), "{err}");
        let err = parse("9999-12-31T23:59:59-01:00").unwrap_err();
        assert!(err.contains("outside the accepted range"), "{err}");
    }

    #[test]
    fn a_wait_past_the_range_is_refused_not_wrapped() {
        assert_eq!(after(1_000, Duration::from_secs(10)).unwrap(), 11_000);
        assert!(after(0, Duration::from_millis(i64::MAX as u64)).is_err());
        assert!(after(0, Duration::from_millis(u64::MAX)).is_err());
        assert!(after(0, Duration::MAX).is_err());
        assert!(after(LATEST_MS, Duration::from_millis(1)).is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_gives_the_same_time(ms in EARLIEST_MS..=LATEST_MS) {
            prop_assert_eq!(parse(&format(ms)).unwrap(), ms);
        }

        #[test]
        fn check_accepts_exactly_the_range(ms in any::<i64>()) {
            prop_assert_eq!(check(ms).is_ok(), (EARLIEST_MS..=LATEST_MS).contains(&ms));
        }

        #[test]
        fn arithmetic_never_panics(now in any::<i64>(), at in any::<i64>(), wait in any::<u64>(), nanos in 0u32..1_000_000_000) {
            let wait = Duration::new(wait, nanos);
            let _ = until(now, at);
            let _ = later(at, wait);
            let _ = format(at);
            if let Ok(at) = after(now, wait) {
                prop_assert!(at >= now && at <= LATEST_MS);
            }
        }

        #[test]
        fn until_is_the_distance_or_zero(now in EARLIEST_MS..=LATEST_MS, at in EARLIEST_MS..=LATEST_MS) {
            let expected = if at > now { (at - now) as u64 } else { 0 };
            prop_assert_eq!(until(now, at), Duration::from_millis(expected));
        }

        #[test]
        fn any_text_parses_or_is_refused_without_panic(text in ".{0,40}") {
            if let Ok(ms) = parse(&text) {
                prop_assert!(check(ms).is_ok());
            }
        }

        #[test]
        fn rfc3339_with_any_offset_parses_in_range(
            ms in 0i64..=LATEST_MS - 86_400_000,
            offset_min in -1439i32..=1439,
        ) {
            let zone = chrono::FixedOffset::east_opt(offset_min * 60).unwrap();
            let text = chrono::DateTime::from_timestamp_millis(ms).unwrap().with_timezone(&zone).to_rfc3339();
            prop_assert_eq!(parse(&text).unwrap(), ms);
        }
    }
}
