//! The history of the work as rows of minutes and hours, and how a window is read from them.
//!
//! Minutes are kept for a while (`metrics.minutes_kept`), hours longer; every hour before the
//! roll-up's mark has its row, and no minute before the prune's mark is left. A window is read
//! from hours where its step is a whole number of hours (few rows, fast) and from minutes where
//! its step is finer, and from whichever table still holds the time when only one does
//! ([`plan`]). Rows then fall into the window's steps ([`bucket`]), and the spans of minutes
//! Nightshift was running say which steps are gaps rather than quiet.

use super::Tally;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;

/// `t` rounded down to a multiple of `unit` (toward the past, for times before 1970 too).
pub fn floor_to(t: i64, unit: i64) -> i64 {
    t.div_euclid(unit).saturating_mul(unit)
}

/// `t` rounded up to a multiple of `unit`.
pub fn ceil_to(t: i64, unit: i64) -> i64 {
    let floor = floor_to(t, unit);
    if floor == t {
        t
    } else {
        floor.saturating_add(unit)
    }
}

/// A queue's state sampled at the end of a minute. In an hour's row, and in a step of a trend,
/// each is the sum over the minutes covered: divided by those minutes it is the mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Gauges {
    /// Jobs ready to start (or waiting on their dependencies).
    pub queued: u64,
    /// Jobs waiting for their time (`add --at`, `--delay`, a retry's backoff).
    pub scheduled: u64,
    /// Jobs waiting for power: their own needs, or their queue's while it is held.
    pub held: u64,
    pub running: u64,
    /// 1 when the queue was paused.
    pub paused: u64,
    /// 1 when the queue was held for power.
    pub power_held: u64,
}

impl Gauges {
    pub fn merge(&mut self, other: &Gauges) {
        for (mine, theirs) in [
            (&mut self.queued, other.queued),
            (&mut self.scheduled, other.scheduled),
            (&mut self.held, other.held),
            (&mut self.running, other.running),
            (&mut self.paused, other.paused),
            (&mut self.power_held, other.power_held),
        ] {
            *mine = mine.saturating_add(theirs);
        }
    }

    pub fn is_zero(&self) -> bool {
        *self == Gauges::default()
    }
}

/// One queue's row for one minute or one hour: what the history keeps, and each line of its
/// export.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = HistoryRow)]
pub struct Row {
    /// The start of the minute or hour, Unix milliseconds.
    pub at: i64,
    pub queue: String,
    #[serde(flatten)]
    pub gauges: Gauges,
    #[serde(flatten)]
    pub tally: Tally,
}

impl Row {
    /// Adds `other` (another sample of the same minute, or a minute of the same hour).
    pub fn merge(&mut self, other: &Row) {
        self.gauges.merge(&other.gauges);
        self.tally.merge(&other.tally);
    }
}

/// Where the roll-up and the pruning have got to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// Every hour before this one has its row (an hour's start); `None` before the first roll-up.
    pub rolled_up_to: Option<i64>,
    /// No minute before this is left (an hour's start, at most `rolled_up_to`); `None` before
    /// the first prune.
    pub minutes_from: Option<i64>,
}

/// Which rows a window is read from: hours over one range and minutes over others, together
/// covering the window once (hours may reach past its edges to their whole hour).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub hours: Option<(i64, i64)>,
    pub minutes: Vec<(i64, i64)>,
}

/// The rows to read for `[from, to)` at `step` milliseconds.
pub fn plan(from: i64, to: i64, step: i64, marks: Marks) -> Plan {
    let rolled = marks.rolled_up_to.unwrap_or(i64::MIN);
    let minutes_from = marks.minutes_from.unwrap_or(i64::MIN);
    let mut plan = Plan::default();
    if from >= to {
        return plan;
    }
    let coarse = step >= HOUR_MS && step % HOUR_MS == 0;
    let (hours_from, hours_to) = if coarse {
        // Hours wherever they are rolled up; minutes only at the edges.
        let first = if from >= minutes_from {
            ceil_to(from, HOUR_MS)
        } else {
            floor_to(from, HOUR_MS)
        };
        let mut last = first.max(floor_to(to, HOUR_MS).min(rolled));
        if last < minutes_from {
            // The whole window is older than the minutes left: its last hour comes whole.
            last = ceil_to(to, HOUR_MS).min(rolled);
        }
        (first, last)
    } else if from < minutes_from {
        // Minutes wherever they are left; hours only where they are gone.
        (
            floor_to(from, HOUR_MS),
            minutes_from.min(ceil_to(to, HOUR_MS)),
        )
    } else {
        (from, from)
    };
    if hours_from < hours_to {
        plan.hours = Some((hours_from, hours_to));
    }
    let mut push = |lo: i64, hi: i64| {
        let lo = lo.max(minutes_from);
        if lo < hi {
            match plan.minutes.last_mut() {
                Some(last) if last.1 == lo => last.1 = hi,
                _ => plan.minutes.push((lo, hi)),
            }
        }
    };
    if hours_from < hours_to {
        push(from, hours_from.min(to));
        push(hours_to.max(from), to);
    } else {
        push(from, to);
    }
    plan
}

