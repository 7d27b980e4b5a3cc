//! Between pools and the server: connection handshakes (and their refusals
//! and timeouts), handing clients to callers, releases, idle eviction, client
//! lifetimes and server-side reaping.
//!
//! A handshake, as node-postgres and PostgreSQL do it:
//! 1. The backend claims a server slot, or is refused at once with
//!    `too many clients` (after a short delay, before authentication).
//! 2. After authentication (a fraction of the setup time) the reserve check
//!    may refuse it with `remaining connection slots are reserved`.
//! 3. At the end of the setup time the client is ready and goes to the caller
//!    it was created for — or, if that caller gave up meanwhile, back to the
//!    pool as idle (docs/semantics.md#confirmed-on-a-real-pg-pool).
//!
//! If the pool has a connection timeout, a handshake still running that long
//! after it started is killed (`Connection terminated due to connection
//! timeout`).

use super::caller::{Caller, CallerClass};
use super::database::Refusal;
use super::event::PoolEvent;
use super::pool::Client;
use super::trace::TraceKind;
use super::{Event, Simulation};
use crate::engine::SimTime;
use crate::metrics::AcquireEnd;
use crate::metrics::LogKind;
use crate::slab::Id;

/// Steps of a handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Refused before authentication: no slot was free.
    TooManyClients,
    /// Authentication done: the reserve check.
    ReserveCheck,
    /// Handshake complete.
    Ready,
    /// The pool's connection timeout kills the handshake.
    Kill,
}

