//! The incident model: a fleet of pods and workers with node-postgres pools,
//! a PostgreSQL server, request traffic and a background job, as plain
//! structs reacting to events from the [`engine`](crate::engine).
//!
//! [`Simulation`] holds the kernel (clock, event queue, recorder) and one
//! component per subsystem; [`event`] lists what can happen, the cold
//! events nested by subsystem.
//!
//! * [`pool`]: pg-pool's decisions; [`wait_queue`]: its queue;
//!   [`idle_stack`]: its idle clients.
//! * [`database`]: PostgreSQL's slots and refusals; [`cpu`]: its processors
//!   shared by the active queries; `server`: the two as a component.
//! * [`pooler`]: a PgBouncer sidecar's decisions; `sidecars`: the pods'
//!   sidecars, carrying those out.
//! * [`connection`]: connection handshakes, releases, idle eviction, reaping.
//! * [`request`]: what a request handler does; [`job`]: the background job;
//!   [`job_queue`]: its queue-based variant.
//! * [`traffic`]: arrival sources; [`routing`]: which worker gets a request.
//! * [`fleet`]: pods and workers; [`lifecycle`]: their start, crash and exit;
//!   [`rollout`]: deploys and rollbacks; [`timeline`]: the scenario's events;
//!   [`pod_timeline`]: the pods' changes, and the peak connections they allow.
//! * [`retry`]: the clients' retries, backoffs and retry budgets.
//! * `sample`: the gauges at each sample; `invariants`: the model's
//!   invariants and the counts they balance.

pub mod caller;
pub mod connection;
pub mod cpu;
pub mod database;
pub mod event;
pub mod fleet;
pub mod idle_stack;
mod invariants;
pub mod job;
pub mod job_queue;
pub mod lifecycle;
pub mod pod_timeline;
pub mod pool;
pub mod pooler;
pub mod request;
pub mod retry;
pub mod rollout;
pub mod routing;
mod sample;
mod server;
mod sidecars;
pub mod timeline;
pub mod trace;
pub mod traffic;
pub mod wait_queue;

pub use event::{Event, FleetEvent, JobEvent, PoolEvent, RetryEvent, SidecarEvent};

use crate::engine::{Scheduler, SimTime};
use crate::metrics::LogKind;
use crate::metrics::summary::EndState;
use crate::metrics::{Recorder, Sink, Summary, Unfinished};
use crate::scenario::Scenario;
use crate::slab::Id;
use caller::CallerClass;
use fleet::Fleet;
use invariants::Books;
use job::BackgroundJob;
use pool::{Pool, PoolKind};
use request::Request;
use rollout::Deployment;
use routing::Traffic;
use server::Postgres;
use sidecars::Sidecars;

/// Options of one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Check the model's invariants after every event.
    pub check_invariants: bool,
    /// Whether the run loop loads the data of coming request steps ahead
    /// (and of coming arrivals, from [`PREFETCH_ARRIVALS_FROM_PODS`] pods):
    /// `None` for fleets of at least [`PREFETCH_FROM_WORKERS`] workers,
    /// `Some` to force both on or off (results are the same either way).
    pub prefetch: Option<bool>,
}

/// A run that could not finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Writing the time series failed.
    #[error("writing the time series failed: {0}")]
    Sink(#[from] std::io::Error),
    /// The model broke one of its own invariants (a bug).
    #[error("invariant broken at t = {at}: {what}")]
    Invariant {
        /// Simulated time.
        at: SimTime,
        /// Which one.
        what: String,
    },
    /// Stopped from outside (Ctrl-C).
    #[error("interrupted at t = {0}")]
    Interrupted(SimTime),
    /// More events were pending at once than the event queue holds: work
    /// piled up faster than it drained (waiters and their timers, under an
    /// arrival rate far above what the pools serve).
    #[error(
        "stopped at t = {at}: more than {limit} events pending at once ({requests} requests in the system), the event queue's limit; \
         lower traffic.rate, pool.acquire_timeout or requests.deadline, raise pool.max, or shorten the run (--duration)"
    )]
    TooManyPending {
        /// Simulated time.
        at: SimTime,
        /// The limit.
        limit: usize,
        /// Requests arrived and not yet finished.
        requests: usize,
    },
}

