//! A mergeable histogram of durations in milliseconds, for percentiles over any window.
//!
//! Buckets are a quarter of a power of two wide: bucket 0 holds 0 ms and bucket `i >= 1` holds
//! `[2^((i-1)/4), 2^(i/4))` ms, so a percentile read from it is at most 19% above the true
//! value (and never below it). The bucket bounds are the same everywhere and forever, so two
//! histograms (two minutes, two queues, two machines' exports) merge by adding their counts,
//! and p50/p95/p99 over a week come from a week of minute rows without reading one attempt.
//! Sparse: a minute whose jobs all took about the same time stores two or three buckets.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The highest bucket: about 2^63 ms, beyond anything a u64 of milliseconds holds.
const LAST_BUCKET: u16 = 4 * 64;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    /// Observations per bucket index (only buckets that have any).
    #[serde(rename = "b", default)]
    buckets: BTreeMap<u16, u64>,
    /// How many observations.
    #[serde(rename = "n", default)]
    count: u64,
    /// Their sum in milliseconds (saturating).
    #[serde(rename = "s", default)]
    sum_ms: u64,
    /// The largest one, so a percentile is never reported above what was seen.
    #[serde(rename = "m", default)]
    max_ms: u64,
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram::default()
    }

    /// The bucket that holds `ms`.
    pub fn bucket_of(ms: u64) -> u16 {
        if ms == 0 {
            return 0;
        }
        // log2 of a u64 as f64 is exact at powers of two and monotonic, which is all the
        // bucket bounds need; `min` keeps a value near u64::MAX in the last bucket.
        let quarter_log = (4.0 * (ms as f64).log2()).floor() as u16;
        quarter_log.saturating_add(1).min(LAST_BUCKET)
    }

    /// The exclusive upper bound of bucket `i`, in milliseconds.
    pub fn upper_bound_ms(i: u16) -> f64 {
        if i == 0 {
            return 1.0;
        }
        2f64.powf(f64::from(i) / 4.0)
    }

    pub fn record(&mut self, ms: u64) {
        *self.buckets.entry(Self::bucket_of(ms)).or_default() += 1;
        self.count = self.count.saturating_add(1);
        self.sum_ms = self.sum_ms.saturating_add(ms);
        self.max_ms = self.max_ms.max(ms);
    }

    /// Adds `other`'s observations to these.
    pub fn merge(&mut self, other: &Histogram) {
        for (&i, &n) in &other.buckets {
            let slot = self.buckets.entry(i).or_default();
            *slot = slot.saturating_add(n);
        }
        self.count = self.count.saturating_add(other.count);
        self.sum_ms = self.sum_ms.saturating_add(other.sum_ms);
        self.max_ms = self.max_ms.max(other.max_ms);
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn sum_ms(&self) -> u64 {
        self.sum_ms
    }

    pub fn max_ms(&self) -> u64 {
        self.max_ms
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The mean in milliseconds, if anything was observed.
    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ms as f64 / self.count as f64)
    }

    /// The `q` quantile (0.5 for the median) in milliseconds: the upper bound of the bucket
    /// that holds the observation of that rank, capped at the largest observation. `None` if
    /// nothing was observed.
    pub fn quantile_ms(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
        // The rank of the observation asked for, 1-based: at least the first, at most the last.
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0u64;
        for (&i, &n) in &self.buckets {
            seen = seen.saturating_add(n);
            if seen >= rank {
                // The largest whole number of milliseconds below the bucket's bound.
                let top = Self::upper_bound_ms(i).ceil() - 1.0;
                return Some((top.max(0.0) as u64).min(self.max_ms));
            }
        }
        Some(self.max_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exact_quantile(sorted: &[u64], q: f64) -> u64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1]
    }

    #[test]
    fn buckets_hold_what_their_bounds_say() {
        assert_eq!(Histogram::bucket_of(0), 0);
        assert_eq!(Histogram::bucket_of(1), 1);
        assert_eq!(Histogram::bucket_of(2), 5);
        assert_eq!(Histogram::bucket_of(1024), 41);
        assert_eq!(Histogram::bucket_of(u64::MAX), LAST_BUCKET);
        for ms in [1u64, 3, 7, 100, 999, 60_000, 86_400_000] {
            let i = Histogram::bucket_of(ms);
            assert!(
                (ms as f64) < Histogram::upper_bound_ms(i),
                "{ms} below bucket {i}'s bound"
            );
            assert!(
                (ms as f64) >= Histogram::upper_bound_ms(i - 1),
                "{ms} at or above bucket {}'s",
                i - 1
            );
        }
    }

    #[test]
    fn an_empty_histogram_has_no_quantiles() {
        assert_eq!(Histogram::new().quantile_ms(0.5), None);
        assert_eq!(Histogram::new().mean_ms(), None);
    }

    #[test]
    fn it_survives_a_round_trip_through_json() {
        let mut h = Histogram::new();
        for ms in [0, 5, 5, 120, 3_600_000] {
            h.record(ms);
        }
        let text = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Histogram>(&text).unwrap(), h);
    }

    proptest! {
        /// Any percentile is at least the true one and at most 19% (one bucket) above it.
        #[test]
        fn quantiles_are_close_above_the_truth(
            mut values in proptest::collection::vec(0u64..10_000_000_000, 1..400),
            q in 0.0f64..=1.0,
        ) {
            let mut h = Histogram::new();
            for &v in &values {
                h.record(v);
            }
            values.sort_unstable();
            let truth = exact_quantile(&values, q);
            let got = h.quantile_ms(q).unwrap();
            prop_assert!(got >= truth, "got {got} below the true {truth}");
            prop_assert!(got as f64 <= truth as f64 * 2f64.powf(0.25) + 1.0, "got {got}, true {truth}");
            prop_assert!(got <= *values.last().unwrap());
        }

        /// Merging two histograms is the histogram of both sets of observations.
        #[test]
        fn merging_equals_recording_both(
            a in proptest::collection::vec(any::<u64>(), 0..100),
            b in proptest::collection::vec(any::<u64>(), 0..100),
        ) {
            let (mut ha, mut hb, mut both) = (Histogram::new(), Histogram::new(), Histogram::new());
            for &v in &a { ha.record(v); both.record(v); }
            for &v in &b { hb.record(v); both.record(v); }
            ha.merge(&hb);
            prop_assert_eq!(ha, both);
        }

        /// Whatever text arrives as a stored histogram, parsing it fails or gives a histogram
        /// whose reads do not panic.
        #[test]
        fn any_stored_text_parses_or_is_refused(text in ".{0,80}") {
            if let Ok(h) = serde_json::from_str::<Histogram>(&text) {
                let _ = h.quantile_ms(0.99);
                let _ = h.mean_ms();
            }
        }
    }
}
