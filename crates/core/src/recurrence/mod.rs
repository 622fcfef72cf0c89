//! Recurring jobs: when a schedule fires next, and what to do about fire times that passed while
//! the machine was off. Pure logic: no I/O, no tokio; every function takes "now" as an argument.
//!
//! # The model
//!
//! A recurring job has a [`Recurrence`] and two stored instants, both Unix milliseconds:
//!
//! - the **anchor**: where an [`Recurrence::Every`] schedule starts counting. Its fire times are
//!   exactly `anchor, anchor + p, anchor + 2p, …` for the period `p`, so a job that is late once
//!   does not drift: the next run is still on the grid. A [`Recurrence::Cron`] schedule has its
//!   own grid (the wall clock) and ignores the anchor.
//! - **next_due**: the next planned fire time, kept so that a restart knows what it owed.
//!
//! [`Recurrence::next_after`] gives the first fire time strictly after an instant. Cron times are
//! read on the machine's local wall clock ([`chrono::Local`]); the `*_in` variants take any
//! [`chrono::TimeZone`] so tests are deterministic.
//!
//! # Catch-up
//!
//! When the scheduler wakes (a timer, or a start after the machine was off), it calls
//! [`Recurrence::plan`] with `now`. If `now` is before `next_due` nothing happens. Otherwise one
//! or more fire times have passed and the [`Plan`] says:
//!
//! - `missed`: how many fire times passed, `next_due` itself included;
//! - `fire_now`: whether to start **one** run now. It does when the job asked for catch-up
//!   (anacron-like: "the nightly backup must happen, late or not"), or when the latest passed fire
//!   time is within [`ON_TIME_TOLERANCE_MS`] of now: a timer that woke a few seconds late is on
//!   time, not "missed". Otherwise the passed times are skipped;
//! - `next_due_ms`: the first fire time strictly after `now`, which the caller stores.
//!
//! Never more than one run, however many fire times passed: a job every 5 minutes on a laptop
//! that slept for a weekend must not start 600 runs at once (nor queue them). The runs were for
//! moments that are gone; one run brings the job's effect up to date, which is all catch-up can
//! honestly promise.
//!
//! # Daylight saving time
//!
//! Cron fields name wall-clock times; the search itself is done by `croner`, which follows
//! Vixie cron (and the Open Cron Pattern Specification):
//!
//! - spring forward (a gap, e.g. 02:00→03:00): a job at a fixed time inside the gap ("30 2 * * *")
//!   runs once at the first real instant after the gap (03:00) that day; an interval job
//!   ("*/15 * * * *") simply has no runs in the gap.
//! - fall back (an overlap, e.g. 03:00→02:00): a fixed-time job runs once, at the first of the
//!   two instants; an interval job runs at every matching instant of both passes.
//!
//! Both are tested (in `tests/dst.rs`) with a small hand-made [`chrono::TimeZone`] that has
//! one transition each way, since no time-zone database crate is used.

mod cron;
mod plan;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use cron::CronSchedule;
pub use plan::{MISSED_COUNT_CAP, ON_TIME_TOLERANCE_MS, Plan, next_every};

/// The shortest interval [`Recurrence::every`] accepts.
pub const MIN_EVERY: Duration = Duration::from_secs(1);

/// The accepted form of a cron expression, shown in every cron parse error.
pub const CRON_FORM: &str = "expected five fields \"minute hour day-of-month month day-of-week\", \
     e.g. \"30 2 * * *\" (02:30 every day) or \"*/15 * * * 1-5\"";

/// The accepted form of an interval, shown in the errors of [`Recurrence::every`].
pub const EVERY_FORM: &str =
    "expected an interval of at least 1s with a unit, e.g. 90s, 30m, 1h30m, 1day";

/// The accepted form of the stored text, shown in the errors of [`Recurrence::from_text`].
pub const TEXT_FORM: &str = "expected \"every <interval>\" or \"cron <expression>\", \
     e.g. \"every 3600000\" (milliseconds), \"every 1h\" or \"cron 30 2 * * *\"";

/// Why a schedule could not be read. Each message names the bad input and shows the accepted form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    /// A bad interval for an `every` schedule. `reason` already carries the accepted form.
    #[error("invalid interval: {reason}")]
    Every { input: String, reason: String },
    /// A bad cron expression.
    #[error("invalid cron expression '{input}': {reason}; {CRON_FORM}")]
    Cron { input: String, reason: String },
    /// Stored text that is neither `every …` nor `cron …`.
    #[error("invalid schedule '{input}': {TEXT_FORM}")]
    Text { input: String },
}

/// How a job recurs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Repr", into = "Repr")]
pub enum Recurrence {
    /// Every fixed interval, counted from the schedule's anchor. Parsing refuses less than
    /// [`MIN_EVERY`]; a `Duration` built by hand below one millisecond counts as 1 ms.
    Every(Duration),
    /// On a five-field cron expression, on the local wall clock.
    Cron(CronSchedule),
}

