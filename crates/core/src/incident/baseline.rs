//! Baselines learned from the hourly history, per queue: the mean and standard deviation of the
//! hourly success rate and of the hourly run-time p95, over the hours that finished enough jobs
//! to say something. Learned only once there are `MIN_HOURS` such hours; until then the rules
//! that need a baseline say nothing for the queue (and `incidents rules` says it is learning).

use crate::metrics::Tally;
use serde::{Deserialize, Serialize};

/// Hours with enough jobs before a baseline is trusted.
pub const MIN_HOURS: usize = 24;
/// Jobs an hour must have finished to count toward a baseline.
pub const MIN_JOBS_PER_HOUR: u64 = 5;

/// What a queue's history says is usual.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Baseline {
    /// Hours it was learned from.
    pub hours: usize,
    /// Mean hourly success rate, percent.
    pub success_mean: f64,
    pub success_sd: f64,
    /// Mean hourly run-time p95, ms.
    pub p95_mean: f64,
    pub p95_sd: f64,
}

impl Baseline {
    /// The success rate under which a queue does worse than usual: mean − 2σ, never above
    /// `ceiling` percent.
    pub fn success_line(&self, ceiling: f64) -> f64 {
        (self.success_mean - 2.0 * self.success_sd).min(ceiling)
    }

    /// The p95 over which a queue is slower than usual: mean + 2σ, never under `floor_ms`.
    pub fn p95_line(&self, floor_ms: f64) -> f64 {
        (self.p95_mean + 2.0 * self.p95_sd).max(floor_ms)
    }
}

/// Learns a baseline from one queue's hourly tallies; `None` with fewer than `MIN_HOURS`
/// hours that finished at least `MIN_JOBS_PER_HOUR` jobs.
pub fn learn<'a>(hours: impl IntoIterator<Item = &'a Tally>) -> Option<Baseline> {
    let mut success = Vec::new();
    let mut p95 = Vec::new();
    for t in hours {
        let finished = t.succeeded.saturating_add(t.failed);
        if finished < MIN_JOBS_PER_HOUR {
            continue;
        }
        success.push(t.succeeded as f64 * 100.0 / finished as f64);
        if let Some(p) = t.run.quantile_ms(0.95).map(|ms| ms as f64) {
            p95.push(p);
        }
    }
    if success.len() < MIN_HOURS {
        return None;
    }
    let (success_mean, success_sd) = mean_sd(&success);
    let (p95_mean, p95_sd) = if p95.is_empty() {
        (0.0, 0.0)
    } else {
        mean_sd(&p95)
    };
    Some(Baseline {
        hours: success.len(),
        success_mean,
        success_sd,
        p95_mean,
        p95_sd,
    })
}

/// Mean and population standard deviation.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(succeeded: u64, failed: u64, run_ms: u64) -> Tally {
        let mut t = Tally {
            succeeded,
            failed,
            ..Tally::default()
        };
        for _ in 0..succeeded + failed {
            t.run.record(run_ms);
        }
        t
    }

    #[test]
    fn a_baseline_needs_24_hours_with_enough_jobs() {
        let hours: Vec<Tally> = (0..23).map(|_| hour(10, 0, 100)).collect();
        assert_eq!(learn(&hours), None);
        let mut more = hours.clone();
        more.push(hour(2, 1, 100));
        assert_eq!(learn(&more), None, "an hour of 3 jobs says nothing");
        more.push(hour(9, 1, 100));
        let b = learn(&more).unwrap();
        assert_eq!(b.hours, 24);
    }

    #[test]
    fn the_lines_are_mean_minus_and_plus_two_sigma_with_their_caps() {
        // Success alternates 90% and 100%: mean 95, σ 5 → line 85. p95 100 or 300 ms.
        let hours: Vec<Tally> = (0..24)
            .map(|i| {
                if i % 2 == 0 {
                    hour(9, 1, 100)
                } else {
                    hour(10, 0, 300)
                }
            })
            .collect();
        let b = learn(&hours).unwrap();
        assert!((b.success_mean - 95.0).abs() < 1e-9 && (b.success_sd - 5.0).abs() < 1e-9);
        assert!((b.success_line(100.0) - 85.0).abs() < 1e-9);
        assert_eq!(b.success_line(70.0), 70.0, "never above the ceiling");
        let p95 = |ms: u64| hour(1, 0, ms).run.quantile_ms(0.95).unwrap() as f64;
        let (lo, hi) = (p95(100), p95(300));
        let mean = (lo + hi) / 2.0;
        let sd = (hi - lo) / 2.0;
        assert!((b.p95_line(0.0) - (mean + 2.0 * sd)).abs() < 1e-6);
        assert_eq!(b.p95_line(1e9), 1e9, "never under the floor");
    }
}
