//! When a worker that exited is started again: after an exponential backoff (5 s, 10 s, 20 s,
//! 40 s, then 60 s each time by default), less a random share so that the workers of a pool
//! that crashed together do not all come back in the same instant, and never more than the
//! maximum. A worker that ran for `reset_after` before it exited starts the sequence afresh;
//! a pool whose workers keep exiting sooner is crash-looping after `CRASH_LOOP_AFTER` restarts
//! in a row. The engine supplies the random share and the clock, so tests can check exact
//! sequences.

use std::time::Duration;

/// Consecutive quick exits after which a pool is said to be crash-looping (with the defaults,
/// after about two minutes of crashes). It goes on being restarted, at the maximum backoff.
pub const CRASH_LOOP_AFTER: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The wait before the first restart.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// The largest share of a wait taken off at random, 0 to 1 (0.2: a 10 s wait is 8 to 10 s).
    pub jitter: f64,
    /// A worker that ran this long before it exited starts the sequence afresh.
    pub reset_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(60),
            jitter: 0.2,
            reset_after: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The wait before restart number `restarts + 1` in a row (0: the first restart), with
    /// `unit` a random number in [0, 1) choosing the jitter.
    pub fn delay(&self, restarts: u32, unit: f64) -> Duration {
        // 2^restarts saturates long before it overflows anything: past 2^31 the cap applies.
        let factor = 1u32.checked_shl(restarts.min(31)).unwrap_or(u32::MAX);
        let base = self.initial.saturating_mul(factor).min(self.max);
        let share = (self.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0)).min(1.0);
        base.saturating_sub(base.mul_f64(share))
    }
}

/// One worker slot's run of quick exits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restarts {
    /// Exits in a row that came sooner than `reset_after` after their start.
    pub in_a_row: u32,
}

impl Restarts {
    /// The worker exited after running for `ran`: counts the exit (or starts afresh after a
    /// long run) and returns the wait before starting it again.
    pub fn exited(&mut self, backoff: &Backoff, ran: Duration, unit: f64) -> Duration {
        if ran >= backoff.reset_after {
            self.in_a_row = 0;
        }
        let wait = backoff.delay(self.in_a_row, unit);
        self.in_a_row = self.in_a_row.saturating_add(1);
        wait
    }

    pub fn crash_looping(&self) -> bool {
        self.in_a_row >= CRASH_LOOP_AFTER
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn the_default_sequence_is_5_10_20_40_60_60_within_its_jitter() {
        let b = Backoff::default();
        let mut r = Restarts::default();
        for (i, want) in [5, 10, 20, 40, 60, 60, 60].into_iter().enumerate() {
            // No jitter at unit 0; at most a fifth off at the other end.
            assert_eq!(b.delay(i as u32, 0.0), S(want));
            let low = b.delay(i as u32, 0.999_999);
            assert!(
                low >= S(want).mul_f64(0.8) && low <= S(want),
                "{i}: {low:?}"
            );
            assert_eq!(r.exited(&b, S(1), 0.0), S(want));
        }
        assert!(r.crash_looping());
    }

    #[test]
    fn a_long_run_starts_the_sequence_afresh() {
        let b = Backoff::default();
        let mut r = Restarts::default();
        for _ in 0..4 {
            r.exited(&b, S(2), 0.0);
        }
        assert_eq!(r.exited(&b, S(61), 0.0), S(5));
        assert_eq!(r.exited(&b, S(1), 0.0), S(10));
        assert!(!r.crash_looping());
    }

    proptest! {
        /// Any settings and any count of restarts: the wait never exceeds the maximum nor
        /// goes below its jitter, and never panics.
        #[test]
        fn the_wait_stays_within_its_bounds(
            initial in 0u64..1_000_000, max in 0u64..10_000_000, jitter in -1.0f64..2.0,
            restarts in any::<u32>(), unit in -1.0f64..2.0,
        ) {
            let b = Backoff { initial: Duration::from_millis(initial), max: Duration::from_millis(max), jitter, reset_after: S(60) };
            let wait = b.delay(restarts, unit);
            let base = b.delay(restarts, 0.0);
            prop_assert!(base <= b.max);
            prop_assert!(wait <= base);
            prop_assert!(wait >= base.mul_f64(1.0 - jitter.clamp(0.0, 1.0)).saturating_sub(Duration::from_nanos(1)));
        }
    }
}
