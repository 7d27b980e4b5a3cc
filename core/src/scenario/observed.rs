//! `[[observed]]`: a series the user measured in production (a Grafana
//! panel, a Prometheus query), named by the `timeseries.csv` column it is
//! compared with. The scenario names the data file; the caller's
//! [`Resolve`](super::Resolve) reads it (see [`read_observed`]), and the
//! simulation never sees it: it only scores the run afterwards
//! (`metrics::observed`, docs/own-incident.md).

use super::Scenario;
use super::error::ScenarioError;
use super::locate::span_of;
use super::resolve::Resolve;
use super::validate::source_hash;
use crate::telemetry::{Clock, read_series};
use serde::Deserialize;

/// One `[[observed]]` entry as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedFile {
    /// A `timeseries.csv` column, e.g. `error_rate`.
    pub metric: String,
    /// The data file, relative to the scenario file.
    pub file: String,
    /// Shown in legends (default: the metric).
    pub label: Option<String>,
}

/// How a column is compared with an observed series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// A count over the sample interval: compared per second.
    Count,
    /// A rate, a percentile or a gauge: compared as it is.
    Level,
}

/// Every `timeseries.csv` column an observed series may name, with its kind.
pub const OBSERVABLE: &[(&str, ColumnKind)] = &[
    ("arrivals", ColumnKind::Count),
    ("completed", ColumnKind::Count),
    ("goodput", ColumnKind::Count),
    ("acquire_timeouts", ColumnKind::Count),
    ("refusals", ColumnKind::Count),
    ("gave_up", ColumnKind::Count),
    ("app_errors", ColumnKind::Count),
    ("answered", ColumnKind::Count),
    ("failed", ColumnKind::Count),
    ("error_rate", ColumnKind::Level),
    ("acquires", ColumnKind::Count),
    ("wait_p50_s", ColumnKind::Level),
    ("wait_p95_s", ColumnKind::Level),
    ("wait_p99_s", ColumnKind::Level),
    ("latency_p50_s", ColumnKind::Level),
    ("latency_p95_s", ColumnKind::Level),
    ("latency_p99_s", ColumnKind::Level),
    ("open_request_pools", ColumnKind::Level),
    ("open_job_pools", ColumnKind::Level),
    ("open_leaked", ColumnKind::Level),
    ("db_occupied", ColumnKind::Level),
    ("connecting", ColumnKind::Level),
    ("checked_out", ColumnKind::Level),
    ("idle", ColumnKind::Level),
    ("waiters", ColumnKind::Level),
    ("pools_starving", ColumnKind::Level),
    ("pool_utilisation_max", ColumnKind::Level),
    ("starved_requests", ColumnKind::Count),
    ("starved_jobs", ColumnKind::Count),
    ("job_runs", ColumnKind::Count),
    ("leaked", ColumnKind::Count),
    ("leaked_cumulative", ColumnKind::Level),
];

/// A validated `[[observed]]` entry and, once read, its points.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The `timeseries.csv` column compared (one of [`OBSERVABLE`]).
    pub metric: String,
    /// How the column is compared.
    pub kind: ColumnKind,
    /// The data file as the scenario names it.
    pub file: String,
    /// Shown in legends.
    pub label: String,
    /// `(seconds from the start, value)`, time-ordered; empty until
    /// [`read_observed`] fills it.
    pub points: Vec<(f64, f64)>,
}

/// Read every observed series of `scenario` (parsed from `source`, the
/// file `name`) through `files` with the telemetry reader, refusing
/// unreadable or malformed data at the scenario key that named the file,
/// with the data file's line and column (or JSON path) in the message. The
/// scenario's hash then covers the data too.
pub fn read_observed(
    scenario: &mut Scenario,
    name: &str,
    source: &str,
    files: &dyn Resolve,
) -> Result<(), ScenarioError> {
    let clock = Clock {
        start_s: scenario.start_clock.map(|c| f64::from(c.0)),
        date: None,
    };
    let mut hashed = scenario.hash.clone();
    for (i, o) in scenario.observed.iter_mut().enumerate() {
        let key = format!("observed[{i}].file");
        let span = span_of(source, &key);
        let err =
            |message: String| ScenarioError::at_span(name, source, span.clone(), &key, message);
        let bytes = files.read(&o.file).map_err(|why| {
            err(format!(
                "expected a readable data file, found \"{}\": {why}",
                o.file
            ))
        })?;
        let (series, _) = read_series(&o.file, &bytes, &clock, &["value"]).map_err(|e| {
            let mut place = e.file.clone();
            if e.line > 0 {
                place.push_str(&format!(":{}:{}", e.line, e.column));
            }
            if !e.path.is_empty() {
                place.push_str(&format!(", {}", e.path));
            }
            err(format!(
                "in {place}: expected {}, found {}",
                e.expected, e.found
            ))
        })?;
        o.points = series.points;
        if o.points.is_empty() {
            return Err(err(format!(
                "expected at least one point in \"{}\", found none",
                o.file
            )));
        }
        hashed = source_hash(&format!(
            "{hashed}\n{}\n{}",
            o.file,
            String::from_utf8_lossy(&bytes)
        ));
    }
    scenario.hash = hashed;
    Ok(())
}
