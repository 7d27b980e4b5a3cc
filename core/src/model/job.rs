//! The background job: a `setInterval` in one worker per pod (or in every
//! worker) that checks out `fan_out` connections one after the other, holds
//! them for its work, and releases them — always (`finally`), or only when it
//! succeeds (`leaky`: on an error every client it holds is never released,
//! keeping its pool slot and its server slot until the process exits or the
//! server reaps the session).
//!
//! Pool modes: the worker's request pool (`shared`), a pool of its own
//! created with the process (`own`), or a new pool every run (`per_run`, the
//! write-up's code), ended when the run finishes — unless a leaky run failed,
//! in which case `pool.end()` is never reached. With `queue`, a run only
//! enqueues its work, which a consumer carries out ([`super::job_queue`]).
//!
//! Behind a sidecar, each client the run holds is in a transaction for the
//! whole hold: once it holds its clients, the run asks the sidecar for a
//! server connection for each, one after the other, before it works.

use super::caller::{Caller, CallerClass};
use super::event::{JobEvent, PoolEvent};
use super::job_queue::JobQueue;
use super::pool::{Connect, PoolKind};
use super::trace::TraceKind;
use super::{Event, Simulation};
use crate::engine::rng::{domain, stream};
use crate::engine::{SimRng, SimTime, TimerId};
use crate::metrics::AcquireEnd;
use crate::metrics::LogKind;
use crate::metrics::summary::JobSummary;
use crate::scenario::{Job, JobPlacement, JobPoolMode, ReleaseDiscipline};
use crate::slab::{Id, Slab};
use rand::RngExt;

/// The background job's state in the run.
pub(crate) struct BackgroundJob {
    /// Runs in progress.
    pub(crate) runs: Slab<JobRun>,
    /// The job runner of each worker (by worker index), if the job runs there.
    pub(crate) runners: Vec<Option<JobRunner>>,
    /// Whether the job is switched on (timeline `job` events).
    pub(crate) switch: bool,
    /// Its figures so far.
    pub(crate) totals: JobSummary,
    /// Job runs started so far (wrapping): trace names.
    pub(crate) runs_seen: u32,
    /// The queue-based job's work queue and idle consumers.
    pub(crate) queue: JobQueue,
}

impl Default for BackgroundJob {
    /// Switched on, nothing run yet.
    fn default() -> BackgroundJob {
        BackgroundJob {
            runs: Slab::default(),
            runners: Vec::new(),
            switch: true,
            totals: JobSummary::default(),
            runs_seen: 0,
            queue: JobQueue::default(),
        }
    }
}

/// The job code in one worker process.
pub struct JobRunner {
    /// The job's own pool (`own` mode).
    own_pool: Option<Id>,
    /// The queue consumer's pool of one connection (`queue` mode, first
    /// worker of the pod).
    pub(crate) consumer_pool: Option<Id>,
    /// Whether the consumer is working on an item.
    pub(crate) consuming: bool,
    rng: SimRng,
    running: u32,
    /// The worker's epoch when the runner started: ticks of an earlier
    /// process are ignored.
    pub(crate) epoch: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Queued,
    Connecting(Id),
    /// Waiting for the sidecar's server connection of its k-th client.
    ServerWait(u32),
    Working,
}

/// One run of the job (or one work item taken by a queue consumer).
pub struct JobRun {
    /// The worker it runs in.
    pub worker: u32,
    /// Start number (wrapping): its name in traces.
    pub(crate) serial: u32,
    pub(crate) version: usize,
    pub(crate) pool: Id,
    /// When it started (a work item: when it was enqueued).
    pub(crate) started: SimTime,
    held: Vec<Id>,
    phase: Phase,
    pub(crate) fails: bool,
    pub(crate) hold: SimTime,
    /// Start of the current wait (acquire or server wait).
    wait_started: SimTime,
    found_full: bool,
    /// The acquire timeout or the sidecar's `query_wait_timeout`.
    wait_timer: Option<TimerId>,
    /// A client the sidecar disconnected (`query_wait_timeout`).
    dead: Option<Id>,
    /// Whether a queue consumer carries it out.
    pub(crate) consumer: bool,
}

