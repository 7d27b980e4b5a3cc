//! Latency and wait distributions with bounded memory (HdrHistogram, values
//! in microseconds from 0 to 24 hours), with the exact sum of what they
//! recorded.

use crate::engine::SimTime;
use hdrhistogram::Histogram;

const HIGHEST_US: u64 = 24 * 3600 * 1_000_000;

/// A duration histogram.
#[derive(Clone, Debug)]
pub struct DurationHistogram {
    inner: Histogram<u64>,
    sum_s: f64,
}

impl DurationHistogram {
    /// With `sigfig` significant decimal digits of resolution (2 or 3).
    pub fn new(sigfig: u8) -> DurationHistogram {
        DurationHistogram {
            inner: Histogram::new_with_bounds(1, HIGHEST_US, sigfig).expect("valid bounds"),
            sum_s: 0.0,
        }
    }

    /// Count one duration (saturating above 24 h; the sum takes it whole).
    #[inline]
    pub fn record(&mut self, d: SimTime) {
        self.inner.saturating_record(d.as_micros());
        self.sum_s += d.as_secs_f64();
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.inner.len()
    }

    /// Sum of the recorded durations in seconds, exact (not rounded to the
    /// histogram's resolution).
    pub fn sum_secs(&self) -> f64 {
        self.sum_s
    }

    /// The q-quantile in seconds, or NaN when empty.
    pub fn quantile_secs(&self, q: f64) -> f64 {
        if self.inner.is_empty() {
            return f64::NAN;
        }
        self.inner.value_at_quantile(q) as f64 / 1e6
    }

    /// Mean in seconds, or NaN when empty.
    pub fn mean_secs(&self) -> f64 {
        if self.inner.is_empty() {
            return f64::NAN;
        }
        self.inner.mean() / 1e6
    }

    /// Counts per bucket for the given upper bounds in seconds (the last
    /// bucket takes everything above): for heatmaps. A value counts in the
    /// first bucket whose bound is at least the highest value equivalent to
    /// it at this histogram's resolution.
    pub fn bucket_counts(&self, upper_bounds_secs: &[f64]) -> Vec<u64> {
        let h = &self.inner;
        let mut counts = vec![0u64; upper_bounds_secs.len() + 1];
        // Values are counted in runs of whole equivalence classes: `from`
        // is the first value not yet counted.
        let mut from = 0u64;
        let mut counted = 0u64;
        for (slot, &bound) in counts.iter_mut().zip(upper_bounds_secs) {
            if counted == h.len() {
                break;
            }
            // The last value whose class lies wholly within the bound (the
            // bound capped at the histogram's range).
            let v = ((bound * 1e6) as u64).min(HIGHEST_US);
            let top = h.highest_equivalent(v);
            let last = if top as f64 / 1e6 <= bound {
                Some(top)
            } else {
                h.lowest_equivalent(v).checked_sub(1)
            };
            if let Some(last) = last.filter(|&last| last >= from) {
                *slot = h.count_between(from, last);
                counted += *slot;
                from = last + 1;
            }
        }
        counts[upper_bounds_secs.len()] = h.len() - counted;
        counts
    }

    /// Forget everything.
    pub fn reset(&mut self) {
        self.inner.reset();
        self.sum_s = 0.0;
    }

    /// Add another histogram's counts.
    pub fn merge(&mut self, other: &DurationHistogram) {
        self.inner.add(&other.inner).expect("same bounds");
        self.sum_s += other.sum_s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_within_resolution() {
        let mut h = DurationHistogram::new(3);
        for ms in 1..=1000u64 {
            h.record(SimTime::from_millis(ms));
        }
        assert!((h.quantile_secs(0.5) - 0.5).abs() < 0.001);
        assert!((h.quantile_secs(0.99) - 0.99).abs() < 0.002);
        assert_eq!(h.count(), 1000);
        let b = h.bucket_counts(&[0.1, 0.5]);
        assert_eq!(b.iter().sum::<u64>(), 1000);
        assert!((b[0] as i64 - 100).abs() <= 1, "{b:?}");
    }

    /// The bucket counts agree with a walk over every recorded value.
    #[test]
    fn bucket_counts_match_a_walk_over_the_recorded_values() {
        use crate::metrics::buckets::WAIT_BOUNDS_S;
        let walk = |h: &DurationHistogram, bounds: &[f64]| {
            let mut counts = vec![0u64; bounds.len() + 1];
            for v in h.inner.iter_recorded() {
                let secs = h.inner.highest_equivalent(v.value_iterated_to()) as f64 / 1e6;
                counts[bounds.partition_point(|&b| b < secs)] += v.count_at_value();
            }
            counts
        };
        let mut x: u64 = 7;
        for sigfig in [2, 3] {
            let mut h = DurationHistogram::new(sigfig);
            assert_eq!(h.bucket_counts(WAIT_BOUNDS_S), walk(&h, WAIT_BOUNDS_S));
            for round in 0..2000u64 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Durations from 0 to ~100 s, log-spread, and exact bounds.
                let us = match round % 4 {
                    0 => (x >> 37) >> ((x >> 8) % 27),
                    1 => (WAIT_BOUNDS_S[(x >> 40) as usize % WAIT_BOUNDS_S.len()] * 1e6) as u64,
                    2 => 0,
                    _ => (x >> 40) % 5000,
                };
                h.record(SimTime(us * 1000));
                if round % 97 == 0 {
                    for bounds in [
                        WAIT_BOUNDS_S,
                        &[0.1, 0.5][..],
                        &[][..],
                        &[f64::INFINITY][..],
                    ] {
                        assert_eq!(
                            h.bucket_counts(bounds),
                            walk(&h, bounds),
                            "{sigfig} {round}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn zero_waits_are_counted() {
        let mut h = DurationHistogram::new(2);
        h.record(SimTime::ZERO);
        h.record(SimTime::ZERO);
        assert_eq!(h.count(), 2);
        assert_eq!(h.quantile_secs(0.99), 0.0);
    }

    #[test]
    fn the_sum_is_exact_and_follows_merge_and_reset() {
        let mut h = DurationHistogram::new(2);
        h.record(SimTime(1_234_567_000));
        h.record(SimTime::from_millis(3));
        assert_eq!(h.sum_secs(), 1.234567 + 0.003);
        let mut twice = h.clone();
        twice.merge(&h);
        assert_eq!(twice.sum_secs(), 2.0 * h.sum_secs());
        h.reset();
        assert_eq!((h.count(), h.sum_secs()), (0, 0.0));
    }
}
