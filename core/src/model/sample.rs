//! Sampling: the fleet's gauges and pod rows at the end of each interval.

use super::Simulation;
use super::pool::PoolKind;
use crate::engine::SimTime;
use crate::metrics::{Gauges, PodRow, Sink};

impl Simulation<'_> {
    /// Fleet gauges and pod rows at `now`, handed to the recorder.
    pub(super) fn sample(&mut self, now: SimTime, sink: &mut dyn Sink) -> std::io::Result<()> {
        if sink.wants_workers() {
            let rows: Vec<crate::metrics::WorkerRow> = self
                .fleet
                .workers
                .iter()
                .filter_map(|w| {
                    let pool = self.fleet.pools.get(w.pool?)?;
                    Some(crate::metrics::WorkerRow {
                        time_s: now.as_secs_f64(),
                        pod: w.pod,
                        worker: w.index,
                        total: pool.total(),
                        idle: pool.idle_count(),
                        waiting: pool.waiting(),
                        max: pool.config.max,
                    })
                })
                .collect();
            sink.workers(&rows)?;
        }
        let mut g = Gauges {
            db_occupied: self.server.db.occupied() as u64,
            ..Gauges::default()
        };
        let mut pod_rows: Vec<PodRow> = self
            .fleet
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| PodRow {
                time_s: now.as_secs_f64(),
                pod: i as u32,
                version: self.scenario.versions[p.version].name.clone(),
                state: format!("{:?}", p.state).to_lowercase(),
                ..PodRow::default()
            })
            .collect();
        let mut pod_idle = vec![0u32; self.fleet.pods.len()];
        for (_, pool) in self.fleet.pools.iter() {
            let leaked = pool.leaked_sessions() as u64;
            let own = pool.sessions() as u64 - leaked;
            match pool.kind {
                PoolKind::Requests => g.open_request_pools += own,
                PoolKind::Job => g.open_job_pools += own,
            }
            g.open_leaked += leaked;
            g.connecting += pool.connecting() as u64;
            g.checked_out += pool.checked_out() as u64;
            g.idle += pool.idle_count() as u64;
            g.waiters += pool.waiting() as u64;
            g.pools_starving += u64::from(pool.waiting() > 0);
            let pod = self.fleet.workers[pool.worker as usize].pod as usize;
            let Some(row) = pod_rows.get_mut(pod) else {
                continue;
            };
            row.open += pool.total();
            row.checked_out += pool.checked_out();
            row.waiters += pool.waiting();
            row.capacity += pool.config.max;
            pod_idle[pod] += pool.idle_count();
        }
        for (row, idle) in pod_rows.iter_mut().zip(pod_idle) {
            row.utilisation = if row.capacity > 0 {
                (row.open - idle) as f64 / row.capacity as f64
            } else {
                0.0
            };
        }
        for (_, pooler) in self.sidecars.poolers.iter() {
            let pinned = pooler.pinned() as u64;
            g.open_request_pools += pooler.sessions() as u64 - pinned;
            g.open_leaked += pinned;
            g.connecting += u64::from(pooler.logging_in());
        }
        pod_rows.retain(|r| r.state != "gone");
        g.pool_utilisation_max = self
            .fleet
            .pools
            .iter()
            .map(|(_, p)| (p.total() - p.idle_count()) as f64 / p.config.max as f64)
            .fold(0.0, f64::max);
        g.pools = self.fleet.pools.len() as u64;
        self.rec.sample(now, &g, &pod_rows, sink)
    }
}