impl JobRun {
    /// Whether it waits for the sidecar's server connection.
    pub(crate) fn waits_for_a_server(&self) -> bool {
        matches!(self.phase, Phase::ServerWait(_))
    }

    /// When its acquire started, if it is acquiring (queued, or waiting for
    /// the handshake of a client made for it).
    pub(crate) fn acquire_started(&self) -> Option<SimTime> {
        matches!(self.phase, Phase::Queued | Phase::Connecting(_)).then_some(self.wait_started)
    }

    /// A run that has acquired nothing yet.
    pub(crate) fn new(worker: u32, serial: u32, version: usize, pool: Id) -> JobRun {
        JobRun {
            worker,
            serial,
            version,
            pool,
            started: SimTime::ZERO,
            held: Vec::new(),
            phase: Phase::Working,
            fails: false,
            hold: SimTime::ZERO,
            wait_started: SimTime::ZERO,
            found_full: false,
            wait_timer: None,
            dead: None,
            consumer: false,
        }
    }
}

/// Whether `caller` still waits in its pool's queue.
pub(crate) fn is_queued(runs: &Slab<JobRun>, caller: Caller) -> bool {
    runs.get(caller.id)
        .is_some_and(|r| r.held.len() as u32 == caller.part && r.phase == Phase::Queued)
}

/// Whether `caller` still waits for the sidecar's server connection of its
/// `caller.part`-th client.
pub(crate) fn waits_for_server(runs: &Slab<JobRun>, caller: Caller) -> bool {
    runs.get(caller.id)
        .is_some_and(|r| r.phase == Phase::ServerWait(caller.part))
}

