//! A gauge that remembers its time-weighted mean and its peak after the
//! warm-up: exact, updated at every change, never sampled.

use crate::engine::SimTime;

/// A counted quantity over time (open connections, checked-out clients…).
#[derive(Clone, Debug, Default)]
pub struct Level {
    value: i64,
    since: SimTime,
    /// ∫ value dt over the measured period, in value·ns.
    area: f64,
    peak: i64,
}

impl Level {
    /// Change the value by `delta` at `now`; only time after `warmup`
    /// counts toward the mean and the peak.
    #[inline]
    pub fn add(&mut self, now: SimTime, delta: i64, warmup: SimTime) {
        self.integrate(now, warmup);
        self.value += delta;
        debug_assert!(self.value >= 0, "a level went negative");
        if now >= warmup && self.value > self.peak {
            self.peak = self.value;
        }
    }

    #[inline]
    fn integrate(&mut self, now: SimTime, warmup: SimTime) {
        if now > warmup {
            let from = self.since.max(warmup);
            self.area += self.value as f64 * (now.0 - from.0) as f64;
        }
        self.since = now;
    }

    /// The current value.
    #[inline]
    pub fn value(&self) -> i64 {
        self.value
    }

    /// ∫ value dt over `[warmup, t]`, in value·ns, for a `t` no earlier
    /// than the last change.
    pub fn area_until(&self, t: SimTime, warmup: SimTime) -> f64 {
        let mut area = self.area;
        if t > warmup {
            area += self.value as f64 * (t.0 - self.since.max(warmup).0) as f64;
        }
        area
    }

    /// The time-weighted mean over `[warmup, end]`.
    pub fn mean(&self, end: SimTime, warmup: SimTime) -> f64 {
        let area = self.area_until(end, warmup);
        let span = end.0.saturating_sub(warmup.0) as f64;
        if span > 0.0 {
            area / span
        } else {
            self.value as f64
        }
    }

    /// The largest value after the warm-up (the value at the warm-up's end
    /// counts).
    pub fn peak(&self) -> i64 {
        self.peak
    }

    /// The largest value since the last call (or the warm-up's end); the
    /// next call's starts from the value now. [`restore_peak`] puts the
    /// whole run's back.
    ///
    /// [`restore_peak`]: Self::restore_peak
    pub fn take_peak(&mut self) -> i64 {
        std::mem::replace(&mut self.peak, self.value)
    }

    /// Fold `peak`, an earlier [`take_peak`](Self::take_peak), back in.
    pub fn restore_peak(&mut self, peak: i64) {
        self.peak = self.peak.max(peak);
    }

    /// Call once when the warm-up ends, so that the value then counts as a
    /// peak candidate.
    pub fn start_measuring(&mut self) {
        self.peak = self.peak.max(self.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_peak_ignore_the_warmup() {
        let w = SimTime(10);
        let mut l = Level::default();
        l.add(SimTime(0), 100, w); // 100 during warm-up only
        l.add(SimTime(5), -99, w); // 1 from t=5
        l.start_measuring();
        l.add(SimTime(20), 3, w); // 4 from t=20
        // [10,20): 1, [20,30): 4 → mean 2.5
        assert!((l.mean(SimTime(30), w) - 2.5).abs() < 1e-12);
        assert_eq!(l.peak(), 4);
    }
}
