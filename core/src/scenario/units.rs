//! Values with units as written in scenario files: durations (`"30s"`,
//! `"250ms"`, `"2m30s"`) and rates (`"2000/s"`, `"120/min"`).

use crate::engine::SimTime;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Implements `Deserialize` for a type read from a string through its
/// `FromStr`, whose error says what was found; `$expected` says what was
/// expected.
macro_rules! from_string {
    ($ty:ty, $expected:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($expected)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$ty, E> {
                        s.parse().map_err(|found: String| {
                            E::custom(format!("expected {}, found {found}", $expected))
                        })
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

mod duration;

pub use duration::{Duration, exact};

/// Events per second, read from `"2000/s"`, `"120/min"`, `"5/ms"` or `"7200/h"`.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Rate(pub f64);

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let Some((num, unit)) = s.split_once('/') else {
            return Err(format!("\"{s}\" without a unit (write \"{}/s\")", s.trim()));
        };
        let n: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("\"{s}\": \"{}\" is not a number", num.trim()))?;
        let per_sec = match unit.trim() {
            "ms" => 1000.0,
            "s" | "sec" => 1.0,
            "min" | "m" => 1.0 / 60.0,
            "h" => 1.0 / 3600.0,
            other => {
                return Err(format!(
                    "\"{s}\": unknown unit \"{other}\" (use ms, s, min or h)"
                ));
            }
        };
        let v = n * per_sec;
        if !v.is_finite() || v < 0.0 {
            return Err(format!("\"{s}\", which is not a finite rate ≥ 0"));
        }
        Ok(Rate(v))
    }
}

from_string!(Rate, "a rate like \"2000/s\" or \"120/min\"");

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

/// A wall-clock time of day, `"14:00"` or `"14:00:30"`, as seconds after
/// midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClockTime(pub u32);

impl FromStr for ClockTime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.trim().split(':').collect();
        let num = |p: &str, max: u32| p.parse::<u32>().ok().filter(|v| *v < max && p.len() == 2);
        let (h, m, sec) = match parts.as_slice() {
            [h, m] => (
                h.parse::<u32>().ok().filter(|v| *v < 24),
                num(m, 60),
                Some(0),
            ),
            [h, m, sec] => (
                h.parse::<u32>().ok().filter(|v| *v < 24),
                num(m, 60),
                num(sec, 60),
            ),
            _ => (None, None, None),
        };
        match (h, m, sec) {
            (Some(h), Some(m), Some(sec)) => Ok(ClockTime(h * 3600 + m * 60 + sec)),
            _ => Err(format!("\"{s}\"")),
        }
    }
}

from_string!(ClockTime, "a time of day like \"14:00\" or \"14:00:30\"");

impl ClockTime {
    /// Time from `start` to the next time this clock shows it: times of day
    /// earlier than `start` are on the next day (`00:05` is 6 minutes after
    /// `23:59`).
    pub fn since(self, start: ClockTime) -> SimTime {
        const DAY: u32 = 24 * 3600;
        SimTime::from_secs(u64::from((self.0 + DAY - start.0) % DAY))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600 % 24, self.0 / 60 % 60, self.0 % 60);
        if s == 0 {
            write!(f, "{h:02}:{m:02}")
        } else {
            write!(f, "{h:02}:{m:02}:{s:02}")
        }
    }
}

/// When a timeline event happens: an offset from the start (`"15m"`) or a
/// time of day (`"14:15"`, resolved against `meta.start`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSpec {
    /// After the start.
    Offset(Duration),
    /// A time of day.
    Clock(ClockTime),
}

impl FromStr for TimeSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.contains(':') {
            return s.parse().map(TimeSpec::Clock);
        }
        s.parse().map(TimeSpec::Offset)
    }
}

from_string!(
    TimeSpec,
    "a time like \"15m\" (after the start) or \"14:15\" (time of day)"
);

/// A share of the fleet (`"25%"`) or a number of pods (`5`), as Kubernetes
/// takes `maxSurge` and `maxUnavailable`. Percentages are whole numbers, as
/// Kubernetes accepts them (`"2.5%"` is refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Percent {
    /// A whole percentage (0–100) of the desired pod count.
    Share(u32),
    /// An absolute pod count.
    Count(u32),
}

impl Percent {
    /// Resolved against `pods` as Kubernetes' `GetScaledValueFromIntOrPercent`
    /// does: percent × pods / 100 in exact integer arithmetic, rounded `up`
    /// (maxSurge) or down (maxUnavailable).
    pub fn of(self, pods: u32, up: bool) -> u32 {
        match self {
            Percent::Count(n) => n,
            Percent::Share(p) => {
                let scaled = u64::from(p) * u64::from(pods);
                let pods = if up {
                    scaled.div_ceil(100)
                } else {
                    scaled / 100
                };
                u32::try_from(pods).expect("at most 100 % of a u32 pod count")
            }
        }
    }

