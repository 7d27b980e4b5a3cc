//! A PgBouncer sidecar in every pod, in transaction pooling mode
//! (`[pooler]`; docs/semantics.md#pgbouncer, PgBouncer's doc/config.md and
//! src/objects.c; docs/models.md, "Sidecar").
//!
//! The pod's node-postgres pools connect to the sidecar, not to PostgreSQL:
//! their clients are cheap and hold no server slot. The sidecar keeps at most
//! `pool_size` server connections to PostgreSQL and lends one to a client
//! only for a transaction — here, for one checkout's hold:
//!
//! * a client starting a transaction gets the most recently used idle server
//!   connection (PgBouncer reuses LIFO), or waits in a FIFO queue;
//! * while clients wait and the pool has room, the sidecar opens a server
//!   connection — one login at a time, as PgBouncer's
//!   `launch_new_connection()` does — which PostgreSQL may refuse like any
//!   other (53300); after a failed login no new one starts for
//!   `server_login_retry`, and the waiters keep waiting;
//! * a new or released server connection goes to the head waiter;
//! * a waiter not served within `query_wait_timeout` is disconnected: its
//!   query fails;
//! * idle server connections close after `server_idle_timeout` (or when
//!   PostgreSQL's `idle_session_timeout` kills them);
//! * a client that leaks inside an open transaction pins its server
//!   connection (until `idle_in_transaction_session_timeout` kills it); one
//!   that leaks outside a transaction holds none.
//!
//! This module holds the sidecar's decisions ([`Pooler`]) and carries them
//! out against the database and the callers.

use super::caller::{Caller, CallerClass};
use super::{Event, Simulation};
use crate::engine::rng::{domain, stream};
use crate::engine::{SimRng, SimTime};
use crate::metrics::AcquireEnd;
use crate::scenario::PoolerConfig;
use crate::slab::{Id, Slab};
use std::collections::VecDeque;

/// A client of a pod's pool and the caller using it: who a server
/// connection is lent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// The node-postgres pool.
    pub pool: Id,
    /// Its client (a connection to the sidecar).
    pub client: Id,
    /// The request or job run in the transaction.
    pub caller: Caller,
}

/// Life stage of a server connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerState {
    /// Logging in to PostgreSQL.
    Connecting,
    /// Free.
    Idle,
    /// Lent to a client for a transaction.
    Active,
    /// Lent to a leaked client that sits in an open transaction.
    Pinned,
}

/// One server connection (one PostgreSQL session).
#[derive(Clone, Debug)]
pub struct Server {
    /// Life stage.
    pub state: ServerState,
    /// Whether it holds a PostgreSQL slot.
    pub has_slot: bool,
    /// When it went idle or was pinned.
    pub since: SimTime,
    /// End of its login (while connecting).
    pub ready_at: SimTime,
    /// The client it is lent to.
    pub link: Option<Link>,
}

/// Steps of a server login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginPhase {
    /// Refused before authentication: no slot was free.
    TooManyClients,
    /// Authentication done: the reserve check.
    ReserveCheck,
    /// Logged in.
    Ready,
}

/// The sidecar of one pod.
#[derive(Debug)]
pub struct Pooler {
    /// Its settings.
    pub config: PoolerConfig,
    /// The pod it runs in.
    pub pod: u32,
    /// PostgreSQL's `idle_session_timeout`, which also ends idle server
    /// connections.
    pub server_idle_kill: Option<SimTime>,
    /// Time of the pending idle-check event, if any.
    pub idle_check_at: Option<SimTime>,
    /// Stream for the login times of its server connections.
    pub rng: SimRng,
    servers: Slab<Server>,
    idle: Vec<Id>,
    queue: VecDeque<Link>,
    live: u32,
    logging_in: bool,
    retry_at: Option<SimTime>,
    sessions: u32,
    active: u32,
    pinned: u32,
}

