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
//! This module holds the sidecar's decisions ([`Pooler`]);
//! [`sidecars`](super::sidecars) carries them out against the database and
//! the callers.

use super::caller::Caller;
use crate::engine::{SimRng, SimTime};
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
