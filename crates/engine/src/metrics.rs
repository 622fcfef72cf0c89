//! The engine's live counts of the work, recorded where the engine makes each event (never by
//! reading the jobs table back): jobs added, started and ended per queue, failures by cause,
//! run and wait times. Two views of the same records:
//! - the current period's tally per queue, which the minute snapshot takes and stores (the
//!   history, and summaries over any window, come from those rows);
//! - totals since this engine started, with fixed-bound histograms, for Prometheus (whose
//!   counters start again from zero at a restart, as its `rate()` expects).
//!
//! One short lock per event; nothing here waits on I/O.

use nightshift_core::metrics::{FailureCause, Tally};
use nightshift_core::{AttemptOutcome, JobState};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The bounds, in seconds, of the run- and wait-time histograms exposed to Prometheus: from
/// 10 ms to a day, a few per decade, so a quantile over them is useful for jobs of any length
/// without a series per fine bucket.
pub const BUCKET_BOUNDS_SECONDS: [f64; 16] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0,
    86400.0,
];

/// A histogram with the fixed bounds above, counting each observation once in its bucket.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FixedHistogram {
    /// Observations per bucket: one per bound, and a last one above every bound.
    pub counts: [u64; BUCKET_BOUNDS_SECONDS.len() + 1],
    pub sum_seconds: f64,
    pub count: u64,
}

impl FixedHistogram {
    pub fn record(&mut self, ms: u64) {
        let seconds = ms as f64 / 1000.0;
        let i = BUCKET_BOUNDS_SECONDS.partition_point(|&bound| bound < seconds);
        self.counts[i] = self.counts[i].saturating_add(1);
        self.sum_seconds += seconds;
        self.count = self.count.saturating_add(1);
    }

    /// `(bound, observations at or below it)` for each bound, as Prometheus' `le` buckets.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut seen = 0u64;
        BUCKET_BOUNDS_SECONDS
            .iter()
            .zip(self.counts)
            .map(|(&bound, n)| {
                seen = seen.saturating_add(n);
                (bound, seen)
            })
            .collect()
    }
}

/// One queue's counts since the engine started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueTotals {
    /// The counters (its histograms are left empty: `run` and `wait` below are exposed).
    pub counts: Tally,
    pub run: FixedHistogram,
    pub wait: FixedHistogram,
}

#[derive(Debug, Default)]
struct Inner {
    period: BTreeMap<String, Tally>,
    totals: BTreeMap<String, QueueTotals>,
}

/// `queue`'s entry, made on first use; the name is copied only then, not on every event.
fn of_queue<'a, T: Default>(map: &'a mut BTreeMap<String, T>, queue: &str) -> &'a mut T {
    if !map.contains_key(queue) {
        map.insert(queue.to_string(), T::default());
    }
    map.get_mut(queue).expect("inserted above")
}

#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Inner>,
    /// `metrics.enabled`: when off, nothing is counted.
    enabled: bool,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new(true)
    }
}

impl Metrics {
    pub fn new(enabled: bool) -> Metrics {
        Metrics {
            inner: Mutex::default(),
            enabled,
        }
    }

    fn with(&self, queue: &str, f: impl Fn(&mut Tally, &mut QueueTotals)) {
        if !self.enabled {
            return;
        }
        // A panic while holding this lock cannot leave a count half made that matters more
        // than the counting going on: take the data back.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Inner { period, totals } = &mut *inner;
        f(of_queue(period, queue), of_queue(totals, queue));
    }

    /// `n` new jobs were stored in `queue`.
    pub(crate) fn added(&self, queue: &str, n: u64) {
        self.with(queue, |t, total| {
            t.added = t.added.saturating_add(n);
            total.counts.added = total.counts.added.saturating_add(n);
        });
    }

    /// An attempt started after its job waited `wait_ms` since it was ready.
    pub(crate) fn started(&self, queue: &str, wait_ms: u64) {
        self.with(queue, |t, total| {
            t.started = t.started.saturating_add(1);
            t.wait.record(wait_ms);
            total.counts.started = total.counts.started.saturating_add(1);
            total.wait.record(wait_ms);
        });
    }

