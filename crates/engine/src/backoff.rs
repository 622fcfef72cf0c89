//! Retry backoff: exponential from `jobs.retry_backoff`, capped at `jobs.retry_backoff_max`,
//! with jitter so jobs that failed together do not all come back in the same instant.

use std::time::Duration;

/// The wait before attempt `next` (2 for the first retry). `jitter` in [0, 1) picks a point
/// in the upper half of the exponential step: the delay is between half and all of it.
pub fn delay(next: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exponent = next.saturating_sub(2).min(30);
    let step = base.saturating_mul(1u32 << exponent).min(max);
    step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// A jitter value from the job id and the clock: spread enough for this purpose, and no
/// random-number crate for it.
pub fn jitter(seed: u64) -> f64 {
    // SplitMix64 finaliser: a well-mixed 64-bit value from any seed.
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(5);
    const MAX: Duration = Duration::from_secs(600);

    #[test]
    fn doubles_per_attempt_within_half_and_whole_of_the_step() {
        for (next, step) in [(2, 5), (3, 10), (4, 20), (5, 40)] {
            let step = Duration::from_secs(step);
            assert_eq!(delay(next, BASE, MAX, 0.0), step / 2);
            assert_eq!(delay(next, BASE, MAX, 0.999_999), step.mul_f64(0.999_999_5));
            for j in [0.1, 0.5, 0.9] {
                let d = delay(next, BASE, MAX, j);
                assert!(d >= step / 2 && d <= step, "attempt {next}: {d:?}");
            }
        }
    }

    #[test]
    fn is_capped_and_never_overflows() {
        assert_eq!(delay(12, BASE, MAX, 0.0), MAX / 2);
        assert_eq!(delay(1000, BASE, MAX, 0.999_999), MAX.mul_f64(0.999_999_5));
    }

    #[test]
    fn jitter_spreads_over_the_unit_interval() {
        let values: Vec<f64> = (0..1000).map(jitter).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        let low = values.iter().filter(|v| **v < 0.5).count();
        assert!((400..600).contains(&low), "{low} of 1000 below one half");
    }
}
