//! The incident model: a fleet of pods and workers with node-postgres pools,
//! a PostgreSQL server, request traffic and a background job, as plain
//! structs reacting to events from the [`engine`](crate::engine).
//!
//! * [`pool`]: pg-pool's decisions; [`wait_queue`]: its queue.
//! * [`database`]: PostgreSQL's slots and refusals.
//! * [`connection`]: connection handshakes, releases, idle eviction, reaping.
//! * [`request`]: what a request handler does; [`job`]: the background job.
//! * [`traffic`]: arrival sources; [`fleet`]: pods and workers.

pub mod caller;
pub mod connection;
pub mod database;
pub mod fleet;
pub mod job;
pub mod pool;
pub mod request;
pub mod trace;
pub mod traffic;
pub mod wait_queue;

use crate::engine::rng::{domain, stream};
use crate::engine::{Scheduler, SimTime};
use crate::metrics::summary::{EndState, JobSummary};
use crate::metrics::{Gauges, PodRow, Recorder, Sink, Summary};
use crate::scenario::{Dispatch, Scenario};
use crate::slab::{Id, Slab};
use caller::Caller;
use database::Database;
use fleet::{Pod, Worker};
use job::{JobRun, JobRunner};
use pool::{Pool, PoolKind};
use request::Request;
use traffic::{ArrivalSource, RateProfile};
use wait_queue::Discipline;

/// Everything that can happen.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The next arrival of a traffic source.
    Arrival {
        /// Source index.
        source: u32,
    },
    /// A request finished its current step (app work or a hold).
    RequestStep {
        /// The request.
        req: Id,
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
    /// A job runner's `setInterval` fires.
    JobTick {
        /// Runner index.
        runner: u32,
    },
    /// A job run finished its work.
    JobDone {
        /// The run.
        run: Id,
    },
    /// Close a sample interval.
    Sample,
}

/// Options of one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Check the model's invariants after every event.
    pub check_invariants: bool,
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
}

/// One run of a scenario.
pub struct Simulation<'s> {
    pub(crate) scenario: &'s Scenario,
    pub(crate) sched: Scheduler<Event>,
    pub(crate) rec: Recorder,
    pub(crate) db: Database,
    pub(crate) profile: RateProfile,
    pub(crate) sources: Vec<ArrivalSource>,
    pub(crate) round_robin_next: u32,
    pub(crate) pods: Vec<Pod>,
    pub(crate) workers: Vec<Worker>,
    pub(crate) pools: Slab<Pool>,
    pub(crate) requests: Slab<Request>,
    pub(crate) runs: Slab<JobRun>,
    pub(crate) runners: Vec<JobRunner>,
    pub(crate) job_totals: JobSummary,
    /// Requests and job runs started so far (wrapping): trace names.
    pub(crate) arrivals_seen: u32,
    pub(crate) runs_seen: u32,
    /// Handlers still running, of requests that count in the summary.
    pub(crate) counted_in_flight: u64,
    /// Of those, the ones whose client still waits.
    pub(crate) counted_clients_waiting: u64,
    pub(crate) tracer: Option<trace::Tracer<'s>>,
    end: SimTime,
    options: RunOptions,
}

