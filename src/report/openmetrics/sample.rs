//! One exported sample, where samples go, and the text format's value and
//! label spellings.

use super::Metric;
use std::io;

/// One exported sample.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// Its family.
    pub metric: Metric,
    /// Appended to the family name: `_total`, `_bucket`, `_count`, `_sum`
    /// or nothing.
    pub suffix: &'static str,
    /// The labels that name the series within its family, rendered
    /// `a="x",b="y"` (escaped), without braces.
    pub labels: &'a str,
    /// `le` (rendered the same way), which tells the buckets of one
    /// histogram point apart.
    pub part: Option<&'a str>,
    /// Milliseconds since the epoch.
    pub t_ms: i64,
    /// The value.
    pub value: f64,
}

impl Sample<'_> {
    /// The series' metric name: family name and suffix.
    pub fn name(&self) -> String {
        format!("{}{}", self.metric.name(), self.suffix)
    }

    /// The full label set, without braces.
    pub fn all_labels(&self) -> String {
        match (self.labels.is_empty(), self.part) {
            (_, None) => self.labels.to_owned(),
            (true, Some(p)) => p.to_owned(),
            (false, Some(p)) => format!("{},{p}", self.labels),
        }
    }
}

/// Where samples go.
pub trait SampleOut {
    /// One sample. The samples of a series come in time order.
    fn sample(&mut self, s: &Sample) -> io::Result<()>;
}

/// A label value escaped for the text format and PromQL (`\\`, `\"`, `\n`).
pub fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// A float as the text format writes it: integers without a fraction,
/// `NaN`, `+Inf`, `-Inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The `le` label value of a bucket bound in OpenMetrics' canonical form
/// (`"0.05"`, `"1.0"`, `"+Inf"`).
pub fn le_value(bound: Option<f64>) -> String {
    match bound {
        None => "+Inf".into(),
        Some(b) if b.fract() == 0.0 => format!("{b:.1}"),
        Some(b) => format!("{b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_bounds_are_canonical() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.125), "0.125");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(le_value(Some(1.0)), "1.0");
        assert_eq!(le_value(Some(0.075)), "0.075");
        assert_eq!(le_value(None), "+Inf");
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }
}
