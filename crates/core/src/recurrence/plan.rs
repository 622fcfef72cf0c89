//! When a schedule fires next ([`Recurrence::next_after`], [`next_every`]) and what to do about
//! fire times that passed ([`Recurrence::plan`], [`Plan`]): the catch-up rules of the module docs.

use chrono::{Local, TimeZone};

use super::{Recurrence, period_ms};

/// A passed fire time no older than this is "on time" and runs even without catch-up: the timer
/// that should have fired it woke a little late (a busy machine, a coarse timer), nothing was
/// missed.
pub const ON_TIME_TOLERANCE_MS: i64 = 60_000;

/// [`Recurrence::plan`] counts passed cron fire times one by one, up to this many; past it,
/// [`Plan::missed_capped`] is set. An `every` schedule is counted exactly, by arithmetic.
pub const MISSED_COUNT_CAP: u64 = 1_000;

/// What to do when the scheduler looks at a recurring job at `now`. See the [module docs](super).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Start one run now.
    pub fire_now: bool,
    /// Fire times in `next_due ..= now` (`next_due` itself included); 0 when `now < next_due`.
    /// When `fire_now` they are all served by the one run; otherwise they were skipped.
    pub missed: u64,
    /// `missed` stopped counting at [`MISSED_COUNT_CAP`]; more fire times passed.
    pub missed_capped: bool,
    /// The next planned fire time: unchanged when nothing was due, otherwise the first fire time
    /// strictly after `now`. `None` when the schedule has no fire time left that can be
    /// represented (an `every` past the end of `i64`, a cron past year 5000).
    pub next_due_ms: Option<i64>,
}

impl Plan {
    /// Fire times passed and none will run for them.
    pub fn skipped(&self) -> bool {
        self.missed > 0 && !self.fire_now
    }
}

impl Recurrence {
    /// The first fire time strictly after `after_ms`, on the local wall clock. `anchor_ms` is
    /// where an `every` schedule starts (its first fire time); a cron schedule ignores it.
    /// `None` when no later fire time can be represented.
    pub fn next_after(&self, anchor_ms: i64, after_ms: i64) -> Option<i64> {
        self.next_after_in(anchor_ms, after_ms, &Local)
    }

    /// [`Recurrence::next_after`] with cron times read in `tz`.
    pub fn next_after_in<Tz: TimeZone>(
        &self,
        anchor_ms: i64,
        after_ms: i64,
        tz: &Tz,
    ) -> Option<i64> {
        match self {
            Recurrence::Every(d) => {
                let next = next_every_wide(anchor_ms, period_ms(*d), after_ms);
                i64::try_from(next).ok()
            }
            Recurrence::Cron(c) => c.next_after_in(after_ms, tz),
        }
    }

    /// Decides what happens at `now_ms` for a job whose next planned fire time is
    /// `next_due_ms`, on the local wall clock. See the [module docs](super) and [`Plan`].
    pub fn plan(&self, anchor_ms: i64, next_due_ms: i64, now_ms: i64, catch_up: bool) -> Plan {
        self.plan_in(anchor_ms, next_due_ms, now_ms, catch_up, &Local)
    }

    /// [`Recurrence::plan`] with cron times read in `tz`.
    pub fn plan_in<Tz: TimeZone>(
        &self,
        anchor_ms: i64,
        next_due_ms: i64,
        now_ms: i64,
        catch_up: bool,
        tz: &Tz,
    ) -> Plan {
        if now_ms < next_due_ms {
            return Plan {
                fire_now: false,
                missed: 0,
                missed_capped: false,
                next_due_ms: Some(next_due_ms),
            };
        }
        let (missed, missed_capped, latest) = match self {
            Recurrence::Every(d) => {
                let p = i128::from(period_ms(*d));
                let now = i128::from(now_ms);
                // Grid times after next_due (which may itself be off the grid) up to now.
                let first = next_every_wide(anchor_ms, period_ms(*d), next_due_ms);
                let after_due = if first > now {
                    0
                } else {
                    (now - first) / p + 1
                };
                let latest = if after_due > 0 {
                    first + (after_due - 1) * p
                } else {
                    i128::from(next_due_ms)
                };
                let missed = u64::try_from(after_due + 1).unwrap_or(u64::MAX);
                (missed, false, latest)
            }
            Recurrence::Cron(c) => {
                let mut missed = 1u64;
                let mut capped = false;
                let mut latest = next_due_ms;
                while let Some(t) = c.next_after_in(latest, tz)
                    && t <= now_ms
                {
                    if missed == MISSED_COUNT_CAP {
                        capped = true;
                        break;
                    }
                    missed += 1;
                    latest = t;
                }
                if capped && let Some(prev) = c.at_or_before_in(now_ms, tz) {
                    latest = latest.max(prev.min(now_ms));
                }
                (missed, capped, i128::from(latest))
            }
        };
        let on_time = i128::from(now_ms) - latest <= i128::from(ON_TIME_TOLERANCE_MS);
        Plan {
            fire_now: catch_up || on_time,
            missed,
            missed_capped,
            next_due_ms: self.next_after_in(anchor_ms, now_ms, tz),
        }
    }
}

/// The fire times of an `every` schedule are `anchor_ms + k * period_ms` for k = 0, 1, 2, …;
/// this is the smallest of them strictly greater than `after_ms`. So it is `anchor_ms` itself
/// when `after_ms < anchor_ms`, and `anchor_ms + period_ms` when `after_ms == anchor_ms`.
/// A `period_ms` below 1 counts as 1; a result past `i64::MAX` saturates to it.
pub fn next_every(anchor_ms: i64, period_ms: i64, after_ms: i64) -> i64 {
    let next = next_every_wide(anchor_ms, period_ms, after_ms);
    i64::try_from(next).unwrap_or(i64::MAX)
}

/// [`next_every`] without the saturation: the arithmetic cannot overflow an `i128`.
fn next_every_wide(anchor_ms: i64, period_ms: i64, after_ms: i64) -> i128 {
    let anchor = i128::from(anchor_ms);
    let after = i128::from(after_ms);
    let p = i128::from(period_ms.max(1));
    if after < anchor {
        return anchor;
    }
    anchor + ((after - anchor) / p + 1) * p
}