impl Recurrence {
    /// Parses an interval such as "30m" or "1h30m" (see [`crate::duration::parse`]); refuses
    /// zero, anything under one second, and fractions of a millisecond.
    pub fn every(text: &str) -> Result<Recurrence, RecurrenceError> {
        let input = text.trim();
        let err = |reason: String| RecurrenceError::Every {
            input: input.to_string(),
            reason,
        };
        let d = crate::duration::parse(input).map_err(err)?;
        Self::every_duration(input, d)
    }

    /// An interval given in milliseconds (the API's `"every": 3600000`). Not through the text
    /// parser: it counts in nanoseconds and refuses intervals past about 584 years (`u64`
    /// nanoseconds) as "too large", where any whole number of milliseconds up to `i64::MAX` is
    /// an interval.
    pub fn every_millis(ms: u64) -> Result<Recurrence, RecurrenceError> {
        Self::every_duration(&format!("{ms}ms"), Duration::from_millis(ms))
    }

    /// Validates an interval already in hand; `input` is only for the message.
    fn every_duration(input: &str, d: Duration) -> Result<Recurrence, RecurrenceError> {
        let err = |what: &str| RecurrenceError::Every {
            input: input.to_string(),
            reason: format!("'{input}' {what}; {EVERY_FORM}"),
        };
        if d.is_zero() {
            return Err(err("is zero"));
        }
        if d < MIN_EVERY {
            return Err(err("is shorter than one second"));
        }
        if !d.subsec_nanos().is_multiple_of(1_000_000) {
            return Err(err("is not a whole number of milliseconds"));
        }
        if d.as_millis() > i64::MAX as u128 {
            return Err(err("is too long"));
        }
        Ok(Recurrence::Every(d))
    }

    /// Parses a five-field cron expression or a nickname (@hourly, @daily, @weekly, @monthly,
    /// @yearly, @annually). Seconds and year fields are refused: Nightshift schedules to the
    /// minute.
    pub fn cron(text: &str) -> Result<Recurrence, RecurrenceError> {
        CronSchedule::parse(text).map(Recurrence::Cron)
    }

    /// The compact form stored in a TEXT column: "every 3600000" (milliseconds) or
    /// "cron 30 2 * * *". [`Recurrence::from_text`] reads it back.
    pub fn to_text(&self) -> String {
        match self {
            Recurrence::Every(d) => format!("every {}", period_ms(*d)),
            Recurrence::Cron(c) => format!("cron {}", c.as_str()),
        }
    }

    /// Reads [`Recurrence::to_text`]'s form back. Also accepts the [`Display`](fmt::Display)
    /// form, where the interval has a unit ("every 1h 30m").
    pub fn from_text(text: &str) -> Result<Recurrence, RecurrenceError> {
        let trimmed = text.trim();
        let (kind, rest) = trimmed
            .split_once(char::is_whitespace)
            .map(|(k, r)| (k, r.trim()))
            .unwrap_or((trimmed, ""));
        match kind {
            "every" if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) => {
                match rest.parse::<u64>() {
                    Ok(ms) => Self::every_duration(rest, Duration::from_millis(ms)),
                    Err(_) => Err(RecurrenceError::Every {
                        input: rest.to_string(),
                        reason: format!("'{rest}' milliseconds is too long; {EVERY_FORM}"),
                    }),
                }
            }
            "every" if !rest.is_empty() => Self::every(rest),
            "cron" if !rest.is_empty() => Self::cron(rest),
            _ => Err(RecurrenceError::Text {
                input: trimmed.to_string(),
            }),
        }
    }
}

/// The period of an `every` schedule in milliseconds, at least 1.
fn period_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// "every 1h 30m" or "cron 30 2 * * *": for people. [`Recurrence::from_text`] reads it too.
impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recurrence::Every(d) => {
                let d = Duration::from_millis(period_ms(*d).unsigned_abs());
                write!(f, "every {}", humantime::format_duration(d))
            }
            Recurrence::Cron(c) => write!(f, "cron {}", c.as_str()),
        }
    }
}

impl FromStr for Recurrence {
    type Err = RecurrenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Recurrence::from_text(s)
    }
}

/// The serde shape: `{"kind":"every","every_ms":3600000}` or `{"kind":"cron","expr":"30 2 * * *"}`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Repr {
    Every { every_ms: u64 },
    Cron { expr: String },
}

impl From<Recurrence> for Repr {
    fn from(r: Recurrence) -> Repr {
        match r {
            Recurrence::Every(d) => Repr::Every {
                every_ms: period_ms(d).unsigned_abs(),
            },
            Recurrence::Cron(c) => Repr::Cron {
                expr: c.as_str().to_owned(),
            },
        }
    }
}

impl TryFrom<Repr> for Recurrence {
    type Error = RecurrenceError;

    fn try_from(r: Repr) -> Result<Recurrence, RecurrenceError> {
        match r {
            Repr::Every { every_ms } => Recurrence::every_duration(
                &format!("{every_ms}ms"),
                Duration::from_millis(every_ms),
            ),
            Repr::Cron { expr } => Recurrence::cron(&expr),
        }
    }
}
