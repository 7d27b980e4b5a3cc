//! Alert replay: rules evaluated over the time series as Prometheus would
//! evaluate them, every evaluation interval. A rule whose condition holds is
//! *pending*; once it has held for its `for` duration it *fires*; when the
//! condition stops holding a firing alert *resolves* (a pending one simply
//! clears). Window aggregates follow PromQL: counters become rates over the
//! window, ratios are ratios of sums, gauges are averaged over the window,
//! wait quantiles come from summed histogram buckets (`histogram_quantile`).

use super::log_kind::LogKind;
use super::series::SeriesRow;
use super::window::{WindowRow, metric};
use crate::engine::SimTime;
use crate::scenario::{AlertRule, CompareOp};
use serde::Serialize;
use std::collections::VecDeque;

/// One pending → firing → resolved episode of an alert (times in seconds).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Episode {
    /// When the condition started to hold.
    pub pending_at_s: f64,
    /// When it had held for `for` (absent if it cleared before).
    pub firing_at_s: Option<f64>,
    /// When a firing alert stopped (absent if still firing at the end).
    pub resolved_at_s: Option<f64>,
}

/// A transition to log.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// Alert name.
    pub alert: String,
    /// `AlertPending`, `AlertFiring`, `AlertResolved` or `AlertCleared`.
    pub kind: LogKind,
    /// The metric's value at the evaluation.
    pub value: Option<f64>,
}

/// Evaluates every rule at each evaluation time.
pub struct AlertEngine {
    rules: Vec<AlertRule>,
    interval: SimTime,
    next_eval: SimTime,
    window: VecDeque<WindowRow>,
    longest: SimTime,
    /// Per rule: the episodes so far (the last one may be open).
    pub episodes: Vec<Vec<Episode>>,
    max_connections: f64,
}

impl AlertEngine {
    /// An engine for `rules`, evaluated every `interval`.
    pub fn new(rules: Vec<AlertRule>, interval: SimTime, max_connections: u32) -> AlertEngine {
        let longest = rules
            .iter()
            .map(|r| r.window)
            .max()
            .unwrap_or(SimTime::ZERO);
        AlertEngine {
            episodes: vec![Vec::new(); rules.len()],
            rules,
            interval,
            next_eval: interval,
            window: VecDeque::new(),
            longest,
            max_connections: max_connections as f64,
        }
    }

    /// The rules.
    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// Add the interval ending at `end` (with its wait-bucket counts) and
    /// evaluate every rule at each evaluation time reached. Returns the
    /// transitions, with their times.
    pub fn push(
        &mut self,
        end: SimTime,
        length: SimTime,
        row: &SeriesRow,
        buckets: super::window::Buckets,
    ) -> Vec<(SimTime, Transition)> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        self.window
            .push_back(WindowRow::new(end, length, row, buckets));
        while self
            .window
            .front()
            .is_some_and(|w| w.end + self.longest <= end)
        {
            self.window.pop_front();
        }
        let mut out = Vec::new();
        while self.next_eval <= end {
            let at = self.next_eval;
            self.next_eval = at + self.interval;
            for i in 0..self.rules.len() {
                if let Some(t) = self.evaluate(i, at) {
                    out.push((at, t));
                }
            }
        }
        out
    }

    fn evaluate(&mut self, i: usize, at: SimTime) -> Option<Transition> {
        let rule = &self.rules[i];
        let rows: Vec<&WindowRow> = self
            .window
            .iter()
            .filter(|w| w.end <= at && w.end + rule.window > at)
            .collect();
        let value = metric(rule.metric, &rows, self.max_connections);
        let holds = value.is_some_and(|v| compare(rule.op, v, rule.threshold));
        let at_s = at.as_secs_f64();
        let name = rule.name.clone();
        let for_s = rule.for_.as_secs_f64();
        let episodes = &mut self.episodes[i];
        let open = episodes.last_mut().filter(|e| e.resolved_at_s.is_none());
        let kind = match (holds, open) {
            (true, None) => {
                let firing = (for_s == 0.0).then_some(at_s);
                episodes.push(Episode {
                    pending_at_s: at_s,
                    firing_at_s: firing,
                    resolved_at_s: None,
                });
                if firing.is_some() {
                    LogKind::AlertFiring
                } else {
                    LogKind::AlertPending
                }
            }
            (true, Some(e)) if e.firing_at_s.is_none() && at_s - e.pending_at_s >= for_s => {
                e.firing_at_s = Some(at_s);
                LogKind::AlertFiring
            }
            (false, Some(e)) if e.firing_at_s.is_some() => {
                e.resolved_at_s = Some(at_s);
                LogKind::AlertResolved
            }
            (false, Some(_)) => {
                episodes.pop();
                LogKind::AlertCleared
            }
            _ => return None,
        };
        Some(Transition {
            alert: name,
            kind,
            value,
        })
    }
}