impl Pooler {
    /// A sidecar with no server connection yet.
    pub fn new(config: PoolerConfig, pod: u32, rng: SimRng) -> Pooler {
        Pooler {
            config,
            pod,
            server_idle_kill: None,
            idle_check_at: None,
            rng,
            servers: Slab::default(),
            idle: Vec::new(),
            queue: VecDeque::new(),
            live: 0,
            logging_in: false,
            retry_at: None,
            sessions: 0,
            active: 0,
            pinned: 0,
        }
    }

    /// Server connections, logging in or not.
    pub fn total(&self) -> u32 {
        self.servers.len() as u32
    }

    /// Server connections holding a PostgreSQL slot.
    pub fn sessions(&self) -> u32 {
        self.sessions
    }

    /// Server connections pinned by leaked clients.
    pub fn pinned(&self) -> u32 {
        self.pinned
    }

    /// Server connections lent for a transaction.
    pub fn active(&self) -> u32 {
        self.active
    }

    /// Idle server connections.
    pub fn idle_count(&self) -> u32 {
        self.idle.len() as u32
    }

    /// Clients waiting for a server connection.
    pub fn waiting(&self) -> u32 {
        self.live
    }

    /// Whether a login is in progress.
    pub fn logging_in(&self) -> bool {
        self.logging_in
    }

    /// A server connection.
    pub fn server(&self, id: Id) -> Option<&Server> {
        self.servers.get(id)
    }

    fn lend(&mut self, id: Id, link: Link) {
        let s = self.servers.get_mut(id).expect("live server");
        s.state = ServerState::Active;
        s.link = Some(link);
        self.active += 1;
    }

    /// A client starts a transaction: it gets an idle server connection at
    /// once, or waits (`None`) — behind any client already waiting.
    /// `is_waiting` tells which queued clients still wait.
    pub fn begin(&mut self, link: Link, is_waiting: impl FnMut(Link) -> bool) -> Option<Id> {
        if self.live == 0
            && let Some(id) = self.idle.pop()
        {
            self.lend(id, link);
            return Some(id);
        }
        self.sweep_queue(is_waiting);
        self.queue.push_back(link);
        self.live += 1;
        None
    }

    /// A waiting client stopped waiting; its entry is skipped later.
    pub fn forget_waiter(&mut self) {
        debug_assert!(self.live > 0);
        self.live -= 1;
    }

    /// Drop the entries of clients that stopped waiting once they outnumber
    /// the live ones (a sidecar whose connections are all pinned never
    /// reaches them): memory stays bounded by the waiters, and who is served
    /// next does not change. Run before each entry is added, so it covers
    /// every way of leaving the queue (timeout, dead worker).
    fn sweep_queue(&mut self, mut is_waiting: impl FnMut(Link) -> bool) {
        if self.queue.len() > 2 * self.live as usize + 64 {
            self.queue.retain(|l| is_waiting(*l));
            debug_assert_eq!(self.queue.len(), self.live as usize);
        }
    }

    /// Start a login if clients wait, the pool has room, no login is in
    /// progress and the retry pause is over. Returns the new connection.
    pub fn launch(&mut self, now: SimTime) -> Option<Id> {
        let room = self.total() < self.config.pool_size;
        let paused = self.retry_at.is_some_and(|t| now < t);
        if self.logging_in || self.live == 0 || !room || paused {
            return None;
        }
        self.logging_in = true;
        Some(self.servers.insert(Server {
            state: ServerState::Connecting,
            has_slot: false,
            since: now,
            ready_at: now,
            link: None,
        }))
    }

    /// When the login in progress retries after a failure, if paused.
    pub fn retry_at(&self) -> Option<SimTime> {
        self.retry_at
    }

    /// The login of `id` claimed a PostgreSQL slot; it ends at `ready_at`.
    pub fn slot_claimed(&mut self, id: Id, ready_at: SimTime) {
        let s = self.servers.get_mut(id).expect("live server");
        s.has_slot = true;
        s.ready_at = ready_at;
        self.sessions += 1;
    }

