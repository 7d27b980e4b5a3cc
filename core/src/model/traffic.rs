//! Request arrivals: a piecewise-linear rate profile and arrival sources that
//! draw from it by inverting the cumulative rate, each with its own random
//! stream.

use crate::engine::{SimRng, SimTime};
use crate::scenario::ArrivalProcess;

/// Fleet-wide rate over time: linear between corner points, constant after
/// the last one.
#[derive(Clone, Debug)]
pub struct RateProfile {
    /// `(time s, rate /s)`, times non-decreasing, starting at 0.
    points: Vec<(f64, f64)>,
    /// Cumulative arrivals expected by each point.
    cumulative: Vec<f64>,
}

impl RateProfile {
    /// A profile through `points` (validated by the scenario loader).
    pub fn new(points: Vec<(f64, f64)>) -> RateProfile {
        let mut cumulative = Vec::with_capacity(points.len());
        let mut acc = 0.0;
        for (i, p) in points.iter().enumerate() {
            if i > 0 {
                let q = points[i - 1];
                acc += (p.0 - q.0) * (p.1 + q.1) / 2.0;
            }
            cumulative.push(acc);
        }
        RateProfile { points, cumulative }
    }

    /// The rate at time `t` seconds.
    pub fn rate(&self, t: f64) -> f64 {
        let i = self.segment(t);
        let (t0, r0) = self.points[i];
        match self.points.get(i + 1) {
            Some(&(t1, r1)) if t1 > t0 => r0 + (r1 - r0) * (t - t0) / (t1 - t0),
            _ => r0,
        }
    }

    /// Expected arrivals in `[0, t]`.
    pub fn cumulative(&self, t: f64) -> f64 {
        let i = self.segment(t);
        let (t0, r0) = self.points[i];
        let r = self.rate(t);
        self.cumulative[i] + (t - t0) * (r0 + r) / 2.0
    }

    /// The time at which [`cumulative`](Self::cumulative) reaches `target`,
    /// or `None` if it never does.
    pub fn time_of(&self, target: f64) -> Option<f64> {
        self.time_from(target, &mut 0)
    }

    /// [`time_of`](Self::time_of), searching from the segment `*segment`
    /// and leaving there the one found: arrivals only move forward, so the
    /// next one is mostly in the same segment or a few after (a profile
    /// read from a file has thousands).
    #[inline(always)]
    pub fn time_from(&self, target: f64, segment: &mut usize) -> Option<f64> {
        let i = self.segment_from(target, *segment);
        *segment = i;
        let (t0, r0) = self.points[i];
        let need = target - self.cumulative[i];
        let Some(&(t1, r1)) = self.points.get(i + 1) else {
            return (r0 > 0.0).then(|| t0 + need / r0);
        };
        let slope = if t1 > t0 { (r1 - r0) / (t1 - t0) } else { 0.0 };
        // Solve r0·x + slope·x²/2 = need for x in [0, t1 − t0].
        let x = if slope.abs() < 1e-12 {
            need / r0
        } else {
            let disc = (r0 * r0 + 2.0 * slope * need).max(0.0);
            // Numerically stable root of the quadratic; 0 when the target
            // is where a ramp from zero starts.
            let root = r0 + disc.sqrt();
            if root > 0.0 { 2.0 * need / root } else { 0.0 }
        };
        Some(t0 + x.clamp(0.0, t1 - t0))
    }

    /// The last point whose cumulative is ≤ `target`, searched from
    /// `hint`: a few steps forward, else a binary search of the rest (of the
    /// whole when the target is before the hint).
    #[inline(always)]
    fn segment_from(&self, target: f64, hint: usize) -> usize {
        const STEPS: usize = 4;
        let c = &self.cumulative;
        match c.get(hint) {
            Some(&at) if at <= target => {}
            _ => return c.partition_point(|&c| c <= target).saturating_sub(1),
        }
        let mut i = hint;
        for _ in 0..STEPS {
            match c.get(i + 1) {
                Some(&next) if next <= target => i += 1,
                _ => return i,
            }
        }
        i + c[i..].partition_point(|&c| c <= target) - 1
    }

    fn segment(&self, t: f64) -> usize {
        self.points.partition_point(|p| p.0 <= t).saturating_sub(1)
    }
}

