//! The builders of `summary.json`'s `requests`, `acquire` and
//! `connections` sections from their accumulators: used for the whole run
//! and for each window (`windows.json`).

use super::retry::RetryCounters;
use super::summary::{
    AcquireSummary, ByClass, ConnectionSummary, RequestSummary, acquire_summary_with_unfinished,
    opt,
};
use super::tally::Tally;
use crate::scenario::Scenario;

/// The `requests` section of the requests in `t`; `[in flight, clients
/// waiting]` at the end; the retry counters and the requests waiting out a
/// backoff, with `[retry]`.
pub(crate) fn request_summary(
    scenario: &Scenario,
    t: &Tally,
    [in_flight, clients_waiting]: [u64; 2],
    retry: Option<(&RetryCounters, u64)>,
) -> RequestSummary {
    let latency = &t.latency;
    let t = &t.totals;
    let [p50_latency_s, p95_latency_s, p99_latency_s] =
        latency.quantiles_secs([0.50, 0.95, 0.99]).map(opt);
    let resolved = t.clients_resolved();
    RequestSummary {
        arrived: t.arrived,
        completed: t.completed,
        goodput: t.goodput,
        acquire_timeouts: t.queue_timeouts + t.connect_timeouts,
        queue_timeouts: t.queue_timeouts,
        connect_timeouts: t.connect_timeouts,
        refused: t.refused,
        app_errors: t.app_errors,
        unavailable: t.unavailable,
        cancelled: t.cancelled,
        pooler_timeouts: scenario.pooler.as_ref().map(|_| t.pooler_timeouts),
        in_flight,
        gave_up: t.gave_up,
        errors: t.client_errors,
        wasted: t.wasted,
        wasted_connection_s: t.wasted_held_ns as f64 / 1e9,
        clients_waiting,
        in_backoff: retry.map(|(_, n)| n),
        attempts: retry.map(|(r, _)| r.attempts),
        retries: retry.map(|(r, _)| r.retries),
        retries_dropped: retry.map(|(r, _)| r.retries_dropped),
        amplification: retry.map(|(r, _)| r.attempts as f64 / t.arrived.max(1) as f64),
        error_rate: if resolved > 0 {
            (t.client_errors + t.gave_up) as f64 / resolved as f64
        } else {
            0.0
        },
        p50_latency_s,
        p95_latency_s,
        p99_latency_s,
        mean_latency_s: opt(latency.mean_secs()),
    }
}

/// The `acquire` and `acquire_by_class` sections of the acquires in `t`.
pub(crate) fn acquire_sections(t: &Tally) -> (AcquireSummary, ByClass) {
    let mut all_waits = t.waits[0].clone();
    all_waits.merge(&t.waits[1]);
    let [req, job] = &t.totals.acquires;
    let mut all = req.clone();
    all.merge(job);
    let [req_unfinished, job_unfinished] = &t.totals.unfinished;
    let mut all_unfinished = req_unfinished.clone();
    all_unfinished.merge(job_unfinished);
    (
        acquire_summary_with_unfinished(&all, &all_waits, &all_unfinished),
        ByClass {
            request: acquire_summary_with_unfinished(req, &t.waits[0], req_unfinished),
            job: acquire_summary_with_unfinished(job, &t.waits[1], job_unfinished),
        },
    )
}

/// The `connections` section: the peak and the `[open, checked out]`
/// means measured, the leaks counted, the scenario's slots.
pub(crate) fn connection_summary(
    scenario: &Scenario,
    peak_open: i64,
    [mean_open, mean_checked_out]: [f64; 2],
    leaked: u64,
    peak_db_occupied: u32,
) -> ConnectionSummary {
    ConnectionSummary {
        peak_open: peak_open.max(0) as u64,
        mean_open,
        mean_checked_out,
        leaked,
        usable_slots: scenario.database.usable_slots(),
        other_clients: scenario.database.other_clients,
        max_connections: scenario.database.max_connections,
        possible: scenario.possible_connections(),
        peak_db_occupied,
    }
}