    /// The login of `id` failed: the connection goes, and no new login
    /// starts before `server_login_retry`. Returns it.
    pub fn login_failed(&mut self, id: Id, now: SimTime) -> Server {
        self.logging_in = false;
        self.retry_at = Some(now + self.config.server_login_retry);
        self.remove(id).expect("logging-in server")
    }

    /// The login of `id` succeeded: the connection is idle.
    pub fn logged_in(&mut self, id: Id, now: SimTime) {
        self.logging_in = false;
        self.retry_at = None;
        let s = self.servers.get_mut(id).expect("live server");
        s.state = ServerState::Idle;
        s.since = now;
        self.idle.push(id);
    }

    /// Lend the top idle connection to the head waiter for which
    /// `is_waiting` holds, if both exist.
    pub fn serve(&mut self, mut is_waiting: impl FnMut(Link) -> bool) -> Option<(Link, Id)> {
        while !self.idle.is_empty() && self.live > 0 {
            let link = self.queue.pop_front().expect("live waiters are queued");
            if !is_waiting(link) {
                continue;
            }
            self.live -= 1;
            let id = self.idle.pop().expect("checked");
            self.lend(id, link);
            return Some((link, id));
        }
        None
    }

    /// The transaction on `id` ended: the connection is idle again.
    pub fn end(&mut self, id: Id, now: SimTime) {
        let s = self.servers.get_mut(id).expect("live server");
        debug_assert_eq!(s.state, ServerState::Active);
        s.state = ServerState::Idle;
        s.link = None;
        s.since = now;
        self.active -= 1;
        self.idle.push(id);
    }

    /// The client of `id` leaked inside its transaction.
    pub fn pin(&mut self, id: Id, now: SimTime) {
        let s = self.servers.get_mut(id).expect("live server");
        debug_assert_eq!(s.state, ServerState::Active);
        s.state = ServerState::Pinned;
        s.since = now;
        self.active -= 1;
        self.pinned += 1;
    }

    /// Close a connection in any state; returns it.
    pub fn remove(&mut self, id: Id) -> Option<Server> {
        let s = self.servers.remove(id)?;
        match s.state {
            ServerState::Connecting => self.logging_in = false,
            ServerState::Idle => self.idle.retain(|&i| i != id),
            ServerState::Active => self.active -= 1,
            ServerState::Pinned => self.pinned -= 1,
        }
        self.sessions -= u32::from(s.has_slot);
        Some(s)
    }

