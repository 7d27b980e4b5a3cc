//! Calibration targets: figures a scenario is meant to reproduce (the
//! exercise's dashboard, say), measured over a window of the run with the
//! same aggregation as alert rules, or the time an alert first fires.

use super::series::SeriesRow;
use super::window::{Buckets, WindowRow, metric};
use crate::engine::SimTime;
use crate::scenario::{Target, TargetCheck};
use serde::Serialize;

/// A target and what the run gave.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TargetResult {
    /// What it is.
    pub label: String,
    /// The target, in words (`0.05 %`, `14:30`).
    pub expected: String,
    /// The simulated value, in words.
    pub simulated: String,
    /// The target as a number (seconds for times).
    pub expected_value: f64,
    /// The simulated value as a number, if there is one.
    pub simulated_value: Option<f64>,
    /// Why the two may differ (from the scenario file).
    pub note: String,
}

/// Collects the rows each window target needs.
pub struct TargetTracker {
    targets: Vec<Target>,
    rows: Vec<Vec<WindowRow>>,
    max_connections: f64,
}

impl TargetTracker {
    /// A tracker for `targets`.
    pub fn new(targets: Vec<Target>, max_connections: u32) -> TargetTracker {
        TargetTracker {
            rows: vec![Vec::new(); targets.len()],
            targets,
            max_connections: max_connections as f64,
        }
    }

    /// Offer the interval ending at `end`.
    pub fn push(&mut self, end: SimTime, length: SimTime, row: &SeriesRow, buckets: &Buckets) {
        for (t, rows) in self.targets.iter().zip(&mut self.rows) {
            if let TargetCheck::Window { from, to, .. } = t.check
                && end > from
                && end <= to
            {
                rows.push(WindowRow::new(end, length, row, buckets.clone()));
            }
        }
    }

    /// The results; `first_firing` gives an alert's first firing time (s).
    pub fn results(
        &self,
        first_firing: impl Fn(&str) -> Option<f64>,
        clock: impl Fn(f64) -> String,
    ) -> Vec<TargetResult> {
        self.targets
            .iter()
            .zip(&self.rows)
            .map(|(t, rows)| {
                let (expected, expected_value, simulated, simulated_value) = match &t.check {
                    TargetCheck::Window {
                        metric: m,
                        expected,
                        ..
                    } => {
                        let refs: Vec<&WindowRow> = rows.iter().collect();
                        let v = metric(*m, &refs, self.max_connections);
                        let shown = v.map_or("no data".to_owned(), |v| show(*m, v));
                        (show(*m, *expected), *expected, shown, v)
                    }
                    TargetCheck::AlertFires { alert, at } => {
                        let at_s = at.as_secs_f64();
                        let v = first_firing(alert);
                        let shown = v.map_or("never fired".to_owned(), &clock);
                        (clock(at_s), at_s, shown, v)
                    }
                };
                TargetResult {
                    label: t.label.clone(),
                    expected,
                    simulated,
                    expected_value,
                    simulated_value,
                    note: t.note.clone(),
                }
            })
            .collect()
    }
}

/// A metric value in its natural unit.
fn show(m: crate::scenario::AlertMetric, v: f64) -> String {
    use crate::scenario::AlertMetric::*;
    match m {
        ErrorRate | DbUtilisation | PoolUtilisation => crate::format::percent(v, 2),
        WaitMeanS | WaitP50S | WaitP95S | WaitP99S | LatencyP50S | LatencyP95S | LatencyP99S => {
            format!("{:.0} ms", v * 1e3)
        }
        RefusalsPerS | AcquireTimeoutsPerS | ExhaustionFailuresPerS | RequestsPerS => {
            format!("{v:.1}/s")
        }
        OpenConnections | Waiters | OpenLeaked => format!("{v:.0}"),
    }
}
