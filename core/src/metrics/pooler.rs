//! What the PgBouncer sidecars record: how long transactions waited for a
//! server connection (reported apart from pg-pool's acquire waits, in
//! `summary.json`'s `pooler` section), and their logins to PostgreSQL —
//! counted after the warm-up like every summary counter, and during it
//! apart (sidecars log in when they first get work, often all in the
//! warm-up).

use super::histogram::DurationHistogram;
use super::recorder::{AcquireEnd, AcquireTotals, STARVED_AFTER};
use super::summary::{AcquireSummary, ByClass, PoolerSummary, acquire_summary};
use crate::caller_class::CallerClass;
use crate::engine::SimTime;

/// Server waits and logins after the warm-up.
#[derive(Clone, Debug)]
pub struct PoolerRecorder {
    /// Waits by class: [requests, job].
    totals: [AcquireTotals; 2],
    waits: [DurationHistogram; 2],
    /// Server logins started after the warm-up.
    logins: u64,
    /// Of which PostgreSQL refused (53300).
    refused_logins: u64,
    /// Server logins started during the warm-up.
    warmup_logins: u64,
    /// Of which PostgreSQL refused.
    warmup_refused_logins: u64,
}

impl Default for PoolerRecorder {
    fn default() -> Self {
        PoolerRecorder {
            totals: Default::default(),
            waits: [DurationHistogram::new(3), DurationHistogram::new(3)],
            logins: 0,
            refused_logins: 0,
            warmup_logins: 0,
            warmup_refused_logins: 0,
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
    /// A server login started; `counted`: after the warm-up.
    pub fn login(&mut self, counted: bool) {
        if counted {
            self.logins += 1;
        } else {
            self.warmup_logins += 1;
        }
    }

    /// PostgreSQL refused a login; `counted`: after the warm-up.
    pub fn refused_login(&mut self, counted: bool) {
        if counted {
            self.refused_logins += 1;
        } else {
            self.warmup_refused_logins += 1;
        }
    }

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
            warmup_logins: self.warmup_logins,
            warmup_refused_logins: self.warmup_refused_logins,
        }
    }
}
