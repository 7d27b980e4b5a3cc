//! One value of a `--set`, as typed: an integer (`6`), a number (`0.2`), a
//! duration (`"10s"`) or a rate (`1000/s`), in the units of the file; and
//! the TOML value it is written into the scenario as.

use crate::engine::SimTime;
use crate::scenario::units::{Duration, Rate, exact};
use serde::{Deserialize, Serialize};

/// What kind of value a `--set` gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Whole numbers (`pool.max`).
    Integer,
    /// Numbers (`job.error_probability`).
    Number,
    /// Durations, stored in seconds.
    Duration,
    /// Rates, stored per second.
    Rate,
}

impl Kind {
    /// The kind in words: `an integer`, `a duration`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Integer => "an integer",
            Kind::Number => "a number",
            Kind::Duration => "a duration",
            Kind::Rate => "a rate",
        }
    }

    /// The TOML value of `v` (in stored units), in the file's units:
    /// `6`, `0.2`, `"600s"`, `"1500/s"`.
    pub fn toml_value(self, v: f64) -> toml::Value {
        match self {
            Kind::Integer => toml::Value::Integer(v as i64),
            Kind::Number => toml::Value::Float(v),
            Kind::Duration => toml::Value::String(exact(SimTime::from_secs_f64(v))),
            Kind::Rate => toml::Value::String(format!("{v}/s")),
        }
    }
}

/// A value as typed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// `6`.
    Integer(i64),
    /// `0.2`.
    Number(f64),
    /// `10s`.
    Duration(SimTime),
    /// `1000/s`, per second.
    Rate(f64),
}

impl Value {
    /// Read one value; the error is what was found (for [`expected`]).
    pub fn parse(s: &str) -> Result<Value, String> {
        let s = s.trim();
        if s.contains('/') {
            return s.parse::<Rate>().map(|r| Value::Rate(r.0));
        }
        if let Ok(i) = s.parse::<i64>() {
            return Ok(Value::Integer(i));
        }
        if let Ok(v) = s.parse::<f64>() {
            return if v.is_finite() {
                Ok(Value::Number(v))
            } else {
                Err(format!("\"{s}\", which is not a finite number"))
            };
        }
        s.parse::<Duration>()
            .map(|d| Value::Duration(d.0))
            .map_err(|_| format!("\"{s}\""))
    }

    /// Its kind.
    pub fn kind(self) -> Kind {
        match self {
            Value::Integer(_) => Kind::Integer,
            Value::Number(_) => Kind::Number,
            Value::Duration(_) => Kind::Duration,
            Value::Rate(_) => Kind::Rate,
        }
    }

    /// In stored units (seconds, per second).
    pub fn stored(self) -> f64 {
        match self {
            Value::Integer(i) => i as f64,
            Value::Number(v) | Value::Rate(v) => v,
            Value::Duration(t) => t.as_secs_f64(),
        }
    }
}

/// The message of a value [`Value::parse`] refused (`found`).
pub fn expected(found: String) -> String {
    format!(
        "expected an integer, a number, a duration like \"10s\" or a rate like \"100/s\", found {found}"
    )
}

/// The one kind of several values (integers mixed with numbers are numbers).
pub fn common_kind(values: &[Value]) -> Result<Kind, String> {
    let mut kind = values[0].kind();
    for v in values {
        kind = match (kind, v.kind()) {
            (a, b) if a == b => a,
            (Kind::Integer, Kind::Number) | (Kind::Number, Kind::Integer) => Kind::Number,
            (a, b) => {
                return Err(format!(
                    "expected values of one kind, found {} and {}",
                    a.name(),
                    b.name()
                ));
            }
        };
    }
    Ok(kind)
}
