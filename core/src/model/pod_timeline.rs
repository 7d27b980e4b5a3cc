//! The pods' lives as a timeline of changes, event by event (not sampled):
//! what a run reports to a [`PodObserver`], and how many connections the
//! pods could hold at once along it. `plan` bounds a deploy with it by
//! replaying the scenario's rollouts without traffic ([`replay`]); tests
//! compare that bound with the exact peak of a run with traffic.
//!
//! A pod can hold connections from ready until its processes end: at a
//! restart, or at its exit after termination — as soon as it is idle, and
//! at the latest `termination_grace` after it was terminated. Which pods
//! are created, ready and terminated, and when, does not depend on traffic
//! (the rollout counts starting and ready pods only, and restarts are
//! timeline events); only the exits do, within the grace period.

use super::{RunOptions, Simulation};
use crate::engine::SimTime;
use crate::metrics::NullSink;
use crate::scenario::{Action, Scenario};

/// What happened to a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodChange {
    /// Created (starting) to run this version.
    Created {
        /// Index into the scenario's versions.
        version: usize,
    },
    /// Ready: its processes run and may open connections.
    Ready,
    /// Terminated by a rollout: out of the load balancer, draining.
    Terminating,
    /// Its processes exited: every connection closed.
    Exited,
    /// Its processes were killed and start again (a `restart` event).
    Restarted,
}

/// A change of one pod at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodEvent {
    /// When.
    pub at: SimTime,
    /// Which pod (ids are never reused).
    pub pod: u32,
    /// What.
    pub change: PodChange,
}

/// Receives every pod change of a run, in the order they happen.
pub type PodObserver<'a> = Box<dyn FnMut(PodEvent) + 'a>;

/// The largest sum of pod capacities along a timeline, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peak {
    /// The sum.
    pub value: u64,
    /// The first instant it is reached.
    pub at: SimTime,
}

/// The exact peak of `capacity(version)` summed over the pods that hold
/// connections, change by change: a pod counts from ready until it exits
/// or restarts.
pub fn exact_peak(events: &[PodEvent], capacity: impl Fn(usize) -> u64) -> Peak {
    peak(events, capacity, None)
}

/// An upper bound of [`exact_peak`] for any run with the same pod changes
/// but other exit times: a terminated pod counts until `grace` after its
/// termination (the latest it can exit), and changes at the same instant
/// count as if every arrival came before every departure.
pub fn bound_peak(events: &[PodEvent], capacity: impl Fn(usize) -> u64, grace: SimTime) -> Peak {
    peak(events, capacity, Some(grace))
}

fn peak(events: &[PodEvent], capacity: impl Fn(usize) -> u64, grace: Option<SimTime>) -> Peak {
    // (pod's version, whether it holds connections now), by pod id.
    let mut pods: Vec<(usize, bool)> = Vec::new();
    let mut steps: Vec<(SimTime, i128)> = Vec::new();
    for e in events {
        let p = e.pod as usize;
        if let PodChange::Created { version } = e.change {
            if pods.len() <= p {
                pods.resize(p + 1, (0, false));
            }
            pods[p] = (version, false);
            continue;
        }
        let Some((version, holds)) = pods.get_mut(p) else {
            continue;
        };
        let c = i128::from(capacity(*version));
        match (e.change, *holds, grace) {
            (PodChange::Ready, false, _) => {
                *holds = true;
                steps.push((e.at, c));
            }
            (PodChange::Terminating, true, Some(grace)) => {
                *holds = false;
                steps.push((e.at.saturating_add(grace), -c));
            }
            (PodChange::Exited | PodChange::Restarted, true, _) => {
                *holds = false;
                steps.push((e.at, -c));
            }
            _ => {}
        }
    }
    if grace.is_some() {
        // Stable: arrivals before departures at the same instant.
        steps.sort_by_key(|&(at, delta)| (at, delta < 0));
    }
    let (mut sum, mut best) = (
        0i128,
        Peak {
            value: 0,
            at: SimTime::ZERO,
        },
    );
    for (at, delta) in steps {
        sum += delta;
        if sum > i128::from(best.value) {
            best = Peak {
                value: sum as u64,
                at,
            };
        }
    }
    best
}

