//! How many pods can hold connections at once during a scenario's deploys:
//! the file's deploys (or one rolling deploy with Kubernetes' defaults) are
//! replayed without traffic ([`pod_timeline::replay`]), and every
//! terminated pod counts until its grace period ends, the latest it can
//! exit with connections.

use crate::engine::SimTime;
use crate::model::pod_timeline;
use crate::scenario::units::Percent;
use crate::scenario::{Action, Rollout, Scenario, Strategy, TimelineEvent};

/// Above this many pods the deploys are not replayed (the rollout's
/// bookkeeping grows with the square of the fleet): the bound then counts
/// every pod the deploys may create.
pub const REPLAY_MAX_PODS: u32 = 5_000;

/// The versions a scenario runs: the first, and every deployed one.
pub(super) fn running_versions(s: &Scenario) -> Vec<usize> {
    let mut out = vec![0];
    for e in &s.events {
        if let Action::Deploy { version, .. } = e.action
            && !out.contains(&version)
        {
            out.push(version);
        }
    }
    out
}

/// The largest surge of the scenario's deploys and rollbacks, if any.
pub(super) fn file_surge(s: &Scenario) -> Option<(u32, String)> {
    rollouts(s)
        .map(|r| {
            let pods = match r.strategy {
                Strategy::Canary => r.max_surge.max(r.canary_pods),
                _ => r.max_surge,
            };
            (
                pods,
                format!("the file's {:?} deploy", r.strategy).to_lowercase(),
            )
        })
        .max_by_key(|(pods, _)| *pods)
}

/// The rollouts of a scenario's deploys and rollbacks.
fn rollouts(s: &Scenario) -> impl Iterator<Item = &Rollout> {
    s.events.iter().filter_map(|e| match &e.action {
        Action::Deploy { rollout, .. } | Action::Rollback { rollout } => Some(rollout),
        _ => None,
    })
}

/// The most pods that can hold connections at once during `scenario`'s
/// deploys (one rolling deploy with Kubernetes' defaults if it has none),
/// with `pods` pods and `--surge` as given: (pods, when, how).
pub(super) fn deploy_pods(
    scenario: &Scenario,
    pods: u32,
    surge: Option<Percent>,
) -> (u64, Option<SimTime>, String) {
    let mut s = scenario.clone();
    s.fleet.pods = pods;
    if rollouts(&s).next().is_none() {
        let rollout = Rollout::kubernetes_default(pods, SimTime::from_secs(20));
        s.events.insert(
            0,
            TimelineEvent {
                at: SimTime::ZERO,
                action: Action::Deploy {
                    version: 0,
                    rollout,
                },
            },
        );
    }
    for e in &mut s.events {
        if let Action::Deploy { rollout, .. } | Action::Rollback { rollout } = &mut e.action
            && let Some(surge) = surge
            && rollout.strategy != Strategy::AllAtOnce
        {
            rollout.max_surge = surge.of(pods, true);
            *rollout = rollout.resolve_fenceposts();
        }
    }
    let grace = s.fleet.termination_grace;
    let deploys = rollouts(&s).count() as u64;
    let replayed = if deploys == 1 { "deploy" } else { "deploys" };
    if pods > REPLAY_MAX_PODS {
        return (
            u64::from(pods) * (1 + deploys),
            None,
            format!(
                "the first fleet and every pod the {replayed} may create (deploys of more than {REPLAY_MAX_PODS} pods are not replayed)"
            ),
        );
    }
    let peak = pod_timeline::bound_peak(&pod_timeline::replay(&s), |_| 1, grace);
    (
        peak.value,
        Some(peak.at),
        format!(
            "ready pods, and terminated ones until termination_grace ({grace}) ends, in the replayed {replayed}"
        ),
    )
}
