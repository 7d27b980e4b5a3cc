//! Durations as written in scenario files (`"30s"`, `"250ms"`, `"2m30s"`,
//! `"1e3ms"`): the grammar, read exactly to the nanosecond.

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
        let ns = nanoseconds(t).map_err(|why| format!("\"{s}\"{why}"))?;
        if ns > u64::MAX as u128 / 2 {
            return Err(format!("\"{s}\", which is longer than 290 years"));
        }
        Ok(Duration(SimTime(ns as u64)))
    }
}

/// The units a duration may be written in, and their length in
/// nanoseconds. Months and years are not among them: they have no fixed
/// length, and `M` is too easily meant as minutes.
const UNITS: [(&[&str], u128); 8] = [
    (&["ns", "nsec", "nanos"], 1),
    (&["us", "µs", "μs", "usec"], 1_000),
    (&["ms", "msec", "millis"], 1_000_000),
    (&["s", "sec", "secs", "second", "seconds"], 1_000_000_000),
    (&["m", "min", "mins", "minute", "minutes"], 60_000_000_000),
    (&["h", "hr", "hrs", "hour", "hours"], 3_600_000_000_000),
    (&["d", "day", "days"], 86_400_000_000_000),
    (&["w", "wk", "wks", "week", "weeks"], 604_800_000_000_000),
];

/// Significant digits kept of a number (more cannot change a duration
/// that fits in 290 years by a nanosecond).
const MAX_MANTISSA: u128 = 10_000_000_000_000_000_000;

/// `t` (trimmed, not negative) in nanoseconds: numbers, each with a unit,
/// added up (`"2m30s"`, `"1h 30m"`). A number has an optional decimal part
/// and exponent (`"1.5s"`, `"1e3ms"`). Each part is rounded to the nearest
/// nanosecond. The error says what is wrong, to follow the quoted text.
fn nanoseconds(t: &str) -> Result<u128, String> {
    let mut total: u128 = 0;
    let mut nonzero = false;
    let mut last_unit: Option<usize> = None;
    let mut rest = t;
    while !rest.is_empty() {
        let (number, after) = split_number(rest);
        if number.is_empty() {
            return Err(match rest.chars().next() {
                Some(c) if c.is_alphabetic() => {
                    " (a duration is numbers with units, as in \"30s\" or \"2m30s\")".into()
                }
                Some(c) => format!(": unexpected \"{c}\""),
                None => String::new(),
            });
        }
        let after = after.trim_start();
        let unit_end = after
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        if unit.is_empty() {
            return Err(match next.chars().next() {
                None if number.len() == t.len() => {
                    format!(" without a unit (write \"{t}s\" or \"{t}ms\")")
                }
                None => {
                    // "1h30" is surely 1h30m: the unit after the last one.
                    let next_unit = last_unit
                        .filter(|&u| u > 0)
                        .map_or("s", |u| UNITS[u - 1].0[0]);
                    format!(": \"{number}\" needs a unit (did you mean \"{t}{next_unit}\"?)")
                }
                Some(',') if next[1..].starts_with(|c: char| c.is_ascii_digit()) => {
                    ": unexpected \",\" (write decimals with a point, as in \"1.5s\")".into()
                }
                Some(c) => format!(": unexpected \"{c}\""),
            });
        }
        let unit_ns = unit_length(unit, number)?;
        last_unit = UNITS.iter().position(|(_, ns)| *ns == unit_ns);
        let (mantissa, exponent) = decimal(number);
        nonzero |= mantissa > 0;
        total = scaled(mantissa, exponent, unit_ns)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| ", which is longer than 290 years".to_owned())?;
        rest = next.trim_start();
    }
    if total == 0 && nonzero {
        return Err(
            ", which is shorter than 1ns, the simulator's resolution (write \"0s\" for none)"
                .into(),
        );
    }
    Ok(total)
}

/// The longest prefix of `s` that is a number (`12`, `1.5`, `.5`, `1e3`,
/// `2.5E-3`), and the rest.
fn split_number(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    let digits = |from: usize| from + b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut end = digits(0);
    let mut mantissa_digits = end;
    if b.get(end) == Some(&b'.') {
        let after = digits(end + 1);
        mantissa_digits += after - end - 1;
        end = after;
    }
    if mantissa_digits == 0 {
        return ("", s);
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(end + 1), Some(b'+' | b'-')));
        let exponent_end = digits(end + 1 + sign);
        if exponent_end > end + 1 + sign {
            end = exponent_end;
        }
    }
    s.split_at(end)
}

