//! What can happen: the events of the run, as the scheduler holds them.

use super::caller::Caller;
use super::{connection, pooler};
use crate::slab::Id;

/// Everything that can happen.
#[derive(Clone, Copy, Debug)]
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
    /// A worker's job `setInterval` fires.
    JobTick {
        /// The worker.
        worker: u32,
        /// Its process epoch when the timer was set.
        epoch: u32,
    },
    /// A job run finished its work.
    JobDone {
        /// The run.
        run: Id,
    },
    /// Close a sample interval.
    Sample,
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
    /// The database's CPU finished a query.
    CpuDone,
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
    /// A transaction's `query_wait_timeout` at the sidecar.
    ServerWaitTimeout {
        /// Who waits.
        caller: Caller,
    },
    /// The server kills a sidecar connection pinned by a leaked transaction.
    ServerReap {
        /// The sidecar.
        pooler: Id,
        /// The server connection.
        server: Id,
    },
}