/// The pod changes of `scenario`'s timeline with no traffic, no job, one
/// worker per pod, run on until every rollout is complete: the same
/// creations, readiness, terminations and restarts as any run of it
/// (exits aside, see the module doc).
pub fn replay(scenario: &Scenario) -> Vec<PodEvent> {
    let mut quiet = scenario.clone();
    quiet.traffic.rate_points = vec![(0.0, 0.0)];
    for v in &mut quiet.versions {
        v.app.job = None;
    }
    quiet.fleet.workers = 1;
    quiet.alerts.clear();
    quiet.targets.clear();
    quiet.pooler = None;
    quiet.database.cpu = None;
    quiet.warmup = SimTime::ZERO;
    quiet.duration = settled_by(&quiet);
    quiet.sample_interval = quiet.duration;
    let mut events = Vec::new();
    let sim = Simulation::new_observed(&quiet, RunOptions::default(), Box::new(|e| events.push(e)));
    sim.run(&mut NullSink, |_| true)
        .expect("a run without traffic writes nothing and breaks no invariant");
    events
}

/// A time by which every rollout of `s` is complete and every terminated
/// pod gone: after the last timeline event, each pod of the fleet may take
/// a start-up (one at a time at worst), plus a canary pause and the grace.
fn settled_by(s: &Scenario) -> SimTime {
    let last = s.events.iter().map(|e| e.at).max().unwrap_or(SimTime::ZERO);
    let (mut startup, mut pause) = (SimTime::ZERO, SimTime::ZERO);
    for e in &s.events {
        match &e.action {
            Action::Deploy { rollout, .. } | Action::Rollback { rollout } => {
                startup = startup.max(rollout.pod_startup);
                pause = pause.max(rollout.canary_pause);
            }
            Action::Restart { pod_startup, .. } => startup = startup.max(*pod_startup),
            _ => {}
        }
    }
    let steps = u64::from(s.fleet.pods) + 2;
    let rolling = SimTime(startup.0.saturating_add(1).saturating_mul(steps));
    last.saturating_add(rolling)
        .saturating_add(pause)
        .saturating_add(s.fleet.termination_grace)
        .saturating_add(SimTime::from_secs(1))
        .max(s.duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: u64, pod: u32, change: PodChange) -> PodEvent {
        PodEvent {
            at: SimTime::from_secs(s),
            pod,
            change,
        }
    }

    #[test]
    fn exits_count_exactly_or_at_the_end_of_the_grace() {
        use PodChange::*;
        let events = [
            e(0, 0, Created { version: 0 }),
            e(0, 0, Ready),
            e(0, 1, Created { version: 1 }),
            e(10, 0, Terminating),
            e(12, 0, Exited),
            e(20, 1, Ready),
        ];
        let cap = |v: usize| [3, 5][v];
        assert_eq!(exact_peak(&events, cap).value, 5);
        let bound = bound_peak(&events, cap, SimTime::from_secs(30));
        assert_eq!((bound.value, bound.at), (8, SimTime::from_secs(20)));
        // Exiting at the instant the other is ready: both count.
        assert_eq!(bound_peak(&events, cap, SimTime::from_secs(10)).value, 8);
        assert_eq!(bound_peak(&events, cap, SimTime::from_secs(9)).value, 5);
    }

    #[test]
    fn a_restart_or_a_terminated_starting_pod_holds_nothing() {
        use PodChange::*;
        let events = [
            e(0, 0, Created { version: 0 }),
            e(0, 0, Ready),
            e(5, 0, Restarted),
            e(5, 1, Created { version: 0 }),
            e(6, 1, Terminating),
            e(7, 2, Created { version: 0 }),
            e(8, 2, Ready),
            e(25, 0, Ready),
        ];
        let bound = bound_peak(&events, |_| 1, SimTime::from_secs(30));
        assert_eq!((bound.value, bound.at), (2, SimTime::from_secs(25)));
    }
}
