//! What the charts of one run need: the time series, the acquire-wait
//! buckets, the pods, and the events to mark on them.

use crate::metrics::{PodRow, SeriesRow};

/// Upper bounds (seconds) of the acquire-wait buckets, log-spaced. The first
/// bucket holds the waits of exactly zero (an idle client was there); a last,
/// overflow bucket (not listed) holds everything above 60 s.
pub const WAIT_BUCKET_BOUNDS_S: &[f64] = &[
    0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
];

/// One run (or the mean of replications) as the charts need it.
///
/// Every field is public; build one with [`ChartSink::into_run`] and struct
/// update syntax:
/// `RunSeries { scenario: "after".into(), seed, max_connections: 500, ..sink.into_run() }`.
///
/// [`ChartSink::into_run`]: super::ChartSink::into_run
#[derive(Clone, Debug, Default)]
pub struct RunSeries {
    /// Scenario name, shown in the footer and as a column title.
    pub scenario: String,
    /// Master seed, shown in the footer.
    pub seed: u64,
    /// Replications averaged into the rows: 1 (or 0) reads "1 run".
    pub replications: u32,
    /// Wall-clock (hour, minute) of t = 0, e.g. (14, 0): the time axis then
    /// reads "14:15"; `None`: minutes from the start.
    pub start_clock: Option<(u32, u32)>,
    /// One row per sample interval (`time_s` = end of the interval).
    pub rows: Vec<SeriesRow>,
    /// Per row: acquire waits per bucket of [`WAIT_BUCKET_BOUNDS_S`], plus
    /// the overflow bucket (so `WAIT_BUCKET_BOUNDS_S.len() + 1` counts).
    pub wait_buckets: Vec<Vec<u64>>,
    /// Every pod at every sample while it lives.
    pub pods: Vec<PodRow>,
    /// Instants drawn as labelled vertical lines.
    pub markers: Vec<Marker>,
    /// Spans drawn as shaded bands.
    pub regions: Vec<Region>,
    /// The alert threshold on the error rate (a fraction, 0.01 = 1 %), drawn
    /// as a line on the error-rate axis; `None`: no line.
    pub error_alert: Option<f64>,
    /// PostgreSQL `max_connections`.
    pub max_connections: u32,
    /// Slots an ordinary role may use: `max_connections` minus the reserved.
    pub usable_slots: u32,
    /// Number of pools, for the share of pools starving.
    pub pools: u32,
    /// Measured series drawn over the simulated ones (`[[observed]]`).
    pub observed: Vec<super::ObservedLine>,
}

/// An instant to mark on every time axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Seconds from the start.
    pub t_s: f64,
    /// Short text shown next to the line ("deploy v2.3.0").
    pub label: String,
    /// What kind of event, which sets the colour.
    pub kind: MarkerKind,
}

/// Kinds of marked instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    /// A deploy (or a deploy wave).
    Deploy,
    /// A rollback.
    Rollback,
    /// An alert changing state.
    Alert,
    /// Anything else (first refusal, leak onset, traffic step).
    Event,
}

/// A span to shade on every time axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    /// Start, seconds from the start of the run.
    pub from_s: f64,
    /// End, seconds from the start of the run.
    pub to_s: f64,
    /// Short text shown in the state strip above the panels.
    pub label: String,
    /// What kind of span, which sets the colour.
    pub kind: RegionKind,
}

/// Kinds of shaded spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// The alert condition holds but its `for` has not elapsed.
    AlertPending,
    /// The alert is firing.
    AlertFiring,
    /// The incident window (first breach to recovery).
    Incident,
    /// What sets a retry storm off (a traffic spike), start to end.
    Trigger,
}

impl RunSeries {
    /// Length of row `i`'s interval in seconds (the first interval starts
    /// at 0; a degenerate length falls back to a neighbour's).
    pub fn interval_s(&self, i: usize) -> f64 {
        let end = self.rows[i].time_s;
        let start = if i == 0 { 0.0 } else { self.rows[i - 1].time_s };
        if end > start {
            end - start
        } else if i + 1 < self.rows.len() {
            self.rows[i + 1].time_s - end
        } else {
            1.0
        }
    }

    /// `count` over row `i`'s interval, per second.
    pub fn per_second(&self, i: usize, count: u64) -> f64 {
        count as f64 / self.interval_s(i)
    }

    /// End of the last interval (seconds), at least 1.
    pub fn duration_s(&self) -> f64 {
        self.rows.last().map_or(1.0, |r| r.time_s).max(1.0)
    }

    /// The footer line: "scenario after · seed 20260115 · 1 run".
    pub fn footer(&self) -> String {
        footer(&self.scenario, self.seed, self.replications)
    }
}

/// A footer line naming where a chart's numbers come from:
/// "scenario after · seed 20260115 · mean of 20 replications".
pub fn footer(scenario: &str, seed: u64, replications: u32) -> String {
    let runs = if replications <= 1 {
        "1 run".to_owned()
    } else {
        format!("mean of {replications} replications")
    };
    format!("scenario {scenario} · seed {seed} · {runs}")
}
