//! The report: per alert of the user's file, promtool's episodes beside
//! pooldrill's own, as data and as text relative to the deploy and the
//! first refusal.

use super::episodes::episodes;
use super::promtool::State;
use super::rules::{AlertRuleInfo, Rules};
use super::test_file::TestRun;
use crate::format::{clock_hms, span};
use crate::metrics::alerts::Episode;
use crate::metrics::{LogKind, Summary};
use crate::scenario::{Scenario, Severity};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// One alert of the user's file: what promtool and pooldrill's own replay
/// (when the scenario has a rule of the same name) make of it.
#[derive(Clone, Debug)]
pub struct AlertOutcome {
    /// The rule.
    pub rule: AlertRuleInfo,
    /// Episodes under promtool, in time order.
    pub promtool: Vec<Episode>,
    /// Episodes of pooldrill's rule of the same name, if any.
    pub pooldrill: Option<Vec<Episode>>,
    /// The selectors of its expression that match no series pooldrill
    /// exports (a misspelled or production-only metric): the rule cannot
    /// fire on this run.
    pub unmatched: Vec<String>,
}

/// The whole evaluation.
#[derive(Clone, Debug)]
pub struct AlertsReport {
    /// The run's summary.
    pub summary: Summary,
    /// First deploy (s from the start).
    pub deploy_s: Option<f64>,
    /// First refusal (s).
    pub first_refusal_s: Option<f64>,
    /// Per alert of the file, in file order.
    pub alerts: Vec<AlertOutcome>,
}

pub(super) fn report(
    scenario: &Scenario,
    rules: &Rules,
    run: TestRun,
    active: &[(String, f64, State)],
) -> AlertsReport {
    let TestRun {
        summary,
        timeline,
        unmatched,
    } = run;
    let step = scenario.alert_interval.as_secs_f64();
    let end = scenario.duration.as_secs_f64();
    let eval_times: Vec<f64> = (1..)
        .map(|k| k as f64 * step)
        .take_while(|&t| t <= end + 1e-9)
        .collect();
    let first = |kind: LogKind| timeline.iter().find(|e| e.kind == kind).map(|e| e.time_s);
    let alerts = rules
        .alerts
        .iter()
        .map(|rule| {
            let mut states: BTreeMap<i64, State> = BTreeMap::new();
            for (_, t, s) in active.iter().filter(|a| a.0 == rule.name) {
                let at = states.entry((t * 1000.0).round() as i64).or_insert(*s);
                *at = (*at).max(*s);
            }
            let pooldrill = summary
                .alerts
                .iter()
                .find(|a| a.name == rule.name)
                .map(|a| {
                    a.episodes
                        .iter()
                        .map(|e| Episode {
                            pending_at_s: e.pending_at_s,
                            firing_at_s: e.firing_at_s,
                            resolved_at_s: e.resolved_at_s,
                        })
                        .collect()
                });
            AlertOutcome {
                rule: rule.clone(),
                promtool: episodes(&eval_times, &states),
                pooldrill,
                unmatched: unmatched
                    .iter()
                    .find(|(name, _)| *name == rule.name)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    AlertsReport {
        deploy_s: first(LogKind::Deploy),
        first_refusal_s: first(LogKind::FirstRefusal),
        summary,
        alerts,
    }
}

/// `t` relative to `reference`: `9 min 40 s after the deploy`.
fn relative(t: f64, reference: f64, what: &str) -> String {
    let side = if t >= reference { "after" } else { "before" };
    format!("{} {side} {what}", span((t - reference).abs()))
}

/// The report as text.
pub fn render(scenario: &Scenario, rules: &Path, report: &AlertsReport) -> String {
    let clock = |s: f64| match scenario.start_clock {
        Some(start) => clock_hms(start, s),
        None => crate::engine::SimTime::from_secs_f64(s).to_string(),
    };
    let opt = |s: Option<f64>| s.map_or("-".to_owned(), clock);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: rules {} evaluated by promtool every {}",
        scenario.name,
        rules.display(),
        scenario.alert_interval
    );
    if let Some(d) = report.deploy_s {
        let _ = write!(out, "deploy at {}", clock(d));
    }
    if let Some(r) = report.first_refusal_s {
        let _ = write!(out, "; first refusal at {}", clock(r));
    }
    let _ = writeln!(out, "\n");
    let width = report
        .alerts
        .iter()
        .map(|a| a.rule.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        out,
        "{:width$}  {:>9} {:>9} {:>9} {:>8}   {:>16}",
        "alert", "pending", "firing", "resolved", "episodes", "pooldrill firing"
    );
    for a in &report.alerts {
        let e = a.promtool.first();
        let own = a
            .pooldrill
            .as_ref()
            .map_or("(no such rule)".to_owned(), |eps| {
                opt(eps.iter().find_map(|e| e.firing_at_s))
            });
        let _ = writeln!(
            out,
            "{:width$}  {:>9} {:>9} {:>9} {:>8}   {:>16}",
            a.rule.name,
            opt(e.map(|e| e.pending_at_s)),
            opt(e.and_then(|e| e.firing_at_s)),
            opt(e.and_then(|e| e.resolved_at_s)),
            a.promtool.len(),
            own
        );
    }
    let _ = writeln!(out);
    for a in &report.alerts {
        let verb = if a.rule.severity == Some(Severity::Page) {
            "paged"
        } else {
            "fired"
        };
        match a.promtool.iter().find_map(|e| e.firing_at_s) {
            None if !a.unmatched.is_empty() => {
                let _ = writeln!(
                    out,
                    "your `{}` could not have {verb} here: {} matches no series pooldrill exports.",
                    a.rule.name,
                    a.unmatched
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            None => {
                let _ = writeln!(out, "your `{}` would never have {verb}.", a.rule.name);
            }
            Some(f) => {
                let mut when = vec![];
                if let Some(d) = report.deploy_s {
                    when.push(relative(f, d, "the deploy"));
                }
                if let Some(r) = report.first_refusal_s {
                    when.push(relative(f, r, "the first refusal"));
                }
                if when.is_empty() {
                    when.push(format!("at {}", clock(f)));
                }
                let _ = writeln!(
                    out,
                    "your `{}` would have {verb} {}.",
                    a.rule.name,
                    when.join(", ")
                );
            }
        }
    }
    out
}
