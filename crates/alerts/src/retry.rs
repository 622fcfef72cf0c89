//! When a delivery is tried again: 2 s after the first failure, doubling to at most 5 minutes,
//! given up after `MAX_ATTEMPTS` (about 25 minutes of trying). A receiver that refuses the
//! request itself (a 4xx other than 408 and 429) is not asked again.

use crate::send::Outcome;
use nightshift_store::Attempted;
use std::time::Duration;

pub const MAX_ATTEMPTS: u32 = 12;
const FIRST: Duration = Duration::from_secs(2);
const LONGEST: Duration = Duration::from_secs(300);

/// The wait after attempt number `attempts` (1: the first) failed.
pub fn next_wait(attempts: u32) -> Duration {
    let factor = 1u32
        .checked_shl(attempts.saturating_sub(1).min(31))
        .unwrap_or(u32::MAX);
    FIRST.saturating_mul(factor).min(LONGEST)
}

pub(crate) fn judge(outcome: Outcome, attempts: u32, now: i64) -> Attempted {
    match outcome {
        Outcome::Delivered(status) => Attempted::Delivered { status },
        Outcome::Refused(status, error)
            if !matches!(status, 408 | 429) && (400..500).contains(&status) =>
        {
            Attempted::Failed {
                status: Some(status),
                error,
            }
        }
        Outcome::Refused(status, error) => again(Some(status), error, attempts, now),
        Outcome::Unreachable(error) => again(None, error, attempts, now),
    }
}

fn again(status: Option<u16>, error: String, attempts: u32, now: i64) -> Attempted {
    if attempts >= MAX_ATTEMPTS {
        return Attempted::Failed {
            status,
            error: format!("{error} (gave up after {attempts} attempts)"),
        };
    }
    Attempted::Retry {
        status,
        error,
        next_at: nightshift_core::timestamp::later(now, next_wait(attempts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn waits_double_from_2s_to_5_minutes_and_twelve_attempts_are_the_most() {
        let secs: Vec<u64> = (1..=MAX_ATTEMPTS).map(|a| next_wait(a).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]);
        assert!(matches!(
            judge(Outcome::Unreachable("refused".into()), MAX_ATTEMPTS, 0),
            Attempted::Failed { .. }
        ));
        assert!(matches!(
            judge(Outcome::Refused(500, "boom".into()), 1, 0),
            Attempted::Retry { next_at: 2000, .. }
        ));
        assert!(matches!(
            judge(Outcome::Refused(404, "no".into()), 1, 0),
            Attempted::Failed { .. }
        ));
        assert!(matches!(
            judge(Outcome::Refused(429, "slow".into()), 1, 0),
            Attempted::Retry { .. }
        ));
        assert!(matches!(
            judge(Outcome::Delivered(204), 3, 0),
            Attempted::Delivered { status: 204 }
        ));
    }

    proptest! {
        #[test]
        fn any_attempt_count_and_time_gives_a_verdict(attempts in any::<u32>(), now in any::<i64>()) {
            let _ = next_wait(attempts);
            let _ = judge(Outcome::Unreachable("x".into()), attempts, now);
        }
    }
}
