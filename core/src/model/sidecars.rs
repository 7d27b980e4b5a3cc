//! The pods' PgBouncer sidecars as a subsystem of the run: their state
//! ([`Sidecars`]) and the carrying out of each sidecar's decisions
//! ([`Pooler`]) against the database and the callers — logins, transactions,
//! waits, pins and reaps.

use super::caller::{Caller, CallerClass};
use super::event::SidecarEvent;
use super::pooler::{Link, LoginPhase, Pooler, Server, ServerState};
use super::{Event, Simulation};
use crate::engine::SimTime;
use crate::engine::rng::{domain, stream};
use crate::metrics::AcquireEnd;
use crate::metrics::pooler::PoolerRecorder;
use crate::scenario::Scenario;
use crate::slab::{Id, Slab};

/// The sidecars of the run and what they record.
pub(crate) struct Sidecars {
    /// One per running pod, when the scenario has a `[pooler]`.
    pub(crate) poolers: Slab<Pooler>,
    /// What the sidecars record, if there are any.
    pub(crate) stats: Option<PoolerRecorder>,
}

impl Sidecars {
    /// No sidecar yet; a recorder if the scenario has a `[pooler]`.
    pub(crate) fn new(scenario: &Scenario) -> Sidecars {
        Sidecars {
            poolers: Slab::default(),
            stats: scenario.pooler.as_ref().map(|_| PoolerRecorder::default()),
        }
    }
}