    /// An attempt ended with `outcome` after running `run_ms` (`None` if it never ran), and
    /// its job is now `state`.
    pub(crate) fn ended(
        &self,
        queue: &str,
        outcome: AttemptOutcome,
        signal: Option<i32>,
        state: JobState,
        run_ms: Option<u64>,
    ) {
        let cause = FailureCause::of(outcome, signal);
        self.with(queue, |t, total| {
            for tally in [&mut *t, &mut total.counts] {
                if let Some(cause) = cause {
                    tally.add_failure(cause);
                }
                let slot = match state {
                    JobState::Succeeded => &mut tally.succeeded,
                    JobState::Failed => &mut tally.failed,
                    JobState::Cancelled => &mut tally.cancelled,
                    // Back in its queue after a failure (an interruption by a stop or a power
                    // loss is not a retry: the job did nothing wrong).
                    JobState::Queued if cause.is_some_and(|c| c != FailureCause::Interrupted) => {
                        &mut tally.retried
                    }
                    JobState::Queued | JobState::Running => continue,
                };
                *slot = slot.saturating_add(1);
            }
            if let Some(ms) = run_ms {
                t.run.record(ms);
                total.run.record(ms);
            }
        });
    }

    /// A job that was not running was cancelled (by a person, or because a job it runs after
    /// failed).
    pub(crate) fn cancelled(&self, queue: &str) {
        self.with(queue, |t, total| {
            t.cancelled = t.cancelled.saturating_add(1);
            total.counts.cancelled = total.counts.cancelled.saturating_add(1);
        });
    }

    /// Takes the current period's tallies, leaving an empty period: the minute snapshot's.
    pub fn take_period(&self) -> BTreeMap<String, Tally> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut inner.period)
    }

    /// Puts a taken period back (its minute could not be written): the next period carries it.
    pub fn restore_period(&self, period: BTreeMap<String, Tally>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for (queue, tally) in period {
            of_queue(&mut inner.period, &queue).merge(&tally);
        }
    }

    /// The current period's tallies, left in place (a summary's last, unfinished minute).
    pub fn period(&self) -> BTreeMap<String, Tally> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .period
            .clone()
    }

    /// Every queue's totals since the engine started.
    pub fn totals(&self) -> BTreeMap<String, QueueTotals> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .totals
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_count_where_the_job_ends_up_and_failures_by_cause() {
        let m = Metrics::new(true);
        m.added("q", 3);
        m.started("q", 5);
        m.ended(
            "q",
            AttemptOutcome::Succeeded,
            None,
            JobState::Succeeded,
            Some(1200),
        );
        m.ended(
            "q",
            AttemptOutcome::Failed,
            None,
            JobState::Queued,
            Some(10),
        );
        m.ended(
            "q",
            AttemptOutcome::TimedOut,
            Some(15),
            JobState::Failed,
            Some(60_000),
        );
        m.ended(
            "q",
            AttemptOutcome::Interrupted,
            None,
            JobState::Queued,
            None,
        );
        m.cancelled("q");
        let period = m.take_period();
        let q = &period["q"];
        assert_eq!(
            (q.added, q.started, q.succeeded, q.failed, q.cancelled),
            (3, 1, 1, 1, 1)
        );
        assert_eq!(q.retried, 1, "an interruption is not a retry");
        assert_eq!((q.failed_exit_code, q.timed_out, q.interrupted), (1, 1, 1));
        assert_eq!(q.run.count(), 3);
        assert!(m.take_period().is_empty(), "taking the period empties it");
        let totals = m.totals();
        assert_eq!(totals["q"].counts.succeeded, 1);
        assert_eq!(totals["q"].run.count, 3);
    }

    #[test]
    fn fixed_buckets_count_at_or_below_each_bound() {
        let mut h = FixedHistogram::default();
        for ms in [10, 11, 1000, 100_000_000] {
            h.record(ms);
        }
        let cumulative = h.cumulative();
        assert_eq!(cumulative[0], (0.01, 1), "10 ms is at the 0.01 s bound");
        assert_eq!(cumulative[5], (1.0, 3));
        assert_eq!(
            cumulative.last().unwrap().1,
            3,
            "a day and more is above every bound"
        );
        assert_eq!(h.count, 4);
    }
}
