//! Values with units as written in scenario files: durations (`"30s"`,
//! `"250ms"`, `"2m30s"`) and rates (`"2000/s"`, `"120/min"`).

use crate::engine::SimTime;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A duration read from a string with a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Duration(pub SimTime);

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("an empty string".into());
        }
        if t.starts_with('-') {
            return Err(format!("a negative duration \"{s}\""));
        }
        if t.parse::<f64>().is_ok() {
            return Err(format!(
                "\"{s}\" without a unit (write \"{t}s\" or \"{t}ms\")"
            ));
        }
        // Decimal seconds and milliseconds ("1.5s", "0.25ms") are common in
        // hand-written files; humantime only takes whole numbers.
        if let Some(v) = decimal_with_unit(t) {
            return Ok(Duration(SimTime::from_secs_f64(v)));
        }
        match humantime::parse_duration(t) {
            Ok(d) => {
                let ns = d.as_nanos();
                if ns > u64::MAX as u128 / 2 {
                    return Err(format!("\"{s}\", which is longer than 290 years"));
                }
                Ok(Duration(SimTime(ns as u64)))
            }
            Err(e) => Err(format!("\"{s}\" ({e})")),
        }
    }
}

/// `"1.5s"`, `"0.25ms"`, `"2.5m"`, `"1.5h"` as seconds.
fn decimal_with_unit(t: &str) -> Option<f64> {
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = t.split_at(split);
    if !num.contains('.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    let scale = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let secs = v * scale;
    (secs.is_finite() && secs < 9e9).then_some(secs)
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration like \"30s\", \"250ms\" or \"10m\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
                s.parse().map_err(|found: String| {
                    E::custom(format!(
                        "expected a duration like \"30s\", \"250ms\" or \"10m\", found {found}"
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

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

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rate;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a rate like \"2000/s\" or \"120/min\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Rate, E> {
                s.parse().map_err(|found: String| {
                    E::custom(format!(
                        "expected a rate like \"2000/s\" or \"120/min\", found {found}"
                    ))
                })
            }
        }
        d.deserialize_any(V)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_units() {
        assert_eq!("30s".parse::<Duration>().unwrap().0, SimTime::from_secs(30));
        assert_eq!(
            "250ms".parse::<Duration>().unwrap().0,
            SimTime::from_millis(250)
        );
        assert_eq!(
            "2m30s".parse::<Duration>().unwrap().0,
            SimTime::from_secs(150)
        );
        assert_eq!(
            "1.5s".parse::<Duration>().unwrap().0,
            SimTime::from_millis(1500)
        );
        assert_eq!("0.5ms".parse::<Duration>().unwrap().0, SimTime(500_000));
        assert!(
            "30".parse::<Duration>()
                .unwrap_err()
                .contains("without a unit")
        );
        assert!("-5s".parse::<Duration>().unwrap_err().contains("negative"));
        assert!("3 parsecs".parse::<Duration>().is_err());
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
}
