//! Human durations ("30m", "1h 30m", "10s", "250ms") for config keys and CLI flags.

use std::time::Duration;

/// Parses a human duration, with an error that shows the accepted form.
pub fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty duration; expected a number with a unit, e.g. 90s, 30m, 1h30m".into());
    }
    // A bare number is ambiguous (seconds? milliseconds?), so it is refused rather than guessed.
    if trimmed.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "'{trimmed}' has no unit; expected a number with a unit, e.g. {trimmed}s or {trimmed}m"
        ));
    }
    humantime::parse_duration(trimmed).map_err(|e| {
        format!(
            "invalid duration '{trimmed}': {e}; expected a number with a unit, e.g. 90s, 30m, 1h30m"
        )
    })
}

/// Formats a duration compactly for tables ("1h 2m", "3.2s", "15ms").
pub fn format_short(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 3_600_000 {
        format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1_000)
    } else if ms < 86_400_000 {
        format!("{}h {}m", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    } else {
        format!("{}d {}h", ms / 86_400_000, (ms % 86_400_000) / 3_600_000)
    }
}

/// When a wait of `timeout` from `now` ends; `None` for no end, and for a timeout so long the
/// clock cannot represent its end (`--timeout 500000000000years`, `timeout_ms = u64::MAX`),
/// which is no end either.
pub fn deadline_after(
    now: std::time::Instant,
    timeout: Option<Duration>,
) -> Option<std::time::Instant> {
    timeout.and_then(|t| now.checked_add(t))
}

/// Serde adapter for `Duration` fields written as human strings in the config file.
pub mod serde_human {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        super::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for optional `Duration` fields written as human strings.
pub mod serde_human_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::serde_human::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => super::parse(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
    }

    #[test]
    fn refuses_bare_numbers_and_garbage_with_the_accepted_form() {
        let err = parse("30").unwrap_err();
        assert!(err.contains("30s"), "{err}");
        let err = parse("soon").unwrap_err();
        assert!(err.contains("e.g. 90s"), "{err}");
    }

    #[test]
    fn deadline_is_now_plus_the_timeout() {
        let now = std::time::Instant::now();
        let t = Duration::from_millis(1500);
        assert_eq!(deadline_after(now, Some(t)), Some(now + t));
        assert_eq!(deadline_after(now, Some(Duration::ZERO)), Some(now));
        assert_eq!(deadline_after(now, None), None);
    }

    #[test]
    fn a_timeout_past_the_clock_is_no_deadline() {
        let now = std::time::Instant::now();
        assert_eq!(deadline_after(now, Some(Duration::MAX)), None);
        // What `--timeout 500000000000years` parses to: past what an Instant holds.
        let years = humantime::parse_duration("500000000000years").unwrap();
        assert_eq!(deadline_after(now, Some(years)), None);
        // The largest `timeout_ms` a request can carry: no panic, and if the clock can hold
        // its end, that end is later than now.
        let longest = deadline_after(now, Some(Duration::from_millis(u64::MAX)));
        assert!(longest.is_none_or(|at| at > now));
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_short(Duration::from_millis(15)), "15ms");
        assert_eq!(format_short(Duration::from_secs(3725)), "1h 2m");
    }
}