fn compare(op: CompareOp, v: f64, threshold: f64) -> bool {
    match op {
        CompareOp::Above => v > threshold,
        CompareOp::AtLeast => v >= threshold,
        CompareOp::Below => v < threshold,
        CompareOp::AtMost => v <= threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::AlertMetric;

    fn rule(for_s: u64) -> AlertRule {
        AlertRule {
            name: "HighErrorRate".into(),
            metric: AlertMetric::ErrorRate,
            op: CompareOp::Above,
            threshold: 0.01,
            window: SimTime::from_secs(60),
            for_: SimTime::from_secs(for_s),
            severity: crate::scenario::Severity::Page,
        }
    }

    fn row(failed: u64) -> SeriesRow {
        SeriesRow {
            answered: 100,
            failed,
            ..SeriesRow::default()
        }
    }

    /// Feed one row a second: errors from `bad.0` to `bad.1` seconds.
    fn replay(
        for_s: u64,
        bad: (u64, u64),
        until: u64,
    ) -> (Vec<(SimTime, Transition)>, Vec<Episode>) {
        let mut e = AlertEngine::new(vec![rule(for_s)], SimTime::from_secs(15), 500);
        let mut all = Vec::new();
        for t in 1..=until {
            let failed = if (bad.0..bad.1).contains(&t) { 5 } else { 0 };
            let buckets = crate::metrics::window::Buckets::default();
            all.extend(e.push(
                SimTime::from_secs(t),
                SimTime::from_secs(1),
                &row(failed),
                buckets,
            ));
        }
        (all, e.episodes[0].clone())
    }

    #[test]
    fn pending_then_firing_after_for_then_resolved() {
        // 5 % errors in the rows from t = 100 s to 399 s. Over a 1-minute
        // window of 60 rows the error rate is 5 % × (bad rows) / 60, above
        // 1 % with 13 or more bad rows.
        let (transitions, episodes) = replay(180, (100, 400), 600);
        let kinds: Vec<LogKind> = transitions.iter().map(|t| t.1.kind).collect();
        assert_eq!(
            kinds,
            vec![
                LogKind::AlertPending,
                LogKind::AlertFiring,
                LogKind::AlertResolved
            ]
        );
        let e = &episodes[0];
        // 13 bad rows from t = 112 s; evaluations come every 15 s: 120 s.
        assert_eq!(e.pending_at_s, 120.0);
        assert_eq!(e.firing_at_s, Some(300.0));
        // 12 or fewer bad rows in the window from t = 447 s: resolved at 450 s.
        assert_eq!(e.resolved_at_s, Some(450.0));
    }

    #[test]
    fn a_short_burst_never_fires() {
        let (transitions, episodes) = replay(180, (100, 200), 600);
        let kinds: Vec<LogKind> = transitions.iter().map(|t| t.1.kind).collect();
        assert_eq!(kinds, vec![LogKind::AlertPending, LogKind::AlertCleared]);
        assert!(episodes.is_empty());
    }
}