impl Simulation<'_> {
    /// React to an event of the background job.
    pub(crate) fn job_event(&mut self, event: JobEvent) {
        match event {
            JobEvent::Tick { worker, epoch } => self.job_tick(worker, epoch),
            JobEvent::Done { run } => self.job_done(run),
        }
    }

    /// The job of worker `w`'s version, if the job runs in that worker.
    pub(crate) fn job_in(&self, w: u32) -> Option<&'_ Job> {
        let worker = &self.fleet.workers[w as usize];
        let app = &self.scenario.versions[self.fleet.pods[worker.pod as usize].version].app;
        let job = app.job.as_ref()?;
        match job.placement {
            JobPlacement::OneWorker if worker.index != 0 => None,
            _ => Some(job),
        }
    }

    /// Whether leaked clients of `pool` sit in an open transaction.
    pub(crate) fn leaks_in_transaction(&self, pool: Id) -> bool {
        let w = self.fleet.pools.get(pool).map_or(0, |p| p.worker);
        self.job_in(w).is_some_and(|j| j.leak_in_transaction)
    }

    /// Start the job in a worker that just started, if it runs there; the
    /// first run comes at a random phase of the period (pods did not all
    /// start at the same instant).
    pub(crate) fn start_job_runner(&mut self, w: u32) {
        let Some(job) = self.job_in(w).cloned() else {
            return;
        };
        let worker = &self.fleet.workers[w as usize];
        let (pod, index, epoch) = (worker.pod, worker.index, worker.epoch);
        let own_pool = (job.pool_mode == JobPoolMode::Own)
            .then(|| self.new_pool(job.pool.clone(), PoolKind::Job, w));
        let consumer_pool = (job.pool_mode == JobPoolMode::Queue && index == 0)
            .then(|| self.new_pool(job.pool.clone(), PoolKind::Job, w));
        let key = super::worker_key(pod, index) ^ ((epoch as u64) << 40);
        let mut rng = stream(self.scenario.seed, domain("job"), key);
        let first = SimTime::from_secs_f64(job.period.as_secs_f64() * rng.random::<f64>());
        self.job.runners[w as usize] = Some(JobRunner {
            own_pool,
            consumer_pool,
            consuming: false,
            rng,
            running: 0,
            epoch,
        });
        let at = self.sched.now() + first;
        self.sched
            .at(at, Event::Job(JobEvent::Tick { worker: w, epoch }));
        if consumer_pool.is_some() {
            self.consumer_ready(w, epoch);
        }
    }

    /// `setInterval` fired: start a run unless the job is off, or runs may
    /// not overlap and one is still going.
    pub(crate) fn job_tick(&mut self, w: u32, epoch: u32) {
        let now = self.sched.now();
        let Some(job) = self.job_in(w).cloned() else {
            return;
        };
        let Some(runner) = self.job.runners[w as usize].as_mut() else {
            return;
        };
        if runner.epoch != epoch {
            return;
        }
        self.sched
            .after(job.period, Event::Job(JobEvent::Tick { worker: w, epoch }));
        let counted = self.rec.counts(now);
        if !self.job.switch || (!job.overlap && runner.running > 0) {
            self.job.totals.runs_skipped += u64::from(counted);
            return;
        }
        let queued = job.pool_mode == JobPoolMode::Queue;
        runner.running += u32::from(!queued);
        let fails = runner.rng.random::<f64>() < job.error_probability;
        let hold = job.hold.sample(&mut runner.rng);
        let own_pool = runner.own_pool;
        self.rec.job_run();
        self.job.totals.runs_started += u64::from(counted);
        self.job.runs_seen = self.job.runs_seen.wrapping_add(1);
        let serial = self.job.runs_seen;
        if queued {
            self.enqueue_work(serial, fails, hold);
            return;
        }
        let pool = match job.pool_mode {
            JobPoolMode::Shared => self.fleet.workers[w as usize].pool.expect("live worker"),
            JobPoolMode::Own => own_pool.expect("own pool"),
            JobPoolMode::PerRun => self.new_pool(job.pool.clone(), PoolKind::Job, w),
            JobPoolMode::Queue => unreachable!("enqueued above"),
        };
        let version = self.fleet.pods[self.fleet.workers[w as usize].pod as usize].version;
        let mut run = JobRun::new(w, serial, version, pool);
        run.started = now;
        run.fails = fails;
        run.hold = hold;
        let run = self.job.runs.insert(run);
        self.job_acquire(run);
    }

    fn job_of_run(&self, run: &JobRun) -> &Job {
        self.scenario.versions[run.version]
            .app
            .job
            .as_ref()
            .expect("job of a run")
    }

    /// Check out the run's next connection.
    pub(crate) fn job_acquire(&mut self, id: Id) {
        let now = self.sched.now();
        let run = self.job.runs.get_mut(id).expect("live run");
        run.wait_started = now;
        let caller = Caller::job(id, run.held.len() as u32, run.serial);
        let pool = run.pool;
        match self.acquire(caller, pool) {
            Connect::Reused(client) => self.granted(caller, pool, client),
            Connect::Queued => {
                let run = self.job.runs.get_mut(id).expect("live run");
                run.phase = Phase::Queued;
                run.found_full = true;
            }
            Connect::NewClient(client) => {
                let run = self.job.runs.get_mut(id).expect("live run");
                run.phase = Phase::Connecting(client);
                run.found_full = false;
            }
        }
    }

    pub(crate) fn set_job_wait_timer(&mut self, caller: Caller, timer: TimerId) {
        if let Some(run) = self.job.runs.get_mut(caller.id) {
            run.wait_timer = Some(timer);
        }
    }

    pub(crate) fn job_acquiring_pool(&self, caller: Caller) -> Option<Id> {
        self.job.runs.get(caller.id).and_then(|r| {
            let acquiring = matches!(r.phase, Phase::Queued | Phase::Connecting(_));
            (r.held.len() as u32 == caller.part && acquiring).then_some(r.pool)
        })
    }

    pub(crate) fn job_promoted(&mut self, caller: Caller, client: Id) {
        if let Some(run) = self.job.runs.get_mut(caller.id) {
            run.phase = Phase::Connecting(client);
        }
    }

    pub(crate) fn job_connecting_for(&self, caller: Caller, client: Id) -> bool {
        self.job.runs.get(caller.id).is_some_and(|r| {
            r.held.len() as u32 == caller.part && r.phase == Phase::Connecting(client)
        })
    }

    /// The run got a connection: take the next one, or start working.
    pub(crate) fn job_granted(&mut self, caller: Caller, pool: Id, client: Id) {
        let now = self.sched.now();
        let run = self.job.runs.get(caller.id).expect("granted to a live run");
        let fan_out = self.job_of_run(run).fan_out;
        let run = self
            .job
            .runs
            .get_mut(caller.id)
            .expect("granted to a live run");
        self.rec.acquire(
            now,
            CallerClass::Job,
            run.wait_started,
            run.found_full,
            AcquireEnd::Served,
        );
        if let Some(t) = run.wait_timer.take() {
            self.sched.cancel(t);
        }
        run.held.push(client);
        if (run.held.len() as u32) < fan_out {
            self.job_acquire(caller.id);
        } else if self.fleet.pools.get(pool).is_some_and(|p| p.via_pooler) {
            self.job_begin_transaction(caller.id, 0);
        } else {
            self.job_work(caller.id);
        }
    }

    /// The run holds what it needs: it works for its hold.
    fn job_work(&mut self, id: Id) {
        let run = self.job.runs.get_mut(id).expect("live run");
        run.phase = Phase::Working;
        let hold = run.hold;
        self.sched
            .after(hold, Event::Job(JobEvent::Done { run: id }));
    }

    /// Ask the sidecar for a server connection for the run's `k`-th client.
    fn job_begin_transaction(&mut self, id: Id, k: u32) {
        let now = self.sched.now();
        let run = self.job.runs.get_mut(id).expect("live run");
        run.phase = Phase::ServerWait(k);
        run.wait_started = now;
        let caller = Caller::job(id, k, run.serial);
        let (pool, client) = (run.pool, run.held[k as usize]);
        self.begin_transaction(caller, pool, client);
    }

    /// The sidecar gave the run's current client a server connection.
    pub(crate) fn job_transaction_started(&mut self, caller: Caller, queued: bool) {
        let run = self.job.runs.get_mut(caller.id).expect("live run");
        debug_assert_eq!(run.phase, Phase::ServerWait(caller.part));
        if let Some(t) = run.wait_timer.take() {
            self.sched.cancel(t);
        }
        let (started, held) = (run.wait_started, run.held.len() as u32);
        self.record_server_wait(CallerClass::Job, started, queued, AcquireEnd::Served);
        if caller.part + 1 < held {
            self.job_begin_transaction(caller.id, caller.part + 1);
        } else {
            self.job_work(caller.id);
        }
    }

    /// The pool and client of `caller` if it waits for a server connection.
    pub(crate) fn job_server_wait(&self, caller: Caller) -> Option<(Id, Id)> {
        let r = self.job.runs.get(caller.id)?;
        (r.phase == Phase::ServerWait(caller.part)).then(|| (r.pool, r.held[caller.part as usize]))
    }

    /// The sidecar disconnected one of the run's clients at its
    /// `query_wait_timeout`: the run fails.
    pub(crate) fn job_server_wait_failed(&mut self, caller: Caller, client: Id) {
        let run = self.job.runs.get_mut(caller.id).expect("live run");
        run.wait_timer = None;
        run.dead = Some(client);
        let started = run.wait_started;
        self.record_server_wait(CallerClass::Job, started, true, AcquireEnd::QueueTimeout);
        self.end_run(caller.id, true);
    }

    /// A connection of the run could not be had: the run fails.
    pub(crate) fn job_acquire_failed(&mut self, caller: Caller, end: AcquireEnd) {
        let now = self.sched.now();
        let run = self
            .job
            .runs
            .get_mut(caller.id)
            .expect("failing a live run");
        self.rec
            .acquire(now, CallerClass::Job, run.wait_started, run.found_full, end);
        if self.rec.counts(run.started) {
            self.job.totals.runs_starved += 1;
        }
        if let Some(t) = run.wait_timer.take() {
            self.sched.cancel(t);
        }
        self.end_run(caller.id, true);
    }

    /// The run's work is over.
    pub(crate) fn job_done(&mut self, id: Id) {
        if let Some(run) = self.job.runs.get(id) {
            let fails = run.fails;
            self.end_run(id, fails);
        }
    }

    /// Release (or leak) what the run holds, and end its per-run pool.
    fn end_run(&mut self, id: Id, failed: bool) {
        let now = self.sched.now();
        let run = self.job.runs.remove(id).expect("live run");
        let job = self.job_of_run(&run).clone();
        if let Some(t) = run.wait_timer {
            self.sched.cancel(t);
        }
        if let Some(runner) = self.job.runners[run.worker as usize].as_mut() {
            if run.consumer {
                runner.consuming = false;
            } else {
                runner.running = runner.running.saturating_sub(1);
            }
        }
        let leaks = failed && job.release == ReleaseDiscipline::Leaky;
        if self.rec.counts(run.started) {
            let t = &mut self.job.totals;
            if failed {
                t.runs_failed += 1;
            } else {
                t.runs_completed += 1;
            }
            t.runs_late += u64::from(now - run.started > job.period);
        }
        let via_pooler = self.fleet.pools.get(run.pool).is_some_and(|p| p.via_pooler);
        if leaks {
            let reap_after = self
                .reap_after(job.leak_in_transaction)
                .filter(|_| !via_pooler);
            for (part, &client) in run.held.iter().enumerate() {
                if via_pooler && job.leak_in_transaction {
                    self.pin_transaction(run.pool, client);
                } else {
                    self.end_transaction(run.pool, client);
                }
                let pool = self.fleet.pools.get_mut(run.pool).expect("live pool");
                pool.leak(client, now);
                if let Some(after) = reap_after {
                    self.sched.at(
                        now + after,
                        Event::Pool(PoolEvent::Reap {
                            pool: run.pool,
                            client,
                        }),
                    );
                }
                let caller = Caller::job(id, part as u32, run.serial);
                self.trace(
                    TraceKind::Leaked,
                    Some(caller),
                    Some(run.pool),
                    Some(client),
                );
            }
            let n = run.held.len() as i64;
            self.rec.checked_out.add(now, -n, self.scenario.warmup);
            self.rec.leaked(now, n as u64);
            if n > 0 {
                let pod = self.fleet.workers[run.worker as usize].pod;
                self.log(
                    LogKind::Leak,
                    Some(pod),
                    format!("job run {} failed holding {n} connections", run.serial),
                );
            }
        } else {
            for &client in &run.held {
                let dead = run.dead == Some(client);
                self.release_client(run.pool, client, dead, CallerClass::Job);
            }
        }
        if job.pool_mode == JobPoolMode::PerRun && !leaks {
            self.end_pool(run.pool);
        }
        if run.consumer {
            let epoch = self.job.runners[run.worker as usize]
                .as_ref()
                .map(|r| r.epoch);
            if let Some(epoch) = epoch {
                self.consumer_ready(run.worker, epoch);
            }
        }
    }

    /// `pool.end()`: idle clients close now, the rest when released.
    fn end_pool(&mut self, pool_id: Id) {
        let Some(pool) = self.fleet.pools.get_mut(pool_id) else {
            return;
        };
        let (requests, runs) = (&self.traffic.requests, &self.job.runs);
        let (idle, waiters) =
            pool.end(|c| super::request::is_queued(requests, c) || is_queued(runs, c));
        debug_assert!(waiters.is_empty(), "a per-run pool has only its own run");
        for client in &idle {
            self.close_session(client);
        }
        self.drop_pool_if_done(pool_id);
    }
}