    fn idle_deadline(&self, s: &Server) -> Option<SimTime> {
        let own = self.config.server_idle_timeout.map(|t| s.since + t);
        let killed = self.server_idle_kill.map(|t| s.since + t);
        match (own, killed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The earliest time an idle connection is due to close.
    pub fn next_idle_deadline(&self) -> Option<SimTime> {
        self.idle
            .iter()
            .filter_map(|&id| self.idle_deadline(self.servers.get(id)?))
            .min()
    }

    /// Close the idle connections due by `now`; returns them.
    pub fn take_due_idle(&mut self, now: SimTime) -> Vec<Server> {
        let due: Vec<Id> = self
            .idle
            .iter()
            .copied()
            .filter(|&id| {
                self.servers
                    .get(id)
                    .and_then(|s| self.idle_deadline(s))
                    .is_some_and(|d| d <= now)
            })
            .collect();
        due.into_iter().filter_map(|id| self.remove(id)).collect()
    }

    /// The pinned connections and when they were pinned.
    pub fn pinned_servers(&self) -> Vec<(Id, SimTime)> {
        self.servers
            .iter()
            .filter(|(_, s)| s.state == ServerState::Pinned)
            .map(|(id, s)| (id, s.since))
            .collect()
    }

    /// Every connection, for a sidecar that exits with its pod.
    pub fn into_servers(self) -> Vec<Server> {
        self.servers.into_values()
    }
}

impl Simulation<'_> {
    /// The sidecar in front of `pool`, if any.
    pub(crate) fn pooler_of(&self, pool: Id) -> Option<Id> {
        let worker = self.pools.get(pool)?.worker;
        self.pods[self.workers[worker as usize].pod as usize].pooler
    }

    /// Start the sidecar of a pod that became ready.
    pub(crate) fn start_pooler(&mut self, pod: u32) {
        let Some(config) = self.scenario.pooler.clone() else {
            return;
        };
        let epoch = self.pods[pod as usize].epoch as u64;
        let rng = stream(
            self.scenario.seed,
            domain("pooler"),
            ((pod as u64) << 20) | epoch,
        );
        let mut pooler = Pooler::new(config, pod, rng);
        pooler.server_idle_kill = self.db.settings.idle_session_timeout;
        let id = self.poolers.insert(pooler);
        self.pods[pod as usize].pooler = Some(id);
    }

    /// A pod's sidecar exits: every server connection closes.
    pub(crate) fn stop_pooler(&mut self, pod: u32) {
        let Some(id) = self.pods[pod as usize].pooler.take() else {
            return;
        };
        let Some(pooler) = self.poolers.remove(id) else {
            return;
        };
        for server in pooler.into_servers() {
            self.server_closed(&server);
        }
    }

    /// The server side of a closed server connection.
    fn server_closed(&mut self, server: &Server) {
        if server.has_slot {
            self.db.release(server.state != ServerState::Connecting);
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
        let (requests, runs) = (&self.requests, &self.runs);
        let pooler = self.poolers.get_mut(pooler_id).expect("live sidecar");
        match pooler.begin(link, |l| link_waits(requests, runs, l)) {
            Some(server) => {
                self.pools
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
            let (requests, runs) = (&self.requests, &self.runs);
            let Some(pooler) = self.poolers.get_mut(pooler_id) else {
                return;
            };
            let served = pooler.serve(|link| link_waits(requests, runs, link));
            let Some((link, server)) = served else {
                return;
            };
            if let Some(pool) = self.pools.get_mut(link.pool) {
                pool.link_server(link.client, Some(server));
            }
            self.transaction_started(link.caller, true);
        }
    }

    /// Open a server connection if the sidecar should.
    fn launch_login(&mut self, pooler_id: Id) {
        let now = self.sched.now();
        let Some(pooler) = self.poolers.get_mut(pooler_id) else {
            return;
        };
        let Some(server) = pooler.launch(now) else {
            return;
        };
        if let Some(stats) = self.pooler_stats.as_mut() {
            stats.login(self.rec.counts(now));
        }
        let settings = &self.scenario.database;
        let pooler = self.poolers.get_mut(pooler_id).expect("live sidecar");
        let (phase, at) = match self.db.begin_connect() {
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
            Event::ServerLogin {
                pooler: pooler_id,
                server,
                phase,
            },
        );
    }

    /// The retry pause after a failed login is over.
    pub(crate) fn pooler_retry(&mut self, pooler_id: Id) {
        self.launch_login(pooler_id);
    }

    /// One step of a server login.
    pub(crate) fn login_step(&mut self, pooler_id: Id, server: Id, phase: LoginPhase) {
        let now = self.sched.now();
        let Some(pooler) = self.poolers.get_mut(pooler_id) else {
            return; // the pod is gone
        };
        let Some(s) = pooler.server(server) else {
            return;
        };
        let ready_at = s.ready_at;
        match phase {
            LoginPhase::TooManyClients => self.login_refused(pooler_id, server),
            LoginPhase::ReserveCheck => match self.db.check_reserve() {
                Err(_) => {
                    // The slot was given back by the check.
                    let pooler = self.poolers.get_mut(pooler_id).expect("live sidecar");
                    let s = pooler.login_failed(server, now);
                    debug_assert!(s.has_slot);
                    self.rec.open.add(now, -1, self.scenario.warmup);
                    self.after_refusal(pooler_id);
                }
                Ok(()) => self.sched.at(
                    ready_at,
                    Event::ServerLogin {
                        pooler: pooler_id,
                        server,
                        phase: LoginPhase::Ready,
                    },
                ),
            },
            LoginPhase::Ready => {
                self.db.established_one();
                pooler.logged_in(server, now);
                self.serve_waiters(pooler_id);
                self.arm_pooler_idle_check(pooler_id);
                self.launch_login(pooler_id);
            }
        }
    }

    fn login_refused(&mut self, pooler_id: Id, server: Id) {
        let now = self.sched.now();
        let pooler = self.poolers.get_mut(pooler_id).expect("live sidecar");
        let s = pooler.login_failed(server, now);
        self.server_closed(&s);
        self.after_refusal(pooler_id);
    }

    /// A login was refused: the next one waits for `server_login_retry`.
    fn after_refusal(&mut self, pooler_id: Id) {
        let now = self.sched.now();
        if let Some(stats) = self.pooler_stats.as_mut() {
            stats.refused_login(self.rec.counts(now));
        }
        let pooler = self.poolers.get(pooler_id).expect("live sidecar");
        match pooler.retry_at().filter(|&t| t > now) {
            Some(at) => self.sched.at(at, Event::PoolerRetry { pooler: pooler_id }),
            None => self.launch_login(pooler_id),
        }
    }

    /// The transaction of `client` of `pool` ends (its checkout is over):
    /// its server connection goes back to the sidecar.
    pub(crate) fn end_transaction(&mut self, pool: Id, client: Id) {
        let now = self.sched.now();
        let Some(server) = self
            .pools
            .get(pool)
            .and_then(|p| p.client(client))
            .and_then(|c| c.server)
        else {
            return;
        };
        self.pools
            .get_mut(pool)
            .expect("live pool")
            .link_server(client, None);
        let Some(pooler_id) = self.pooler_of(pool) else {
            return;
        };
        let pooler = self.poolers.get_mut(pooler_id).expect("live sidecar");
        pooler.end(server, now);
        self.serve_waiters(pooler_id);
        self.arm_pooler_idle_check(pooler_id);
    }

    /// A client leaked inside its transaction: its server connection stays
    /// lent until PostgreSQL's `idle_in_transaction_session_timeout` kills it.
    pub(crate) fn pin_transaction(&mut self, pool: Id, client: Id) {
        let now = self.sched.now();
        let Some(server) = self
            .pools
            .get(pool)
            .and_then(|p| p.client(client))
            .and_then(|c| c.server)
        else {
            return;
        };
        let pooler_id = self.pooler_of(pool).expect("a pool behind a sidecar");
        self.poolers
            .get_mut(pooler_id)
            .expect("live sidecar")
            .pin(server, now);
        if let Some(after) = self.db.settings.idle_in_transaction_timeout {
            self.sched.at(
                now + after,
                Event::ServerReap {
                    pooler: pooler_id,
                    server,
                },
            );
        }
    }

    /// PostgreSQL kills a pinned server connection: the sidecar closes it and
    /// disconnects its client (which its pool keeps counting).
    pub(crate) fn server_reaped(&mut self, pooler_id: Id, server: Id) {
        let now = self.sched.now();
        let Some(pooler) = self.poolers.get_mut(pooler_id) else {
            return;
        };
        let Some(s) = pooler.server(server) else {
            return;
        };
        let Some(after) = self.db.settings.idle_in_transaction_timeout else {
            return; // switched off since
        };
        if s.state != ServerState::Pinned || now < s.since + after {
            return;
        }
        let s = pooler.remove(server).expect("pinned server");
        self.server_closed(&s);
        let link = s.link.expect("a pinned server is lent");
        let worker = self.pools.get_mut(link.pool).map(|p| {
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
        let pod = self.workers[pool_worker as usize].pod;
        let Some(pooler_id) = self.pods[pod as usize].pooler else {
            return;
        };
        let Some(pooler) = self.poolers.get_mut(pooler_id) else {
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
        let pod = self.workers[w as usize].pod;
        let Some(pooler) = self.pods[pod as usize]
            .pooler
            .and_then(|id| self.poolers.get_mut(id))
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
        if self.poolers.is_empty() {
            return None;
        }
        let mut counts = vec![0usize; self.pods.len()];
        let requests = self.requests.iter().filter(|(_, r)| r.waits_for_a_server());
        for (_, r) in requests {
            counts[self.workers[r.worker as usize].pod as usize] += 1;
        }
        for (_, r) in self.runs.iter().filter(|(_, r)| r.waits_for_a_server()) {
            counts[self.workers[r.worker as usize].pod as usize] += 1;
        }
        self.poolers
            .iter()
            .find(|(_, p)| p.waiting() as usize != counts[p.pod as usize])
            .map(|(_, p)| (p.pod, p.waiting(), counts[p.pod as usize]))
    }

    /// A caller's `query_wait_timeout` fired.
    pub(crate) fn server_wait_timed_out(&mut self, caller: Caller) {
        let Some((pool, client)) = self.server_wait_of(caller) else {
            return;
        };
        if let Some(pooler) = self.pooler_of(pool).and_then(|p| self.poolers.get_mut(p)) {
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
        if let Some(stats) = self.pooler_stats.as_mut() {
            stats.record(class, now - started, queued, end);
        }
    }

    /// Make sure an idle check is pending no later than the sidecar's next
    /// idle deadline.
    fn arm_pooler_idle_check(&mut self, pooler_id: Id) {
        let pooler = self.poolers.get_mut(pooler_id).expect("live sidecar");
        let Some(due) = pooler.next_idle_deadline() else {
            return;
        };
        if pooler.idle_check_at.is_none_or(|at| due < at) {
            pooler.idle_check_at = Some(due);
            self.sched
                .at(due, Event::PoolerIdleCheck { pooler: pooler_id });
        }
    }

    /// Close the idle server connections that are due, then re-arm.
    pub(crate) fn pooler_idle_check(&mut self, pooler_id: Id) {
        let now = self.sched.now();
        let Some(pooler) = self.poolers.get_mut(pooler_id) else {
            return;
        };
        if pooler.idle_check_at != Some(now) {
            return; // superseded by an earlier check
        }
        pooler.idle_check_at = None;
        for server in pooler.take_due_idle(now) {
            self.server_closed(&server);
        }
        let pooler = self.poolers.get_mut(pooler_id).expect("live sidecar");
        if let Some(at) = pooler.next_idle_deadline() {
            pooler.idle_check_at = Some(at);
            self.sched
                .at(at, Event::PoolerIdleCheck { pooler: pooler_id });
        }
    }

    /// New session timeouts: the sidecars' idle and pinned connections are
    /// re-timed.
    pub(crate) fn retime_poolers(&mut self) {
        let now = self.sched.now();
        let ids: Vec<Id> = self.poolers.iter().map(|(id, _)| id).collect();
        for id in ids {
            let pooler = self.poolers.get_mut(id).expect("live sidecar");
            pooler.server_idle_kill = self.db.settings.idle_session_timeout;
            pooler.idle_check_at = None;
            if let Some(at) = pooler.next_idle_deadline() {
                let at = at.max(now);
                pooler.idle_check_at = Some(at);
                self.sched.at(at, Event::PoolerIdleCheck { pooler: id });
            }
            if let Some(after) = self.db.settings.idle_in_transaction_timeout {
                for (server, since) in pooler.pinned_servers() {
                    let event = Event::ServerReap { pooler: id, server };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::engine::rng::{domain, stream};

    fn pooler(pool_size: u32) -> Pooler {
        let config = PoolerConfig {
            pool_size,
            query_wait_timeout: None,
            server_idle_timeout: Some(SimTime::from_secs(600)),
            server_login_retry: SimTime::from_secs(15),
            client_setup: Dist::Deterministic(0.0),
        };
        Pooler::new(config, 0, stream(1, domain("test"), 0))
    }

    fn links(n: usize) -> Vec<Link> {
        let mut s = Slab::default();
        let pool = s.insert(());
        (0..n)
            .map(|i| {
                let client = s.insert(());
                Link {
                    pool,
                    client,
                    caller: Caller::request(client, 0, i as u32),
                }
            })
            .collect()
    }

    /// Open a server connection and log it in.
    fn open(p: &mut Pooler, now: SimTime) -> Id {
        let id = p.launch(now).expect("a login");
        p.slot_claimed(id, now);
        p.logged_in(id, now);
        id
    }

    #[test]
    fn one_login_at_a_time_up_to_pool_size() {
        let mut p = pooler(2);
        let l = links(3);
        assert!(p.launch(SimTime::ZERO).is_none(), "nobody waits");
        for link in &l {
            assert_eq!(p.begin(*link, |_| true), None);
        }
        let a = p.launch(SimTime::ZERO).unwrap();
        assert!(p.launch(SimTime::ZERO).is_none(), "a login is in progress");
        p.slot_claimed(a, SimTime::ZERO);
        p.logged_in(a, SimTime(1));
        assert_eq!(p.serve(|_| true), Some((l[0], a)), "FIFO");
        let b = open(&mut p, SimTime(2));
        assert_eq!(p.serve(|_| true), Some((l[1], b)));
        assert!(p.launch(SimTime(3)).is_none(), "pool_size reached");
        assert_eq!((p.total(), p.sessions(), p.waiting()), (2, 2, 1));
    }

    #[test]
    fn timed_out_waiters_of_a_stuck_sidecar_are_swept() {
        let mut p = pooler(1);
        let l = links(1000);
        p.begin(l[0], |_| true); // waits for ever: nothing is ever lent
        for link in &l[1..] {
            assert_eq!(p.begin(*link, |x| x == l[0]), None);
            p.forget_waiter(); // its query_wait_timeout fired
        }
        assert_eq!(p.waiting(), 1);
        assert!(
            p.queue.len() <= 2 + 64 + 1,
            "{} entries kept",
            p.queue.len()
        );
        let a = open(&mut p, SimTime::ZERO);
        assert_eq!(p.serve(|x| x == l[0]), Some((l[0], a)));
    }

    #[test]
    fn idle_connections_are_reused_last_in_first_out() {
        let mut p = pooler(3);
        let l = links(2);
        for link in &l {
            p.begin(*link, |_| true);
        }
        let a = open(&mut p, SimTime::ZERO);
        p.serve(|_| true);
        let b = open(&mut p, SimTime::ZERO);
        p.serve(|_| true);
        p.end(a, SimTime(5));
        p.end(b, SimTime(6));
        assert_eq!(p.begin(l[0], |_| true), Some(b), "the most recently used");
    }

    #[test]
    fn a_failed_login_pauses_the_next_one() {
        let mut p = pooler(3);
        let l = links(1);
        p.begin(l[0], |_| true);
        let a = p.launch(SimTime::ZERO).unwrap();
        p.login_failed(a, SimTime::from_secs(1));
        assert!(p.launch(SimTime::from_secs(10)).is_none());
        assert!(p.launch(SimTime::from_secs(16)).is_some());
    }

    #[test]
    fn a_pinned_connection_is_neither_idle_nor_active() {
        let mut p = pooler(1);
        let l = links(2);
        p.begin(l[0], |_| true);
        let a = open(&mut p, SimTime::ZERO);
        p.serve(|_| true);
        p.pin(a, SimTime(1));
        assert_eq!((p.active(), p.pinned(), p.idle_count()), (0, 1, 0));
        assert_eq!(
            p.begin(l[1], |_| true),
            None,
            "the pool is full of a pinned connection"
        );
        assert!(p.launch(SimTime(2)).is_none());
        let s = p.remove(a).unwrap();
        assert_eq!(s.state, ServerState::Pinned);
        assert_eq!((p.pinned(), p.sessions()), (0, 0));
    }
}
