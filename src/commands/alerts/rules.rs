//! The user's Prometheus rule file: loaded, its alerting rules listed, and
//! the selectors that match no series pooldrill exports found.

use super::promql::{self, Selector};
use crate::report::openmetrics::{Kind, Metric};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// One rule of a Prometheus rule file (the fields pooldrill reads).
#[derive(Debug, Deserialize)]
struct Rule {
    alert: Option<String>,
    record: Option<String>,
    expr: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Group {
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

/// An alerting rule of the user's file.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRuleInfo {
    /// `alert:`.
    pub name: String,
    /// `labels.severity`, if set.
    pub severity: Option<crate::scenario::Severity>,
}

/// What a rule file asks for.
pub(super) struct Rules {
    /// Absolute path.
    pub(super) path: PathBuf,
    /// Alerting rules in file order, one per name.
    pub(super) alerts: Vec<AlertRuleInfo>,
    /// Metric names the expressions mention (`None`: maybe any of them).
    pub(super) names: Option<HashSet<String>>,
    /// The vector selectors of each alerting rule, by alert name.
    pub(super) selectors: BTreeMap<String, Vec<Selector>>,
    /// Series the file's recording rules make.
    pub(super) recorded: HashSet<String>,
}

impl Rules {
    pub(super) fn load(path: &Path) -> Result<Rules> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file: RuleFile = yaml_serde::from_str(&text)
            .with_context(|| format!("{}: not a Prometheus rule file", path.display()))?;
        let mut alerts: Vec<AlertRuleInfo> = Vec::new();
        let mut names = Some(HashSet::new());
        let mut selectors: BTreeMap<String, Vec<Selector>> = BTreeMap::new();
        let mut recorded = HashSet::new();
        for rule in file.groups.iter().flat_map(|g| &g.rules) {
            if let Some(name) = &rule.alert {
                selectors
                    .entry(name.clone())
                    .or_default()
                    .extend(promql::selectors(&rule.expr));
            }
            recorded.extend(rule.record.clone());
            if let Some(name) = &rule.alert
                && !alerts.iter().any(|a| &a.name == name)
            {
                alerts.push(AlertRuleInfo {
                    name: name.clone(),
                    severity: rule
                        .labels
                        .get("severity")
                        .cloned()
                        .map(crate::scenario::Severity::from),
                });
            }
            if rule.expr.contains("__name__") {
                names = None;
            }
            if let Some(n) = names.as_mut() {
                n.extend(identifiers(&rule.expr));
            }
        }
        if alerts.is_empty() {
            bail!(
                "{}: no alerting rule (`alert:`) to evaluate",
                path.display()
            );
        }
        let path = std::fs::canonicalize(path)
            .with_context(|| format!("cannot resolve {}", path.display()))?;
        Ok(Rules {
            path,
            alerts,
            names,
            selectors,
            recorded,
        })
    }

    /// Per alert, in file order, the selectors of its expression that match
    /// no series of `exported` (nor a recorded series, nor `ALERTS`): such
    /// an alert cannot fire on pooldrill's metrics, whatever happens.
    pub(super) fn unmatched(&self, exported: &[ExportedSeries]) -> Vec<(String, Vec<String>)> {
        let made_by_rules = |name: &str| {
            matches!(name, "ALERTS" | "ALERTS_FOR_STATE") || self.recorded.contains(name)
        };
        self.alerts
            .iter()
            .filter_map(|a| {
                let mut missing: Vec<String> = Vec::new();
                for s in &self.selectors[&a.name] {
                    let Some(name) = s.name.as_deref() else {
                        continue;
                    };
                    if !made_by_rules(name)
                        && !exported.iter().any(|e| s.matches(&e.name, &e.labels))
                        && !missing.contains(&s.text)
                    {
                        missing.push(s.text.clone());
                    }
                }
                (!missing.is_empty()).then(|| (a.name.clone(), missing))
            })
            .collect()
    }
}

/// A series of the run's export: metric name and labels.
pub(super) struct ExportedSeries {
    pub(super) name: String,
    pub(super) labels: BTreeMap<String, String>,
}

/// Every metric name pooldrill exports (a counter's with `_total`, a
/// histogram's `_bucket`, `_count` and `_sum`).
fn exported_names() -> Vec<String> {
    Metric::ALL
        .iter()
        .flat_map(|m| {
            let suffixes: &[&str] = match m.kind() {
                Kind::Counter => &["_total"],
                Kind::Histogram => &["_bucket", "_count", "_sum"],
                Kind::Gauge => &[""],
            };
            suffixes.iter().map(move |s| format!("{}{s}", m.name()))
        })
        .collect()
}

/// Warn on stderr about every selector of `unmatched`, and list what
/// pooldrill exports.
pub(super) fn warn_unmatched(rules: &Path, unmatched: &[(String, Vec<String>)]) {
    for (alert, selectors) in unmatched {
        for s in selectors {
            eprintln!(
                "warning: {}: alert `{alert}`: `{s}` matches no series pooldrill exports: \
                 the rule cannot fire on this run",
                rules.display()
            );
        }
    }
    if !unmatched.is_empty() {
        eprintln!(
            "warning: pooldrill exports: {}",
            exported_names().join(", ")
        );
    }
}

/// The words of a PromQL expression that could be metric names.
fn identifiers(expr: &str) -> impl Iterator<Item = String> + '_ {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
}
