//! Deploys and rollbacks the way a Kubernetes Deployment controller does
//! them: pods of the target version are created while the total of live
//! (starting or ready) pods stays within `replicas + maxSurge`, and pods of
//! other versions are terminated while at least `replicas − maxUnavailable`
//! stay ready. Terminating pods no longer count, so surge pods overlap with
//! draining ones — and count against the database cap while they do.
//! `all_at_once` is 100 % surge, no unavailability; `canary` first moves
//! `canary_pods` pods, pauses, then rolls the rest.

use super::event::FleetEvent;
use super::fleet::PodState;
use super::{Event, Simulation};
use crate::metrics::LogKind;
use crate::scenario::{Rollout, Strategy};

/// The Deployment's state: the rollout in progress and the revisions so far.
pub(crate) struct Deployment {
    /// The rollout in progress.
    pub(crate) rollout: Option<RolloutState>,
    /// Versions deployed so far, the current target last (for rollbacks).
    pub(crate) version_history: Vec<usize>,
    /// Rollouts started so far (the latest is the current revision).
    pub(crate) revisions: u32,
}

impl Default for Deployment {
    /// The initial version, no rollout yet.
    fn default() -> Deployment {
        Deployment {
            rollout: None,
            version_history: vec![0],
            revisions: 0,
        }
    }
}

/// A rollout in progress.
#[derive(Clone, Copy, Debug)]
pub struct RolloutState {
    /// The version being rolled out.
    pub target: usize,
    /// Its revision: pods of other revisions are old.
    pub revision: u32,
    /// How.
    pub params: Rollout,
    /// Canary: only `canary_pods` of the target for now.
    pub canary_phase: bool,
    /// Canary: the pause before the rest is running.
    pub paused: bool,
}

impl Simulation<'_> {
    /// Start rolling out `target` (replacing any rollout in progress).
    pub(crate) fn start_rollout(&mut self, target: usize, params: Rollout) {
        self.deployment.revisions += 1;
        self.deployment.rollout = Some(RolloutState {
            target,
            revision: self.deployment.revisions,
            params,
            canary_phase: params.strategy == Strategy::Canary,
            paused: false,
        });
        self.reconcile_rollout();
    }

    /// The canary pause is over: roll the rest.
    pub(crate) fn resume_rollout(&mut self) {
        if let Some(r) = self.deployment.rollout.as_mut() {
            r.canary_phase = false;
            r.paused = false;
        }
        self.reconcile_rollout();
    }

    /// Create and terminate pods until the rollout's bounds allow no more.
    pub(crate) fn reconcile_rollout(&mut self) {
        let Some(r) = self.deployment.rollout else {
            return;
        };
        if r.paused {
            return;
        }
        let replicas = self.scenario.fleet.pods;
        let desired_new = if r.canary_phase {
            r.params.canary_pods.min(replicas)
        } else {
            replicas
        };
        let desired_old = replicas - desired_new;
        let min_available = replicas.saturating_sub(r.params.max_unavailable);
        loop {
            // One pass over the pods (a deploy across thousands of pods
            // comes here thousands of times): the counts, and the old pods
            // in the order they go, unready ones first, then the newest.
            let (mut new_live, mut new_ready, mut old_live, mut old_ready) = (0, 0, 0, 0);
            let (mut old_unready, mut old_ready_pods) = (Vec::new(), Vec::new());
            for (p, pod) in self.fleet.pods.iter().enumerate().rev() {
                if !pod.is_live() {
                    continue;
                }
                let ready = pod.state == PodState::Ready;
                if pod.revision == r.revision {
                    new_live += 1;
                    new_ready += u32::from(ready);
                } else {
                    old_live += 1;
                    old_ready += u32::from(ready);
                    if ready {
                        old_ready_pods.push(p as u32);
                    } else {
                        old_unready.push(p as u32);
                    }
                }
            }
            let mut changed = false;
            let room = (replicas + r.params.max_surge).saturating_sub(new_live + old_live);
            for _ in 0..room.min(desired_new.saturating_sub(new_live)) {
                self.create_pod(r.target, r.revision, r.params.pod_startup);
                changed = true;
            }
            for pod in old_unready.into_iter().chain(old_ready_pods) {
                if old_live <= desired_old {
                    break;
                }
                let ready = self.fleet.pods[pod as usize].state == PodState::Ready;
                if ready && old_ready + new_ready <= min_available {
                    break;
                }
                self.terminate_pod(pod);
                old_live -= 1;
                old_ready -= u32::from(ready);
                changed = true;
            }
            if changed {
                continue;
            }
            if r.canary_phase && new_ready >= desired_new && old_live <= desired_old {
                self.log(
                    LogKind::CanaryReady,
                    None,
                    format!(
                        "{new_ready} pods on the new version; the rest in {}",
                        r.params.canary_pause
                    ),
                );
                if let Some(state) = self.deployment.rollout.as_mut() {
                    state.paused = true;
                }
                let at = self.sched.now() + r.params.canary_pause;
                self.sched.at(at, Event::Fleet(FleetEvent::RolloutResume));
            } else if !r.canary_phase && new_ready == replicas && old_live == 0 {
                let name = self.scenario.versions[r.target].name.clone();
                self.log(
                    LogKind::RolloutComplete,
                    None,
                    format!("every pod runs {name}"),
                );
                self.deployment.rollout = None;
            }
            return;
        }
    }
}
