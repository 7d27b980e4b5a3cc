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
    /// bucket takes everything above): for heatmaps.
    pub fn bucket_counts(&self, upper_bounds_secs: &[f64]) -> Vec<u64> {
        let mut counts = vec![0u64; upper_bounds_secs.len() + 1];
        for v in self.inner.iter_recorded() {
            let secs = self.inner.highest_equivalent(v.value_iterated_to()) as f64 / 1e6;
            let i = upper_bounds_secs.partition_point(|&b| b < secs);
            counts[i] += v.count_at_value();
        }
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
