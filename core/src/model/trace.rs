//! An optional record of everything that happens to callers and clients:
//! who arrived, queued, got which client, timed out, was refused, leaked.
//! Written as JSON lines by `pooldrill run --trace`, and read by the tests
//! that check pg-pool's rules one by one. Off by default: then it costs one
//! branch per event.

use super::Simulation;
use super::caller::{Caller, CallerClass};
use crate::slab::Id;
use serde::Serialize;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceKind {
    /// A request arrived at its worker.
    Arrived,
    /// The caller found the pool full and joined the queue.
    Queued,
    /// A new client was created for the caller and starts its handshake.
    ConnectStarted,
    /// The caller got the client.
    Granted,
    /// `timeout exceeded when trying to connect`.
    QueueTimeout,
    /// `Connection terminated due to connection timeout`.
    ConnectTimeout,
    /// `sorry, too many clients already` (53300, before authentication).
    RefusedTooManyClients,
    /// `remaining connection slots are reserved …` (53300, after authentication).
    RefusedReserved,
    /// The client went back to the pool (idle).
    Released,
    /// The client was closed (release with error, max uses, lifetime, pool end).
    Closed,
    /// An idle client was closed by `idleTimeoutMillis`.
    Evicted,
    /// The server killed the client's session (`idle_session_timeout`).
    Reaped,
    /// The client was leaked.
    Leaked,
    /// The request's client left at its deadline.
    GaveUp,
    /// The request handler ended.
    Finished,
}

/// One traced event.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TraceEvent {
    /// Seconds from the start.
    pub t_s: f64,
    /// What happened.
    pub kind: TraceKind,
    /// `request` or `job`, when a caller is involved.
    pub class: Option<&'static str>,
    /// The request (arrival number) or job run (start number).
    pub caller: Option<u32>,
    /// Which checkout of the caller.
    pub part: Option<u32>,
    /// The pool (slot number).
    pub pool: Option<u32>,
    /// The client (creation number within its pool).
    pub client: Option<u32>,
    /// The pod.
    pub pod: Option<u32>,
}

/// Receives trace events.
pub type Tracer<'a> = Box<dyn FnMut(&TraceEvent) + 'a>;

impl Simulation<'_> {
    /// Record an event if tracing is on. `client` names a live client of
    /// `pool`; use [`trace_serial`](Self::trace_serial) for one already gone.
    #[inline]
    pub(crate) fn trace(
        &mut self,
        kind: TraceKind,
        caller: Option<Caller>,
        pool: Option<Id>,
        client: Option<Id>,
    ) {
        if self.tracer.is_none() {
            return;
        }
        let serial = pool
            .zip(client)
            .and_then(|(p, c)| self.fleet.pools.get(p)?.client(c))
            .map(|c| c.serial);
        self.trace_serial(kind, caller, pool, serial);
    }

    /// [`trace`](Self::trace) with the client named by its serial.
    pub(crate) fn trace_serial(
        &mut self,
        kind: TraceKind,
        caller: Option<Caller>,
        pool: Option<Id>,
        client: Option<u32>,
    ) {
        if self.tracer.is_none() {
            return;
        }
        let pod = pool
            .and_then(|p| self.fleet.pools.get(p))
            .map(|p| self.fleet.workers[p.worker as usize].pod);
        let event = TraceEvent {
            t_s: self.sched.now().as_secs_f64(),
            kind,
            class: caller.map(|c| match c.class {
                CallerClass::Request => "request",
                CallerClass::Job => "job",
            }),
            caller: caller.map(|c| c.serial),
            part: caller.map(|c| c.part),
            pool: pool.map(|p| p.index() as u32),
            client,
            pod,
        };
        if let Some(tracer) = self.tracer.as_mut() {
            tracer(&event);
        }
    }
}
