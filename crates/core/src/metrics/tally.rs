//! What happened in one queue over one period: the counts and times a minute row keeps.

use super::Histogram;
use crate::job::AttemptOutcome;
use serde::{Deserialize, Serialize};

/// Why an attempt failed, for counting failures by cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureCause {
    /// It exited with a code other than 0.
    ExitCode,
    /// A signal ended it (not one Nightshift sent for a timeout or a cancel).
    Signal,
    /// It ran past its timeout and was stopped.
    Timeout,
    /// It could not be started (program not found, not executable, bad folder).
    SpawnFailed,
    /// Nightshift stopped under it (a crash, a shutdown or power loss sent it back).
    Interrupted,
}

impl FailureCause {
    pub const ALL: [FailureCause; 5] = [
        FailureCause::ExitCode,
        FailureCause::Signal,
        FailureCause::Timeout,
        FailureCause::SpawnFailed,
        FailureCause::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureCause::ExitCode => "exit_code",
            FailureCause::Signal => "signal",
            FailureCause::Timeout => "timeout",
            FailureCause::SpawnFailed => "spawn_failed",
            FailureCause::Interrupted => "interrupted",
        }
    }

    /// The cause of an attempt's end, or `None` for an end that is not a failure (success,
    /// cancel).
    pub fn of(outcome: AttemptOutcome, signal: Option<i32>) -> Option<FailureCause> {
        match outcome {
            AttemptOutcome::Failed if signal.is_some() => Some(FailureCause::Signal),
            AttemptOutcome::Failed => Some(FailureCause::ExitCode),
            AttemptOutcome::TimedOut => Some(FailureCause::Timeout),
            AttemptOutcome::SpawnFailed => Some(FailureCause::SpawnFailed),
            AttemptOutcome::Interrupted => Some(FailureCause::Interrupted),
            AttemptOutcome::Succeeded
            | AttemptOutcome::Cancelled
            | AttemptOutcome::Starting
            | AttemptOutcome::Running => None,
        }
    }
}

/// Counts and times of one queue over one period. Jobs count where they end up: `succeeded`,
/// `failed` (for good) and `cancelled` are jobs that reached that final state; `retried` are
/// attempts that failed and sent their job back to its queue. `failures` count every failed
/// attempt by cause, retried or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tally {
    pub added: u64,
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub retried: u64,
    pub failed_exit_code: u64,
    pub failed_signal: u64,
    pub timed_out: u64,
    pub spawn_failed: u64,
    pub interrupted: u64,
    /// Run times of attempts that ended (started to ended): sparse buckets (`b`: bucket index
    /// to count; bucket `i >= 1` holds `[2^((i-1)/4), 2^(i/4))` ms, bucket 0 holds 0 ms), with
    /// count `n`, sum `s` and max `m`.
    #[schema(value_type = Object)]
    pub run: Histogram,
    /// Wait times of attempts that started (ready to started), as `run`.
    #[schema(value_type = Object)]
    pub wait: Histogram,
}

impl Tally {
    /// Failed attempts of `cause`.
    pub fn failures(&self, cause: FailureCause) -> u64 {
        match cause {
            FailureCause::ExitCode => self.failed_exit_code,
            FailureCause::Signal => self.failed_signal,
            FailureCause::Timeout => self.timed_out,
            FailureCause::SpawnFailed => self.spawn_failed,
            FailureCause::Interrupted => self.interrupted,
        }
    }

    pub fn add_failure(&mut self, cause: FailureCause) {
        let slot = match cause {
            FailureCause::ExitCode => &mut self.failed_exit_code,
            FailureCause::Signal => &mut self.failed_signal,
            FailureCause::Timeout => &mut self.timed_out,
            FailureCause::SpawnFailed => &mut self.spawn_failed,
            FailureCause::Interrupted => &mut self.interrupted,
        };
        *slot = slot.saturating_add(1);
    }

    /// Jobs that reached a final state.
    pub fn finished(&self) -> u64 {
        self.succeeded
            .saturating_add(self.failed)
            .saturating_add(self.cancelled)
    }

    /// Succeeded out of succeeded and failed (cancelled jobs say nothing of health), or `None`
    /// when none of either finished.
    pub fn success_rate(&self) -> Option<f64> {
        let judged = self.succeeded.saturating_add(self.failed);
        (judged > 0).then(|| self.succeeded as f64 / judged as f64)
    }

    /// Whether nothing happened.
    pub fn is_empty(&self) -> bool {
        *self == Tally::default()
    }

    /// Adds `other` to this one (two minutes into an hour, two queues into all).
    pub fn merge(&mut self, other: &Tally) {
        let pairs = [
            (&mut self.added, other.added),
            (&mut self.started, other.started),
            (&mut self.succeeded, other.succeeded),
            (&mut self.failed, other.failed),
            (&mut self.cancelled, other.cancelled),
            (&mut self.retried, other.retried),
            (&mut self.failed_exit_code, other.failed_exit_code),
            (&mut self.failed_signal, other.failed_signal),
            (&mut self.timed_out, other.timed_out),
            (&mut self.spawn_failed, other.spawn_failed),
            (&mut self.interrupted, other.interrupted),
        ];
        for (mine, theirs) in pairs {
            *mine = mine.saturating_add(theirs);
        }
        self.run.merge(&other.run);
        self.wait.merge(&other.wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_follow_the_outcome_and_the_signal() {
        assert_eq!(
            FailureCause::of(AttemptOutcome::Failed, None),
            Some(FailureCause::ExitCode)
        );
        assert_eq!(
            FailureCause::of(AttemptOutcome::Failed, Some(9)),
            Some(FailureCause::Signal)
        );
        assert_eq!(
            FailureCause::of(AttemptOutcome::TimedOut, Some(15)),
            Some(FailureCause::Timeout)
        );
        assert_eq!(FailureCause::of(AttemptOutcome::Succeeded, None), None);
        assert_eq!(FailureCause::of(AttemptOutcome::Cancelled, Some(15)), None);
    }

    #[test]
    fn merging_adds_every_count_and_both_histograms() {
        let mut a = Tally {
            added: 2,
            succeeded: 1,
            ..Tally::default()
        };
        a.add_failure(FailureCause::Timeout);
        a.run.record(10);
        let mut b = Tally {
            added: 1,
            failed: 1,
            ..Tally::default()
        };
        b.add_failure(FailureCause::Timeout);
        b.run.record(1000);
        a.merge(&b);
        assert_eq!((a.added, a.succeeded, a.failed, a.timed_out), (3, 1, 1, 2));
        assert_eq!(a.run.count(), 2);
        assert_eq!(a.success_rate(), Some(0.5));
        assert_eq!(Tally::default().success_rate(), None);
    }
}