/// One run of a scenario: the kernel (clock, event queue, recorder) and
/// the model's state, one component per subsystem. A model feature keeps
/// its state in one component and its events in one sub-enum of [`Event`].
pub struct Simulation<'s> {
    pub(crate) scenario: &'s Scenario,
    pub(crate) sched: Scheduler<Event>,
    pub(crate) rec: Recorder,
    /// Pods, workers and their pools.
    pub(crate) fleet: Fleet,
    /// Arrival streams, routing and the requests in the system.
    pub(crate) traffic: Traffic,
    /// PostgreSQL: its slots and, if modelled, its CPU.
    pub(crate) server: Postgres,
    /// The background job.
    pub(crate) job: BackgroundJob,
    /// The pods' PgBouncer sidecars.
    pub(crate) sidecars: Sidecars,
    /// Deploys and rollbacks.
    pub(crate) deployment: Deployment,
    /// Running counts the invariants balance.
    pub(crate) books: Books,
    /// retry: the clients' retries, with `[retry]`.
    pub(crate) retry: Option<Box<retry::RetryState>>,
    pub(crate) tracer: Option<trace::Tracer<'s>>,
    /// Told of every pod change, if set (off: one branch per pod change).
    pod_observer: Option<pod_timeline::PodObserver<'s>>,
    /// Whether the run loop loads the data of coming request steps ahead
    /// (a fleet of at least [`PREFETCH_FROM_WORKERS`] workers).
    prefetch: bool,
    /// Whether it loads the data of coming arrivals ahead (a fleet of at
    /// least [`PREFETCH_ARRIVALS_FROM_PODS`] pods).
    prefetch_arrivals: bool,
    end: SimTime,
    options: RunOptions,
}

/// From this many workers (a pool each) on, the run loop loads the
/// request, pool and client of coming request steps ahead. With fewer they
/// mostly stay in the processor's caches and the hint only costs
/// instructions (+19 % per request on M/M/80). Measured on the project
/// machine with the large fleet's load per worker: 10 % slower with 400
/// workers, no difference with 1000, 4–12 % faster with 4000.
pub const PREFETCH_FROM_WORKERS: u64 = 2000;

/// From this many pods (an arrival stream each) on, the run loop also loads
/// the stream and the pod of coming arrivals ahead. What an arrival reads
/// of its pod and stream takes about 350 bytes a pod, so it outgrows a 2 MB
/// second-level cache from about 6000 pods. Measured on the project
/// machine at 10 req/s per pod, 2 workers each (interleaved runs): level
/// with 2000 pods, within 2 % either way with 5000, 12 % faster with 7500
/// and 7–30 % faster with 10,000 (more when the machine is busy); forced
/// on, 3 % slower on the large fleet (500 pods × 8 workers).
pub const PREFETCH_ARRIVALS_FROM_PODS: u32 = 6000;

impl<'s> Simulation<'s> {
    /// Build the fleet at time zero: pods ready at once, empty pools, no
    /// connections.
    pub fn new(scenario: &'s Scenario, options: RunOptions) -> Simulation<'s> {
        Self::build(scenario, options, None)
    }

    /// [`new`](Self::new), telling `observer` of every pod change from the
    /// initial fleet's on.
    pub fn new_observed(
        scenario: &'s Scenario,
        options: RunOptions,
        observer: pod_timeline::PodObserver<'s>,
    ) -> Simulation<'s> {
        Self::build(scenario, options, Some(observer))
    }

