//! The key figures of a run, as the markdown report and the HTML handout
//! both show them, and their number formats.

use crate::format::{percent, seconds};
use crate::metrics::Summary;

/// A key figure: its label and how to read it from a summary.
pub type Figure = (&'static str, fn(&Summary) -> String);

/// The key figures, in the order the reports show them.
pub const KEY_FIGURES: [Figure; 11] = [
    ("requests", |s| s.requests.arrived.to_string()),
    ("error rate (client view)", |s| {
        percent(s.requests.error_rate, 2)
    }),
    ("refused by PostgreSQL (53300)", |s| {
        s.requests.refused.to_string()
    }),
    ("acquire timeouts", |s| {
        s.requests.acquire_timeouts.to_string()
    }),
    ("p95 / p99 latency", |s| {
        format!(
            "{} / {}",
            seconds(s.requests.p95_latency_s),
            seconds(s.requests.p99_latency_s)
        )
    }),
    ("acquire wait mean / p99", |s| {
        format!(
            "{} / {}",
            seconds(s.acquire.mean_wait_s),
            seconds(s.acquire.p99_wait_s)
        )
    }),
    ("open connections mean / peak", |s| {
        format!(
            "{:.0} / {}",
            s.connections.mean_open, s.connections.peak_open
        )
    }),
    ("server slots taken at peak", |s| {
        format!(
            "{} of {}",
            s.connections.peak_db_occupied, s.connections.max_connections
        )
    }),
    ("connections leaked", |s| s.connections.leaked.to_string()),
    ("job runs failed / started", |s| {
        format!("{} / {}", s.job.runs_failed, s.job.runs_started)
    }),
    ("job acquires starved", |s| {
        s.acquire_by_class.job.starved.to_string()
    }),
];
