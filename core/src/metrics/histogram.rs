//! Latency and wait distributions with bounded memory, values in
//! microseconds from 0 to 24 hours, with the exact sum of what they recorded.
//!
//! The buckets are HdrHistogram's (lowest discernible value 1 µs, 2 or 3
//! significant digits): below `2 × 10^sigfig` every microsecond has its own
//! counter; above, each power of two is split into the same number of equal
//! counters. Quantiles and counts between values are computed exactly as the
//! `hdrhistogram` crate computes them — a test checks this against the
//! crate — but recording is a shift, a leading-zero count and an increment,
//! which matters at several records per simulated request.
//!
//! Precision: a quantile is the highest value of its counter, so it reads
//! high by less than `10^-sigfig` of the value (0.1 % at 3 digits, 1 % at
//! 2), and to the microsecond below `2 × 10^sigfig` µs. The mean is not read
//! from the counters: it is the exact sum over the count.

use crate::engine::SimTime;

const HIGHEST_US: u64 = 24 * 3600 * 1_000_000;

/// A duration histogram.
#[derive(Clone, Debug)]
pub struct DurationHistogram {
    counts: Vec<u64>,
    total: u64,
    /// Sum of the recorded durations in nanoseconds: exact, and one integer
    /// add per record (a division to seconds per record was not free).
    sum_ns: u128,
    /// Values below `1 << magnitude` have a counter each; every power of
    /// two above is split into `1 << (magnitude - 1)` counters.
    magnitude: u32,
}

impl DurationHistogram {
    /// With `sigfig` significant decimal digits of resolution (2 or 3).
    pub fn new(sigfig: u8) -> DurationHistogram {
        assert!((1..=5).contains(&sigfig), "sigfig in 1..=5");
        let single_unit_up_to = 2 * 10u64.pow(u32::from(sigfig));
        let magnitude = single_unit_up_to.next_power_of_two().trailing_zeros();
        // Powers of two above the single-unit range needed to reach HIGHEST_US,
        // plus the first one.
        let mut buckets = 1;
        let mut untrackable = 1u64 << magnitude;
        while untrackable <= HIGHEST_US {
            untrackable <<= 1;
            buckets += 1;
        }
        let len = (buckets + 1) << (magnitude - 1);
        DurationHistogram {
            counts: vec![0; len],
            total: 0,
            sum_ns: 0,
            magnitude,
        }
    }

    /// Which power of two above the single-unit range `value` falls in (0
    /// for the single-unit range itself).
    #[inline]
    fn bucket_of(&self, value: u64) -> u32 {
        let mask = (1u64 << self.magnitude) - 1;
        (64 - self.magnitude) - (value | mask).leading_zeros()
    }

    /// The counter of `value` (it may lie past the end for huge values).
    #[inline]
    fn index_of(&self, value: u64) -> usize {
        // Bucket b starts at counter b·half (its lower half is bucket b−1's
        // range), and `value >> b` lies in [half, 2·half) for b > 0.
        let bucket = self.bucket_of(value);
        ((bucket as usize) << (self.magnitude - 1)) + (value >> bucket) as usize
    }

    /// The counter of `value`, or the last one.
    fn index_or_last(&self, value: u64) -> usize {
        self.index_of(value).min(self.counts.len() - 1)
    }

    /// The lowest value counted by counter `index`.
    fn value_at_index(&self, index: usize) -> u64 {
        let half_magnitude = self.magnitude - 1;
        let half = 1u64 << half_magnitude;
        let bucket = (index >> half_magnitude) as i64 - 1;
        let sub = (index as u64 & (half - 1)) + half;
        if bucket < 0 {
            sub - half
        } else {
            sub << bucket
        }
    }

    /// The lowest value counted together with `value`.
    fn lowest_equivalent(&self, value: u64) -> u64 {
        let bucket = self.bucket_of(value);
        (value >> bucket) << bucket
    }

    /// The highest value counted together with `value`.
    fn highest_equivalent(&self, value: u64) -> u64 {
        if value == u64::MAX {
            return u64::MAX;
        }
        let range = 1u64 << self.bucket_of(value);
        self.lowest_equivalent(value).saturating_add(range) - 1
    }