impl Simulation<'_> {
    /// React to an event of a sidecar.
    pub(crate) fn sidecar_event(&mut self, event: SidecarEvent) {
        match event {
            SidecarEvent::ServerLogin {
                pooler,
                server,
                phase,
            } => self.login_step(pooler, server, phase),
            SidecarEvent::PoolerIdleCheck { pooler } => self.pooler_idle_check(pooler),
            SidecarEvent::PoolerRetry { pooler } => self.pooler_retry(pooler),
            SidecarEvent::ServerReap { pooler, server } => self.server_reaped(pooler, server),
        }
    }

    /// The sidecar in front of `pool`, if any.
    pub(crate) fn pooler_of(&self, pool: Id) -> Option<Id> {
        let worker = self.fleet.pools.get(pool)?.worker;
        self.fleet.pods[self.fleet.workers[worker as usize].pod as usize].pooler
    }

    /// Start the sidecar of a pod that became ready.
    pub(crate) fn start_pooler(&mut self, pod: u32) {
        let Some(config) = self.scenario.pooler.clone() else {
            return;
        };
        let epoch = self.fleet.pods[pod as usize].epoch as u64;
        let rng = stream(
            self.scenario.seed,
            domain("pooler"),
            ((pod as u64) << 20) | epoch,
        );
        let mut pooler = Pooler::new(config, pod, rng);
        pooler.server_idle_kill = self.server.db.settings.idle_session_timeout;
        let id = self.sidecars.poolers.insert(pooler);
        self.fleet.pods[pod as usize].pooler = Some(id);
    }

    /// A pod's sidecar exits: every server connection closes.
    pub(crate) fn stop_pooler(&mut self, pod: u32) {
        let Some(id) = self.fleet.pods[pod as usize].pooler.take() else {
            return;
        };
        let Some(pooler) = self.sidecars.poolers.remove(id) else {
            return;
        };
        for server in pooler.into_servers() {
            self.server_closed(&server);
        }
    }

    /// The server side of a closed server connection.
    fn server_closed(&mut self, server: &Server) {
        if server.has_slot {
            self.server
                .db
                .release(server.state != ServerState::Connecting);
            self.rec
                .open
                .add(self.sched.now(), -1, self.scenario.warmup);
        }
    }

    /// A caller holding `client` of `pool` starts its transaction: it gets a
    /// server connection now (and goes on) or waits for one.
    pub(crate) fn begin_transaction(&mut self, caller: Caller, pool: Id, client: Id) {
        let now = self.sched.now();
        let pooler_id = self.pooler_of(pool).expect("a pool behind a sidecar");
        let link = Link {
            pool,
            client,
            caller,
        };
        let (requests, runs) = (&self.traffic.requests, &self.job.runs);
        let pooler = self
            .sidecars
            .poolers
            .get_mut(pooler_id)
            .expect("live sidecar");
        match pooler.begin(link, |l| link_waits(requests, runs, l)) {
            Some(server) => {
                self.fleet
                    .pools
                    .get_mut(pool)
                    .expect("live pool")
                    .link_server(client, Some(server));
                self.transaction_started(caller, false);
            }
            None => {
                if let Some(timeout) = pooler.config.query_wait_timeout {
                    let timer = self
                        .sched
                        .timeout(now + timeout, Event::ServerWaitTimeout { caller });
                    self.set_wait_timer(caller, timer);
                }
                self.launch_login(pooler_id);
            }
        }
    }

    /// The caller got its server connection after waiting (`queued`) or not.
    fn transaction_started(&mut self, caller: Caller, queued: bool) {
        match caller.class {
            CallerClass::Request => self.request_transaction_started(caller, queued),
            CallerClass::Job => self.job_transaction_started(caller, queued),
        }
    }

    /// Lend idle server connections to waiters while both exist.
    fn serve_waiters(&mut self, pooler_id: Id) {
        loop {
            let (requests, runs) = (&self.traffic.requests, &self.job.runs);
            let Some(pooler) = self.sidecars.poolers.get_mut(pooler_id) else {
                return;
            };
            let served = pooler.serve(|link| link_waits(requests, runs, link));
            let Some((link, server)) = served else {
                return;
            };
            if let Some(pool) = self.fleet.pools.get_mut(link.pool) {
                pool.link_server(link.client, Some(server));
            }
            self.transaction_started(link.caller, true);
        }
    }

    /// Open a server connection if the sidecar should.
    fn launch_login(&mut self, pooler_id: Id) {
        let now = self.sched.now();
        let Some(pooler) = self.sidecars.poolers.get_mut(pooler_id) else {
            return;
        };
        let Some(server) = pooler.launch(now) else {
            return;
        };
        if let Some(stats) = self.sidecars.stats.as_mut() {
            stats.login(self.rec.counts(now));
        }
        let settings = &self.scenario.database;
        let pooler = self
            .sidecars
            .poolers
            .get_mut(pooler_id)
            .expect("live sidecar");
        let (phase, at) = match self.server.db.begin_connect() {
            Err(_) => (
                LoginPhase::TooManyClients,
                now + settings.too_many_clients_delay.sample(&mut pooler.rng),
            ),
            Ok(()) => {
                self.rec.open.add(now, 1, self.scenario.warmup);
                let setup = settings.setup.sample_secs(&mut pooler.rng);
                pooler.slot_claimed(server, now + SimTime::from_secs_f64(setup));
                let check = SimTime::from_secs_f64(setup * settings.reserve_check_at);
                (LoginPhase::ReserveCheck, now + check)
            }
        };
        self.sched.at(
            at,
            Event::Sidecar(SidecarEvent::ServerLogin {
                pooler: pooler_id,
                server,
                phase,
            }),
        );
    }

    /// The retry pause after a failed login is over.
    pub(crate) fn pooler_retry(&mut self, pooler_id: Id) {
        self.launch_login(pooler_id);
    }

    /// One step of a server login.
    pub(crate) fn login_step(&mut self, pooler_id: Id, server: Id, phase: LoginPhase) {
        let now = self.sched.now();
        let Some(pooler) = self.sidecars.poolers.get_mut(pooler_id) else {
            return; // the pod is gone
        };
        let Some(s) = pooler.server(server) else {
            return;
        };
        let ready_at = s.ready_at;
        match phase {
            LoginPhase::TooManyClients => self.login_refused(pooler_id, server),
            LoginPhase::ReserveCheck => match self.server.db.check_reserve() {
                Err(_) => {
                    // The slot was given back by the check.
                    let pooler = self
                        .sidecars
                        .poolers
                        .get_mut(pooler_id)
                        .expect("live sidecar");
                    let s = pooler.login_failed(server, now);
                    debug_assert!(s.has_slot);
                    self.rec.open.add(now, -1, self.scenario.warmup);
                    self.after_refusal(pooler_id);
                }
                Ok(()) => self.sched.at(
                    ready_at,
                    Event::Sidecar(SidecarEvent::ServerLogin {
                        pooler: pooler_id,
                        server,
                        phase: LoginPhase::Ready,
                    }),
                ),
            },
            LoginPhase::Ready => {
                self.server.db.established_one();
                pooler.logged_in(server, now);
                self.serve_waiters(pooler_id);
                self.arm_pooler_idle_check(pooler_id);
                self.launch_login(pooler_id);
            }
        }
    }

    fn login_refused(&mut self, pooler_id: Id, server: Id) {
        let now = self.sched.now();
        let pooler = self
            .sidecars
            .poolers
            .get_mut(pooler_id)
            .expect("live sidecar");
        let s = pooler.login_failed(server, now);
        self.server_closed(&s);
        self.after_refusal(pooler_id);
    }

    /// A login was refused: the next one waits for `server_login_retry`.
    fn after_refusal(&mut self, pooler_id: Id) {
        let now = self.sched.now();
        if let Some(stats) = self.sidecars.stats.as_mut() {
            stats.refused_login(self.rec.counts(now));
        }
        let pooler = self.sidecars.poolers.get(pooler_id).expect("live sidecar");
        match pooler.retry_at().filter(|&t| t > now) {
            Some(at) => self.sched.at(
                at,
                Event::Sidecar(SidecarEvent::PoolerRetry { pooler: pooler_id }),
            ),
            None => self.launch_login(pooler_id),
        }
    }

    /// The transaction of `client` of `pool` ends (its checkout is over):
    /// its server connection goes back to the sidecar.
    pub(crate) fn end_transaction(&mut self, pool: Id, client: Id) {
        let now = self.sched.now();
        let Some(server) = self
            .fleet
            .pools
            .get(pool)
            .and_then(|p| p.client(client))
            .and_then(|c| c.server)
        else {
            return;
        };
        self.fleet
            .pools
            .get_mut(pool)
            .expect("live pool")
            .link_server(client, None);
        let Some(pooler_id) = self.pooler_of(pool) else {
            return;
        };
        let pooler = self
            .sidecars
            .poolers
            .get_mut(pooler_id)
            .expect("live sidecar");
        pooler.end(server, now);
        self.serve_waiters(pooler_id);
        self.arm_pooler_idle_check(pooler_id);
    }

    /// A client leaked inside its transaction: its server connection stays
    /// lent until PostgreSQL's `idle_in_transaction_session_timeout` kills it.
    pub(crate) fn pin_transaction(&mut self, pool: Id, client: Id) {
        let now = self.sched.now();
        let Some(server) = self
            .fleet
            .pools
            .get(pool)
            .and_then(|p| p.client(client))
            .and_then(|c| c.server)
        else {
            return;
        };
        let pooler_id = self.pooler_of(pool).expect("a pool behind a sidecar");
        self.sidecars
            .poolers
            .get_mut(pooler_id)
            .expect("live sidecar")
            .pin(server, now);
        if let Some(after) = self.server.db.settings.idle_in_transaction_timeout {
            self.sched.at(
                now + after,
                Event::Sidecar(SidecarEvent::ServerReap {
                    pooler: pooler_id,
                    server,
                }),
            );
        }
    }

    /// PostgreSQL kills a pinned server connection: the sidecar closes it and
    /// disconnects its client (which its pool keeps counting).
    pub(crate) fn server_reaped(&mut self, pooler_id: Id, server: Id) {
        let now = self.sched.now();
        let Some(pooler) = self.sidecars.poolers.get_mut(pooler_id) else {
            return;
        };
        let Some(s) = pooler.server(server) else {
            return;
        };
        let Some(after) = self.server.db.settings.idle_in_transaction_timeout else {
            return; // switched off since
        };
        if s.state != ServerState::Pinned || now < s.since + after {
            return;
        }
        let s = pooler.remove(server).expect("pinned server");
        self.server_closed(&s);
        let link = s.link.expect("a pinned server is lent");
        let worker = self.fleet.pools.get_mut(link.pool).map(|p| {
            p.link_server(link.client, None);
            p.worker
        });
        self.launch_login(pooler_id);
        if let Some(w) = worker
            && self.job_in(w).is_some_and(|j| !j.error_listener)
        {
            self.crash_worker(
                w,
                "the server killed a leaked transaction and nothing listened for its client's 'error'",
            );
        }
    }

    /// A client closed while lent a server connection (its process died):
    /// the sidecar closes that connection, whose transaction state is lost.
    pub(crate) fn client_gone(&mut self, pool_worker: u32, server: Id) {
        let pod = self.fleet.workers[pool_worker as usize].pod;
        let Some(pooler_id) = self.fleet.pods[pod as usize].pooler else {
            return;
        };
        let Some(pooler) = self.sidecars.poolers.get_mut(pooler_id) else {
            return;
        };
        if let Some(s) = pooler.remove(server) {
            self.server_closed(&s);
            self.launch_login(pooler_id);
        }
    }

    /// `n` transactions of worker `w` stop waiting at its pod's sidecar (the
    /// worker died).
    pub(crate) fn forget_server_waiters(&mut self, w: u32, n: usize) {
        let pod = self.fleet.workers[w as usize].pod;
        let Some(pooler) = self.fleet.pods[pod as usize]
            .pooler
            .and_then(|id| self.sidecars.poolers.get_mut(id))
        else {
            return;
        };
        for _ in 0..n {
            pooler.forget_waiter();
        }
    }

    /// Transactions waiting at each live sidecar, counted from the callers'
    /// side: (sidecar's count, callers' count) for the first pod where they
    /// differ.
    pub(crate) fn server_waiters_disagree(&self) -> Option<(u32, u32, usize)> {
        if self.sidecars.poolers.is_empty() {
            return None;
        }
        let mut counts = vec![0usize; self.fleet.pods.len()];
        let requests = self
            .traffic
            .requests
            .iter()
            .filter(|(_, r)| r.waits_for_a_server());
        for (_, r) in requests {
            counts[self.fleet.workers[r.worker as usize].pod as usize] += 1;
        }
        for (_, r) in self.job.runs.iter().filter(|(_, r)| r.waits_for_a_server()) {
            counts[self.fleet.workers[r.worker as usize].pod as usize] += 1;
        }
        self.sidecars
            .poolers
            .iter()
            .find(|(_, p)| p.waiting() as usize != counts[p.pod as usize])
            .map(|(_, p)| (p.pod, p.waiting(), counts[p.pod as usize]))
    }

    /// A caller's `query_wait_timeout` fired.
    pub(crate) fn server_wait_timed_out(&mut self, caller: Caller) {
        let Some((pool, client)) = self.server_wait_of(caller) else {
            return;
        };
        if let Some(pooler) = self
            .pooler_of(pool)
            .and_then(|p| self.sidecars.poolers.get_mut(p))
        {
            pooler.forget_waiter();
        }
        match caller.class {
            CallerClass::Request => self.request_server_wait_failed(caller, pool, client),
            CallerClass::Job => self.job_server_wait_failed(caller, client),
        }
    }

    /// The pool and client of a caller waiting for a server connection.
    fn server_wait_of(&self, caller: Caller) -> Option<(Id, Id)> {
        match caller.class {
            CallerClass::Request => self.request_server_wait(caller),
            CallerClass::Job => self.job_server_wait(caller),
        }
    }

    /// Record a server wait that started at `started` and ended now.
    pub(crate) fn record_server_wait(
        &mut self,
        class: CallerClass,
        started: SimTime,
        queued: bool,
        end: AcquireEnd,
    ) {
        let now = self.sched.now();
        if !self.rec.counts(started) {
            return;
        }
        if let Some(stats) = self.sidecars.stats.as_mut() {
            stats.record(class, now - started, queued, end);
        }
    }

    /// Make sure an idle check is pending no later than the sidecar's next
    /// idle deadline.
    fn arm_pooler_idle_check(&mut self, pooler_id: Id) {
        let pooler = self
            .sidecars
            .poolers
            .get_mut(pooler_id)
            .expect("live sidecar");
        let Some(due) = pooler.next_idle_deadline() else {
            return;
        };
        if pooler.idle_check_at.is_none_or(|at| due < at) {
            pooler.idle_check_at = Some(due);
            self.sched.at(
                due,
                Event::Sidecar(SidecarEvent::PoolerIdleCheck { pooler: pooler_id }),
            );
        }
    }

    /// Close the idle server connections that are due, then re-arm.
    pub(crate) fn pooler_idle_check(&mut self, pooler_id: Id) {
        let now = self.sched.now();
        let Some(pooler) = self.sidecars.poolers.get_mut(pooler_id) else {
            return;
        };
        if pooler.idle_check_at != Some(now) {
            return; // superseded by an earlier check
        }
        pooler.idle_check_at = None;
        for server in pooler.take_due_idle(now) {
            self.server_closed(&server);
        }
        let pooler = self
            .sidecars
            .poolers
            .get_mut(pooler_id)
            .expect("live sidecar");
        if let Some(at) = pooler.next_idle_deadline() {
            pooler.idle_check_at = Some(at);
            self.sched.at(
                at,
                Event::Sidecar(SidecarEvent::PoolerIdleCheck { pooler: pooler_id }),
            );
        }
    }

    /// New session timeouts: the sidecars' idle and pinned connections are
    /// re-timed.
    pub(crate) fn retime_poolers(&mut self) {
        let now = self.sched.now();
        let ids: Vec<Id> = self.sidecars.poolers.iter().map(|(id, _)| id).collect();
        for id in ids {
            let pooler = self.sidecars.poolers.get_mut(id).expect("live sidecar");
            pooler.server_idle_kill = self.server.db.settings.idle_session_timeout;
            pooler.idle_check_at = None;
            if let Some(at) = pooler.next_idle_deadline() {
                let at = at.max(now);
                pooler.idle_check_at = Some(at);
                self.sched.at(
                    at,
                    Event::Sidecar(SidecarEvent::PoolerIdleCheck { pooler: id }),
                );
            }
            if let Some(after) = self.server.db.settings.idle_in_transaction_timeout {
                for (server, since) in pooler.pinned_servers() {
                    let event = Event::Sidecar(SidecarEvent::ServerReap { pooler: id, server });
                    self.sched.at((since + after).max(now), event);
                }
            }
        }
    }
}

/// Whether the caller of `link` still waits for a server connection.
fn link_waits(
    requests: &crate::slab::Slab<super::request::Request>,
    runs: &crate::slab::Slab<super::job::JobRun>,
    link: Link,
) -> bool {
    match link.caller.class {
        CallerClass::Request => {
            super::request::waits_for_server(requests, link.caller, link.client)
        }
        CallerClass::Job => super::job::waits_for_server(runs, link.caller),
    }
}
