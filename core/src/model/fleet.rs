//! Pods and their worker processes. Each worker is a Node.js process with its
//! own request pool (pools cannot be shared across cluster workers). Pods are
//! created by the start of the run and by deploys, and go away when
//! terminated; their ids are never reused.

use super::pool::Pool;
use crate::engine::SimRng;
use crate::slab::{Id, Slab};

/// Where a pod is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodState {
    /// Created, processes starting; receives no traffic.
    Starting,
    /// Receives traffic.
    Ready,
    /// Removed from the load balancer; finishing its requests.
    Terminating,
    /// Exited: every connection closed.
    Gone,
}

/// One pod.
#[derive(Debug)]
pub struct Pod {
    /// Which application version it runs (index into the scenario's versions).
    pub version: usize,
    /// The rollout that created it (Kubernetes' ReplicaSet): a deploy of the
    /// same version still replaces every pod.
    pub revision: u32,
    /// Life stage.
    pub state: PodState,
    /// Indices of its workers in the simulation's worker list.
    pub workers: Vec<u32>,
    /// Those of its workers whose process is up, in the same order: where
    /// its requests are dispatched. Kept by [`Simulation::set_alive`].
    ///
    /// [`Simulation::set_alive`]: super::Simulation::set_alive
    pub live_workers: Vec<u32>,
    /// Requests in flight on its workers.
    pub in_flight: u32,
    /// Bumped on every restart: events of an earlier life are ignored.
    pub epoch: u32,
    /// Its PgBouncer sidecar, while it runs.
    pub pooler: Option<Id>,
}

impl Pod {
    /// Starting or ready: part of the deployment's replica count.
    pub fn is_live(&self) -> bool {
        matches!(self.state, PodState::Starting | PodState::Ready)
    }
}

/// One worker process.
#[derive(Debug)]
pub struct Worker {
    /// The pod it runs in.
    pub pod: u32,
    /// Its position in the pod (0-based).
    pub index: u32,
    /// Its request pool, while the process runs.
    pub pool: Option<Id>,
    /// Every pool of its process (the request pool and job pools), in the
    /// order they were made: what its exit closes.
    pub pools: Vec<Id>,
    /// Whether the process is running.
    pub alive: bool,
    /// Bumped at every (re)start: events of an earlier process are ignored.
    pub epoch: u32,
    /// Stream for connection-setup times of its pools.
    pub setup_rng: SimRng,
}

/// The fleet's state: its pods, their worker processes and every
/// node-postgres pool of those processes.
#[derive(Default)]
pub(crate) struct Fleet {
    /// Every pod created so far, by id (ids are never reused).
    pub(crate) pods: Vec<Pod>,
    /// Every worker process, by index.
    pub(crate) workers: Vec<Worker>,
    /// The workers' pools: request pools and job pools.
    pub(crate) pools: Slab<Pool>,
}
