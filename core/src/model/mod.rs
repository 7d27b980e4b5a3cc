//! The incident model: a fleet of pods and workers with node-postgres pools,
//! a PostgreSQL server, request traffic and a background job, as plain
//! structs reacting to events from the [`engine`](crate::engine).
//!
//! * [`pool`]: pg-pool's decisions; [`wait_queue`]: its queue;
//!   [`idle_stack`]: its idle clients.
//! * [`database`]: PostgreSQL's slots and refusals; [`cpu`]: its processors
//!   shared by the active queries.
//! * [`pooler`]: a PgBouncer sidecar per pod.
//! * [`connection`]: connection handshakes, releases, idle eviction, reaping.
//! * [`request`]: what a request handler does; [`job`]: the background job;
//!   [`job_queue`]: its queue-based variant.
//! * [`traffic`]: arrival sources; [`routing`]: which worker gets a request.
//! * [`fleet`]: pods and workers; [`lifecycle`]: their start, crash and exit;
//!   [`rollout`]: deploys and rollbacks; [`timeline`]: the scenario's events;
//!   [`pod_timeline`]: the pods' changes, and the peak connections they allow.

pub mod caller;
pub mod connection;
pub mod cpu;
pub mod database;
pub mod fleet;
pub mod idle_stack;
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
pub mod timeline;
pub mod trace;
pub mod traffic;
pub mod wait_queue;

use crate::engine::{Scheduler, SimTime};
use crate::metrics::pooler::PoolerRecorder;
use crate::metrics::summary::{EndState, JobSummary};
use crate::metrics::{Gauges, PodRow, Recorder, Sink, Summary, Unfinished};
use crate::scenario::Scenario;
use crate::slab::{Id, Slab};
use caller::{Caller, CallerClass};
use cpu::Cpu;
use database::Database;
use fleet::{Pod, Worker};
use job::{JobRun, JobRunner};
use job_queue::JobQueue;
use pool::{Pool, PoolKind};
use pooler::Pooler;
use request::Request;
use rollout::RolloutState;
use routing::Source;
use traffic::RateProfile;

/// Everything that can happen.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The next arrival of a traffic source.
    Arrival {
        /// The source.
        source: Id,
        /// Its pod, so that the run loop can fetch it ahead (`None` for the
        /// fleet-wide stream of round-robin dispatch).
        pod: Option<u32>,
    },
    /// A request finished its current step (app work or a hold).
    RequestStep {
        /// The request.
        req: Id,
        /// Its pool (so that the run loop can fetch it ahead).
        pool: Id,
    },
    /// A queued caller's acquire timeout.
    AcquireTimeout {
        /// Who waits.
        caller: Caller,
    },
    /// A request's client gives up (upstream deadline).
    GiveUp {
        /// The request.
        req: Id,
    },
    /// A step of a connection handshake.
    Connection {
        /// The pool the client belongs to.
        pool: Id,
        /// The client.
        client: Id,
        /// Which step.
        phase: connection::Phase,
    },
    /// Time to close idle clients that are due.
    IdleCheck {
        /// The pool.
        pool: Id,
    },
    /// `maxLifetimeSeconds` of a client passed.
    Lifetime {
        /// The pool.
        pool: Id,
        /// The client.
        client: Id,
    },
    /// The server reaps a leaked session.
    Reap {
        /// The pool.
        pool: Id,
        /// The client.
        client: Id,
    },
    /// A worker's job `setInterval` fires.
    JobTick {
        /// The worker.
        worker: u32,
        /// Its process epoch when the timer was set.
        epoch: u32,
    },
    /// A job run finished its work.
    JobDone {
        /// The run.
        run: Id,
    },
    /// Close a sample interval.
    Sample,
    /// A timeline event of the scenario.
    Timeline {
        /// Its index in the scenario's events.
        index: u32,
    },
    /// A pod finished starting.
    PodReady {
        /// The pod.
        pod: u32,
        /// Its epoch when it started.
        epoch: u32,
    },
    /// A terminating pod's grace period is over.
    PodExit {
        /// The pod.
        pod: u32,
        /// Its epoch when it began terminating.
        epoch: u32,
    },
    /// A crashed worker is replaced.
    WorkerRestart {
        /// The worker.
        worker: u32,
        /// Its epoch after the crash.
        epoch: u32,
    },
    /// A canary pause is over.
    RolloutResume,
    /// The database's CPU finished a query.
    CpuDone,
    /// A step of a sidecar's server login.
    ServerLogin {
        /// The sidecar.
        pooler: Id,
        /// The server connection.
        server: Id,
        /// Which step.
        phase: pooler::LoginPhase,
    },
    /// Time to close a sidecar's idle server connections that are due.
    PoolerIdleCheck {
        /// The sidecar.
        pooler: Id,
    },
    /// A sidecar's pause after a failed login is over.
    PoolerRetry {
        /// The sidecar.
        pooler: Id,
    },
    /// A transaction's `query_wait_timeout` at the sidecar.
    ServerWaitTimeout {
        /// Who waits.
        caller: Caller,
    },
    /// retry: a backoff ended, or an attempt's timeout passed.
    Retry(retry::RetryEvent),
    /// The server kills a sidecar connection pinned by a leaked transaction.
    ServerReap {
        /// The sidecar.
        pooler: Id,
        /// The server connection.
        server: Id,
    },
}

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