impl<'s> Simulation<'s> {
    /// Build the fleet at time zero: empty pools, no connections.
    pub fn new(scenario: &'s Scenario, options: RunOptions) -> Simulation<'s> {
        let seed = scenario.seed;
        let fleet = &scenario.fleet;
        let mut sim = Simulation {
            scenario,
            sched: Scheduler::new(),
            rec: Recorder::new(scenario.warmup),
            db: Database::new(scenario.database.clone()),
            profile: RateProfile::new(scenario.traffic.rate_points.clone()),
            sources: Vec::new(),
            round_robin_next: 0,
            pods: Vec::new(),
            workers: Vec::new(),
            pools: Slab::default(),
            requests: Slab::default(),
            runs: Slab::default(),
            runners: Vec::new(),
            job_totals: JobSummary::default(),
            arrivals_seen: 0,
            runs_seen: 0,
            counted_in_flight: 0,
            counted_clients_waiting: 0,
            tracer: None,
            end: scenario.duration,
            options,
        };
        for pod in 0..fleet.pods {
            let mut workers = Vec::new();
            for w in 0..fleet.workers {
                let index = sim.workers.len() as u32;
                let pool = sim.new_pool(scenario.app.pool.clone(), PoolKind::Requests, index);
                sim.workers.push(Worker {
                    pod,
                    pool,
                    setup_rng: stream(seed, domain("setup"), worker_key(pod, w)),
                });
                workers.push(index);
            }
            sim.pods.push(Pod { workers });
        }
        match fleet.dispatch {
            Dispatch::Random => {
                let share = 1.0 / fleet.pods as f64;
                for pod in 0..fleet.pods {
                    let rng = stream(seed, domain("arrivals"), pod as u64);
                    sim.sources
                        .push(ArrivalSource::new(rng, scenario.traffic.arrivals, share));
                }
            }
            Dispatch::RoundRobin => {
                let rng = stream(seed, domain("arrivals-fleet"), 0);
                sim.sources
                    .push(ArrivalSource::new(rng, scenario.traffic.arrivals, 1.0));
            }
        }
        for source in 0..sim.sources.len() as u32 {
            sim.schedule_next_arrival(source);
        }
        sim.start_job_runners();
        sim.sched.at(scenario.sample_interval, Event::Sample);
        sim
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
        let mut pool = Pool::new(config, kind, worker, Discipline::Fifo);
        pool.server_idle_timeout = self.scenario.database.idle_session_timeout;
        self.pools.insert(pool)
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
        while let Some(t) = self.sched.peek_time() {
            if t > self.end {
                break;
            }
            if !measuring && t >= self.rec.warmup() {
                self.rec.open.start_measuring();
                self.rec.checked_out.start_measuring();
                measuring = true;
            }
            let (now, event) = self.sched.pop().expect("peeked");
            self.handle(now, event, sink)?;
            handled += 1;
            if self.options.check_invariants {
                self.check_cheap_invariants()?;
            }
            if handled & 0xffff == 0 && !progress(now) {
                return Err(RunError::Interrupted(now));
            }
        }
        self.sched.advance_to(self.end);
        self.check_invariants()?;
        Ok(self.finish())
    }

    fn handle(&mut self, now: SimTime, event: Event, sink: &mut dyn Sink) -> Result<(), RunError> {
        match event {
            Event::Arrival { source } => self.arrive(source),
            Event::RequestStep { req } => self.request_step(req),
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
            Event::JobTick { runner } => self.job_tick(runner),
            Event::JobDone { run } => self.job_done(run),
            Event::Sample => {
                self.check_invariants()?;
                self.sample(now, sink)?;
                let next = now + self.scenario.sample_interval;
                if next <= self.end {
                    self.sched.at(next, Event::Sample);
                }
            }
        }
        Ok(())
    }

    /// Fleet gauges and pod rows at `now`, handed to the recorder.
    fn sample(&mut self, now: SimTime, sink: &mut dyn Sink) -> std::io::Result<()> {
        let mut g = Gauges {
            db_occupied: self.db.occupied() as u64,
            ..Gauges::default()
        };
        let mut pod_rows: Vec<PodRow> = self
            .pods
            .iter()
            .enumerate()
            .map(|(i, _)| PodRow {
                time_s: now.as_secs_f64(),
                pod: i as u32,
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
            let row = &mut pod_rows[pod];
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
        self.rec.sample(now, &g, &pod_rows, sink)
    }

    fn broken(&self, what: String) -> Result<(), RunError> {
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
        if self.db.app_backends() as i64 != self.rec.open.value() {
            return self.broken(format!(
                "the server counts {} application backends, the recorder {}",
                self.db.app_backends(),
                self.rec.open.value()
            ));
        }
        let t = &self.rec.totals;
        let ended = t.completed
            + t.queue_timeouts
            + t.connect_timeouts
            + t.refused
            + t.app_errors
            + t.worker_died
            + t.cancelled;
        if t.arrived != ended + self.counted_in_flight {
            return self.broken(format!(
                "arrived {} ≠ ended {ended} + in flight {}",
                t.arrived, self.counted_in_flight
            ));
        }
        let answered = t.goodput + t.client_errors + t.gave_up;
        if t.arrived != answered + self.counted_clients_waiting {
            return self.broken(format!(
                "arrived {} ≠ answered {answered} + clients waiting {}",
                t.arrived, self.counted_clients_waiting
            ));
        }
        Ok(())
    }

    /// Every invariant, the O(pools) ones included: checked at every sample
    /// and at the end of every run. A failure is a bug in the model.
    pub fn check_invariants(&self) -> Result<(), RunError> {
        self.check_cheap_invariants()?;
        let mut sessions = 0u64;
        let mut checked_out = 0u64;
        for (_, pool) in self.pools.iter() {
            if pool.total() > pool.config.max {
                return self.broken(format!(
                    "a pool holds {} clients, max {}",
                    pool.total(),
                    pool.config.max
                ));
            }
            sessions += pool.sessions() as u64;
            checked_out += pool.checked_out() as u64;
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

    fn finish(self) -> Summary {
        let end = EndState {
            end: self.sched.now(),
            in_flight: self.counted_in_flight,
            clients_waiting: self.counted_clients_waiting,
            peak_db_occupied: self.db.peak_occupied(),
            job: self.job_totals.clone(),
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
