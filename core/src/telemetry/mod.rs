//! Telemetry files: a time series exported from the user's monitoring,
//! read into a [`Series`] on the run's clock by [`read_series`].
//!
//! The format is told from the content: a file starting with `{` is a
//! Prometheus `query_range` response (`prometheus`), anything else a CSV
//! with a header `time,<value>` (`csv`). Times are placed on the run's
//! clock by `clock`: seconds from the start, `HH:MM[:SS]` against
//! `meta.start`, RFC 3339 and Prometheus' Unix seconds against `meta.date` +
//! `meta.start` in UTC (or relative to the first sample without a date).
//! Times must increase strictly. A `count` column (requests counted in the
//! interval that ends at each time) becomes the rate over that interval,
//! held from its start: a step profile. The core reads no file: the caller
//! passes the bytes (read through the scenario's resolver).

mod clock;
mod csv;
mod error;
mod prometheus;

pub use clock::{Clock, TimeFormat, TimeReader, days_from_civil, parse_date, parse_rfc3339};
pub use error::TelemetryError;

/// Largest telemetry file read: 24 hours at one point a second fits.
pub const MAX_TELEMETRY_BYTES: u64 = 16 * 1024 * 1024;

/// A time series on the run's clock.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// `(seconds from the run's start, value)`, times strictly increasing;
    /// never empty (the readers refuse a file without a point).
    pub points: Vec<(f64, f64)>,
}

/// What the value column of a file holds, as its header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// `rate`: per second, at each time (already converted for `count`).
    Rate,
    /// `count`: the events in the interval ending at each time; the
    /// [`Series`] returned holds their per-second rates.
    Count,
    /// `value`: a gauge or rate, as observed.
    Value,
}

impl ValueKind {
    /// The header naming this kind.
    pub fn header(self) -> &'static str {
        match self {
            ValueKind::Rate => "rate",
            ValueKind::Count => "count",
            ValueKind::Value => "value",
        }
    }

    fn from_header(h: &str) -> Option<ValueKind> {
        [ValueKind::Rate, ValueKind::Count, ValueKind::Value]
            .into_iter()
            .find(|k| k.header() == h)
    }

    /// Whether values must be ≥ 0 (rates and counts).
    fn non_negative(self) -> bool {
        self != ValueKind::Value
    }
}

/// Read the telemetry file `file` (its `bytes`) onto `clock`, accepting the
/// value columns `value_headers` (`&["rate", "count"]` for traffic,
/// `&["value"]` for observed series; a Prometheus file's values are of the
/// first kind). Returns the series and the kind its header named; errors
/// name the file's line and column, or the JSON path.
pub fn read_series(
    file: &str,
    bytes: &[u8],
    clock: &Clock,
    value_headers: &[&str],
) -> Result<(Series, ValueKind), TelemetryError> {
    let kinds: Vec<ValueKind> = value_headers
        .iter()
        .filter_map(|h| ValueKind::from_header(h))
        .collect();
    assert!(!kinds.is_empty(), "value headers: rate, count or value");
    let text = decode(file, bytes)?;
    let (series, kind) = if text.trim_start().starts_with('{') {
        let kind = kinds[0];
        (prometheus::read(file, text, clock, kind)?, kind)
    } else {
        csv::read(file, text, clock, &kinds)?
    };
    Ok((series, kind))
}

/// The bytes as UTF-8 text, size-capped, without a BOM.
fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, TelemetryError> {
    if bytes.len() as u64 > MAX_TELEMETRY_BYTES {
        return Err(TelemetryError::whole(
            file,
            "a telemetry file of at most 16 MiB",
            format!("{} bytes", bytes.len()),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let column = valid
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        TelemetryError::whole(
            file,
            "UTF-8 text",
            format!("the byte 0x{:02x}", bytes[e.valid_up_to()]),
        )
        .at(line, column)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_told_from_the_content() {
        let clock = Clock::default();
        let csv = b"\xEF\xBB\xBFtime,count\n0,10\n10,20\n";
        let (s, kind) = read_series("t.csv", csv, &clock, &["rate", "count"]).unwrap();
        assert_eq!((kind, s.points.len()), (ValueKind::Count, 3));
        let json = br#" {"status":"success","data":{"resultType":"matrix","result":[{"values":[[5,"2"]]}]}}"#;
        let (s, kind) = read_series("t.json", json, &clock, &["value"]).unwrap();
        assert_eq!((kind, s.points), (ValueKind::Value, vec![(0.0, 2.0)]));
        let e = read_series("t.csv", b"time,rate\n\xFF", &clock, &["rate"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:2:1: expected UTF-8 text, found the byte 0xff"
        );
    }
}
