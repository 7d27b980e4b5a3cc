//! What can happen: the events of the run, as the scheduler holds them.
//!
//! The events of a request's path stay at the top of [`Event`]: they fire
//! once or more per request (or per query, or per queued caller) on the
//! measured workloads, and the run loop dispatches the commonest itself.
//! The others are nested by subsystem: [`FleetEvent`], [`JobEvent`],
//! [`PoolEvent`], [`SidecarEvent`] and [`RetryEvent`]; a new model feature adds its events
//! to one of those. The scheduler stores events in a slot table, so their
//! size matters: a test below holds it (a caller takes 20 bytes, so an
//! event takes 24, and nesting must not add to that: a sub-enum holds at
//! most 20 bytes, so no caller in one).

use super::caller::Caller;
use super::{connection, pooler};
use crate::slab::Id;

/// Everything that can happen.
///
/// `repr(u8)`: a plain tag byte in front of every variant. Left to itself
/// the compiler hides the tag inside a sub-enum's own (a niche), and every
/// match of the run loop then decodes it: 1.3 to 1.6 % more instructions per
/// request.
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
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
    /// Close a sample interval.
    Sample,
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
    /// The database's CPU finished a query.
    CpuDone,
    /// A transaction's `query_wait_timeout` at the sidecar.
    ServerWaitTimeout {
        /// Who waits.
        caller: Caller,
    },
    /// The fleet's life: the scenario's timeline, pods, workers, rollouts.
    Fleet(FleetEvent),
    /// The background job.
    Job(JobEvent),
    /// A node-postgres pool's clients.
    Pool(PoolEvent),
    /// A PgBouncer sidecar.
    Sidecar(SidecarEvent),
    /// The clients' retries (`[retry]`).
    Retry(RetryEvent),
}

/// The fleet's life.
#[derive(Clone, Copy, Debug)]
pub enum FleetEvent {
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
}

/// The background job.
#[derive(Clone, Copy, Debug)]
pub enum JobEvent {
    /// A worker's job `setInterval` fires.
    Tick {
        /// The worker.
        worker: u32,
        /// Its process epoch when the timer was set.
        epoch: u32,
    },
    /// A job run finished its work.
    Done {
        /// The run.
        run: Id,
    },
}

/// A node-postgres pool's clients: handshakes, timers and reaps.
#[derive(Clone, Copy, Debug)]
pub enum PoolEvent {
    /// A step of a client's handshake.
    Handshake {
        /// The pool the client belongs to.
        pool: Id,
        /// The client.
        client: Id,
        /// Which step.
        phase: connection::Phase,
    },
    /// Time to close a pool's idle clients that are due.
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
}

/// A PgBouncer sidecar: logins, timers and reaps of its server
/// connections, and its waiting transactions.
#[derive(Clone, Copy, Debug)]
pub enum SidecarEvent {
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
    /// The server kills a sidecar connection pinned by a leaked transaction.
    ServerReap {
        /// The sidecar.
        pooler: Id,
        /// The server connection.
        server: Id,
    },
}

/// The clients' retries: a backoff ended, or an attempt's timeout passed.
#[derive(Clone, Copy, Debug)]
pub enum RetryEvent {
    /// A backoff ended: the request's next attempt arrives.
    Arrive {
        /// The request waiting out its backoff.
        backoff: Id,
    },
    /// The client's `attempt_timeout` of an attempt passed.
    AttemptTimeout {
        /// The attempt (its handler).
        req: Id,
    },
}

#[cfg(test)]
mod tests {
    use super::Event;

    /// Nesting can grow the outer enum; the slot table holds events by
    /// value, so it must not.
    #[test]
    fn an_event_takes_twenty_four_bytes() {
        assert_eq!(size_of::<Event>(), 24);
    }
}
