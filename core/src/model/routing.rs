//! Routing requests to workers. With random dispatch every ready pod has its
//! own arrival stream carrying an equal share of the fleet rate (a random
//! split of a Poisson stream is Poisson), and a request goes to a random live
//! worker of its pod. With round-robin dispatch one fleet stream deals
//! requests to the ready workers in turn. When the set of ready pods changes,
//! every stream is re-timed to its new share without losing its place.
//! While no pod is ready, a fleet stream keeps arriving and those requests
//! fail at once (the load balancer has no backend).

use super::fleet::PodState;
use super::request::Request;
use super::traffic::{ArrivalSource, RateProfile};
use super::{Event, Simulation};
use crate::engine::SimRng;
use crate::engine::rng::{domain, stream};
use crate::scenario::{Dispatch, Scenario};
use crate::slab::{Id, Slab};
use rand::{Rng, RngExt};

/// Where requests come from, where they go, and the ones in the system.
pub(crate) struct Traffic {
    /// The fleet-wide rate over time.
    pub(crate) profile: RateProfile,
    /// The arrival streams.
    pub(crate) sources: Slab<Source>,
    /// The live workers of the ready pods, in turn for round-robin
    /// dispatch (empty with random dispatch, which does not use it).
    pub(crate) ready_workers: Vec<u32>,
    /// The next turn of round-robin dispatch.
    pub(crate) round_robin_next: u32,
    /// Requests arrived and not yet finished.
    pub(crate) requests: Slab<Request>,
    /// Requests started so far (wrapping): trace names.
    pub(crate) arrivals_seen: u32,
}

impl Traffic {
    /// No stream and no request yet.
    pub(crate) fn new(scenario: &Scenario) -> Traffic {
        Traffic {
            profile: RateProfile::new(scenario.traffic.rate_points.clone()),
            sources: Slab::default(),
            ready_workers: Vec::new(),
            round_robin_next: 0,
            requests: Slab::default(),
            arrivals_seen: 0,
        }
    }
}

/// An arrival stream and where its requests go.
pub struct Source {
    /// The stream.
    pub arrivals: ArrivalSource,
    /// Its pod (random dispatch), or `None` for a fleet stream.
    pub pod: Option<u32>,
}

/// Where an arrival goes.
pub enum Route {
    /// This worker.
    Worker(u32),
    /// Nowhere: no live worker to take it.
    Nowhere,
}

impl Simulation<'_> {
    /// Recompute the streams after the set of ready pods (or live workers)
    /// changed.
    pub(crate) fn reroute(&mut self) {
        let ready: Vec<u32> = (0..self.fleet.pods.len() as u32)
            .filter(|&p| self.fleet.pods[p as usize].state == PodState::Ready)
            .collect();
        let dispatch = self.scenario.fleet.dispatch;
        self.traffic.ready_workers.clear();
        if dispatch == Dispatch::RoundRobin {
            let pods = &self.fleet.pods;
            self.traffic.ready_workers.extend(
                ready
                    .iter()
                    .flat_map(|&p| pods[p as usize].live_workers.iter().copied()),
            );
        }
        let wanted: Vec<Option<u32>> = match dispatch {
            Dispatch::Random if !ready.is_empty() => ready.iter().map(|&p| Some(p)).collect(),
            _ => vec![None],
        };
        // Drop streams no longer wanted; find the others by their place: a
        // pod's number, or one past the last pod for the fleet stream (a
        // lookup table, not a map: a deploy of thousands of pods reroutes
        // thousands of times).
        let fleet = self.fleet.pods.len();
        let place = |pod: Option<u32>| pod.map_or(fleet, |p| p as usize);
        let mut is_wanted = vec![false; fleet + 1];
        for &pod in &wanted {
            is_wanted[place(pod)] = true;
        }
        // Every stream is re-timed below: their pending arrivals go at once.
        self.sched.clear_streams();
        let mut existing: Vec<Option<Id>> = vec![None; fleet + 1];
        let mut stale = Vec::new();
        for (id, s) in self.traffic.sources.iter() {
            if is_wanted[place(s.pod)] {
                existing[place(s.pod)] = Some(id);
            } else {
                stale.push(id);
            }
        }
        for id in stale {
            self.traffic.sources.remove(id);
        }
        let share = 1.0 / wanted.len() as f64;
        let now = self.sched.now().as_secs_f64();
        let mass_now = self.traffic.profile.cumulative(now);
        for pod in wanted {
            let (id, next) = match existing[place(pod)] {
                Some(id) => {
                    let s = self.traffic.sources.get_mut(id).expect("live source");
                    (
                        id,
                        s.arrivals.reshare(share, mass_now, &self.traffic.profile),
                    )
                }
                None => {
                    let rng = match pod {
                        Some(p) => stream(self.scenario.seed, domain("arrivals"), p as u64),
                        None => stream(self.scenario.seed, domain("arrivals-fleet"), 0),
                    };
                    let mut arrivals =
                        ArrivalSource::new(rng, self.scenario.traffic.arrivals, share, mass_now);
                    let next = arrivals.next_arrival(&self.traffic.profile);
                    let id = self.traffic.sources.insert(Source { arrivals, pod });
                    (id, next)
                }
            };
            self.schedule_arrival(id, pod, next);
        }
    }

    /// Put the next arrival of source `id` (the stream of `pod`) on the
    /// queue, if it comes before the end. Its previous one has fired, or
    /// `reroute` cleared it.
    #[inline(always)]
    fn schedule_arrival(&mut self, id: Id, pod: Option<u32>, at: Option<crate::engine::SimTime>) {
        if let Some(at) = at.filter(|&at| at <= self.scenario.duration) {
            self.sched
                .stream_timer(at, Event::Arrival { source: id, pod });
        }
    }

    /// An arrival fired: schedule the next one, and say where this one goes
    /// and which stream its request draws from.
    pub(crate) fn route_arrival(&mut self, id: Id) -> Option<(Route, SimRng)> {
        let s = self.traffic.sources.get_mut(id)?;
        let next = s.arrivals.next_arrival(&self.traffic.profile);
        let pod = s.pod;
        let rng = s.arrivals.rng();
        let route = match (pod, self.scenario.fleet.dispatch) {
            (Some(p), _) => match self.fleet.pods[p as usize].live_workers.as_slice() {
                [] => Route::Nowhere,
                live => Route::Worker(live[rng.random_range(0..live.len())]),
            },
            (None, Dispatch::RoundRobin) if !self.traffic.ready_workers.is_empty() => {
                let w = self.traffic.ready_workers
                    [self.traffic.round_robin_next as usize % self.traffic.ready_workers.len()];
                self.traffic.round_robin_next = self.traffic.round_robin_next.wrapping_add(1);
                Route::Worker(w)
            }
            (None, _) => Route::Nowhere,
        };
        let state = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
        self.schedule_arrival(id, pod, next);
        Some((route, SimRng::new(state)))
    }
}
