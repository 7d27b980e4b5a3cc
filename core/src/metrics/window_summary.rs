//! `windows.json`: the `requests`, `acquire` and `connections` sections of
//! `summary.json` over each window asked for, built by the same code from
//! the window's own accumulators ([`super::window_tally`]); and the before /
//! during / after windows of each deploy and rollback.

use super::recorder::Recorder;
use super::sections::{acquire_sections, connection_summary, request_summary};
use super::summary::{AcquireSummary, ConnectionSummary, EndState, RequestSummary};
use super::window_tally::WindowTally;
use crate::scenario::Scenario;
use serde::Serialize;

/// One window's figures.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct WindowSummary {
    /// Its start, seconds from the start of the run (the warm-up's end if
    /// it was asked to start inside the warm-up).
    pub from_s: f64,
    /// Its end.
    pub to_s: f64,
    /// The start asked for, when it lay inside the warm-up and the window
    /// was clipped to the warm-up's end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clipped_from_s: Option<f64>,
    /// The requests that arrived in it, as in `summary.json`; `in_flight`
    /// and `clients_waiting` are theirs at the end of the run (a request
    /// waiting out a retry's backoff counts in flight), and the retry
    /// counters are left out.
    pub requests: RequestSummary,
    /// The acquires that started in it.
    pub acquire: AcquireSummary,
    /// The connections over it (time-weighted means and peak exact over
    /// the window; leaks that happened in it; `peak_db_occupied` is the
    /// whole run's, as in `summary.json`).
    pub connections: ConnectionSummary,
}

/// A deploy's or rollback's three windows.
#[derive(Clone, Debug, PartialEq)]
pub struct RolloutSummary {
    /// `deploy v2, rolling (surge 1, unavailable 0)`.
    pub label: String,
    /// When it started (s).
    pub at_s: f64,
    /// From the previous `rollout_complete` (or the warm-up's end) to it.
    pub before: Option<WindowSummary>,
    /// From it to its `rollout_complete` (or the run's end).
    pub during: WindowSummary,
    /// From its `rollout_complete` to the run's end.
    pub after: Option<WindowSummary>,
}

/// The summary of window `w` of a run that ended as `end` says.
fn summary_of(scenario: &Scenario, w: &WindowTally, end: &EndState) -> WindowSummary {
    let t = &w.tally;
    let arrived = t.totals.arrived;
    let (acquire, _) = acquire_sections(t);
    let length = (w.span.to.0 - w.span.from.0) as f64;
    let mean = |[from, to]: [f64; 2]| {
        if length > 0.0 {
            (to - from) / length
        } else {
            0.0
        }
    };
    WindowSummary {
        from_s: w.span.from.as_secs_f64(),
        to_s: w.span.to.as_secs_f64(),
        clipped_from_s: (w.asked.from < w.span.from).then(|| w.asked.from.as_secs_f64()),
        requests: request_summary(
            scenario,
            t,
            // Saturating: a rollout window's edge falls inside an event, so
            // a request that arrived at the edge's very nanosecond may be
            // counted in the window before while its records land in this
            // one (never a panic nor a wrapped count).
            [
                arrived.saturating_sub(t.totals.handlers_ended()),
                arrived.saturating_sub(t.totals.clients_resolved()),
            ],
            None,
        ),
        acquire,
        connections: connection_summary(
            scenario,
            w.peak_open,
            [mean(w.open_area), mean(w.checked_out_area)],
            t.totals.leaked,
            end.peak_db_occupied,
        ),
    }
}

/// The `--window` windows' summaries and the rollouts', of a run whose
/// windows are closed.
pub fn build(
    scenario: &Scenario,
    rec: &Recorder,
    end: &EndState,
) -> (Vec<WindowSummary>, Vec<RolloutSummary>) {
    let Some(tallies) = rec.windows.as_deref() else {
        return (Vec::new(), Vec::new());
    };
    let of = |i: usize| summary_of(scenario, &tallies.list[i], end);
    let asked = tallies.asked();
    let rollouts = tallies
        .rollouts
        .iter()
        .map(|r| RolloutSummary {
            label: r.label.clone(),
            at_s: r.at.as_secs_f64(),
            before: r.before.map(of),
            during: of(r.during),
            after: r.after.map(of),
        })
        .collect();
    ((0..asked).map(of).collect(), rollouts)
}