/// One stream of arrivals with a fixed share of the fleet-wide rate.
pub struct ArrivalSource {
    rng: SimRng,
    process: ArrivalProcess,
    /// This source's fraction of the fleet rate.
    share: f64,
    /// The fleet-cumulative arrival count at which the next arrival happens.
    target: f64,
    /// The profile's segment of the last arrival, where the next search
    /// starts.
    segment: usize,
}

impl ArrivalSource {
    /// A source drawing from `rng` with `share` of the traffic, starting
    /// when the fleet's cumulative expected arrivals are `mass_now`.
    pub fn new(rng: SimRng, process: ArrivalProcess, share: f64, mass_now: f64) -> ArrivalSource {
        ArrivalSource {
            rng,
            process,
            share,
            target: mass_now,
            segment: 0,
        }
    }

    /// Change this source's share of the traffic when the fleet's cumulative
    /// expected arrivals are `mass_now`, keeping its place: the part of its
    /// current gap still to run is rescaled. Returns the new time of its
    /// next arrival.
    pub fn reshare(&mut self, share: f64, mass_now: f64, profile: &RateProfile) -> Option<SimTime> {
        let remaining = (self.target - mass_now).max(0.0) * self.share;
        self.share = share;
        self.target = mass_now + remaining / share;
        profile
            .time_from(self.target, &mut self.segment)
            .map(SimTime::from_secs_f64)
    }

    /// Draw the gap to the next arrival and return its time, or `None` when
    /// the rate stays at zero for ever.
    #[inline(always)]
    pub fn next_arrival(&mut self, profile: &RateProfile) -> Option<SimTime> {
        let gap: f64 = match self.process {
            ArrivalProcess::Poisson => crate::dist::exp1(&mut self.rng),
            ArrivalProcess::Deterministic => 1.0,
        };
        self.target += gap / self.share;
        profile
            .time_from(self.target, &mut self.segment)
            .map(SimTime::from_secs_f64)
    }

    /// The stream that per-request randomness is drawn from.
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_and_inverse_agree_on_ramps_and_steps() {
        // 10/s, ramp to 30/s over [60, 120], step down to 0 at 200 for 100 s, then 5/s.
        let p = RateProfile::new(vec![
            (0.0, 10.0),
            (60.0, 10.0),
            (120.0, 30.0),
            (200.0, 30.0),
            (200.0, 0.0),
            (300.0, 0.0),
            (300.0, 5.0),
        ]);
        assert_eq!(p.rate(90.0), 20.0);
        assert_eq!(p.cumulative(60.0), 600.0);
        assert_eq!(p.cumulative(120.0), 600.0 + 1200.0);
        assert_eq!(p.cumulative(250.0), 1800.0 + 2400.0);
        for t in [0.0, 33.3, 60.0, 90.0, 119.0, 150.0, 199.9, 300.5, 1000.0] {
            let back = p.time_of(p.cumulative(t)).unwrap();
            assert!((back - t).abs() < 1e-9, "{t} -> {back}");
        }
        // Targets inside the zero-rate gap are reached when the rate resumes.
        assert!((p.time_of(4200.0 + 1e-9).unwrap() - 300.0).abs() < 1e-6);
    }

    #[test]
    fn a_search_from_any_segment_finds_the_binary_searchs_point() {
        let points: Vec<(f64, f64)> = (0..200)
            .flat_map(|i| {
                let t = f64::from(i) * 15.0;
                [(t, f64::from(i % 7)), (t, f64::from(i % 5))]
            })
            .collect();
        let p = RateProfile::new(points);
        let total = p.cumulative(3000.0);
        for hint in [0, 1, 5, 77, 398, 399, 10_000] {
            for k in 0..500 {
                let target = total * f64::from(k) / 499.0;
                let mut segment = hint;
                let from = p.time_from(target, &mut segment);
                let binary = p.cumulative.partition_point(|&c| c <= target) - 1;
                assert_eq!(
                    (from, segment),
                    (p.time_of(target), binary),
                    "{hint} {target}"
                );
            }
        }
    }

    #[test]
    fn a_target_where_a_ramp_from_zero_starts_is_reached_there() {
        let p = RateProfile::new(vec![(0.0, 0.0), (10.0, 0.0), (20.0, 10.0)]);
        assert_eq!(p.time_of(0.0), Some(10.0));
    }

    #[test]
    fn zero_rate_forever_never_arrives() {
        let p = RateProfile::new(vec![(0.0, 0.0)]);
        assert_eq!(p.time_of(1.0), None);
    }
}
