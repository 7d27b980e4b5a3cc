//! Aggregating sample intervals over a time window the way PromQL would:
//! counters become rates, ratios are ratios of sums, gauges are averaged,
//! quantiles come from summed histogram buckets (`histogram_quantile`).
//! Used by alert rules and by calibration targets.

use super::buckets::histogram_quantile;
use super::series::SeriesRow;
use crate::engine::SimTime;
use crate::scenario::AlertMetric;

/// Bucket counts of one interval over `WAIT_BOUNDS_S` (+Inf): acquire waits
/// and client latencies.
#[derive(Clone, Debug, Default)]
pub struct Buckets {
    /// Acquire waits.
    pub waits: Vec<u64>,
    /// Client-observed latencies.
    pub latencies: Vec<u64>,
}

/// One sample interval, as window aggregates need it.
#[derive(Clone, Debug)]
pub struct WindowRow {
    /// End of the interval.
    pub end: SimTime,
    length_s: f64,
    row: SeriesRow,
    buckets: Buckets,
}

impl WindowRow {
    /// The interval `(end − length, end]`.
    pub fn new(end: SimTime, length: SimTime, row: &SeriesRow, buckets: Buckets) -> WindowRow {
        WindowRow {
            end,
            length_s: length.as_secs_f64(),
            row: row.clone(),
            buckets,
        }
    }
}

/// The metric over the window's rows; `None` when undefined (no data, or a
/// ratio over nothing).
pub fn metric(m: AlertMetric, rows: &[&WindowRow], max_connections: f64) -> Option<f64> {
    if rows.is_empty() {
        return None;
    }
    let seconds: f64 = rows.iter().map(|w| w.length_s).sum();
    let sum = |f: &dyn Fn(&SeriesRow) -> f64| rows.iter().map(|w| f(&w.row)).sum::<f64>();
    let mean = |f: &dyn Fn(&SeriesRow) -> f64| sum(f) / rows.len() as f64;
    let ratio = |num: f64, den: f64| (den > 0.0).then(|| num / den);
    let quantile = |q: f64, pick: fn(&Buckets) -> &[u64]| {
        let mut counts = vec![0u64; pick(&rows[0].buckets).len()];
        for w in rows {
            for (c, b) in counts.iter_mut().zip(pick(&w.buckets)) {
                *c += b;
            }
        }
        histogram_quantile(q, &counts)
    };
    let waits: fn(&Buckets) -> &[u64] = |b| &b.waits;
    let latencies: fn(&Buckets) -> &[u64] = |b| &b.latencies;
    match m {
        AlertMetric::ErrorRate => ratio(sum(&|r| r.failed as f64), sum(&|r| r.answered as f64)),
        AlertMetric::RefusalsPerS => Some(sum(&|r| r.refusals as f64) / seconds),
        AlertMetric::AcquireTimeoutsPerS => Some(sum(&|r| r.acquire_timeouts as f64) / seconds),
        AlertMetric::ExhaustionFailuresPerS => {
            Some(sum(&|r| (r.refusals + r.acquire_timeouts) as f64) / seconds)
        }
        AlertMetric::RequestsPerS => Some(sum(&|r| r.arrivals as f64) / seconds),
        AlertMetric::WaitMeanS => ratio(sum(&|r| r.wait_sum_s), sum(&|r| r.acquires as f64)),
        AlertMetric::WaitP50S => quantile(0.50, waits),
        AlertMetric::WaitP95S => quantile(0.95, waits),
        AlertMetric::WaitP99S => quantile(0.99, waits),
        AlertMetric::LatencyP50S => quantile(0.50, latencies),
        AlertMetric::LatencyP95S => quantile(0.95, latencies),
        AlertMetric::LatencyP99S => quantile(0.99, latencies),
        AlertMetric::OpenConnections => Some(mean(&|r| {
            (r.open_request_pools + r.open_job_pools + r.open_leaked) as f64
        })),
        AlertMetric::DbUtilisation => Some(mean(&|r| r.db_occupied as f64) / max_connections),
        AlertMetric::PoolUtilisation => Some(mean(&|r| r.pool_utilisation_max)),
        AlertMetric::Waiters => Some(mean(&|r| r.waiters as f64)),
        AlertMetric::OpenLeaked => Some(mean(&|r| r.open_leaked as f64)),
    }
}
