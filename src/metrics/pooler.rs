//! What the PgBouncer sidecars record: how long transactions waited for a
//! server connection (reported apart from pg-pool's acquire waits, in
//! `summary.json`'s `pooler` section), and their logins to PostgreSQL.

use super::histogram::DurationHistogram;
use super::recorder::{AcquireEnd, AcquireTotals, STARVED_AFTER};
use super::summary::{AcquireSummary, ByClass, PoolerSummary, acquire_summary};
use crate::engine::SimTime;
use crate::model::caller::CallerClass;

/// Server waits and logins after the warm-up.
#[derive(Clone, Debug)]
pub struct PoolerRecorder {
    /// Waits by class: [requests, job].
    totals: [AcquireTotals; 2],
    waits: [DurationHistogram; 2],
    /// Server logins started.
    pub logins: u64,
    /// Of which PostgreSQL refused (53300).
    pub refused_logins: u64,
}

impl Default for PoolerRecorder {
    fn default() -> Self {
        PoolerRecorder {
            totals: Default::default(),
            waits: [DurationHistogram::new(3), DurationHistogram::new(3)],
            logins: 0,
            refused_logins: 0,
        }
    }
}

fn index(class: CallerClass) -> usize {
    match class {
        CallerClass::Request => 0,
        CallerClass::Job => 1,
    }
}

impl PoolerRecorder {
    /// A transaction waited `wait` for a server connection (`queued`: it
    /// found none idle), and got one (`Served`) or timed out.
    pub fn record(&mut self, class: CallerClass, wait: SimTime, queued: bool, end: AcquireEnd) {
        let k = index(class);
        self.waits[k].record(wait);
        let t = &mut self.totals[k];
        t.count += 1;
        t.waited += u64::from(wait > SimTime::ZERO);
        t.found_full += u64::from(queued);
        t.starved += u64::from(end != AcquireEnd::Served || wait > STARVED_AFTER);
        t.timed_out += u64::from(end == AcquireEnd::QueueTimeout);
    }

    /// The `pooler` section of the summary.
    pub fn summary(&self, pool_size: u32) -> PoolerSummary {
        let [req, job] = &self.totals;
        let mut all = req.clone();
        all.merge(job);
        let mut all_waits = self.waits[0].clone();
        all_waits.merge(&self.waits[1]);
        let waits: AcquireSummary = acquire_summary(&all, &all_waits);
        PoolerSummary {
            pool_size,
            waits,
            waits_by_class: ByClass {
                request: acquire_summary(req, &self.waits[0]),
                job: acquire_summary(job, &self.waits[1]),
            },
            logins: self.logins,
            refused_logins: self.refused_logins,
        }
    }
}