    fn build(
        scenario: &'s Scenario,
        options: RunOptions,
        pod_observer: Option<pod_timeline::PodObserver<'s>>,
    ) -> Simulation<'s> {
        let mut sim = Simulation {
            scenario,
            sched: Scheduler::new(),
            rec: Recorder::new(scenario),
            fleet: Fleet::default(),
            traffic: Traffic::new(scenario),
            server: Postgres::new(scenario),
            job: BackgroundJob::default(),
            sidecars: Sidecars::new(scenario),
            deployment: Deployment::default(),
            books: Books::default(),
            retry: scenario
                .retry
                .as_ref()
                .map(|_| Box::new(retry::RetryState::new(scenario.seed))),
            tracer: None,
            pod_observer,
            prefetch: options.prefetch.unwrap_or(
                u64::from(scenario.fleet.pods) * u64::from(scenario.fleet.workers)
                    >= PREFETCH_FROM_WORKERS,
            ),
            prefetch_arrivals: options
                .prefetch
                .unwrap_or(scenario.fleet.pods >= PREFETCH_ARRIVALS_FROM_PODS),
            end: scenario.duration,
            options,
        };
        let pods: Vec<u32> = (0..scenario.fleet.pods)
            .map(|_| sim.create_pod(0, 0, SimTime::ZERO))
            .collect();
        for pod in pods {
            sim.bring_up(pod, 0);
        }
        sim.reroute();
        sim.schedule_timeline();
        sim.sched.at(scenario.sample_interval, Event::Sample);
        sim
    }

    /// Add a line to the event log.
    pub(crate) fn log(&mut self, kind: LogKind, pod: Option<u32>, detail: String) {
        let now = self.sched.now();
        self.rec.log(now, kind, pod, None, detail);
    }

    /// Add a line to the event log about a move to `version` (a deploy or
    /// rollback).
    pub(crate) fn log_version(&mut self, kind: LogKind, version: String, detail: String) {
        let now = self.sched.now();
        self.rec.log(now, kind, None, Some(version), detail);
    }

    /// Tell the pod observer, if any, that `pod` changed.
    pub(crate) fn observe_pod(&mut self, pod: u32, change: pod_timeline::PodChange) {
        if let Some(observer) = self.pod_observer.as_mut() {
            observer(pod_timeline::PodEvent {
                at: self.sched.now(),
                pod,
                change,
            });
        }
    }

    /// Hold at most `limit` events pending at once (default and most:
    /// [`crate::engine::scheduler::MAX_PENDING`]); past it the run stops
    /// with [`RunError::TooManyPending`].
    pub fn with_max_pending(mut self, limit: usize) -> Self {
        self.sched = self.sched.with_max_pending(limit);
        self
    }

    /// [`RunError::TooManyPending`] if the event queue dropped an event.
    fn pending_within_limit(&self) -> Result<(), RunError> {
        if self.sched.overflowed() {
            return Err(RunError::TooManyPending {
                at: self.sched.now(),
                limit: self.sched.max_pending(),
                requests: self.traffic.requests.len(),
            });
        }
        Ok(())
    }

    /// Summarise `windows` apart as well (in [`Summary::windows`]).
    pub fn with_windows(mut self, windows: crate::metrics::window_tally::Windows) -> Self {
        self.rec.watch(windows, self.end);
        self
    }

    /// Send every traced event to `tracer`.
    pub fn with_tracer(mut self, tracer: trace::Tracer<'s>) -> Self {
        self.tracer = Some(tracer);
        self
    }

    /// A new, empty pool.
    pub(crate) fn new_pool(
        &mut self,
        config: crate::scenario::PoolConfig,
        kind: PoolKind,
        worker: u32,
    ) -> Id {
        let mut pool = Pool::new(config, kind, worker);
        pool.via_pooler = self.scenario.pooler.is_some();
        if !pool.via_pooler {
            pool.server_idle_timeout = self.server.db.settings.idle_session_timeout;
        }
        let id = self.fleet.pools.insert(pool);
        self.fleet.workers[worker as usize].pools.push(id);
        id
    }

    /// Start loading what the coming arrivals will touch, while this one
    /// is handled: the stream and pod of the arrival after next, and the
    /// pod's list of live workers for the next one (its pod was loaded
    /// ahead one arrival ago). Arrivals wait in their own lane, so the
    /// request steps' look-ahead never sees them. No result depends on it.
    #[inline(always)]
    fn prefetch_arrivals_ahead(&self) {
        let [a1, a2] = self.sched.likely_next_two_streams();
        if let Some(&Event::Arrival { source, pod }) = a2 {
            self.traffic.sources.prefetch(source);
            if let Some(pod) = pod.and_then(|p| self.fleet.pods.get(p as usize)) {
                crate::prefetch::prefetch(pod);
            }
        }
        if let Some(&Event::Arrival { pod: Some(pod), .. }) = a1
            && let Some(w) = self
                .fleet
                .pods
                .get(pod as usize)
                .and_then(|p| p.live_workers.first())
        {
            crate::prefetch::prefetch(w);
        }
    }

    /// Start loading what the coming request steps will touch, while this
    /// event is handled (see [`prefetch`](crate::prefetch)): the request
    /// and pool of the step after next, and the client of the next one
    /// (its request and pool were loaded ahead one event ago). In a large
    /// fleet they are rarely in cache. No result depends on it.
    #[inline(always)]
    fn prefetch_ahead(&self) {
        let [next, second] = self.sched.likely_next_two();
        if let Some(&Event::RequestStep { req, pool }) = second {
            self.traffic.requests.prefetch(req);
            self.fleet.pools.prefetch(pool);
        }
        if let Some(&Event::RequestStep { req, pool }) = next
            && let Some(pool) = self.fleet.pools.get(pool)
        {
            pool.prefetch_client(
                self.traffic
                    .requests
                    .get(req)
                    .and_then(Request::held_client),
            );
        }
    }

    /// Run to the end and return the summary; rows go to `sink` as they are
    /// produced. `progress` is called now and then with the simulated time
    /// and may stop the run by returning false.
    pub fn run(
        self,
        sink: &mut dyn Sink,
        mut progress: impl FnMut(SimTime) -> bool,
    ) -> Result<Summary, RunError> {
        self.run_loop(sink, &mut progress)
    }

    /// [`run`](Self::run)'s loop, not generic: it is compiled once, in this
    /// crate, beside the handlers it inlines, instead of in each caller's.
    fn run_loop(
        mut self,
        sink: &mut dyn Sink,
        progress: &mut dyn FnMut(SimTime) -> bool,
    ) -> Result<Summary, RunError> {
        let mut handled: u64 = 0;
        let mut next_mark = SimTime::ZERO;
        let mut last = SimTime::ZERO;
        // The queue hands out nothing after it dropped an event: the loop
        // ends there, and the check below stops the run.
        while let Some((now, event)) = self.sched.pop_until(self.end) {
            if self.options.check_invariants && now < last {
                return self.broken(format!("the clock went back from {last} to {now}"));
            }
            last = now;
            if now >= next_mark {
                next_mark = self.rec.mark(now);
            }
            if self.prefetch {
                self.prefetch_ahead();
            }
            match event {
                Event::Sample => self.sample_tick(now, sink)?,
                // The two events of every request, dispatched here rather
                // than through `handle`: 2 % fewer instructions per request.
                Event::RequestStep { req, .. } => self.request_step(req),
                Event::Arrival { source, .. } => {
                    if self.prefetch_arrivals {
                        self.prefetch_arrivals_ahead();
                    }
                    self.arrive(source)
                }
                event => self.handle(event),
            }
            handled += 1;
            if self.options.check_invariants {
                self.check_cheap_invariants()?;
            }
            if handled & 0xffff == 0 && !progress(now) {
                return Err(RunError::Interrupted(now));
            }
        }
        self.pending_within_limit()?;
        self.sched.advance_to(self.end);
        self.check_invariants()?;
        self.rec.flush_log(sink)?;
        Ok(self.finish())
    }

    /// Sampling time: check the invariants, hand the gauges to the
    /// recorder, schedule the next sample. The only event that writes
    /// output, and so the only one that can fail.
    fn sample_tick(&mut self, now: SimTime, sink: &mut dyn Sink) -> Result<(), RunError> {
        self.check_invariants()?;
        self.sample(now, sink)?;
        let next = now + self.scenario.sample_interval;
        if next <= self.end {
            self.sched.at(next, Event::Sample);
        }
        Ok(())
    }

    /// Every event the run loop does not dispatch itself: the model reacts.
    fn handle(&mut self, event: Event) {
        match event {
            Event::AcquireTimeout { caller } => self.acquire_timed_out(caller),
            Event::GiveUp { req } => self.give_up(req),
            Event::CpuDone => self.cpu_done(),
            Event::ServerWaitTimeout { caller } => self.server_wait_timed_out(caller),
            Event::Fleet(event) => self.fleet_event(event),
            Event::Job(event) => self.job_event(event),
            Event::Pool(event) => self.pool_event(event),
            Event::Sidecar(event) => self.sidecar_event(event),
            Event::Retry(event) => self.retry_event(event),
            Event::Sample | Event::Arrival { .. } | Event::RequestStep { .. } => {
                unreachable!("dispatched by the run loop")
            }
        }
    }

    fn finish(mut self) -> Summary {
        let now = self.sched.now();
        let waiting = self
            .traffic
            .requests
            .iter()
            .filter_map(|(_, r)| r.acquire_started())
            .map(|started| (CallerClass::Request, started))
            .chain(
                self.job
                    .runs
                    .iter()
                    .filter_map(|(_, r)| r.acquire_started())
                    .map(|started| (CallerClass::Job, started)),
            );
        for (class, started) in waiting {
            self.rec
                .unfinished_acquire(now, class, started, Unfinished::WaitingAtEnd);
        }
        let end = EndState {
            end: now,
            in_flight: self.books.counted_in_flight,
            clients_waiting: self.books.counted_clients_waiting,
            peak_db_occupied: self.server.db.peak_occupied(),
            job: self.job_summary(),
            cpu: self.server.cpu.as_ref().map(|c| c.summary(now)),
            pooler: self
                .sidecars
                .stats
                .as_ref()
                .zip(self.scenario.pooler.as_ref())
                .map(|(stats, p)| stats.summary(p.pool_size)),
            in_backoff: self.retry.as_ref().map_or(0, |r| r.in_backoff),
        };
        self.rec.close_windows(now);
        Summary::build(self.scenario, &self.rec, end)
    }
}

/// Stable key of worker `w` of pod `pod`, for deriving its random streams.
pub(crate) fn worker_key(pod: u32, w: u32) -> u64 {
    ((pod as u64) << 20) | w as u64
}

/// Run `scenario` to the end with rows going to `sink`.
pub fn run(
    scenario: &Scenario,
    sink: &mut dyn Sink,
    options: RunOptions,
) -> Result<Summary, RunError> {
    Simulation::new(scenario, options).run(sink, |_| true)
}
