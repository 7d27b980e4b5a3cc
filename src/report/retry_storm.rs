//! The retry storm's section of `report.md` and of the handout: each arm's
//! figures, and why a retry budget beats an attempt limit, in words both
//! share.

use crate::format::{percent, span};
use crate::metrics::Summary;

/// The retry storm's arms: scenario name and summary, in chart order.
pub struct RetryStorm<'a> {
    /// Each arm.
    pub arms: Vec<(&'a str, &'a Summary)>,
}

/// What the section shows, before the arms' names.
pub const INTRO: &str = "One fleet, one traffic spike, three client retry policies. Recovery counts from the end of the spike until the error rate is back near its level before it and stays there for 30 s (`docs/retries.md`). The scenarios:";

/// Why a budget beats an attempt limit.
pub const WHY_BUDGETS: &str = "An attempt limit bounds the retries of one request, not the load of all of them: when most attempts fail, every request spends its whole allowance, so the offered load multiplies by up to the limit exactly when the pools have the least room, and the retries of abandoned attempts keep the pools full after the trigger is gone: the overload sustains itself. A retry budget bounds retries as a share of first attempts on each worker: under overload the buckets empty and retries add at most that share whatever the failure rate, while a rare failure is still retried from the tokens saved in calm times. Jittered, growing backoff spreads the retries that remain, so that they do not return in step.";

/// The table's columns.
pub const COLUMNS: [&str; 5] = [
    "arm",
    "attempts per request",
    "retries dropped",
    "error rate",
    "recovery",
];

impl RetryStorm<'_> {
    /// One row per arm, a cell per column.
    pub fn rows(&self) -> Vec<[String; 5]> {
        self.arms
            .iter()
            .map(|(name, s)| {
                let r = &s.requests;
                let recovery = match s.recovery_s {
                    Some(Some(secs)) => span(secs),
                    Some(None) => "never (before the end)".into(),
                    None => "–".into(),
                };
                [
                    (*name).to_owned(),
                    r.amplification.map_or("–".into(), |a| format!("{a:.2}")),
                    r.retries_dropped.map_or("–".into(), |d| d.to_string()),
                    percent(r.error_rate, 2),
                    recovery,
                ]
            })
            .collect()
    }
}
