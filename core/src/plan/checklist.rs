//! The write-up's pre-deploy checklist, plus its ADR's "release in
//! finally", checked against a plan (and its scenario, when there is one).

use super::{JobPool, Plan, Queueing};
use crate::scenario::{AlertMetric, Scenario};
use serde::Serialize;

/// A checklist item's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Done, and fine.
    Checked,
    /// Needs attention.
    Flagged,
    /// Cannot be checked from what was given.
    Unknown,
}

/// One item of the pre-deploy checklist.
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    /// The write-up's words.
    pub item: &'static str,
    /// Its state.
    pub check: Check,
    /// Why.
    pub detail: String,
}

/// The write-up's pre-deploy checklist, plus its ADR's "release in
/// finally".
pub(super) fn checklist(plan: &Plan, scenario: Option<&Scenario>) -> Vec<Item> {
    use Check::*;
    let worst = plan
        .versions
        .iter()
        .max_by_key(|v| v.possible_in_deploy.unwrap_or(u64::MAX))
        .expect("a version");
    let in_deploy = worst
        .possible_in_deploy
        .map_or("no bound".to_owned(), |n| n.to_string());
    let mut items = vec![
        Item {
            item: "Calculate connection requirements (pods × workers × pool_size)",
            check: Checked,
            detail: format!(
                "{} × {} × {}{} = {} possible; {} during a deploy (at most {} pods hold connections at once: {})",
                plan.pods,
                plan.workers,
                worst.pool_max,
                match worst.job {
                    JobPool::Own { max, per_pod, .. } =>
                        format!(" + {} × {per_pod} × {max} (job pools)", plan.pods),
                    _ => String::new(),
                },
                worst.possible,
                in_deploy,
                plan.deploy_pods,
                plan.deploy_bound
            ),
        },
        Item {
            item: "Verify against DB max_connections",
            check: if plan.fits { Checked } else { Flagged },
            detail: format!(
                "{}{} {} {} slots the app may hold ({} max_connections − {} reserved − {} other clients); largest safe pool max: {}",
                if worst.possible_in_deploy.is_none() {
                    "a new job pool every run: overlapping runs each open another, so "
                } else {
                    ""
                },
                in_deploy,
                if plan.fits { "≤" } else { ">" },
                plan.app_slots,
                plan.max_connections,
                plan.reserved,
                plan.other_clients,
                worst.safe_pool_max
            ),
        },
    ];
    let own: Vec<&str> = plan
        .versions
        .iter()
        .filter(|v| matches!(v.job, JobPool::Own { .. }))
        .map(|v| v.name.as_str())
        .collect();
    items.push(Item {
        item: "Add connection to existing pool (not new pool)",
        check: if own.is_empty() { Checked } else { Flagged },
        detail: if own.is_empty() {
            "no job pool of its own".into()
        } else {
            format!("the job builds a pool of its own: {}", own.join(", "))
        },
    });
    let doubled: Vec<&Queueing> = plan
        .versions
        .iter()
        .filter_map(|v| v.queueing.iter().find(|q| q.case.ends_with("2 × load")))
        .collect();
    let saturated = doubled.iter().any(|q| q.offered >= f64::from(q.pool_max));
    items.push(Item {
        item: "Test at 2x expected load",
        check: if saturated { Flagged } else { Checked },
        detail: format!(
            "M/M/c at 2 × {:.0}/s: offered {:.2} Erlangs per worker for a pool of {}{}; simulate it with pooldrill sweep FILE --set traffic.rate=…",
            plan.rate,
            doubled.first().map_or(0.0, |q| q.offered),
            doubled.first().map_or(0, |q| q.pool_max),
            if saturated { ": the pool cannot keep up" } else { "" }
        ),
    });
    items.push(match scenario {
        None => Item {
            item: "Add pool metrics to dashboard",
            check: Unknown,
            detail: "give a scenario file with [[alerts]] to check".into(),
        },
        Some(s) => {
            let has =
                |metrics: &[AlertMetric]| s.alerts.iter().any(|a| metrics.contains(&a.metric));
            let wanted = [
                (
                    "pool utilisation",
                    has(&[AlertMetric::PoolUtilisation, AlertMetric::Waiters]),
                ),
                (
                    "acquire wait",
                    has(&[
                        AlertMetric::WaitMeanS,
                        AlertMetric::WaitP50S,
                        AlertMetric::WaitP95S,
                        AlertMetric::WaitP99S,
                    ]),
                ),
                (
                    "exhaustion failures",
                    has(&[
                        AlertMetric::ExhaustionFailuresPerS,
                        AlertMetric::RefusalsPerS,
                        AlertMetric::AcquireTimeoutsPerS,
                    ]),
                ),
            ];
            let missing: Vec<&str> = wanted.iter().filter(|w| !w.1).map(|w| w.0).collect();
            Item {
                item: "Add pool metrics to dashboard",
                check: if missing.is_empty() { Checked } else { Flagged },
                detail: if missing.is_empty() {
                    "alerts on pool utilisation, acquire wait and exhaustion failures".into()
                } else {
                    format!("no alert on {}", missing.join(", "))
                },
            }
        }
    });
    let leaky: Vec<&str> = plan
        .versions
        .iter()
        .filter(|v| v.job_releases == Some(false))
        .map(|v| v.name.as_str())
        .collect();
    let unknown = plan
        .versions
        .iter()
        .any(|v| v.job != JobPool::None && v.job_releases.is_none());
    items.push(Item {
        item: "Release connections in finally{} blocks (the write-up's ADR)",
        check: match (leaky.is_empty(), unknown) {
            (false, _) => Flagged,
            (true, true) => Unknown,
            (true, false) => Checked,
        },
        detail: if !leaky.is_empty() {
            format!("the job leaks on failure in {}", leaky.join(", "))
        } else if unknown {
            "give a scenario file to check the job's release".into()
        } else {
            "every job run releases in finally (or there is no job)".into()
        },
    });
    items
}
