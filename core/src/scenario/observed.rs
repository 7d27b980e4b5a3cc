//! `[[observed]]`: a series the user measured in production (a Grafana
//! panel, a Prometheus query), named by the `timeseries.csv` column it is
//! compared with. The scenario names the data file; the caller's
//! [`Resolve`](super::Resolve) reads it during validation, and the
//! simulation never sees it: it only scores the run afterwards
//! (`metrics::observed`, docs/own-incident.md).

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
    /// Validation reads it from the data file.
    pub points: Vec<(f64, f64)>,
}
