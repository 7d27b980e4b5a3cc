//! Pods and worker processes coming and going: creation, start-up, ready,
//! crash and restart of a worker, graceful termination and exit of a pod.
//!
//! A new pod starts with empty pools and grows them lazily once ready. A
//! terminating pod leaves the load balancer at once and finishes its
//! requests. A Node process then exits when nothing keeps its event loop
//! busy: at once if the app calls `pool.end()` on SIGTERM
//! (`shutdown_ends_pools`), else only when its idle clients have timed out —
//! or at the end of the grace period (SIGKILL), which is what happens when
//! leaked clients keep it alive. At exit every connection of its processes
//! is closed, leaked ones included (why a rollback "fixes" a leak at once).
//! A crashed worker loses its requests and its connections and comes back,
//! empty, after `worker_restart`.

use super::caller::CallerClass;
use super::event::FleetEvent;
use super::fleet::{Pod, PodState, Worker};
use super::pod_timeline::PodChange;
use super::pool::{ClientState, PoolKind};
use super::{Event, Simulation};
use crate::engine::SimTime;
use crate::engine::rng::{domain, stream};
use crate::metrics::LogKind;
use crate::metrics::{HandlerEnd, Unfinished};
use crate::slab::Id;

impl Simulation<'_> {
    /// React to an event of the fleet's life.
    pub(crate) fn fleet_event(&mut self, event: FleetEvent) {
        match event {
            FleetEvent::Timeline { index } => self.timeline(index),
            FleetEvent::PodReady { pod, epoch } => self.pod_ready(pod, epoch),
            FleetEvent::PodExit { pod, epoch } => self.exit_pod(pod, epoch),
            FleetEvent::WorkerRestart { worker, epoch } => self.worker_restarted(worker, epoch),
            FleetEvent::RolloutResume => self.resume_rollout(),
        }
    }

    /// Create a pod of `version` for rollout `revision`, ready after `startup`.
    pub(crate) fn create_pod(&mut self, version: usize, revision: u32, startup: SimTime) -> u32 {
        let pod = self.fleet.pods.len() as u32;
        let workers = (0..self.scenario.fleet.workers)
            .map(|k| {
                let index = self.fleet.workers.len() as u32;
                self.fleet.workers.push(Worker {
                    pod,
                    index: k,
                    pool: None,
                    pools: Vec::new(),
                    alive: false,
                    epoch: 0,
                    setup_rng: stream(
                        self.scenario.seed,
                        domain("setup"),
                        super::worker_key(pod, k),
                    ),
                });
                self.job.runners.push(None);
                index
            })
            .collect();
        self.fleet.pods.push(Pod {
            version,
            revision,
            state: PodState::Starting,
            workers,
            live_workers: Vec::new(),
            in_flight: 0,
            epoch: 0,
            pooler: None,
        });
        self.observe_pod(pod, PodChange::Created { version });
        let name = self.scenario.versions[version].name.clone();
        self.log(
            LogKind::PodCreated,
            Some(pod),
            format!("version {name}, ready in {startup}"),
        );
        let now = self.sched.now();
        self.sched.at(
            now + startup,
            Event::Fleet(FleetEvent::PodReady { pod, epoch: 0 }),
        );
        pod
    }

    /// A pod finished starting: its workers run, it takes traffic.
    pub(crate) fn pod_ready(&mut self, pod: u32, epoch: u32) {
        if self.bring_up(pod, epoch) {
            self.reroute();
            self.reconcile_rollout();
        }
    }

    /// Mark a starting pod ready and start its sidecar and workers (the
    /// caller reroutes); false if the pod is not starting in that epoch.
    pub(crate) fn bring_up(&mut self, pod: u32, epoch: u32) -> bool {
        let p = &self.fleet.pods[pod as usize];
        if p.epoch != epoch || p.state != PodState::Starting {
            return false;
        }
        self.fleet.pods[pod as usize].state = PodState::Ready;
        self.observe_pod(pod, PodChange::Ready);
        self.start_pooler(pod);
        for w in self.fleet.pods[pod as usize].workers.clone() {
            self.worker_up(w);
        }
        self.log(LogKind::PodReady, Some(pod), String::new());
        true
    }

    /// Mark a worker's process up or down, keeping its pod's list of live
    /// workers.
    pub(crate) fn set_alive(&mut self, w: u32, alive: bool) {
        self.fleet.workers[w as usize].alive = alive;
        let pod = &mut self.fleet.pods[self.fleet.workers[w as usize].pod as usize];
        pod.live_workers.clear();
        let workers = &self.fleet.workers;
        pod.live_workers.extend(
            pod.workers
                .iter()
                .copied()
                .filter(|&w| workers[w as usize].alive),
        );
    }

    /// A worker process starts: an empty pool, and the job if it runs here.
    fn worker_up(&mut self, w: u32) {
        let pod = self.fleet.workers[w as usize].pod;
        let app = &self.scenario.versions[self.fleet.pods[pod as usize].version].app;
        let pool = self.new_pool(app.pool.clone(), PoolKind::Requests, w);
        self.set_alive(w, true);
        let worker = &mut self.fleet.workers[w as usize];
        worker.epoch += 1;
        worker.pool = Some(pool);
        self.start_job_runner(w);
    }

    /// The cluster primary brings a crashed worker back.
    pub(crate) fn worker_restarted(&mut self, w: u32, epoch: u32) {
        let worker = &self.fleet.workers[w as usize];
        let pod_ready = self.fleet.pods[worker.pod as usize].state == PodState::Ready;
        if worker.epoch != epoch || worker.alive || !pod_ready {
            return;
        }
        self.worker_up(w);
        self.log(
            LogKind::WorkerRestarted,
            Some(self.fleet.workers[w as usize].pod),
            format!("worker {}", self.fleet.workers[w as usize].index),
        );
        self.reroute();
    }

    /// A worker process crashes (an unhandled `'error'`): it loses its
    /// requests and connections, and is replaced after `worker_restart`.
    pub(crate) fn crash_worker(&mut self, w: u32, why: &str) {
        if !self.fleet.workers[w as usize].alive {
            return;
        }
        let pod = self.fleet.workers[w as usize].pod;
        let index = self.fleet.workers[w as usize].index;
        self.log(
            LogKind::WorkerCrashed,
            Some(pod),
            format!("worker {index}: {why}"),
        );
        self.kill_worker(w);
        let epoch = self.fleet.workers[w as usize].epoch;
        let at = self.sched.now() + self.scenario.fleet.worker_restart;
        self.sched.at(
            at,
            Event::Fleet(FleetEvent::WorkerRestart { worker: w, epoch }),
        );
        self.reroute();
    }

    /// A worker process ends: its requests fail, its job runs die, every
    /// connection of its pools is closed. Returns (connections closed, of
    /// which leaked).
    fn kill_worker(&mut self, w: u32) -> (u32, u32) {
        if !self.fleet.workers[w as usize].alive {
            return (0, 0);
        }
        self.set_alive(w, false);
        let worker = &mut self.fleet.workers[w as usize];
        worker.epoch += 1;
        worker.pool = None;
        self.job.runners[w as usize] = None;
        let doomed: Vec<Id> = self
            .traffic
            .requests
            .iter()
            .filter(|(_, r)| r.worker == w)
            .map(|(id, _)| id)
            .collect();
        let runs: Vec<Id> = self
            .job
            .runs
            .iter()
            .filter(|(_, r)| r.worker == w)
            .map(|(id, _)| id)
            .collect();
        // Their transactions waiting at the pod's sidecar stop waiting.
        let server_waiters = doomed
            .iter()
            .filter(|&&id| {
                self.traffic
                    .requests
                    .get(id)
                    .is_some_and(|r| r.waits_for_a_server())
            })
            .count()
            + runs
                .iter()
                .filter(|&&id| {
                    self.job
                        .runs
                        .get(id)
                        .is_some_and(|r| r.waits_for_a_server())
                })
                .count();
        self.forget_server_waiters(w, server_waiters);
        let now = self.sched.now();
        for run in runs {
            if let Some(started) = self.job.runs.remove(run).and_then(|r| r.acquire_started()) {
                self.rec.unfinished_acquire(
                    now,
                    CallerClass::Job,
                    started,
                    Unfinished::ProcessExit,
                );
            }
        }
        // In the pool table's order, as a scan of it would find them.
        let mut pools = std::mem::take(&mut self.fleet.workers[w as usize].pools);
        pools.sort_unstable_by_key(|id| id.index());
        let mut closed = (0, 0);
        for pool in pools {
            let (all, leaked) = self.close_pool(pool);
            closed = (closed.0 + all, closed.1 + leaked);
        }
        for id in doomed {
            if let Some(started) = self
                .traffic
                .requests
                .get(id)
                .and_then(|r| r.acquire_started())
            {
                self.rec.unfinished_acquire(
                    now,
                    CallerClass::Request,
                    started,
                    Unfinished::ProcessExit,
                );
            }
            self.finish_request(id, HandlerEnd::Unavailable);
        }
        closed
    }

    /// The process holding `pool` exited: every client goes, whatever its
    /// state. Returns (connections closed, of which leaked).
    fn close_pool(&mut self, pool: Id) -> (u32, u32) {
        let Some(p) = self.fleet.pools.remove(pool) else {
            return (0, 0);
        };
        let now = self.sched.now();
        let mut closed = (0, 0);
        let worker = p.worker;
        for client in p.into_clients() {
            if client.state == ClientState::CheckedOut {
                self.rec.checked_out.add(now, -1, self.scenario.warmup);
            }
            if let Some(server) = client.server {
                self.client_gone(worker, server);
            }
            if client.has_slot {
                closed.0 += 1;
                closed.1 += u32::from(client.state == ClientState::Leaked);
            }
            if client.state == ClientState::Leaked {
                self.books.leaks_closed.0 += 1;
                self.books.leaks_closed.1 += u64::from(client.has_slot);
            }
            self.close_session(&client);
        }
        closed
    }

    /// Kubernetes terminates a pod: out of the load balancer now, exit when
    /// its requests are done or at the end of the grace period.
    pub(crate) fn terminate_pod(&mut self, pod: u32) {
        let p = &mut self.fleet.pods[pod as usize];
        if !p.is_live() {
            return;
        }
        let was_ready = p.state == PodState::Ready;
        p.state = PodState::Terminating;
        let (epoch, in_flight) = (p.epoch, p.in_flight);
        for w in p.workers.clone() {
            self.job.runners[w as usize] = None; // no more job runs
        }
        self.observe_pod(pod, PodChange::Terminating);
        self.log(
            LogKind::PodTerminating,
            Some(pod),
            format!("{in_flight} requests in flight"),
        );
        if was_ready {
            self.reroute();
        }
        let at = self.sched.now() + self.scenario.fleet.termination_grace;
        self.sched
            .at(at, Event::Fleet(FleetEvent::PodExit { pod, epoch }));
        self.exit_if_idle(pod);
    }

    /// A terminating pod exits once its requests are done and nothing keeps
    /// its processes alive (see the module doc).
    #[inline(always)]
    pub(crate) fn exit_if_idle(&mut self, pod: u32) {
        let p = &self.fleet.pods[pod as usize];
        if p.state != PodState::Terminating || p.in_flight > 0 {
            return;
        }
        let holds_clients = |w: &u32| {
            self.fleet.workers[*w as usize].pools.iter().any(|&id| {
                self.fleet
                    .pools
                    .get(id)
                    .is_some_and(|pool| pool.total() > 0)
            })
        };
        if self.scenario.fleet.shutdown_ends_pools || !p.workers.iter().any(holds_clients) {
            let epoch = p.epoch;
            self.exit_pod(pod, epoch);
        }
    }

    /// A terminating pod's processes exit.
    pub(crate) fn exit_pod(&mut self, pod: u32, epoch: u32) {
        let p = &mut self.fleet.pods[pod as usize];
        if p.state != PodState::Terminating || p.epoch != epoch {
            return;
        }
        p.state = PodState::Gone;
        let workers = p.workers.clone();
        self.observe_pod(pod, PodChange::Exited);
        let (mut all, mut leaked) = (0, 0);
        for w in workers {
            let (a, l) = self.kill_worker(w);
            all += a;
            leaked += l;
        }
        self.stop_pooler(pod);
        self.log(
            LogKind::PodExited,
            Some(pod),
            format!("{all} connections closed, {leaked} of them leaked"),
        );
    }

    /// A request of `pod` ended: a draining pod may now exit.
    pub(crate) fn pod_request_done(&mut self, pod: u32) {
        self.fleet.pods[pod as usize].in_flight -= 1;
        self.exit_if_idle(pod);
    }

    /// Restart the processes of the pod at `position` among the live pods.
    pub(crate) fn restart_pod(&mut self, position: u32, startup: SimTime) {
        let live: Vec<u32> = (0..self.fleet.pods.len() as u32)
            .filter(|&p| self.fleet.pods[p as usize].is_live())
            .collect();
        let Some(&pod) = live.get(position as usize) else {
            self.log(
                LogKind::RestartSkipped,
                None,
                format!("no live pod at position {position}"),
            );
            return;
        };
        self.observe_pod(pod, PodChange::Restarted);
        let mut closed = (0, 0);
        for w in self.fleet.pods[pod as usize].workers.clone() {
            let (a, l) = self.kill_worker(w);
            closed = (closed.0 + a, closed.1 + l);
        }
        self.stop_pooler(pod);
        let p = &mut self.fleet.pods[pod as usize];
        p.state = PodState::Starting;
        p.epoch += 1;
        let epoch = p.epoch;
        self.log(
            LogKind::PodRestarted,
            Some(pod),
            format!(
                "{} connections closed, {} of them leaked; ready in {startup}",
                closed.0, closed.1
            ),
        );
        self.reroute();
        let at = self.sched.now() + startup;
        self.sched
            .at(at, Event::Fleet(FleetEvent::PodReady { pod, epoch }));
    }
}
