//! One node-postgres pool (pg-pool 3.x semantics, docs/semantics.md#pg-pool).
//!
//! The pool decides; the simulation carries out. `connect`, `release` and
//! `pulse` follow `packages/pg-pool/index.js`:
//!
//! * `connect()`: an idle client is reused at once (the most recently
//!   released: LIFO); else, if the pool is full, the caller joins the FIFO
//!   queue; else a new client is created *bound to this caller* (it counts
//!   toward `max` while it connects).
//! * `release()`: the client is destroyed on `release(err)`, when the pool is
//!   ending, when it expired (`maxLifetimeSeconds`) or reached `maxUses`;
//!   otherwise it goes on top of the idle stack. Then the queue is pulsed.
//! * pulse: serve the head of the queue with the top idle client, or open a
//!   new client for it if there is room. One waiter per pulse.
//!
//! Idle clients are evicted `idle_timeout` after their release if the pool
//! then had more than `min` clients; PostgreSQL may kill them sooner
//! (`idle_session_timeout`). Both are found by [`Pool::take_due_idle`],
//! driven by one timer per pool.
//!
//! Two things pg-pool does not have, built the way teams build them in front
//! of `connect()` (docs/semantics.md#priorities): a priority order of the waiters
//! (`queue = "requests_first"`, see [`WaitQueue`]) and a reservation
//! (`job_limit`): the job may hold at most k clients — checked out, still
//! connecting for it, or leaked (a gate that counts releases never sees
//! those) — and its acquires queue while it holds k.

use crate::engine::SimTime;
use crate::model::caller::{Caller, CallerClass};
use crate::model::idle_stack::IdleStack;
use crate::model::wait_queue::WaitQueue;
use crate::scenario::PoolConfig;
use crate::slab::{Id, Slab};

mod idle;
pub use idle::IdleExit;

/// Whose connections these are, for the open-connection split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// A worker's request pool (possibly shared with the job).
    Requests,
    /// A pool the job created for itself.
    Job,
}

/// Life stage of a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// Handshake in progress; counts toward `max`.
    Connecting,
    /// On the idle stack.
    Idle,
    /// Held by a caller.
    CheckedOut,
    /// Checked out and never to be released.
    Leaked,
}

/// One client (one PostgreSQL session).
#[derive(Clone, Debug)]
pub struct Client {
    /// Life stage.
    pub state: ClientState,
    /// The caller a connecting client was created for.
    pub bound: Option<Caller>,
    /// The sidecar's server connection linked to this client while it is in
    /// a transaction (pools behind a [`Pooler`](super::pooler::Pooler)).
    pub server: Option<Id>,
    /// Whether it holds a server slot (claimed at the start of its
    /// handshake, lost when refused or reaped).
    pub has_slot: bool,
    /// End of its handshake (while connecting).
    pub ready_at: SimTime,
    /// When the connection timeout kills its handshake (while connecting).
    pub kill_at: SimTime,
    /// Released this many times.
    pub uses: u32,
    /// `maxLifetimeSeconds` passed: close on release.
    pub expired: bool,
    /// Creation number within its pool: a stable name for traces.
    pub serial: u32,
    /// When it went idle (valid while idle) or was leaked.
    pub since: SimTime,
    /// Whether the pool will evict it when idle (`idle_timeout` armed).
    pub evictable: bool,
}

/// Outcome of `pool.connect()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connect {
    /// Got an idle client at once.
    Reused(Id),
    /// The pool is full: the caller waits in the queue.
    Queued,
    /// A new client was created for the caller; it must connect first.
    NewClient(Id),
}

/// What a pulse of the queue does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pulse {
    /// Nobody to serve or nothing to serve them with.
    Nothing,
    /// The head waiter gets this idle client.
    Grant(Caller, Id),
    /// A new client was created for the head waiter.
    NewClient(Caller, Id),
}

/// One node-postgres pool.
#[derive(Debug)]
pub struct Pool {
    /// Options.
    pub config: PoolConfig,
    /// Request pool or job pool.
    pub kind: PoolKind,
    /// The worker process that owns it.
    pub worker: u32,
    /// `idle_session_timeout` of the server, for idle clients.
    pub server_idle_timeout: Option<SimTime>,
    /// Whether the clients connect to a PgBouncer sidecar instead of
    /// PostgreSQL: they then hold no server slot of their own.
    pub via_pooler: bool,
    clients: Slab<Client>,
    idle: IdleStack,
    queue: WaitQueue,
    connecting: u32,
    checked_out: u32,
    /// Clients the job holds: checked out, connecting for it, or leaked.
    job_held: u32,
    leaked: u32,
    /// Clients counted without a server slot.
    slotless: u32,
    /// Leaked clients whose session the server killed.
    leaked_slotless: u32,
    /// Clients created so far.
    created: u32,
    ending: bool,
    /// Time of the pending idle-check event, if any.
    pub idle_check_at: Option<SimTime>,
}