    /// Count one duration (saturating above 24 h; the sum takes it whole).
    #[inline]
    pub fn record(&mut self, d: SimTime) {
        let index = self.index_of(d.as_micros());
        let index = if index < self.counts.len() {
            index
        } else {
            self.index_of(HIGHEST_US)
        };
        self.counts[index] += 1;
        self.total += 1;
        self.sum_ns += u128::from(d.0);
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Sum of the recorded durations in seconds: the exact sum (not rounded
    /// to the histogram's resolution), converted to seconds only here.
    pub fn sum_secs(&self) -> f64 {
        self.sum_ns as f64 / 1e9
    }

    /// The q-quantiles in seconds for each q of `qs` (ascending), in one
    /// pass over the counters, or NaN when empty: the highest value
    /// equivalent to the first counter at which the running count reaches
    /// `⌈q × count⌉` (at least 1); the lowest for q = 0.
    pub fn quantiles_secs<const N: usize>(&self, qs: [f64; N]) -> [f64; N] {
        debug_assert!(qs.is_sorted(), "quantiles in ascending order");
        let mut out = [f64::NAN; N];
        if self.total == 0 || N == 0 {
            return out;
        }
        let wanted = qs.map(|q| ((q.min(1.0) * self.total as f64).ceil() as u64).max(1));
        let (mut next, mut running) = (0, 0u64);
        // Runs of counters that cannot reach the next wanted count are
        // skipped with one sum each: most counters are zero, and a sample
        // reads two histograms of thousands of counters.
        const RUN: usize = 32;
        for (run, counts) in self.counts.chunks(RUN).enumerate() {
            let in_run: u64 = counts.iter().sum();
            if running + in_run < wanted[next] {
                running += in_run;
                continue;
            }
            for (offset, &c) in counts.iter().enumerate() {
                running += c;
                while next < N && running >= wanted[next] {
                    let value = self.value_at_index(run * RUN + offset);
                    let value = if qs[next] == 0.0 {
                        self.lowest_equivalent(value)
                    } else {
                        self.highest_equivalent(value)
                    };
                    out[next] = value as f64 / 1e6;
                    next += 1;
                }
                if next == N {
                    return out;
                }
            }
        }
        out
    }

    /// Mean in seconds, exact (the exact sum over the count, not the
    /// counters' midpoints), or NaN when empty.
    pub fn mean_secs(&self) -> f64 {
        if self.total == 0 {
            return f64::NAN;
        }
        self.sum_secs() / self.total as f64
    }

    /// Values recorded between `low` and `high` µs, inclusive, at the
    /// histogram's resolution (both ends widened to their counters).
    fn count_between(&self, low: u64, high: u64) -> u64 {
        let (low, high) = (self.index_or_last(low), self.index_or_last(high));
        self.counts[low..=high].iter().sum()
    }

    /// Counts per bucket for the given upper bounds in seconds (the last
    /// bucket takes everything above): for heatmaps. A value counts in the
    /// first bucket whose bound is at least the highest value equivalent to
    /// it at this histogram's resolution.
    pub fn bucket_counts(&self, upper_bounds_secs: &[f64]) -> Vec<u64> {
        let mut counts = vec![0u64; upper_bounds_secs.len() + 1];
        // Values are counted in runs of whole equivalence classes: `from`
        // is the first value not yet counted.
        let mut from = 0u64;
        let mut counted = 0u64;
        for (slot, &bound) in counts.iter_mut().zip(upper_bounds_secs) {
            if counted == self.total {
                break;
            }
            // The last value whose class lies wholly within the bound (the
            // bound capped at the histogram's range).
            let v = ((bound * 1e6) as u64).min(HIGHEST_US);
            let top = self.highest_equivalent(v);
            let last = if top as f64 / 1e6 <= bound {
                Some(top)
            } else {
                self.lowest_equivalent(v).checked_sub(1)
            };
            if let Some(last) = last.filter(|&last| last >= from) {
                *slot = self.count_between(from, last);
                counted += *slot;
                from = last + 1;
            }
        }
        counts[upper_bounds_secs.len()] = self.total - counted;
        counts
    }

    /// Forget everything.
    pub fn reset(&mut self) {
        if self.total > 0 {
            // A loop LLVM turns into memset (`fill` stays a loop here).
            self.counts.iter_mut().for_each(|c| *c = 0);
            self.total = 0;
        }
        self.sum_ns = 0;
    }

    /// Add another histogram's counts.
    pub fn merge(&mut self, other: &DurationHistogram) {
        assert_eq!(self.magnitude, other.magnitude, "same resolution");
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.sum_ns += other.sum_ns;
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
        assert!((h.quantiles_secs([0.5])[0] - 0.5).abs() < 0.001);
        assert!((h.quantiles_secs([0.99])[0] - 0.99).abs() < 0.002);
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
            for (i, &c) in h.counts.iter().enumerate().filter(|&(_, &c)| c != 0) {
                let secs = h.highest_equivalent(h.value_at_index(i)) as f64 / 1e6;
                counts[bounds.partition_point(|&b| b < secs)] += c;
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

    /// Every bucket read gives what the `hdrhistogram` crate gives for the
    /// same values (its bounds: 1 µs to 24 h), bit for bit, through merges and
    /// resets.
    #[test]
    fn agrees_with_the_hdrhistogram_crate() {
        use hdrhistogram::Histogram;
        let mut x: u64 = 99;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x
        };
        let quantiles = [
            0.0, 1e-9, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 1.5,
        ];
        for sigfig in [1, 2, 3, 4] {
            let mut ours = DurationHistogram::new(sigfig);
            let mut theirs = Histogram::<u64>::new_with_bounds(1, HIGHEST_US, sigfig).unwrap();
            let mut other = DurationHistogram::new(sigfig);
            let mut other_theirs = theirs.clone();
            assert_eq!(ours.counts.len(), theirs.distinct_values(), "{sigfig}");
            for round in 0..20_000u64 {
                let r = next();
                // Log-spread from 0 to past 24 h, zeros and bucket edges.
                let us = match round % 5 {
                    0 => 0,
                    1 => (r >> 24) >> ((r >> 8) % 41),
                    2 => (1u64 << ((r >> 8) % 38)).wrapping_add(r >> 60) - 1,
                    3 => HIGHEST_US + (r >> 40),
                    _ => (r >> 40) % 5000,
                };
                let (h, t) = if round % 3 == 0 {
                    (&mut other, &mut other_theirs)
                } else {
                    (&mut ours, &mut theirs)
                };
                h.record(SimTime(us * 1000));
                t.saturating_record(us);
                if round % 1999 == 0 {
                    ours.merge(&other);
                    theirs.add(&other_theirs).unwrap();
                    other.reset();
                    other_theirs.reset();
                }
                if round % 251 == 0 {
                    assert_eq!(ours.count(), theirs.len());
                    assert_eq!(
                        ours.counts,
                        theirs
                            .iter_all()
                            .map(|v| v.count_at_value())
                            .collect::<Vec<_>>()
                    );
                    for q in quantiles {
                        let want = theirs.value_at_quantile(q) as f64 / 1e6;
                        assert_eq!(
                            ours.quantiles_secs([q])[0].to_bits(),
                            want.to_bits(),
                            "{sigfig} {round} {q}"
                        );
                    }
                    let (a, b) = (r % 100_000, (r >> 20) % (1 << 40));
                    assert_eq!(
                        ours.count_between(a.min(b), a.max(b)),
                        theirs.count_between(a.min(b), a.max(b))
                    );
                    assert_eq!(ours.highest_equivalent(b), theirs.highest_equivalent(b));
                    assert_eq!(ours.lowest_equivalent(b), theirs.lowest_equivalent(b));
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
        assert_eq!(h.quantiles_secs([0.99])[0], 0.0);
    }

    #[test]
    fn the_sum_is_exact_and_follows_merge_and_reset() {
        let mut h = DurationHistogram::new(2);
        h.record(SimTime(1_234_567_000));
        h.record(SimTime::from_millis(3));
        assert_eq!(h.sum_secs(), 1.237567);
        let mut twice = h.clone();
        twice.merge(&h);
        assert_eq!(twice.sum_secs(), 2.0 * h.sum_secs());
        h.reset();
        assert_eq!((h.count(), h.sum_secs()), (0, 0.0));
    }

    /// The mean is the exact one, not the counters' midpoints: three holds
    /// of exactly 0.1234567 s read 0.1234567 s (the midpoint of their
    /// counter is 0.123488 s).
    #[test]
    fn the_mean_is_exact() {
        let mut h = DurationHistogram::new(3);
        assert!(h.mean_secs().is_nan());
        for _ in 0..3 {
            h.record(SimTime(123_456_700));
        }
        // Exact but for the last bit of the division to seconds.
        assert!(
            (h.mean_secs() - 0.1234567).abs() < 1e-15,
            "{}",
            h.mean_secs()
        );
        h.record(SimTime::from_millis(7));
        let want = (3.0 * 0.1234567 + 0.007) / 4.0;
        assert!((h.mean_secs() - want).abs() < 1e-15, "{}", h.mean_secs());
    }
}