impl Simulation<'_> {
    /// React to an event of a pool's clients.
    pub(crate) fn pool_event(&mut self, event: PoolEvent) {
        match event {
            PoolEvent::Handshake {
                pool,
                client,
                phase,
            } => self.connection_step(pool, client, phase),
            PoolEvent::IdleCheck { pool } => self.idle_check(pool),
            PoolEvent::Lifetime { pool, client } => self.lifetime_over(pool, client),
            PoolEvent::Reap { pool, client } => self.reap_leaked(pool, client),
        }
    }

    /// Start the handshake of a new client of `pool_id`, bound to its caller.
    /// Behind a sidecar the client connects to PgBouncer: no server slot, no
    /// refusal, only `pooler.client_setup`.
    pub(crate) fn begin_connection(&mut self, pool_id: Id, client: Id) {
        let now = self.sched.now();
        let pool = self.fleet.pools.get_mut(pool_id).expect("live pool");
        let kill_at = pool
            .config
            .acquire_timeout
            .map_or(SimTime::NEVER, |t| now + t);
        let rng = &mut self.fleet.workers[pool.worker as usize].setup_rng;
        let settings = &self.scenario.database;
        let (phase, at) = if pool.via_pooler {
            let setup = &self
                .scenario
                .pooler
                .as_ref()
                .expect("a sidecar")
                .client_setup;
            let ready_at = now + setup.sample(rng);
            pool.set_handshake(client, ready_at, kill_at);
            (Phase::Ready, ready_at)
        } else {
            match self.server.db.begin_connect() {
                Err(_) => {
                    let delay = settings.too_many_clients_delay.sample(rng);
                    pool.set_handshake(client, now + delay, kill_at);
                    (Phase::TooManyClients, now + delay)
                }
                Ok(()) => {
                    pool.slot_claimed(client);
                    self.rec.open.add(now, 1, self.scenario.warmup);
                    let setup = settings.setup.sample_secs(rng);
                    let check = now + SimTime::from_secs_f64(setup * settings.reserve_check_at);
                    pool.set_handshake(client, now + SimTime::from_secs_f64(setup), kill_at);
                    (Phase::ReserveCheck, check)
                }
            }
        };
        let (phase, at) = if kill_at < at {
            (Phase::Kill, kill_at)
        } else {
            (phase, at)
        };
        self.sched.at(
            at,
            Event::Pool(PoolEvent::Handshake {
                pool: pool_id,
                client,
                phase,
            }),
        );
    }

    /// One step of a handshake.
    pub(crate) fn connection_step(&mut self, pool_id: Id, client_id: Id, phase: Phase) {
        let now = self.sched.now();
        let Some(pool) = self.fleet.pools.get_mut(pool_id) else {
            return;
        };
        let Some(client) = pool.client(client_id) else {
            return; // gone with its process
        };
        let (ready_at, kill_at) = (client.ready_at, client.kill_at);
        match phase {
            Phase::TooManyClients => self.connection_failed(
                pool_id,
                client_id,
                Failure::Refused(Refusal::TooManyClients),
            ),
            Phase::ReserveCheck => match self.server.db.check_reserve() {
                Err(refusal) => {
                    pool.slot_lost(client_id);
                    self.rec.open.add(now, -1, self.scenario.warmup);
                    self.connection_failed(pool_id, client_id, Failure::Refused(refusal));
                }
                Ok(()) => {
                    let (phase, at) = if kill_at < ready_at {
                        (Phase::Kill, kill_at)
                    } else {
                        (Phase::Ready, ready_at)
                    };
                    let event = Event::Pool(PoolEvent::Handshake {
                        pool: pool_id,
                        client: client_id,
                        phase,
                    });
                    self.sched.at(at, event);
                }
            },
            Phase::Kill => self.connection_failed(pool_id, client_id, Failure::Timeout),
            Phase::Ready => {
                if !pool.via_pooler {
                    self.server.db.established_one();
                }
                let caller = pool.connected(client_id);
                let lifetime = pool.config.max_lifetime;
                self.rec.checked_out.add(now, 1, self.scenario.warmup);
                if let Some(life) = lifetime {
                    let event = Event::Pool(PoolEvent::Lifetime {
                        pool: pool_id,
                        client: client_id,
                    });
                    self.sched.at(now + life, event);
                }
                if self.connecting_for(caller, client_id) {
                    self.granted(caller, pool_id, client_id);
                } else {
                    // Its caller timed out meanwhile: the client joins the
                    // pool as idle (or serves the next waiter).
                    self.release_client(pool_id, client_id, false, caller.class);
                }
            }
        }
    }

    /// A handshake failed: the client leaves the pool, the queue is pulsed
    /// (which may start the next waiter's handshake), and the error goes to
    /// the caller the client was made for, if it still waits.
    fn connection_failed(&mut self, pool_id: Id, client_id: Id, why: Failure) {
        let now = self.sched.now();
        let pool = self.fleet.pools.get_mut(pool_id).expect("live pool");
        let client = pool.connect_failed(client_id).expect("connecting client");
        let kind = match why {
            Failure::Refused(Refusal::TooManyClients) => TraceKind::RefusedTooManyClients,
            Failure::Refused(Refusal::ReservedSlots) => TraceKind::RefusedReserved,
            Failure::Timeout => TraceKind::ConnectTimeout,
        };
        self.trace_serial(kind, client.bound, Some(pool_id), Some(client.serial));
        let end = match why {
            Failure::Refused(_) => AcquireEnd::Refused,
            Failure::Timeout => AcquireEnd::ConnectTimeout,
        };
        if client.has_slot {
            self.server.db.release(false);
            self.rec.open.add(now, -1, self.scenario.warmup);
        }
        self.pulse(pool_id);
        if let Some(caller) = client.bound
            && self.connecting_for(caller, client_id)
        {
            self.acquire_failed(caller, end);
        }
        self.drop_pool_if_done(pool_id);
    }

    /// Give a client (already marked checked out by the pool) to its caller.
    pub(crate) fn granted(&mut self, caller: Caller, pool: Id, client: Id) {
        self.trace(TraceKind::Granted, Some(caller), Some(pool), Some(client));
        match caller.class {
            CallerClass::Request => self.request_granted(caller, pool, client),
            CallerClass::Job => self.job_granted(caller, pool, client),
        }
    }

    /// An acquire failed.
    pub(crate) fn acquire_failed(&mut self, caller: Caller, end: AcquireEnd) {
        let first = match end {
            AcquireEnd::Refused if !self.books.first_logged.0 => {
                self.books.first_logged.0 = true;
                Some(LogKind::FirstRefusal)
            }
            AcquireEnd::QueueTimeout | AcquireEnd::ConnectTimeout if !self.books.first_logged.1 => {
                self.books.first_logged.1 = true;
                Some(LogKind::FirstAcquireTimeout)
            }
            _ => None,
        };
        if let Some(kind) = first {
            let pool = self.acquiring_pool(caller);
            let pod = pool
                .and_then(|p| self.fleet.pools.get(p))
                .map(|p| self.fleet.workers[p.worker as usize].pod);
            let who = match caller.class {
                CallerClass::Request => "a request",
                CallerClass::Job => "a job run",
            };
            let what = match end {
                AcquireEnd::Refused => "was refused by PostgreSQL (53300)",
                AcquireEnd::QueueTimeout => "timed out waiting in the pool queue",
                AcquireEnd::ConnectTimeout => "timed out opening a connection",
                AcquireEnd::Served | AcquireEnd::Abandoned => "stopped waiting",
            };
            self.log(kind, pod, format!("{who} {what}"));
        }
        match caller.class {
            CallerClass::Request => self.request_acquire_failed(caller, end),
            CallerClass::Job => self.job_acquire_failed(caller, end),
        }
    }

    /// Whether `caller` is waiting in a pool queue.
    pub(crate) fn is_queued(&self, caller: Caller) -> bool {
        is_queued(&self.traffic.requests, &self.job.runs, caller)
    }

    /// `caller`, queued in `pool_id`, stops waiting (before its phase changes).
    pub(crate) fn forget_waiter(&mut self, pool_id: Id, caller: Caller) {
        if let Some(pool) = self.fleet.pools.get_mut(pool_id) {
            let (requests, runs) = (&self.traffic.requests, &self.job.runs);
            pool.forget_waiter(caller, |c| is_queued(requests, runs, c));
        }
    }

    /// Whether `caller` waits for the handshake of `client`.
    fn connecting_for(&self, caller: Caller, client: Id) -> bool {
        match caller.class {
            CallerClass::Request => self.request_connecting_for(caller, client),
            CallerClass::Job => self.job_connecting_for(caller, client),
        }
    }

    /// `pool.connect()` for `caller`: handle the immediate outcomes. Returns
    /// how it went: `Connect::Reused(client)` when served at once.
    #[inline(always)]
    pub(crate) fn acquire(&mut self, caller: Caller, pool_id: Id) -> super::pool::Connect {
        let now = self.sched.now();
        let pool = self.fleet.pools.get_mut(pool_id).expect("live pool");
        let outcome = pool.connect(caller);
        match outcome {
            super::pool::Connect::Queued => {
                self.trace(TraceKind::Queued, Some(caller), Some(pool_id), None)
            }
            super::pool::Connect::NewClient(c) => self.trace(
                TraceKind::ConnectStarted,
                Some(caller),
                Some(pool_id),
                Some(c),
            ),
            super::pool::Connect::Reused(_) => {}
        }
        let pool = self.fleet.pools.get_mut(pool_id).expect("live pool");
        match outcome {
            super::pool::Connect::Reused(_) => {
                self.rec.checked_out.add(now, 1, self.scenario.warmup);
            }
            super::pool::Connect::Queued => {
                if let Some(timeout) = pool.config.acquire_timeout {
                    let patience = match pool.config.acquire_timeout_law {
                        crate::scenario::PatienceLaw::Fixed => timeout,
                        crate::scenario::PatienceLaw::Exponential => {
                            let rng = &mut self.fleet.workers[pool.worker as usize].setup_rng;
                            crate::dist::Dist::Exponential {
                                mean: timeout.as_secs_f64(),
                            }
                            .sample(rng)
                        }
                    };
                    let timer = self
                        .sched
                        .timeout(now + patience, Event::AcquireTimeout { caller });
                    self.set_wait_timer(caller, timer);
                }
            }
            super::pool::Connect::NewClient(client) => self.begin_connection(pool_id, client),
        }
        outcome
    }

    /// A queued caller's acquire timeout fired.
    pub(crate) fn acquire_timed_out(&mut self, caller: Caller) {
        let Some(pool_id) = self.acquiring_pool(caller) else {
            return;
        };
        if self.is_queued(caller) {
            self.forget_waiter(pool_id, caller);
        }
        // A promoted waiter's handshake goes on; its client will join the
        // pool when ready.
        self.trace(TraceKind::QueueTimeout, Some(caller), Some(pool_id), None);
        self.acquire_failed(caller, AcquireEnd::QueueTimeout);
    }

    /// `client.release(err)`, then pulse the queue. Behind a sidecar the
    /// checkout's transaction ends first (a checkout is one transaction).
    pub(crate) fn release_client(
        &mut self,
        pool_id: Id,
        client: Id,
        with_error: bool,
        class: CallerClass,
    ) {
        let now = self.sched.now();
        if self.scenario.pooler.is_some() {
            self.end_transaction(pool_id, client);
        }
        let pool = self.fleet.pools.get_mut(pool_id).expect("live pool");
        let closed = pool.release(client, now, with_error, class);
        let (waiting, ending) = (pool.waiting() > 0, pool.is_ending());
        self.rec.checked_out.add(now, -1, self.scenario.warmup);
        match &closed {
            Some(c) => self.trace_serial(TraceKind::Closed, None, Some(pool_id), Some(c.serial)),
            None => self.trace(TraceKind::Released, None, Some(pool_id), Some(client)),
        }
        match closed {
            Some(c) => self.close_session(&c),
            None => self.arm_idle_check(pool_id, client),
        }
        if waiting {
            self.pulse(pool_id);
        }
        if ending {
            self.drop_pool_if_done(pool_id);
        }
    }

    /// The server side of a closed client: its slot is freed.
    pub(crate) fn close_session(&mut self, client: &Client) {
        if client.has_slot {
            self.server
                .db
                .release(client.state != super::pool::ClientState::Connecting);
            self.rec
                .open
                .add(self.sched.now(), -1, self.scenario.warmup);
        }
    }

    /// Serve the head of the queue if the pool can.
    pub(crate) fn pulse(&mut self, pool_id: Id) {
        let Some(pool) = self.fleet.pools.get_mut(pool_id) else {
            return;
        };
        let (requests, runs) = (&self.traffic.requests, &self.job.runs);
        match pool.pulse(|c| is_queued(requests, runs, c)) {
            super::pool::Pulse::Nothing => {}
            super::pool::Pulse::Grant(caller, client) => {
                self.rec
                    .checked_out
                    .add(self.sched.now(), 1, self.scenario.warmup);
                self.granted(caller, pool_id, client);
            }
            super::pool::Pulse::NewClient(caller, client) => {
                self.trace(
                    TraceKind::ConnectStarted,
                    Some(caller),
                    Some(pool_id),
                    Some(client),
                );
                self.promoted(caller, client);
                self.begin_connection(pool_id, client);
            }
        }
    }

    /// Make sure an idle check is pending no later than `client`'s deadline.
    fn arm_idle_check(&mut self, pool_id: Id, client: Id) {
        let pool = self.fleet.pools.get_mut(pool_id).expect("live pool");
        let Some(due) = pool.idle_deadline_of(client) else {
            return;
        };
        if pool.idle_check_at.is_none_or(|at| due < at) {
            pool.idle_check_at = Some(due);
            self.sched
                .at(due, Event::Pool(PoolEvent::IdleCheck { pool: pool_id }));
        }
    }

    /// Close the idle clients that are due, then re-arm.
    pub(crate) fn idle_check(&mut self, pool_id: Id) {
        let now = self.sched.now();
        let Some(pool) = self.fleet.pools.get_mut(pool_id) else {
            return;
        };
        if pool.idle_check_at != Some(now) {
            return; // superseded by an earlier check
        }
        pool.idle_check_at = None;
        let due = pool.take_due_idle(now);
        let next = pool.next_idle_deadline();
        if let Some(at) = next {
            pool.idle_check_at = Some(at);
            self.sched
                .at(at, Event::Pool(PoolEvent::IdleCheck { pool: pool_id }));
        }
        let (worker, listener) = (pool.worker, pool.config.error_listener);
        let mut reaped = false;
        for (_, client, exit) in &due {
            let kind = match exit {
                super::pool::IdleExit::Evicted => TraceKind::Evicted,
                super::pool::IdleExit::Reaped => TraceKind::Reaped,
            };
            reaped |= *exit == super::pool::IdleExit::Reaped;
            self.trace_serial(kind, None, Some(pool_id), Some(client.serial));
            self.close_session(client);
        }
        if !due.is_empty() {
            self.pulse(pool_id);
        }
        self.drop_pool_if_done(pool_id);
        self.exit_if_idle(self.fleet.workers[worker as usize].pod);
        if reaped && !listener {
            self.crash_worker(
                worker,
                "the server killed an idle client and no pool.on('error') listener handled it",
            );
        }
    }

    /// `maxLifetimeSeconds` passed for a client.
    pub(crate) fn lifetime_over(&mut self, pool_id: Id, client: Id) {
        let Some(pool) = self.fleet.pools.get_mut(pool_id) else {
            return;
        };
        if let Some(c) = pool.expire(client) {
            self.close_session(&c);
            self.pulse(pool_id);
            self.drop_pool_if_done(pool_id);
        }
    }

    /// The server kills a leaked session (idle_session_timeout or
    /// idle_in_transaction_session_timeout): its slot is freed, the pool
    /// keeps counting the client.
    pub(crate) fn reap_leaked(&mut self, pool_id: Id, client: Id) {
        let Some(pool) = self.fleet.pools.get(pool_id) else {
            return;
        };
        let Some(c) = pool.client(client) else {
            return;
        };
        let (since, worker) = (c.since, pool.worker);
        if c.state != super::pool::ClientState::Leaked || !c.has_slot {
            return;
        }
        let now = self.sched.now();
        let in_transaction = self.leaks_in_transaction(pool_id);
        if self
            .reap_after(in_transaction)
            .is_none_or(|t| now < since + t)
        {
            return; // the setting changed since this was scheduled
        }
        let pool = self.fleet.pools.get_mut(pool_id).expect("live pool");
        pool.slot_lost(client);
        self.books.leaks_reaped += 1;
        self.trace(TraceKind::Reaped, None, Some(pool_id), Some(client));
        self.server.db.release(true);
        self.rec.open.add(now, -1, self.scenario.warmup);
        if self.job_in(worker).is_some_and(|j| !j.error_listener) {
            self.crash_worker(
                worker,
                "the server killed a leaked client and nothing listened for its 'error'",
            );
        }
    }

    /// A pool that was ended and holds no client disappears.
    pub(crate) fn drop_pool_if_done(&mut self, pool_id: Id) {
        if self
            .fleet
            .pools
            .get(pool_id)
            .is_some_and(|p| p.is_ending() && p.total() == 0)
            && let Some(pool) = self.fleet.pools.remove(pool_id)
        {
            self.fleet.workers[pool.worker as usize]
                .pools
                .retain(|&id| id != pool_id);
        }
    }
}

/// Why a handshake failed.
#[derive(Clone, Copy, Debug)]
enum Failure {
    Refused(Refusal),
    Timeout,
}

/// Whether `caller` still waits in a pool queue.
fn is_queued(
    requests: &crate::slab::Slab<super::request::Request>,
    runs: &crate::slab::Slab<super::job::JobRun>,
    caller: Caller,
) -> bool {
    match caller.class {
        CallerClass::Request => super::request::is_queued(requests, caller),
        CallerClass::Job => super::job::is_queued(runs, caller),
    }
}
