//! A request handler: optional app work, then `checkouts` sequential
//! acquire–hold–release steps, then the answer.
//!
//! Every request draws its own random numbers from a generator seeded at
//! arrival from its pod's stream, so the same request gets the same hold
//! times whatever else happens (common random numbers across designs).
//!
//! The client gives up at its deadline (the load balancer's 60 s). The
//! handler does not notice (Node does not cancel it): it keeps its place in
//! the pool queue, and its later work is wasted. With `cancel_on_abort` the
//! handler stops instead.
//!
//! A checkout's hold is one transaction. Behind a sidecar it first waits for
//! a server connection; with the database's CPU modelled, its CPU part
//! (`cpu_fraction` of the hold) runs first, shared with the other active
//! queries, then the rest of the hold.

use super::caller::{Caller, CallerClass};
use super::pool::Connect;
use super::routing::Route;
use super::trace::TraceKind;
use super::{Event, Simulation};
use crate::engine::{SimRng, SimTime, TimerId};
use crate::metrics::{AcquireEnd, ClientEnd, HandlerEnd};
use crate::scenario::Requests;
use crate::slab::{Id, Slab};
use rand::RngExt;

/// What a handler is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Work before the first checkout.
    AppWork,
    /// Waiting in the pool queue.
    Queued,
    /// Waiting for the handshake of a client made for it.
    Connecting(Id),
    /// Holding a client, waiting for the sidecar to give its transaction a
    /// server connection.
    ServerWait(Id),
    /// Holding a client, its query running on the database's CPU.
    Querying(Id),
    /// Holding a client.
    Holding(Id),
}

/// One request in flight.
pub struct Request {
    /// Arrival time.
    pub arrived: SimTime,
    /// The worker handling it.
    pub worker: u32,
    /// The application version of its pod.
    pub(crate) version: usize,
    /// Arrival number (wrapping): its name in traces.
    serial: u32,
    /// Whether its client left (deadline passed).
    pub client_gone: bool,
    pool: Id,
    rng: SimRng,
    checkout: u32,
    phase: Phase,
    /// Start of the current acquire; once granted, of the checkout (and of
    /// its server wait behind a sidecar).
    wait_started: SimTime,
    found_full: bool,
    /// The acquire timeout or the sidecar's `query_wait_timeout`.
    wait_timer: Option<TimerId>,
    giveup_timer: Option<TimerId>,
    fails: bool,
    /// The hold still to come (while waiting for a server connection: all
    /// of it; while querying: the part after the query).
    hold_left: SimTime,
    /// Connection time of its checkouts so far (checkout to release).
    held: SimTime,
}

/// Whether `caller` still waits in its pool's queue.
pub(crate) fn is_queued(requests: &Slab<Request>, caller: Caller) -> bool {
    requests
        .get(caller.id)
        .is_some_and(|r| r.checkout == caller.part && r.phase == Phase::Queued)
}

impl Request {
    /// The client it holds, if it is in the plain hold of a checkout.
    #[inline(always)]
    pub(crate) fn held_client(&self) -> Option<Id> {
        match self.phase {
            Phase::Holding(client) => Some(client),
            _ => None,
        }
    }

    /// Whether its transaction waits for the sidecar's server connection.
    pub(crate) fn waits_for_a_server(&self) -> bool {
        matches!(self.phase, Phase::ServerWait(_))
    }

    /// When its acquire started, if it is acquiring (queued, or waiting for
    /// the handshake of a client made for it).
    pub(crate) fn acquire_started(&self) -> Option<SimTime> {
        matches!(self.phase, Phase::Queued | Phase::Connecting(_)).then_some(self.wait_started)
    }
}

/// Whether `caller`, holding `client`, still waits for a server connection.
pub(crate) fn waits_for_server(requests: &Slab<Request>, caller: Caller, client: Id) -> bool {
    requests
        .get(caller.id)
        .is_some_and(|r| r.checkout == caller.part && r.phase == Phase::ServerWait(client))
}

