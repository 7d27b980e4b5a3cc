//! The model's invariants, checked after every event (the cheap ones, with
//! `check_invariants`), at every sample and at the end of every run, and
//! the running counts they balance ([`Books`]). A failure is a bug in the
//! model.

use super::{RunError, Simulation};

/// Running counts kept beside the recorder: what the invariants balance,
/// and which firsts the event log has had.
#[derive(Default)]
pub(crate) struct Books {
    /// Whether the first refusal and the first acquire timeout were logged.
    pub(crate) first_logged: (bool, bool),
    /// Handlers still running, of requests that count in the summary.
    pub(crate) counted_in_flight: u64,
    /// Of those, the ones whose client still waits.
    pub(crate) counted_clients_waiting: u64,
    /// Leaked clients closed because their process exited, and how many of
    /// them still held a server session (the leak invariant).
    pub(crate) leaks_closed: (u64, u64),
    /// Leaked sessions the server killed.
    pub(crate) leaks_reaped: u64,
}

impl Simulation<'_> {
    pub(super) fn broken<T>(&self, what: String) -> Result<T, RunError> {
        Err(RunError::Invariant {
            at: self.sched.now(),
            what,
        })
    }

    /// The invariants that cost O(1): checked after every event with
    /// `check_invariants`.
    pub fn check_cheap_invariants(&self) -> Result<(), RunError> {
        let settings = &self.server.db.settings;
        if self.server.db.occupied() > settings.max_connections {
            return self.broken(format!(
                "{} server slots taken, max_connections is {}",
                self.server.db.occupied(),
                settings.max_connections
            ));
        }
        if self.server.db.established() + settings.other_clients > settings.usable_slots() {
            return self.broken(format!(
                "{} established connections exceed the {} usable slots",
                self.server.db.established() + settings.other_clients,
                settings.usable_slots()
            ));
        }
        for (name, level) in [
            ("open", &self.rec.open),
            ("checked-out", &self.rec.checked_out),
        ] {
            if level.value() < 0 {
                return self.broken(format!("{} {name} connections", level.value()));
            }
        }
        if self.server.db.app_backends() as i64 != self.rec.open.value() {
            return self.broken(format!(
                "the server counts {} application backends, the recorder {}",
                self.server.db.app_backends(),
                self.rec.open.value()
            ));
        }
        let t = &self.rec.whole().totals;
        let arrived = self.rec.arrived();
        // retry: requests waiting out a backoff, in both partitions.
        let in_backoff = self.retry.as_ref().map_or(0, |r| r.in_backoff);
        let ended = t.handlers_ended();
        if arrived != ended + self.books.counted_in_flight + in_backoff {
            return self.broken(format!(
                "arrived {} ≠ ended {ended} + in flight {} + in backoff {in_backoff}",
                arrived, self.books.counted_in_flight
            ));
        }
        let answered = t.clients_resolved();
        if arrived != answered + self.books.counted_clients_waiting + in_backoff {
            return self.broken(format!(
                "arrived {} ≠ answered {answered} + clients waiting {} + in backoff {in_backoff}",
                arrived, self.books.counted_clients_waiting
            ));
        }
        Ok(())
    }

    /// Every invariant, the O(pools) ones included: checked at every sample
    /// and at the end of every run. A failure is a bug in the model.
    pub fn check_invariants(&self) -> Result<(), RunError> {
        self.check_cheap_invariants()?;
        for (p, pod) in self.fleet.pods.iter().enumerate() {
            let live = pod
                .workers
                .iter()
                .filter(|&&w| self.fleet.workers[w as usize].alive);
            if !live.eq(pod.live_workers.iter()) {
                return self.broken(format!("pod {p}'s list of live workers is stale"));
            }
        }
        let mut sessions = 0u64;
        let mut checked_out = 0u64;
        let (mut leaked, mut leaked_sessions) = (0u64, 0u64);
        let listed: usize = self.fleet.workers.iter().map(|w| w.pools.len()).sum();
        if listed != self.fleet.pools.len() {
            return self.broken(format!(
                "the workers list {listed} pools, the pool table holds {}",
                self.fleet.pools.len()
            ));
        }
        for (id, pool) in self.fleet.pools.iter() {
            if !self.fleet.workers[pool.worker as usize].pools.contains(&id) {
                return self.broken(format!(
                    "a pool is missing from worker {}'s list",
                    pool.worker
                ));
            }
            if pool.total() > pool.config.max {
                return self.broken(format!(
                    "a pool holds {} clients, max {}",
                    pool.total(),
                    pool.config.max
                ));
            }
            if let Some(k) = pool.config.job_limit
                && pool.job_held() > k
            {
                return self.broken(format!(
                    "the job holds {} clients of a pool, job_limit {k}",
                    pool.job_held()
                ));
            }
            sessions += pool.sessions() as u64;
            checked_out += pool.checked_out() as u64;
            leaked += pool.leaked() as u64;
            leaked_sessions += pool.leaked_sessions() as u64;
        }
        // A leaked client leaves its pool only when its process exits, and
        // its PostgreSQL session ends only then or when the server reaps it
        // (behind a sidecar, clients hold no PostgreSQL session of their own).
        let ever = self.rec.leaked_cumulative;
        let (closed, closed_sessions) = self.books.leaks_closed;
        let sessions_ok = self.scenario.pooler.is_some()
            || leaked_sessions + closed_sessions + self.books.leaks_reaped == ever;
        if leaked + closed != ever || !sessions_ok {
            return self.broken(format!(
                "{ever} clients leaked: {leaked} still in their pools ({leaked_sessions} with a session), {closed} closed by a process exit ({closed_sessions} with a session), {} sessions reaped",
                self.books.leaks_reaped
            ));
        }
        for (_, pooler) in self.sidecars.poolers.iter() {
            if pooler.total() > pooler.config.pool_size {
                return self.broken(format!(
                    "a sidecar holds {} server connections, pool_size {}",
                    pooler.total(),
                    pooler.config.pool_size
                ));
            }
            let counted = pooler.active()
                + pooler.pinned()
                + pooler.idle_count()
                + u32::from(pooler.logging_in());
            if counted != pooler.total() {
                return self.broken(format!(
                    "a sidecar counts {counted} server connections by state, {} in all",
                    pooler.total()
                ));
            }
            sessions += pooler.sessions() as u64;
        }
        if let Some((pod, sidecar, callers)) = self.server_waiters_disagree() {
            return self.broken(format!(
                "the sidecar of pod {pod} counts {sidecar} waiting transactions, its callers {callers}"
            ));
        }
        if sessions != self.server.db.app_backends() as u64 {
            return self.broken(format!(
                "pools hold {sessions} sessions, the server counts {}",
                self.server.db.app_backends()
            ));
        }
        if checked_out as i64 != self.rec.checked_out.value() {
            return self.broken(format!(
                "pools have {checked_out} clients checked out, the recorder counts {}",
                self.rec.checked_out.value()
            ));
        }
        Ok(())
    }
}