/// One step of a window: what every queue did in it and the minutes Nightshift ran in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    pub at: i64,
    /// Minutes of the step Nightshift was running; 0 is a gap (nothing is known).
    pub covered_minutes: u64,
    pub queues: BTreeMap<String, Row>,
}

/// Puts `rows` into the `count` steps of `step` ms from `from`, the last reaching at least to
/// `to` (a row before the first step, an hour begun before the window, goes into the first; one
/// after the last into the last), and counts each step's minutes covered by `spans` (first and
/// last minutes included; a minute the step holds only part of counts whole).
pub fn bucket(
    rows: impl IntoIterator<Item = Row>,
    spans: &[(i64, i64)],
    (from, to): (i64, i64),
    step: i64,
    count: usize,
) -> Vec<Step> {
    let mut steps: Vec<Step> = (0..count)
        .map(|i| Step {
            at: from.saturating_add(step.saturating_mul(i as i64)),
            ..Step::default()
        })
        .collect();
    if count == 0 || step <= 0 {
        return steps;
    }
    let last = count - 1;
    for row in rows {
        let i = (row.at.saturating_sub(from).div_euclid(step)).clamp(0, last as i64) as usize;
        let at = steps[i].at;
        let entry = steps[i]
            .queues
            .entry(row.queue.clone())
            .or_insert_with(|| Row {
                at,
                queue: row.queue.clone(),
                ..Row::default()
            });
        entry.merge(&row);
    }
    for (i, s) in steps.iter_mut().enumerate() {
        let mut end = s.at.saturating_add(step);
        if i == last {
            end = end.max(to);
        }
        let minutes_in_step =
            u64::try_from(ceil_to(end - s.at, MINUTE_MS) / MINUTE_MS).unwrap_or(0);
        s.covered_minutes = spans
            .iter()
            .map(|&(first, last)| {
                let lo = first.max(s.at);
                let hi = last.saturating_add(MINUTE_MS).min(end);
                if hi > lo {
                    u64::try_from(ceil_to(hi - lo, MINUTE_MS) / MINUTE_MS).unwrap_or(0)
                } else {
                    0
                }
            })
            .sum::<u64>()
            // Spans overlap only if the clock went back; a step is never more than covered.
            .min(minutes_in_step);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 24 * HOUR_MS;

    #[test]
    fn rounding_goes_toward_the_past_and_future() {
        assert_eq!(floor_to(-1, MINUTE_MS), -MINUTE_MS);
        assert_eq!(ceil_to(1, MINUTE_MS), MINUTE_MS);
        assert_eq!(ceil_to(MINUTE_MS, MINUTE_MS), MINUTE_MS);
        assert_eq!(ceil_to(i64::MAX, HOUR_MS), i64::MAX);
    }

    #[test]
    fn before_any_roll_up_a_window_is_all_minutes() {
        let p = plan(10 * MINUTE_MS, 7 * DAY, HOUR_MS, Marks::default());
        assert_eq!(p.hours, None);
        assert_eq!(p.minutes, vec![(10 * MINUTE_MS, 7 * DAY)]);
    }

    #[test]
    fn a_coarse_window_reads_rolled_hours_and_minutes_at_its_edges() {
        let marks = Marks {
            rolled_up_to: Some(30 * HOUR_MS),
            minutes_from: Some(10 * HOUR_MS),
        };
        let from = 20 * HOUR_MS + 5 * MINUTE_MS;
        let to = 32 * HOUR_MS + 7 * MINUTE_MS;
        let p = plan(from, to, HOUR_MS, marks);
        assert_eq!(p.hours, Some((21 * HOUR_MS, 30 * HOUR_MS)));
        assert_eq!(p.minutes, vec![(from, 21 * HOUR_MS), (30 * HOUR_MS, to)]);
        // A fine step reads minutes wherever they are left.
        let p = plan(from, to, MINUTE_MS, marks);
        assert_eq!(p.hours, None);
        assert_eq!(p.minutes, vec![(from, to)]);
    }

    #[test]
    fn a_window_older_than_the_minutes_comes_in_whole_hours() {
        let marks = Marks {
            rolled_up_to: Some(30 * HOUR_MS),
            minutes_from: Some(10 * HOUR_MS),
        };
        let p = plan(2 * HOUR_MS + 1, 5 * HOUR_MS + 1, MINUTE_MS, marks);
        assert_eq!(p.hours, Some((2 * HOUR_MS, 6 * HOUR_MS)));
        assert!(p.minutes.is_empty());
    }

    #[test]
    fn steps_take_their_rows_and_count_the_minutes_covered() {
        let row = |at: i64, queue: &str, added: u64| Row {
            at,
            queue: queue.into(),
            tally: Tally {
                added,
                ..Tally::default()
            },
            ..Row::default()
        };
        let rows = vec![
            row(-HOUR_MS, "a", 1), // an hour begun before the window
            row(0, "a", 2),
            row(9 * MINUTE_MS, "b", 4),
            row(10 * MINUTE_MS, "a", 8),
        ];
        // Running from minute 5 to minute 12; steps of 10 minutes from 0.
        let spans = [(5 * MINUTE_MS, 12 * MINUTE_MS)];
        let steps = bucket(rows, &spans, (0, 30 * MINUTE_MS), 10 * MINUTE_MS, 3);
        assert_eq!(steps[0].queues["a"].tally.added, 3);
        assert_eq!(steps[0].queues["b"].tally.added, 4);
        assert_eq!(steps[1].queues["a"].tally.added, 8);
        assert_eq!(steps[1].queues["a"].at, 10 * MINUTE_MS);
        let covered: Vec<u64> = steps.iter().map(|s| s.covered_minutes).collect();
        assert_eq!(covered, vec![5, 3, 0]);
    }

    fn marks() -> impl Strategy<Value = Marks> {
        (
            proptest::option::of(0i64..200),
            proptest::option::of(0i64..200),
        )
            .prop_map(|(r, m)| {
                // The prune never passes the roll-up.
                let rolled = r.map(|h| h * HOUR_MS);
                let minutes = match (m, rolled) {
                    (Some(m), Some(r)) => Some((m * HOUR_MS).min(r)),
                    _ => None,
                };
                Marks {
                    rolled_up_to: rolled,
                    minutes_from: minutes,
                }
            })
    }

    proptest! {
        /// Every minute of the window is read once, from a row that exists: a minute row at or
        /// after the prune's mark, or an hour row before the roll-up's mark.
        #[test]
        fn a_plan_reads_every_minute_once_from_rows_that_exist(
            marks in marks(),
            from_min in 0i64..(220 * 60),
            len_min in 1i64..(30 * 60),
            step_kind in 0u8..3,
        ) {
            let step = match step_kind { 0 => MINUTE_MS, 1 => 15 * MINUTE_MS, _ => 2 * HOUR_MS };
            let from = from_min * MINUTE_MS;
            let to = from + len_min * MINUTE_MS;
            let p = plan(from, to, step, marks);
            let rolled = marks.rolled_up_to.unwrap_or(i64::MIN);
            let kept = marks.minutes_from.unwrap_or(i64::MIN);
            if let Some((lo, hi)) = p.hours {
                prop_assert!(lo % HOUR_MS == 0 && hi % HOUR_MS == 0 && hi <= rolled);
                prop_assert!(lo <= from.max(lo) && lo > from - HOUR_MS);
            }
            for &(lo, hi) in &p.minutes {
                prop_assert!(lo >= kept && lo >= from && hi <= to && lo < hi);
            }
            let mut m = from;
            while m < to {
                let in_hours = p.hours.is_some_and(|(lo, hi)| m >= lo && m < hi);
                let in_minutes = p.minutes.iter().filter(|&&(lo, hi)| m >= lo && m < hi).count();
                // A minute the prune took is read from its hour, if its hour is rolled up.
                let readable = m >= kept || floor_to(m, HOUR_MS) < rolled;
                if readable {
                    prop_assert_eq!(usize::from(in_hours) + in_minutes, 1, "minute {}", m / MINUTE_MS);
                }
                m += MINUTE_MS;
            }
        }

        #[test]
        fn bucketing_loses_no_count(
            ats in proptest::collection::vec(-100i64..1000, 0..50),
            step_min in 1i64..120,
            count in 1usize..20,
        ) {
            let rows: Vec<Row> = ats.iter().map(|&m| Row {
                at: m * MINUTE_MS,
                queue: "q".into(),
                tally: Tally { added: 1, ..Tally::default() },
                ..Row::default()
            }).collect();
            let steps = bucket(rows, &[], (0, 0), step_min * MINUTE_MS, count);
            let total: u64 = steps.iter().flat_map(|s| s.queues.values()).map(|r| r.tally.added).sum();
            prop_assert_eq!(total, ats.len() as u64);
        }
    }
}