    /// Zero as written (`0` or `"0%"`): Kubernetes refuses maxSurge and
    /// maxUnavailable both zero as written, not as resolved.
    pub fn is_zero(self) -> bool {
        matches!(self, Percent::Share(0) | Percent::Count(0))
    }
}

impl FromStr for Percent {
    type Err = String;
    fn from_str(s: &str) -> Result<Percent, String> {
        let t = s.trim();
        let Some(p) = t.strip_suffix('%').map(str::trim) else {
            return t.parse().map(Percent::Count).map_err(|_| {
                format!("expected a whole percentage like \"25%\" or a pod count, found \"{s}\"")
            });
        };
        match p.parse::<u32>() {
            Ok(p) if p <= 100 => Ok(Percent::Share(p)),
            _ if p.parse::<f64>().is_ok_and(|f| (0.0..=100.0).contains(&f)) => Err(format!(
                "expected a whole percentage (Kubernetes takes no fractions of a percent), found \"{s}\""
            )),
            _ => Err(format!(
                "expected a whole percentage from 0% to 100%, found \"{s}\""
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str = "a whole percentage like \"25%\" or a pod count";
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                u32::try_from(v)
                    .map(Percent::Count)
                    .map_err(|_| E::custom(format!("expected {EXPECTED}, found {v}")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Percent, E> {
                if !s.trim().ends_with('%') {
                    return Err(E::custom(format!("expected {EXPECTED}, found \"{s}\"")));
                }
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_and_time_specs() {
        assert_eq!("14:15".parse::<ClockTime>().unwrap().0, 14 * 3600 + 15 * 60);
        assert_eq!(
            "14:15:30".parse::<ClockTime>().unwrap().to_string(),
            "14:15:30"
        );
        assert!("25:00".parse::<ClockTime>().is_err());
        assert!("14:7".parse::<ClockTime>().is_err());
        assert_eq!(
            "15m".parse::<TimeSpec>().unwrap(),
            TimeSpec::Offset(Duration(SimTime::from_secs(900)))
        );
        assert!(matches!(
            "14:15".parse::<TimeSpec>().unwrap(),
            TimeSpec::Clock(_)
        ));
    }

    #[test]
    fn percent_rounds_like_kubernetes() {
        assert_eq!(Percent::Share(25).of(20, true), 5);
        assert_eq!(Percent::Share(25).of(10, true), 3);
        assert_eq!(Percent::Share(25).of(10, false), 2);
        assert_eq!(Percent::Count(4).of(20, true), 4);
    }

    #[test]
    fn rates_need_a_time_unit() {
        assert_eq!("2000/s".parse::<Rate>().unwrap().0, 2000.0);
        assert_eq!("120/min".parse::<Rate>().unwrap().0, 2.0);
        assert_eq!("5/ms".parse::<Rate>().unwrap().0, 5000.0);
        assert!(
            "2000"
                .parse::<Rate>()
                .unwrap_err()
                .contains("without a unit")
        );
        assert!(
            "2000/h0ur"
                .parse::<Rate>()
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!("-3/s".parse::<Rate>().is_err());
        assert!("inf/s".parse::<Rate>().is_err());
    }

    /// Kubernetes' `GetScaledValueFromIntOrPercent` in integers: every whole
    /// percentage of every fleet of up to 200 pods, both roundings.
    #[test]
    fn percentages_scale_as_kubernetes_does() {
        for pods in 1..=200u32 {
            for p in 1..=100u32 {
                let share = Percent::Share(p);
                // By definition: the least n with 100 n ≥ p × pods, and the
                // greatest n with 100 n ≤ p × pods.
                let up = (0..=pods).find(|n| 100 * n >= p * pods).unwrap();
                let down = (0..=pods).rev().find(|n| 100 * n <= p * pods).unwrap();
                assert_eq!(share.of(pods, true), up, "{p}% of {pods} rounded up");
                assert_eq!(share.of(pods, false), down, "{p}% of {pods} rounded down");
            }
        }
        assert_eq!(Percent::Share(7).of(100, true), 7);
        assert_eq!(Percent::Share(29).of(100, false), 29);
        assert_eq!(Percent::Count(3).of(100, true), 3);
    }

    #[test]
    fn percentages_are_whole() {
        assert_eq!("25%".parse(), Ok(Percent::Share(25)));
        assert_eq!(" 7 % ".parse(), Ok(Percent::Share(7)));
        assert_eq!("5".parse(), Ok(Percent::Count(5)));
        assert!(
            "2.5%"
                .parse::<Percent>()
                .unwrap_err()
                .contains("whole percentage")
        );
        assert!(
            "125%"
                .parse::<Percent>()
                .unwrap_err()
                .contains("0% to 100%")
        );
        assert!("lots".parse::<Percent>().is_err());
        assert!(Percent::Share(0).is_zero() && Percent::Count(0).is_zero());
        assert!(!Percent::Share(1).is_zero());
    }
}
