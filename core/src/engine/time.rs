//! Simulated time: whole nanoseconds since the start of the run.
//!
//! Integer time makes event order exact: two events at the same instant are
//! ordered by when they were scheduled, never by floating-point rounding.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in simulated time, or a span of it, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// A time that never comes: used for "no deadline".
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// From (non-negative, finite) seconds, rounded to the nearest nanosecond.
    /// Values beyond the representable range saturate at [`SimTime::NEVER`].
    pub fn from_secs_f64(secs: f64) -> SimTime {
        // Half up by truncation: `f64::round` is a libm call on baseline
        // x86-64, and this runs for every sampled duration.
        let ns = secs * 1e9 + 0.5;
        if ns >= u64::MAX as f64 {
            SimTime::NEVER
        } else if (1.0..i64::MAX as f64).contains(&ns) {
            // One instruction through i64; the same value for these.
            SimTime(ns as i64 as u64)
        } else if ns >= 1.0 {
            SimTime(ns as u64)
        } else {
            SimTime::ZERO
        }
    }

    /// From whole milliseconds.
    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms * 1_000_000)
    }

    /// From whole seconds.
    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s * 1_000_000_000)
    }

    /// This time in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// This time in whole microseconds (the unit histograms record).
    pub fn as_micros(self) -> u64 {
        self.0 / 1_000
    }

    /// Whether this is [`SimTime::NEVER`].
    pub fn is_never(self) -> bool {
        self == SimTime::NEVER
    }

    /// `self + d`, saturating at [`SimTime::NEVER`].
    pub fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn saturating_sub(self, earlier: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(earlier.0))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        self.saturating_add(rhs)
    }
}

impl AddAssign for SimTime {
    fn add_assign(&mut self, rhs: SimTime) {
        *self = *self + rhs;
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        self.saturating_sub(rhs)
    }
}

impl fmt::Display for SimTime {
    /// Human form, exact to the nanosecond: `1h02m3.5s`, `2m30s`, `850ms`,
    /// `1.25ms`, `12µs`, `1ns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_never() {
            return write!(f, "never");
        }
        let ns = self.0;
        if ns == 0 {
            return write!(f, "0s");
        }
        if ns < 1_000 {
            return write!(f, "{ns}ns");
        }
        if ns < 1_000_000 {
            return write!(f, "{}{}µs", ns / 1_000, fraction(ns % 1_000, 3));
        }
        if ns < 1_000_000_000 {
            return write!(f, "{}{}ms", ns / 1_000_000, fraction(ns % 1_000_000, 6));
        }
        let total_s = ns / 1_000_000_000;
        let (h, m, s) = (total_s / 3600, total_s / 60 % 60, total_s % 60);
        let secs = format!("{s}{}s", fraction(ns % 1_000_000_000, 9));
        match (h, m) {
            (0, 0) => write!(f, "{secs}"),
            (0, m) => write!(f, "{m}m{secs}"),
            (h, m) => write!(f, "{h}h{m:02}m{secs}"),
        }
    }
}

/// `part` of a unit written with `digits` decimals as `.5`, `.25`: the
/// decimal part, trailing zeros dropped (empty for zero).
fn fraction(part: u64, digits: usize) -> String {
    if part == 0 {
        return String::new();
    }
    let text = format!(".{part:0digits$}");
    text.trim_end_matches('0').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_to_nanoseconds() {
        assert_eq!(SimTime::from_secs_f64(1.5).0, 1_500_000_000);
        assert_eq!(SimTime::from_secs_f64(-3.0), SimTime::ZERO);
        assert_eq!(SimTime::from_secs_f64(1e30), SimTime::NEVER);
        assert_eq!(SimTime::from_millis(250).as_secs_f64(), 0.25);
    }

    #[test]
    fn display_is_human() {
        assert_eq!(SimTime::from_millis(850).to_string(), "850ms");
        assert_eq!(SimTime::from_secs(150).to_string(), "2m30s");
        assert_eq!(SimTime::from_millis(3_723_500).to_string(), "1h02m3.5s");
        assert_eq!(SimTime::NEVER.to_string(), "never");
    }

    #[test]
    fn display_never_rounds_a_duration_away() {
        assert_eq!(SimTime(1).to_string(), "1ns");
        assert_eq!(SimTime(999).to_string(), "999ns");
        assert_eq!(SimTime(1_500).to_string(), "1.5µs");
        assert_eq!(SimTime(1_250_000).to_string(), "1.25ms");
        assert_eq!(SimTime(1_000_000_001).to_string(), "1.000000001s");
        assert_eq!(SimTime(3_600_000_000_000).to_string(), "1h00m0s");
    }
}
