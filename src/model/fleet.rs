//! Pods and their worker processes. Each worker is a Node.js process with its
//! own request pool (pools cannot be shared across cluster workers).

use crate::engine::SimRng;
use crate::slab::Id;

/// One pod.
#[derive(Debug)]
pub struct Pod {
    /// Indices of its workers in the simulation's worker list.
    pub workers: Vec<u32>,
}

/// One worker process.
#[derive(Debug)]
pub struct Worker {
    /// The pod it runs in.
    pub pod: u32,
    /// Its request pool.
    pub pool: Id,
    /// Stream for connection-setup times of its pools.
    pub setup_rng: SimRng,
}
