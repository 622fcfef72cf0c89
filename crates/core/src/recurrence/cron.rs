//! [`CronSchedule`]: a parsed five-field cron expression, its fire times on a wall clock, and
//! parse errors that name the bad field and its accepted range.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use super::RecurrenceError;

/// A parsed five-field cron expression (minute granularity), with the text it came from.
#[derive(Clone)]
pub struct CronSchedule {
    /// The expression as given, whitespace collapsed and nicknames lowercased.
    expr: String,
    /// Boxed: croner's parsed form is a few hundred bytes, and `Recurrence` is passed around.
    cron: Box<Cron>,
}

impl CronSchedule {
    /// Parses a five-field cron expression or a nickname; see
    /// [`Recurrence::cron`](super::Recurrence::cron).
    pub fn parse(text: &str) -> Result<CronSchedule, RecurrenceError> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let mut expr = fields.join(" ");
        let err = |expr: &str, reason: String| RecurrenceError::Cron {
            input: expr.to_string(),
            reason,
        };
        if expr.is_empty() {
            return Err(err(&expr, "it is empty".into()));
        }
        if expr.contains('@') {
            let lower = expr.to_ascii_lowercase();
            if !NICKNAMES.contains(&lower.as_str()) {
                return Err(err(
                    &expr,
                    format!(
                        "unknown nickname; the nicknames are {}",
                        NICKNAMES.join(", ")
                    ),
                ));
            }
            expr = lower;
        } else if fields.len() != 5 {
            let reason = match fields.len() {
                6 | 7 => format!(
                    "it has {} fields, and a seconds or year field is not supported \
                     (jobs are scheduled to the minute)",
                    fields.len()
                ),
                1 => "it has 1 field".to_string(),
                n => format!("it has {n} fields"),
            };
            return Err(err(&expr, reason));
        }
        let cron = parser()
            .parse(&expr)
            .map_err(|e| err(&expr, diagnose(&fields, &e)))?;
        // A day-of-month and month that never meet (31 in February) would make every search
        // fail; refuse it here instead of scheduling a job that never runs. Any pattern that
        // matches somewhere matches within 28 years of this reference, well inside croner's limit.
        let reference = DateTime::from_timestamp_millis(946_684_800_000) // 2000-01-01T00:00Z
            .expect("a valid instant");
        if cron.find_next_occurrence(&reference, false).is_err() {
            return Err(err(
                &expr,
                "it never fires: no date has that day of month in that month".into(),
            ));
        }
        Ok(CronSchedule {
            expr,
            cron: Box::new(cron),
        })
    }

    /// The canonical text: the expression as given, whitespace collapsed, nicknames lowercased.
    pub fn as_str(&self) -> &str {
        &self.expr
    }

    /// The first fire time strictly after `after_ms`, with the wall clock read in `tz`.
    pub fn next_after_in<Tz: TimeZone>(&self, after_ms: i64, tz: &Tz) -> Option<i64> {
        let mut from = after_ms;
        // croner searches from the whole second and returns whole minutes, so one step is always
        // enough; the loop only guards the "strictly after" contract.
        for _ in 0..3 {
            let start = tz.timestamp_millis_opt(from).single()?;
            let next = self.cron.find_next_occurrence(&start, false).ok()?;
            let next_ms = next.timestamp_millis();
            if next_ms > after_ms {
                return Some(next_ms);
            }
            from = next_ms.max(from.saturating_add(1));
        }
        None
    }

    /// The last fire time at or before `at_ms`, with the wall clock read in `tz`.
    pub(super) fn at_or_before_in<Tz: TimeZone>(&self, at_ms: i64, tz: &Tz) -> Option<i64> {
        let start = tz.timestamp_millis_opt(at_ms).single()?;
        let prev = self.cron.find_previous_occurrence(&start, true).ok()?;
        Some(prev.timestamp_millis())
    }
}

const NICKNAMES: [&str; 6] = [
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
];

const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31 (or L for the last day)"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT (0 and 7 are Sunday)"),
];

/// The parser for Nightshift's cron dialect: five fields, no seconds, no year.
fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
}

/// Turns croner's error, which does not say which field is wrong, into one that does: each field
/// is tried alone, with `*` in the others.
fn diagnose(fields: &[&str], error: &croner::errors::CronError) -> String {
    use croner::errors::CronError;
    for (i, ((name, range), value)) in FIELDS.iter().zip(fields).enumerate() {
        let mut probe = ["*"; 5];
        probe[i] = value;
        let Err(e) = parser().parse(&probe.join(" ")) else {
            continue;
        };
        return match e {
            CronError::ComponentError(msg) if msg.contains("out of bounds") => {
                format!("{name} must be {range}")
            }
            CronError::ComponentError(msg) => {
                let msg = msg.trim_end_matches('.');
                format!("{name} '{value}': {msg}; {name} must be {range}")
            }
            CronError::IllegalCharacters(_) => {
                format!(
                    "{name} '{value}' is not a number, range, list or step; {name} must be {range}"
                )
            }
            other => format!("{name} '{value}': {other}"),
        };
    }
    error.to_string()
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

impl Eq for CronSchedule {}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CronSchedule").field(&self.expr).finish()
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

impl FromStr for CronSchedule {
    type Err = RecurrenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronSchedule::parse(s)
    }
}