/// One run of a scenario.
pub struct Simulation<'s> {
    pub(crate) scenario: &'s Scenario,
    pub(crate) sched: Scheduler<Event>,
    pub(crate) rec: Recorder,
    pub(crate) db: Database,
    pub(crate) profile: RateProfile,
    pub(crate) sources: Slab<Source>,
    /// The live workers of the ready pods, in turn for round-robin
    /// dispatch (empty with random dispatch, which does not use it).
    pub(crate) ready_workers: Vec<u32>,
    pub(crate) round_robin_next: u32,
    pub(crate) pods: Vec<Pod>,
    pub(crate) workers: Vec<Worker>,
    pub(crate) pools: Slab<Pool>,
    pub(crate) requests: Slab<Request>,
    pub(crate) runs: Slab<JobRun>,
    /// The job runner of each worker (by worker index), if the job runs there.
    pub(crate) runners: Vec<Option<JobRunner>>,
    /// Whether the job is switched on (timeline `job` events).
    pub(crate) job_switch: bool,
    /// The rollout in progress.
    pub(crate) rollout: Option<RolloutState>,
    /// Versions deployed so far, the current target last (for rollbacks).
    pub(crate) version_history: Vec<usize>,
    /// Rollouts started so far (the latest is the current revision).
    pub(crate) revisions: u32,
    /// Whether the first refusal and the first acquire timeout were logged.
    pub(crate) first_logged: (bool, bool),
    pub(crate) job_totals: JobSummary,
    /// Requests and job runs started so far (wrapping): trace names.
    pub(crate) arrivals_seen: u32,
    pub(crate) runs_seen: u32,
    /// The database's CPU, if modelled.
    pub(crate) cpu: Option<Cpu>,
    /// The pods' sidecars.
    pub(crate) poolers: Slab<Pooler>,
    /// What the sidecars record, if there are any.
    pub(crate) pooler_stats: Option<PoolerRecorder>,
    /// The queue-based job's work queue and idle consumers.
    pub(crate) job_queue: JobQueue,
    /// Handlers still running, of requests that count in the summary.
    pub(crate) counted_in_flight: u64,
    /// Of those, the ones whose client still waits.
    pub(crate) counted_clients_waiting: u64,
    /// Leaked clients closed because their process exited, and how many of
    /// them still held a server session (the leak invariant).
    pub(crate) leaks_closed: (u64, u64),
    /// Leaked sessions the server killed.
    pub(crate) leaks_reaped: u64,
    pub(crate) tracer: Option<trace::Tracer<'s>>,
    /// retry: the clients' retries, with `[retry]`.
    pub(crate) retry: Option<Box<retry::RetryState>>,
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
            db: Database::new(scenario.database.clone()),
            profile: RateProfile::new(scenario.traffic.rate_points.clone()),
            sources: Slab::default(),
            ready_workers: Vec::new(),
            round_robin_next: 0,
            pods: Vec::new(),
            workers: Vec::new(),
            pools: Slab::default(),
            requests: Slab::default(),
            runs: Slab::default(),
            runners: Vec::new(),
            job_switch: true,
            rollout: None,
            version_history: vec![0],
            revisions: 0,
            first_logged: (false, false),
            job_totals: JobSummary::default(),
            cpu: scenario.database.cpu.map(|c| Cpu::new(c, scenario.warmup)),
            poolers: Slab::default(),
            pooler_stats: scenario.pooler.as_ref().map(|_| PoolerRecorder::default()),
            job_queue: JobQueue::default(),
            arrivals_seen: 0,
            runs_seen: 0,
            counted_in_flight: 0,
            counted_clients_waiting: 0,
            leaks_closed: (0, 0),
            leaks_reaped: 0,
            tracer: None,
            retry: scenario
                .retry
                .as_ref()
                .map(|_| Box::new(retry::RetryState::new(scenario.seed))),
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
    pub(crate) fn log(&mut self, kind: &'static str, pod: Option<u32>, detail: String) {
        let now = self.sched.now();
        self.rec.log(now, kind, pod, detail);
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
                requests: self.requests.len(),
            });
        }
        Ok(())
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
            pool.server_idle_timeout = self.db.settings.idle_session_timeout;
        }
        let id = self.pools.insert(pool);
        self.workers[worker as usize].pools.push(id);
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
            self.sources.prefetch(source);
            if let Some(pod) = pod.and_then(|p| self.pods.get(p as usize)) {
                crate::prefetch::prefetch(pod);
            }
        }
        if let Some(&Event::Arrival { pod: Some(pod), .. }) = a1
            && let Some(w) = self
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
            self.requests.prefetch(req);
            self.pools.prefetch(pool);
        }
        if let Some(&Event::RequestStep { req, pool }) = next
            && let Some(pool) = self.pools.get(pool)
        {
            pool.prefetch_client(self.requests.get(req).and_then(Request::held_client));
        }
    }

    /// Run to the end and return the summary; rows go to `sink` as they are
    /// produced. `progress` is called now and then with the simulated time
    /// and may stop the run by returning false.
    pub fn run(
        mut self,
        sink: &mut dyn Sink,
        mut progress: impl FnMut(SimTime) -> bool,
    ) -> Result<Summary, RunError> {
        let mut handled: u64 = 0;
        let mut measuring = false;
        let mut last = SimTime::ZERO;
        // The queue hands out nothing after it dropped an event: the loop
        // ends there, and the check below stops the run.
        while let Some((now, event)) = self.sched.pop_until(self.end) {
            if self.options.check_invariants && now < last {
                return self.broken(format!("the clock went back from {last} to {now}"));
            }
            last = now;
            if !measuring && now >= self.rec.warmup() {
                self.rec.open.start_measuring();
                self.rec.checked_out.start_measuring();
                measuring = true;
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
            Event::Timeline { index } => self.timeline(index),
            Event::PodReady { pod, epoch } => self.pod_ready(pod, epoch),
            Event::PodExit { pod, epoch } => self.exit_pod(pod, epoch),
            Event::WorkerRestart { worker, epoch } => self.worker_restarted(worker, epoch),
            Event::RolloutResume => self.resume_rollout(),
            Event::AcquireTimeout { caller } => self.acquire_timed_out(caller),
            Event::GiveUp { req } => self.give_up(req),
            Event::Connection {
                pool,
                client,
                phase,
            } => self.connection_step(pool, client, phase),
            Event::IdleCheck { pool } => self.idle_check(pool),
            Event::Lifetime { pool, client } => self.lifetime_over(pool, client),
            Event::Reap { pool, client } => self.reap_leaked(pool, client),
            Event::JobTick { worker, epoch } => self.job_tick(worker, epoch),
            Event::JobDone { run } => self.job_done(run),
            Event::CpuDone => self.cpu_done(),
            Event::ServerLogin {
                pooler,
                server,
                phase,
            } => self.login_step(pooler, server, phase),
            Event::PoolerIdleCheck { pooler } => self.pooler_idle_check(pooler),
            Event::PoolerRetry { pooler } => self.pooler_retry(pooler),
            Event::ServerWaitTimeout { caller } => self.server_wait_timed_out(caller),
            Event::ServerReap { pooler, server } => self.server_reaped(pooler, server),
            Event::Retry(event) => self.retry_event(event),
            Event::Sample | Event::Arrival { .. } | Event::RequestStep { .. } => {
                unreachable!("dispatched by the run loop")
            }
        }
    }

    /// Fleet gauges and pod rows at `now`, handed to the recorder.
    fn sample(&mut self, now: SimTime, sink: &mut dyn Sink) -> std::io::Result<()> {
        if sink.wants_workers() {
            let rows: Vec<crate::metrics::WorkerRow> = self
                .workers
                .iter()
                .filter_map(|w| {
                    let pool = self.pools.get(w.pool?)?;
                    Some(crate::metrics::WorkerRow {
                        time_s: now.as_secs_f64(),
                        pod: w.pod,
                        worker: w.index,
                        total: pool.total(),
                        idle: pool.idle_count(),
                        waiting: pool.waiting(),
                        max: pool.config.max,
                    })
                })
                .collect();
            sink.workers(&rows)?;
        }
        let mut g = Gauges {
            db_occupied: self.db.occupied() as u64,
            ..Gauges::default()
        };
        let mut pod_rows: Vec<PodRow> = self
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| PodRow {
                time_s: now.as_secs_f64(),
                pod: i as u32,
                version: self.scenario.versions[p.version].name.clone(),
                state: format!("{:?}", p.state).to_lowercase(),
                ..PodRow::default()
            })
            .collect();
        let mut pod_idle = vec![0u32; self.pods.len()];
        for (_, pool) in self.pools.iter() {
            let leaked = pool.leaked_sessions() as u64;
            let own = pool.sessions() as u64 - leaked;
            match pool.kind {
                PoolKind::Requests => g.open_request_pools += own,
                PoolKind::Job => g.open_job_pools += own,
            }
            g.open_leaked += leaked;
            g.connecting += pool.connecting() as u64;
            g.checked_out += pool.checked_out() as u64;
            g.idle += pool.idle_count() as u64;
            g.waiters += pool.waiting() as u64;
            g.pools_starving += u64::from(pool.waiting() > 0);
            let pod = self.workers[pool.worker as usize].pod as usize;
            let Some(row) = pod_rows.get_mut(pod) else {
                continue;
            };
            row.open += pool.total();
            row.checked_out += pool.checked_out();
            row.waiters += pool.waiting();
            row.capacity += pool.config.max;
            pod_idle[pod] += pool.idle_count();
        }
        for (row, idle) in pod_rows.iter_mut().zip(pod_idle) {
            row.utilisation = if row.capacity > 0 {
                (row.open - idle) as f64 / row.capacity as f64
            } else {
                0.0
            };
        }
        for (_, pooler) in self.poolers.iter() {
            let pinned = pooler.pinned() as u64;
            g.open_request_pools += pooler.sessions() as u64 - pinned;
            g.open_leaked += pinned;
            g.connecting += u64::from(pooler.logging_in());
        }
        pod_rows.retain(|r| r.state != "gone");
        g.pool_utilisation_max = self
            .pools
            .iter()
            .map(|(_, p)| (p.total() - p.idle_count()) as f64 / p.config.max as f64)
            .fold(0.0, f64::max);
        g.pools = self.pools.len() as u64;
        self.rec.sample(now, &g, &pod_rows, sink)
    }

    fn broken<T>(&self, what: String) -> Result<T, RunError> {
        Err(RunError::Invariant {
            at: self.sched.now(),
            what,
        })
    }

    /// The invariants that cost O(1): checked after every event with
    /// `check_invariants`.
    pub fn check_cheap_invariants(&self) -> Result<(), RunError> {
        let settings = &self.db.settings;
        if self.db.occupied() > settings.max_connections {
            return self.broken(format!(
                "{} server slots taken, max_connections is {}",
                self.db.occupied(),
                settings.max_connections
            ));
        }
        if self.db.established() + settings.other_clients > settings.usable_slots() {
            return self.broken(format!(
                "{} established connections exceed the {} usable slots",
                self.db.established() + settings.other_clients,
                settings.usable_slots()
            ));
        }
        for (name, level) in [
            ("open", &self.rec.open),
            ("checked-out", &self.rec.checked_out),
        ] {
            if level.value() < 0 {
                return self.broken(format!("{} {name} connections", level.value()));
            }
        }
        if self.db.app_backends() as i64 != self.rec.open.value() {
            return self.broken(format!(
                "the server counts {} application backends, the recorder {}",
                self.db.app_backends(),
                self.rec.open.value()
            ));
        }
        let t = &self.rec.totals;
        // retry: requests waiting out a backoff, in both partitions.
        let in_backoff = self.retry.as_ref().map_or(0, |r| r.in_backoff);
        let ended = t.completed
            + t.queue_timeouts
            + t.connect_timeouts
            + t.refused
            + t.app_errors
            + t.unavailable
            + t.cancelled
            + t.pooler_timeouts;
        if t.arrived != ended + self.counted_in_flight + in_backoff {
            return self.broken(format!(
                "arrived {} ≠ ended {ended} + in flight {} + in backoff {in_backoff}",
                t.arrived, self.counted_in_flight
            ));
        }
        let answered = t.goodput + t.client_errors + t.gave_up;
        if t.arrived != answered + self.counted_clients_waiting + in_backoff {
            return self.broken(format!(
                "arrived {} ≠ answered {answered} + clients waiting {} + in backoff {in_backoff}",
                t.arrived, self.counted_clients_waiting
            ));
        }
        Ok(())
    }

    /// Every invariant, the O(pools) ones included: checked at every sample
    /// and at the end of every run. A failure is a bug in the model.
    pub fn check_invariants(&self) -> Result<(), RunError> {
        self.check_cheap_invariants()?;
        for (p, pod) in self.pods.iter().enumerate() {
            let live = pod
                .workers
                .iter()
                .filter(|&&w| self.workers[w as usize].alive);
            if !live.eq(pod.live_workers.iter()) {
                return self.broken(format!("pod {p}'s list of live workers is stale"));
            }
        }
        let mut sessions = 0u64;
        let mut checked_out = 0u64;
        let (mut leaked, mut leaked_sessions) = (0u64, 0u64);
        let listed: usize = self.workers.iter().map(|w| w.pools.len()).sum();
        if listed != self.pools.len() {
            return self.broken(format!(
                "the workers list {listed} pools, the pool table holds {}",
                self.pools.len()
            ));
        }
        for (id, pool) in self.pools.iter() {
            if !self.workers[pool.worker as usize].pools.contains(&id) {
                return self.broken(format!(
                    "a pool is missing from worker {}'s list",
                    pool.worker
                ));
            }
            if pool.total() > pool.config.max {
                return self.broken(format!(
                    "a pool holds {} clients, max {}",
                    pool.total(),
                    pool.config.max
                ));
            }
            if let Some(k) = pool.config.job_limit
                && pool.job_held() > k
            {
                return self.broken(format!(
                    "the job holds {} clients of a pool, job_limit {k}",
                    pool.job_held()
                ));
            }
            sessions += pool.sessions() as u64;
            checked_out += pool.checked_out() as u64;
            leaked += pool.leaked() as u64;
            leaked_sessions += pool.leaked_sessions() as u64;
        }
        // A leaked client leaves its pool only when its process exits, and
        // its PostgreSQL session ends only then or when the server reaps it
        // (behind a sidecar, clients hold no PostgreSQL session of their own).
        let ever = self.rec.leaked_cumulative;
        let (closed, closed_sessions) = self.leaks_closed;
        let sessions_ok = self.scenario.pooler.is_some()
            || leaked_sessions + closed_sessions + self.leaks_reaped == ever;
        if leaked + closed != ever || !sessions_ok {
            return self.broken(format!(
                "{ever} clients leaked: {leaked} still in their pools ({leaked_sessions} with a session), {closed} closed by a process exit ({closed_sessions} with a session), {} sessions reaped",
                self.leaks_reaped
            ));
        }
        for (_, pooler) in self.poolers.iter() {
            if pooler.total() > pooler.config.pool_size {
                return self.broken(format!(
                    "a sidecar holds {} server connections, pool_size {}",
                    pooler.total(),
                    pooler.config.pool_size
                ));
            }
            let counted = pooler.active()
                + pooler.pinned()
                + pooler.idle_count()
                + u32::from(pooler.logging_in());
            if counted != pooler.total() {
                return self.broken(format!(
                    "a sidecar counts {counted} server connections by state, {} in all",
                    pooler.total()
                ));
            }
            sessions += pooler.sessions() as u64;
        }
        if let Some((pod, sidecar, callers)) = self.server_waiters_disagree() {
            return self.broken(format!(
                "the sidecar of pod {pod} counts {sidecar} waiting transactions, its callers {callers}"
            ));
        }
        if sessions != self.db.app_backends() as u64 {
            return self.broken(format!(
                "pools hold {sessions} sessions, the server counts {}",
                self.db.app_backends()
            ));
        }
        if checked_out as i64 != self.rec.checked_out.value() {
            return self.broken(format!(
                "pools have {checked_out} clients checked out, the recorder counts {}",
                self.rec.checked_out.value()
            ));
        }
        Ok(())
    }

    fn finish(mut self) -> Summary {
        let now = self.sched.now();
        let waiting = self
            .requests
            .iter()
            .filter_map(|(_, r)| r.acquire_started())
            .map(|started| (CallerClass::Request, started))
            .chain(
                self.runs
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
            in_flight: self.counted_in_flight,
            clients_waiting: self.counted_clients_waiting,
            peak_db_occupied: self.db.peak_occupied(),
            job: self.job_summary(),
            cpu: self.cpu.as_ref().map(|c| c.summary(now)),
            pooler: self
                .pooler_stats
                .as_ref()
                .zip(self.scenario.pooler.as_ref())
                .map(|(stats, p)| stats.summary(p.pool_size)),
            in_backoff: self.retry.as_ref().map_or(0, |r| r.in_backoff),
        };
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