/// A number as `mantissa × 10^exponent`, with at most
/// [`MAX_MANTISSA`]'s digits of mantissa.
fn decimal(number: &str) -> (u128, i64) {
    // Exponents beyond ±1000 (or i64) are all as good as infinite.
    let (digits, exponent) = match number.split_once(['e', 'E']) {
        Some((digits, e)) => {
            let limit = if e.starts_with('-') { -1000 } else { 1000 };
            (digits, e.parse::<i64>().unwrap_or(limit).clamp(-1000, 1000))
        }
        None => (number, 0),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let (mut mantissa, mut shift) = (0u128, 0i64);
    for d in whole.bytes() {
        if mantissa < MAX_MANTISSA {
            mantissa = mantissa * 10 + u128::from(d - b'0');
        } else {
            shift += 1;
        }
    }
    for d in fraction.bytes() {
        if mantissa < MAX_MANTISSA {
            mantissa = mantissa * 10 + u128::from(d - b'0');
            shift -= 1;
        }
    }
    (mantissa, exponent + shift)
}

/// `mantissa × 10^exponent × unit_ns`, rounded half up; `None` when it
/// does not fit in 128 bits.
fn scaled(mantissa: u128, exponent: i64, unit_ns: u128) -> Option<u128> {
    let exact = mantissa * unit_ns; // below 10^20 × 10^15: no overflow
    if exact == 0 {
        return Some(0);
    }
    if exponent >= 0 {
        let power = 10u128.checked_pow(u32::try_from(exponent).ok()?)?;
        return exact.checked_mul(power);
    }
    let Some(power) = 10u128.checked_pow(u32::try_from(-exponent).ok()?) else {
        return Some(0); // over 10^38: far below half a nanosecond
    };
    Some(exact / power + u128::from(exact % power >= power - power / 2))
}

/// The length of `unit` in nanoseconds, or why it is not a unit, with a
/// hint: months and years have no fixed length, and a capital letter may
/// be a lower-case unit.
fn unit_length(unit: &str, number: &str) -> Result<u128, String> {
    if let Some((_, ns)) = UNITS.iter().find(|(names, _)| names.contains(&unit)) {
        return Ok(*ns);
    }
    Err(match unit {
        "M" => format!(
            ": months have no fixed length (did you mean \"{number}m\" for minutes? For months, write days, like \"30d\")"
        ),
        "month" | "months" => ": months have no fixed length (write days, like \"30d\")".into(),
        "y" | "yr" | "yrs" | "year" | "years" => {
            ": years have no fixed length (write days, like \"365d\")".into()
        }
        _ => {
            let lower = unit.to_lowercase();
            match UNITS
                .iter()
                .find(|(names, _)| names.contains(&lower.as_str()))
            {
                Some(_) => format!(": unknown unit \"{unit}\" (did you mean \"{lower}\"?)"),
                None => format!(": unknown unit \"{unit}\" (use ns, us, ms, s, m, h, d or w)"),
            }
        }
    })
}

from_string!(Duration, "a duration like \"30s\", \"250ms\" or \"10m\"");

/// `t` in the largest unit that writes it exactly, as scenario files and
/// command lines take it: "600s", "1500ms", "250us", "7ns".
pub fn exact(t: SimTime) -> String {
    let ns = t.0;
    [(1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "us")]
        .into_iter()
        .find(|(unit, _)| ns.is_multiple_of(*unit))
        .map_or_else(
            || format!("{ns}ns"),
            |(unit, name)| format!("{}{name}", ns / unit),
        )
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
        assert_eq!(
            "1h 30m".parse::<Duration>().unwrap().0,
            SimTime::from_secs(5400)
        );
        assert_eq!(
            "2 weeks".parse::<Duration>().unwrap().0.0,
            1_209_600 * 1_000_000_000
        );
    }

    fn ns(text: &str) -> u64 {
        text.parse::<Duration>()
            .unwrap_or_else(|e| panic!("{e}"))
            .0
            .0
    }

    fn refusal(text: &str) -> String {
        text.parse::<Duration>().unwrap_err()
    }

    #[test]
    fn months_and_years_are_refused_with_a_hint() {
        let e = refusal("2M");
        assert!(e.contains("months have no fixed length"), "{e}");
        assert!(e.contains("did you mean \"2m\" for minutes?"), "{e}");
        assert!(refusal("3 months").contains("write days"));
        for year in ["1y", "2 years", "1yr"] {
            assert!(
                refusal(year).contains("years have no fixed length"),
                "{year}"
            );
        }
        assert!(refusal("30S").contains("did you mean \"s\"?"));
        let e = refusal("3 parsecs");
        assert!(
            e.contains("unknown unit \"parsecs\" (use ns, us, ms, s, m, h, d or w)"),
            "{e}"
        );
    }

    #[test]
    fn exponents_are_read_exactly() {
        assert_eq!(ns("1e3ms"), 1_000_000_000);
        assert_eq!(ns("2.5E-3s"), 2_500_000);
        assert_eq!(ns("1e+2us"), 100_000);
        assert_eq!(ns("0.1s"), 100_000_000);
        assert_eq!(ns(".5ms"), 500_000);
        assert_eq!(ns("1e-9s"), 1);
        assert_eq!(ns("0.5ns"), 1, "rounded half up");
        assert_eq!(ns("0e5s"), 0);
        assert!(refusal("1e3").contains("without a unit (write \"1e3s\""));
        assert!(refusal("1e30s").contains("longer than 290 years"));
        assert!(refusal("1e-99999999999999999999s").contains("shorter than 1ns"));
        assert!(refusal("1e99999999999999999999s").contains("longer than 290 years"));
        assert!(refusal("0.1ns").contains("shorter than 1ns"));
    }

    #[test]
    fn malformed_durations_say_what_is_wrong() {
        assert!(refusal("1,5s").contains("write decimals with a point"));
        assert!(refusal("1h30").contains("\"30\" needs a unit (did you mean \"1h30m\"?)"));
        assert!(refusal("2m30").contains("(did you mean \"2m30s\"?)"));
        assert!(refusal("inf").contains("numbers with units"));
        assert!(refusal("30s!").contains("unexpected \"!\""));
        assert!(refusal("1.2.3s").contains("unexpected \".\""));
    }

    #[test]
    fn every_displayed_duration_reads_back_as_itself() {
        let mut t: u64 = 1;
        while t < u64::MAX / 4 {
            for v in [t, t + 1, t * 3 / 2, t * 7 + 13].map(|v| v.min(u64::MAX / 2)) {
                let shown = SimTime(v).to_string();
                assert_eq!(ns(&shown), v, "{shown}");
            }
            t = t * 10 + 7;
        }
    }
}