impl Simulation<'_> {
    /// What requests of `version` do.
    fn spec(&self, version: usize) -> &Requests {
        &self.scenario.versions[version].app.requests
    }

    /// A request arrives: route it, draw its randomness, start it.
    pub(crate) fn arrive(&mut self, source: Id) {
        let now = self.sched.now();
        let Some((route, rng)) = self.route_arrival(source) else {
            return;
        };
        self.rec.arrival(now);
        self.traffic.arrivals_seen = self.traffic.arrivals_seen.wrapping_add(1);
        let serial = self.traffic.arrivals_seen;
        let Route::Worker(worker) = route else {
            // retry: a first attempt that found no worker may be retried.
            if self.retry.is_some()
                && self.retry_unavailable(now, 1, now.saturating_add(self.spec(0).deadline))
            {
                return;
            }
            // No live worker behind the load balancer: an error at once.
            self.rec
                .handler(now, HandlerEnd::Unavailable, false, SimTime::ZERO);
            self.rec.client(now, now, ClientEnd::Error);
            return;
        };
        self.admit(worker, rng, now, serial, 1);
    }

    /// Attempt `attempt` of a request first arrived at `arrived` starts at
    /// `worker`: draw its app time and outcome, start it.
    #[inline(always)]
    pub(crate) fn admit(
        &mut self,
        worker: u32,
        mut rng: SimRng,
        arrived: SimTime,
        serial: u32,
        attempt: u32,
    ) {
        let counted = self.rec.counts(arrived);
        let pod = self.fleet.workers[worker as usize].pod;
        let version = self.fleet.pods[pod as usize].version;
        let spec = self.spec(version);
        let app_time = spec.app_time.sample(&mut rng);
        let fails = rng.random::<f64>() < spec.error_probability;
        self.books.counted_in_flight += u64::from(counted);
        self.books.counted_clients_waiting += u64::from(counted);
        self.fleet.pods[pod as usize].in_flight += 1;
        let pool = self.fleet.workers[worker as usize]
            .pool
            .expect("a routed worker is alive");
        let id = self.traffic.requests.insert(Request {
            arrived,
            worker,
            version,
            serial,
            client_gone: false,
            pool,
            rng,
            checkout: 0,
            phase: Phase::AppWork,
            wait_started: arrived,
            found_full: false,
            wait_timer: None,
            giveup_timer: None,
            fails,
            hold_left: SimTime::ZERO,
            held: SimTime::ZERO,
        });
        self.trace(
            TraceKind::Arrived,
            Some(Caller::request(id, 0, serial)),
            Some(pool),
            None,
        );
        // retry: the attempt starts (its number, budget tokens, timeout);
        // the retry model's functions are cold and never inlined, so that
        // without `[retry]` the hot path costs one test per hook.
        if self.retry.is_some() {
            self.retry_started(id, attempt);
        }
        if app_time > SimTime::ZERO {
            self.sched
                .after(app_time, Event::RequestStep { req: id, pool });
        } else {
            self.start_checkout(id);
        }
    }

    /// `pool.connect()` for the request's current checkout.
    #[inline(always)]
    fn start_checkout(&mut self, id: Id) {
        let now = self.sched.now();
        let req = self.traffic.requests.get_mut(id).expect("live request");
        req.wait_started = now;
        let caller = Caller::request(id, req.checkout, req.serial);
        let pool = req.pool;
        match self.acquire(caller, pool) {
            Connect::Reused(client) => self.granted(caller, pool, client),
            Connect::Queued => {
                let req = self.traffic.requests.get_mut(id).expect("live request");
                req.phase = Phase::Queued;
                req.found_full = true;
                self.arm_give_up(id);
            }
            Connect::NewClient(client) => {
                let req = self.traffic.requests.get_mut(id).expect("live request");
                req.phase = Phase::Connecting(client);
                req.found_full = false;
                self.arm_give_up(id);
            }
        }
    }

    /// The request blocks: its client's deadline starts to matter.
    fn arm_give_up(&mut self, id: Id) {
        let version = self.traffic.requests.get(id).expect("live request").version;
        let deadline = self.spec(version).deadline;
        let req = self.traffic.requests.get_mut(id).expect("live request");
        if req.giveup_timer.is_none() && !req.client_gone && !deadline.is_never() {
            let at = req.arrived + deadline;
            req.giveup_timer = Some(self.sched.timeout(at, Event::GiveUp { req: id }));
        }
    }

    /// Remember the timer of `caller`'s current wait (acquire or server).
    pub(crate) fn set_wait_timer(&mut self, caller: Caller, timer: TimerId) {
        match caller.class {
            CallerClass::Request => {
                if let Some(r) = self.traffic.requests.get_mut(caller.id) {
                    r.wait_timer = Some(timer);
                }
            }
            CallerClass::Job => self.set_job_wait_timer(caller, timer),
        }
    }

    /// The pool a caller is acquiring from, if it is acquiring.
    pub(crate) fn acquiring_pool(&self, caller: Caller) -> Option<Id> {
        match caller.class {
            CallerClass::Request => self.traffic.requests.get(caller.id).and_then(|r| {
                let acquiring = matches!(r.phase, Phase::Queued | Phase::Connecting(_));
                (r.checkout == caller.part && acquiring).then_some(r.pool)
            }),
            CallerClass::Job => self.job_acquiring_pool(caller),
        }
    }

    /// A queued caller was picked for a new client of its own.
    pub(crate) fn promoted(&mut self, caller: Caller, client: Id) {
        match caller.class {
            CallerClass::Request => {
                if let Some(r) = self.traffic.requests.get_mut(caller.id) {
                    r.phase = Phase::Connecting(client);
                }
            }
            CallerClass::Job => self.job_promoted(caller, client),
        }
    }

    pub(crate) fn request_connecting_for(&self, caller: Caller, client: Id) -> bool {
        self.traffic
            .requests
            .get(caller.id)
            .is_some_and(|r| r.checkout == caller.part && r.phase == Phase::Connecting(client))
    }

    /// The request got its client: its transaction starts (behind a
    /// sidecar, once it has a server connection).
    pub(crate) fn request_granted(&mut self, caller: Caller, pool: Id, client: Id) {
        let now = self.sched.now();
        let req = self
            .traffic
            .requests
            .get_mut(caller.id)
            .expect("granted to a live request");
        self.rec.acquire(
            now,
            CallerClass::Request,
            req.wait_started,
            req.found_full,
            AcquireEnd::Served,
        );
        if let Some(t) = req.wait_timer.take() {
            self.sched.cancel(t);
        }
        req.wait_started = now;
        let hold = self.scenario.versions[req.version]
            .app
            .requests
            .hold
            .sample(&mut req.rng);
        if self.fleet.pools.get(pool).is_some_and(|p| p.via_pooler) {
            req.phase = Phase::ServerWait(client);
            req.hold_left = hold;
            self.begin_transaction(caller, pool, client);
        } else {
            self.start_hold(caller, client, hold);
        }
    }

    /// Hold `client` for `hold`: the CPU part first if the database's CPU is
    /// modelled, then the rest.
    #[inline(always)]
    fn start_hold(&mut self, caller: Caller, client: Id, hold: SimTime) {
        let req = self
            .traffic
            .requests
            .get_mut(caller.id)
            .expect("live request");
        let fraction = self.scenario.versions[req.version]
            .app
            .requests
            .cpu_fraction;
        if self.server.cpu.is_some() {
            let work = SimTime::from_secs_f64(hold.as_secs_f64() * fraction);
            if work > SimTime::ZERO {
                req.phase = Phase::Querying(client);
                req.hold_left = hold - work;
                self.run_query(caller, work);
                return;
            }
        }
        req.phase = Phase::Holding(client);
        let step = Event::RequestStep {
            req: caller.id,
            pool: req.pool,
        };
        self.sched.after(hold, step);
    }

    /// The sidecar gave the transaction a server connection.
    pub(crate) fn request_transaction_started(&mut self, caller: Caller, queued: bool) {
        let req = self
            .traffic
            .requests
            .get_mut(caller.id)
            .expect("live request");
        let Phase::ServerWait(client) = req.phase else {
            unreachable!("a server goes to a waiting request")
        };
        let (started, hold) = (req.wait_started, req.hold_left);
        if let Some(t) = req.wait_timer.take() {
            self.sched.cancel(t);
        }
        self.record_server_wait(CallerClass::Request, started, queued, AcquireEnd::Served);
        self.start_hold(caller, client, hold);
    }

    /// The query of `caller` finished on the database's CPU: the rest of the
    /// hold follows.
    pub(crate) fn request_query_done(&mut self, caller: Caller) {
        let Some(req) = self.traffic.requests.get_mut(caller.id) else {
            return; // its process died while the server ran the query
        };
        let Phase::Querying(client) = req.phase else {
            return;
        };
        if req.checkout != caller.part {
            return;
        }
        req.phase = Phase::Holding(client);
        let rest = req.hold_left;
        if rest > SimTime::ZERO {
            let step = Event::RequestStep {
                req: caller.id,
                pool: req.pool,
            };
            self.sched.after(rest, step);
        } else {
            self.request_step(caller.id);
        }
    }

    /// The pool and client of `caller` if it waits for a server connection.
    pub(crate) fn request_server_wait(&self, caller: Caller) -> Option<(Id, Id)> {
        let r = self.traffic.requests.get(caller.id)?;
        match r.phase {
            Phase::ServerWait(client) if r.checkout == caller.part => Some((r.pool, client)),
            _ => None,
        }
    }

    /// The sidecar disconnected the request's client at its
    /// `query_wait_timeout`: the query fails, the dead client is destroyed.
    pub(crate) fn request_server_wait_failed(&mut self, caller: Caller, pool: Id, client: Id) {
        let req = self
            .traffic
            .requests
            .get_mut(caller.id)
            .expect("live request");
        req.wait_timer = None;
        let started = req.wait_started;
        self.record_server_wait(
            CallerClass::Request,
            started,
            true,
            AcquireEnd::QueueTimeout,
        );
        self.release_client(pool, client, true, CallerClass::Request);
        self.finish_request(caller.id, HandlerEnd::PoolerTimeout);
    }

    /// App work or a hold ended.
    pub(crate) fn request_step(&mut self, id: Id) {
        let now = self.sched.now();
        let Some(req) = self.traffic.requests.get_mut(id) else {
            return;
        };
        let spec = &self.scenario.versions[req.version].app.requests;
        let cancelled = spec.cancel_on_abort && req.client_gone;
        match req.phase {
            Phase::AppWork if cancelled => self.finish_request(id, HandlerEnd::Cancelled),
            Phase::AppWork => self.start_checkout(id),
            Phase::Holding(client) => {
                let last = req.checkout + 1 == spec.checkouts;
                let pool = req.pool;
                let fails = last && req.fails;
                req.checkout += 1;
                // Released at or after its checkout: no saturation needed.
                req.held.0 += now.0 - req.wait_started.0;
                self.release_client(
                    pool,
                    client,
                    fails && spec.error_destroys_client,
                    CallerClass::Request,
                );
                if fails {
                    self.finish_request(id, HandlerEnd::AppError);
                } else if last {
                    self.finish_request(id, HandlerEnd::Completed);
                } else if cancelled {
                    self.finish_request(id, HandlerEnd::Cancelled);
                } else {
                    self.start_checkout(id);
                }
            }
            Phase::Queued | Phase::Connecting(_) | Phase::ServerWait(_) | Phase::Querying(_) => {
                unreachable!("no step while acquiring, waiting for a server or querying")
            }
        }
    }

    /// The acquire of a request failed: the handler answers with an error.
    pub(crate) fn request_acquire_failed(&mut self, caller: Caller, end: AcquireEnd) {
        let now = self.sched.now();
        let req = self
            .traffic
            .requests
            .get_mut(caller.id)
            .expect("failing a live request");
        self.rec.acquire(
            now,
            CallerClass::Request,
            req.wait_started,
            req.found_full,
            end,
        );
        if let Some(t) = req.wait_timer.take() {
            self.sched.cancel(t);
        }
        let handler_end = match end {
            AcquireEnd::QueueTimeout => HandlerEnd::QueueTimeout,
            AcquireEnd::ConnectTimeout => HandlerEnd::ConnectTimeout,
            AcquireEnd::Refused => HandlerEnd::Refused,
            AcquireEnd::Abandoned => HandlerEnd::Cancelled,
            AcquireEnd::Served => unreachable!("served is not a failure"),
        };
        self.finish_request(caller.id, handler_end);
    }

    /// The client's deadline passed.
    pub(crate) fn give_up(&mut self, id: Id) {
        let now = self.sched.now();
        let Some(req) = self.traffic.requests.get_mut(id) else {
            return;
        };
        req.giveup_timer = None;
        self.rec.client(now, req.arrived, ClientEnd::GaveUp);
        if self.rec.counts(req.arrived) {
            self.books.counted_clients_waiting -= 1;
        }
        // retry: a give-up is an error answer for `recovery_s`.
        if let Some(r) = self.rec.retry.as_mut() {
            r.answered(now, true);
        }
        self.client_left(id);
    }

    /// retry: the client gives up before its deadline (its attempt timed
    /// out and is not retried).
    pub(crate) fn give_up_early(&mut self, id: Id) {
        if let Some(t) = self
            .traffic
            .requests
            .get_mut(id)
            .and_then(|r| r.giveup_timer.take())
        {
            self.sched.cancel(t);
        }
        self.give_up(id);
    }

    /// The client of a live request left (its deadline, or an attempt
    /// abandoned and retried): the handler goes on, orphaned, or with
    /// `cancel_on_abort` stops.
    pub(crate) fn client_left(&mut self, id: Id) {
        let req = self.traffic.requests.get_mut(id).expect("live request");
        req.client_gone = true;
        if let Some(t) = req.giveup_timer.take() {
            self.sched.cancel(t);
        }
        let (caller, pool) = (Caller::request(id, req.checkout, req.serial), req.pool);
        self.trace(TraceKind::GaveUp, Some(caller), Some(pool), None);
        let req = self.traffic.requests.get_mut(id).expect("live request");
        if !self.scenario.versions[req.version]
            .app
            .requests
            .cancel_on_abort
        {
            return; // the handler goes on: an orphaned waiter
        }
        match req.phase {
            Phase::Queued => {
                self.forget_waiter(pool, caller);
                self.request_acquire_failed(caller, AcquireEnd::Abandoned);
            }
            Phase::Connecting(_) => self.request_acquire_failed(caller, AcquireEnd::Abandoned),
            // In a transaction: stops at the end of the step.
            Phase::AppWork | Phase::ServerWait(_) | Phase::Querying(_) | Phase::Holding(_) => {}
        }
    }

    /// retry: forget an attempt whose handler ended without answering its
    /// request (retried, or abandoned earlier).
    #[cold]
    #[inline(never)]
    pub(crate) fn retire_attempt(&mut self, id: Id) {
        let req = self
            .traffic
            .requests
            .remove(id)
            .expect("retiring a live request");
        for timer in [req.wait_timer, req.giveup_timer].into_iter().flatten() {
            self.sched.cancel(timer);
        }
        let caller = Caller::request(id, req.checkout, req.serial);
        self.trace(TraceKind::Finished, Some(caller), Some(req.pool), None);
        // What `pod_request_done` does, written out: a second caller would
        // stop it being inlined into `finish_request` (20 instructions per
        // request more on M/M/80).
        let pod = self.fleet.workers[req.worker as usize].pod;
        self.fleet.pods[pod as usize].in_flight -= 1;
        self.exit_if_idle(pod);
    }

    /// The handler ended: record both views and forget the request.
    pub(crate) fn finish_request(&mut self, id: Id, end: HandlerEnd) {
        // retry: a failed attempt may be retried instead of answered.
        if self.retry.is_some() && self.retry_takes(id, end) {
            return;
        }
        let now = self.sched.now();
        let req = self
            .traffic
            .requests
            .remove(id)
            .expect("finishing a live request");
        // Not a loop over an array of the two: the copy into the array is
        // read back across two of its stores, a stalled load (`perf
        // annotate`: a quarter of this function's time).
        if let Some(timer) = req.wait_timer {
            self.sched.cancel(timer);
        }
        if let Some(timer) = req.giveup_timer {
            self.sched.cancel(timer);
        }
        let caller = Caller::request(id, req.checkout, req.serial);
        self.trace(TraceKind::Finished, Some(caller), Some(req.pool), None);
        let due = req.arrived.saturating_add(self.spec(req.version).deadline);
        // It ran past the deadline without ever blocking (no give-up timer):
        // its client left at the deadline all the same.
        let left_unseen = !req.client_gone && now > due;
        self.rec
            .handler(req.arrived, end, req.client_gone || left_unseen, req.held);
        let counted = self.rec.counts(req.arrived);
        self.books.counted_in_flight -= u64::from(counted);
        if !req.client_gone {
            self.books.counted_clients_waiting -= u64::from(counted);
            if left_unseen {
                self.rec.client(due, req.arrived, ClientEnd::GaveUp);
            } else if end == HandlerEnd::Completed {
                self.rec.client(now, req.arrived, ClientEnd::Ok);
            } else {
                self.rec.client(now, req.arrived, ClientEnd::Error);
            }
        }
        let pod = self.fleet.workers[req.worker as usize].pod;
        self.pod_request_done(pod);
    }
}