impl Pool {
    /// An empty pool; its queue order and job reservation come from `config`.
    pub fn new(config: PoolConfig, kind: PoolKind, worker: u32) -> Pool {
        let queue = WaitQueue::new(config.queue);
        Pool {
            config,
            kind,
            worker,
            server_idle_timeout: None,
            via_pooler: false,
            clients: Slab::default(),
            idle: IdleStack::default(),
            queue,
            connecting: 0,
            checked_out: 0,
            job_held: 0,
            leaked: 0,
            slotless: 0,
            leaked_slotless: 0,
            created: 0,
            ending: false,
            idle_check_at: None,
        }
    }

    /// Every client pg-pool counts (`totalCount`): connecting, idle, checked
    /// out and leaked.
    #[inline]
    pub fn total(&self) -> u32 {
        self.clients.len() as u32
    }

    /// Idle clients (`idleCount`).
    #[inline]
    pub fn idle_count(&self) -> u32 {
        self.idle.len() as u32
    }

    /// Callers waiting (`waitingCount`).
    #[inline]
    pub fn waiting(&self) -> u32 {
        self.queue.live()
    }

    /// Clients still connecting.
    pub fn connecting(&self) -> u32 {
        self.connecting
    }

    /// Clients held by callers (leaked ones not included).
    pub fn checked_out(&self) -> u32 {
        self.checked_out
    }

    /// Leaked clients.
    pub fn leaked(&self) -> u32 {
        self.leaked
    }

    /// Clients holding a server slot (`totalCount` minus handshakes not yet
    /// admitted and sessions the server killed).
    pub fn sessions(&self) -> u32 {
        self.total() - self.slotless
    }

    /// Leaked clients whose session still holds a server slot.
    pub fn leaked_sessions(&self) -> u32 {
        self.leaked - self.leaked_slotless
    }

    /// The client's handshake claimed a server slot.
    pub fn slot_claimed(&mut self, id: Id) {
        let c = self.clients.get_mut(id).expect("live client");
        debug_assert!(!c.has_slot);
        c.has_slot = true;
        self.slotless -= 1;
    }

    /// The client's server slot is gone (refused after authentication, or
    /// its session was killed). The pool keeps counting it.
    pub fn slot_lost(&mut self, id: Id) {
        let c = self.clients.get_mut(id).expect("live client");
        if c.has_slot {
            c.has_slot = false;
            self.slotless += 1;
            if c.state == ClientState::Leaked {
                self.leaked_slotless += 1;
            }
        }
    }

    /// Set the handshake's end and kill times of a connecting client.
    pub fn set_handshake(&mut self, id: Id, ready_at: SimTime, kill_at: SimTime) {
        let c = self.clients.get_mut(id).expect("live client");
        c.ready_at = ready_at;
        c.kill_at = kill_at;
    }

    /// Forget a client, keeping the counters right; returns it.
    fn take(&mut self, id: Id) -> Option<Client> {
        let c = self.clients.remove(id)?;
        if !c.has_slot {
            self.slotless -= 1;
            if c.state == ClientState::Leaked {
                self.leaked_slotless -= 1;
            }
        }
        Some(c)
    }

    /// Whether `end()` was called.
    pub fn is_ending(&self) -> bool {
        self.ending
    }

