//! The key figures of a run, as the markdown report and the HTML handout
//! both show them, and their number formats.

use crate::metrics::Summary;

/// A key figure: its label and how to read it from a summary.
pub type Figure = (&'static str, fn(&Summary) -> String);

/// The key figures, in the order the reports show them.
pub const KEY_FIGURES: [Figure; 11] = [
    ("requests", |s| s.requests.arrived.to_string()),
    ("error rate (client view)", |s| pct(s.requests.error_rate)),
    ("refused by PostgreSQL (53300)", |s| {
        s.requests.refused.to_string()
    }),
    ("acquire timeouts", |s| {
        s.requests.acquire_timeouts.to_string()
    }),
    ("p95 / p99 latency", |s| {
        format!(
            "{} / {}",
            duration(s.requests.p95_latency_s),
            duration(s.requests.p99_latency_s)
        )
    }),
    ("acquire wait mean / p99", |s| {
        format!(
            "{} / {}",
            duration(s.acquire.mean_wait_s),
            duration(s.acquire.p99_wait_s)
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

/// A fraction as a percentage with two decimals: "12.50 %".
pub fn pct(v: f64) -> String {
    format!("{:.2} %", v * 100.0)
}

/// A duration in seconds, in ms below a second: "79.6 ms", "5.01 s"; "–"
/// when there is none.
pub fn duration(v: Option<f64>) -> String {
    v.map_or("–".into(), |s| {
        if s >= 1.0 {
            format!("{s:.2} s")
        } else {
            format!("{:.1} ms", s * 1e3)
        }
    })
}
