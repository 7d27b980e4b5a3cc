//! How idle clients leave a pool: evicted by `idleTimeoutMillis` (never
//! below `min`), terminated by the server's `idle_session_timeout`, or
//! closed once `maxLifetimeSeconds` passed.

use super::{Client, ClientState, Pool};
use crate::engine::SimTime;
use crate::slab::Id;

/// Why an idle client left the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdleExit {
    /// `idleTimeoutMillis` passed: the pool closed it.
    Evicted,
    /// `idle_session_timeout` passed: the server terminated it.
    Reaped,
}

impl Pool {
    /// When the idle client `c` leaves the pool, and why.
    fn idle_deadline(&self, c: &Client) -> Option<(SimTime, IdleExit)> {
        let evict = self
            .config
            .idle_timeout
            .filter(|_| c.evictable)
            .map(|t| (c.since + t, IdleExit::Evicted));
        let reap = self
            .server_idle_timeout
            .map(|t| (c.since + t, IdleExit::Reaped));
        match (evict, reap) {
            (Some(e), Some(r)) => Some(if r.0 < e.0 { r } else { e }),
            (e, r) => e.or(r),
        }
    }

    /// When the idle client `id` is due to leave, if ever.
    pub fn idle_deadline_of(&self, id: Id) -> Option<SimTime> {
        self.clients
            .get(id)
            .and_then(|c| self.idle_deadline(c))
            .map(|d| d.0)
    }

    /// The earliest time an idle client is due to leave.
    pub fn next_idle_deadline(&self) -> Option<SimTime> {
        self.idle
            .iter()
            .filter_map(|id| self.clients.get(id).and_then(|c| self.idle_deadline(c)))
            .map(|d| d.0)
            .min()
    }

    /// Remove the idle clients due by `now`, with the reason. An eviction
    /// that finds the pool at or below `min` keeps the client, for good
    /// (pg-pool's one-shot idle timer).
    pub fn take_due_idle(&mut self, now: SimTime) -> Vec<(Id, Client, IdleExit)> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(id) = self.idle.get(i) {
            let due = self
                .clients
                .get(id)
                .and_then(|c| self.idle_deadline(c))
                .filter(|d| d.0 <= now);
            match due {
                Some((_, IdleExit::Evicted)) if self.total() <= self.config.min => {
                    self.clients.get_mut(id).expect("idle client").evictable = false;
                    i += 1;
                }
                Some((_, exit)) => {
                    self.idle.remove(i);
                    let c = self.take(id).expect("idle client");
                    out.push((id, c, exit));
                }
                None => i += 1,
            }
        }
        out
    }

    /// `maxLifetimeSeconds` passed for a client: an idle one is closed at
    /// once (returned), any other is closed when released.
    pub fn expire(&mut self, id: Id) -> Option<Client> {
        let c = self.clients.get_mut(id)?;
        if c.state == ClientState::Idle {
            self.idle.remove_id(id);
            self.take(id)
        } else {
            c.expired = true;
            None
        }
    }
}