    /// `_isFull()`: connecting clients count.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.total() >= self.config.max
    }

    /// A client of this pool.
    #[inline]
    pub fn client(&self, id: Id) -> Option<&Client> {
        self.clients.get(id)
    }

    /// Every client, for closing them all.
    pub fn client_ids(&self) -> Vec<Id> {
        self.clients.iter().map(|(id, _)| id).collect()
    }

    fn job_may_take(&self) -> bool {
        self.config.job_limit.is_none_or(|k| self.job_held < k)
    }

    /// Clients the job holds (checked out, connecting for it, or leaked).
    pub fn job_held(&self) -> u32 {
        self.job_held
    }

    /// Hand an idle client to `caller`.
    fn hand_out(&mut self, id: Id, caller: Caller) {
        self.job_held += u32::from(caller.class == CallerClass::Job);
        self.mark_checked_out(id);
    }

    fn mark_checked_out(&mut self, id: Id) {
        let c = self.clients.get_mut(id).expect("live client");
        c.state = ClientState::CheckedOut;
        c.bound = None;
        self.checked_out += 1;
    }

    fn new_client(&mut self, caller: Caller) -> Id {
        self.connecting += 1;
        self.slotless += 1;
        self.job_held += u32::from(caller.class == CallerClass::Job);
        self.created = self.created.wrapping_add(1);
        self.clients.insert(Client {
            serial: self.created,
            state: ClientState::Connecting,
            bound: Some(caller),
            server: None,
            has_slot: false,
            ready_at: SimTime::ZERO,
            kill_at: SimTime::NEVER,
            uses: 0,
            expired: false,
            since: SimTime::ZERO,
            evictable: false,
        })
    }

    /// Start loading into cache the client a step of this pool will touch
    /// next: `held` if given (a release), else the idle client a checkout
    /// would take, when it is kept inline.
    #[inline(always)]
    pub fn prefetch_client(&self, held: Option<Id>) {
        if let Some(id) = held.or(self.idle.inline_top()) {
            self.clients.prefetch(id);
        }
    }

    /// `pool.connect()` for `caller`. The caller of this method must not
    /// call it on an ending pool.
    #[inline(always)]
    pub fn connect(&mut self, caller: Caller) -> Connect {
        let job_blocked = caller.class == CallerClass::Job && !self.job_may_take();
        if !job_blocked && let Some(id) = self.idle.pop() {
            self.hand_out(id, caller);
            return Connect::Reused(id);
        }
        if job_blocked || self.is_full() {
            self.queue.push(caller);
            return Connect::Queued;
        }
        Connect::NewClient(self.new_client(caller))
    }

    /// `gone` stopped waiting (timed out, or its client left); `is_waiting`
    /// tells which other queued callers still wait.
    pub fn forget_waiter(&mut self, gone: Caller, is_waiting: impl FnMut(Caller) -> bool) {
        self.queue.forget(gone, is_waiting);
    }

    /// Serve the head of the queue, if possible. `is_waiting` tells whether a
    /// queued caller still waits.
    pub fn pulse(&mut self, is_waiting: impl FnMut(Caller) -> bool) -> Pulse {
        if self.ending || self.queue.live() == 0 {
            return Pulse::Nothing;
        }
        if self.idle.is_empty() && self.is_full() {
            return Pulse::Nothing;
        }
        let job_allowed = self.job_may_take();
        let Some(caller) = self.queue.pop_live(job_allowed, is_waiting) else {
            return Pulse::Nothing;
        };
        if let Some(id) = self.idle.pop() {
            self.hand_out(id, caller);
            return Pulse::Grant(caller, id);
        }
        Pulse::NewClient(caller, self.new_client(caller))
    }

    /// A connection finished its handshake. Returns the caller it was made
    /// for; the client is now checked out to it. If that caller no longer
    /// waits, the simulation releases the client at once (pg-pool's
    /// `_acquireClient` with `timedOut`).
    pub fn connected(&mut self, id: Id) -> Caller {
        self.connecting -= 1;
        let caller = self
            .clients
            .get(id)
            .and_then(|c| c.bound)
            .expect("bound client");
        self.mark_checked_out(id);
        caller
    }

    /// A connection attempt failed (refused, or killed by the connection
    /// timeout): the client is removed and returned.
    pub fn connect_failed(&mut self, id: Id) -> Option<Client> {
        self.connecting -= 1;
        let c = self.take(id)?;
        if c.bound.is_some_and(|b| b.class == CallerClass::Job) {
            self.job_held -= 1;
        }
        Some(c)
    }

    /// Link or unlink the sidecar server connection of a client.
    pub fn link_server(&mut self, id: Id, server: Option<Id>) {
        if let Some(c) = self.clients.get_mut(id) {
            c.server = server;
        }
    }

    /// `client.release(err)`. Returns the client if it was closed (the
    /// simulation then frees its server slot); either way the simulation
    /// pulses the queue next.
    pub fn release(
        &mut self,
        id: Id,
        now: SimTime,
        with_error: bool,
        class: CallerClass,
    ) -> Option<Client> {
        self.checked_out -= 1;
        self.job_held -= u32::from(class == CallerClass::Job);
        let above_min = self.total() > self.config.min;
        let max_uses = self.config.max_uses;
        let ending = self.ending;
        let via_pooler = self.via_pooler;
        let c = self.clients.get_mut(id).expect("released client exists");
        c.uses += 1;
        let worn_out = max_uses.is_some_and(|m| c.uses >= m);
        let dead = !c.has_slot && !via_pooler;
        if with_error || ending || c.expired || worn_out || dead {
            return self.take(id);
        }
        c.state = ClientState::Idle;
        c.since = now;
        c.evictable = self.config.idle_timeout.is_some() && above_min;
        self.idle.push(id);
        None
    }

    /// A checked-out client will never be released. The job keeps holding
    /// it (see the module doc).
    pub fn leak(&mut self, id: Id, now: SimTime) {
        self.checked_out -= 1;
        self.leaked += 1;
        let c = self.clients.get_mut(id).expect("leaked client exists");
        c.state = ClientState::Leaked;
        c.since = now;
        if !c.has_slot {
            self.leaked_slotless += 1;
        }
    }

    /// `pool.end()`: no more callers; idle clients are closed at once
    /// (returned), the others when released. Queued callers are returned so
    /// that the simulation can fail them.
    pub fn end(&mut self, is_waiting: impl FnMut(Caller) -> bool) -> (Vec<Client>, Vec<Caller>) {
        self.ending = true;
        let idle: Vec<Client> = self
            .idle
            .take_all()
            .into_iter()
            .filter_map(|id| self.take(id))
            .collect();
        let waiters = self.queue.drain_live(is_waiting);
        (idle, waiters)
    }

    /// Every client, for a process that exits with the pool.
    pub fn into_clients(self) -> Vec<Client> {
        self.clients.into_values()
    }
}

#[cfg(test)]
mod tests;
