//! Rows of the time series, produced once per sample interval, and the sink
//! that receives them as they are produced.

use super::histogram::DurationHistogram;
use super::log_kind::LogKind;
use serde::Serialize;

/// One row of `timeseries.csv`: counts over the interval ending at `time_s`,
/// percentiles over the acquires and answers of that interval, and gauges
/// read at `time_s`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SeriesRow {
    /// End of the interval, seconds from the start.
    pub time_s: f64,
    /// Requests that arrived.
    pub arrivals: u64,
    /// Handlers that finished their work (throughput).
    pub completed: u64,
    /// Answers given before the client's deadline.
    pub goodput: u64,
    /// Handlers failed by an acquire timeout (either message).
    pub acquire_timeouts: u64,
    /// Handlers failed by a database refusal (53300).
    pub refusals: u64,
    /// Clients that left at their deadline.
    pub gave_up: u64,
    /// Handlers failed for reasons unrelated to the pool.
    pub app_errors: u64,
    /// Client-visible outcomes: answers and give-ups.
    pub answered: u64,
    /// Client-visible failures: error answers and give-ups.
    pub failed: u64,
    /// `failed / answered`.
    pub error_rate: Option<f64>,
    /// Acquires that ended.
    pub acquires: u64,
    /// Sum of their waits (s): `wait_sum_s / acquires` is the mean wait.
    pub wait_sum_s: f64,
    /// Acquire wait, 50th percentile (s).
    pub wait_p50_s: Option<f64>,
    /// Acquire wait, 95th percentile (s).
    pub wait_p95_s: Option<f64>,
    /// Acquire wait, 99th percentile (s).
    pub wait_p99_s: Option<f64>,
    /// Client-observed latency, 50th percentile (s).
    pub latency_p50_s: Option<f64>,
    /// Client-observed latency, 95th percentile (s).
    pub latency_p95_s: Option<f64>,
    /// Client-observed latency, 99th percentile (s).
    pub latency_p99_s: Option<f64>,
    /// Server slots held by request pools.
    pub open_request_pools: u64,
    /// Server slots held by job pools.
    pub open_job_pools: u64,
    /// Server slots held by leaked clients.
    pub open_leaked: u64,
    /// Every slot taken on the server, other clients included.
    pub db_occupied: u64,
    /// Handshakes in progress.
    pub connecting: u64,
    /// Clients held by callers.
    pub checked_out: u64,
    /// Idle clients.
    pub idle: u64,
    /// Callers waiting for a client.
    pub waiters: u64,
    /// Pools with callers waiting and nothing to give them.
    pub pools_starving: u64,
    /// Pools in the fleet.
    pub pools: u64,
    /// The busiest pool's (totalCount − idleCount) / max.
    pub pool_utilisation_max: f64,
    /// Request acquires that waited over 100 ms or failed.
    pub starved_requests: u64,
    /// Job acquires that waited over 100 ms or failed.
    pub starved_jobs: u64,
    /// Job runs started.
    pub job_runs: u64,
    /// Connections leaked in the interval.
    pub leaked: u64,
    /// Connections leaked since the start.
    pub leaked_cumulative: u64,
    /// Connection time (s) held by the handlers that completed in the
    /// interval after their client had left: every checkout of each, from
    /// checkout to release (wasted work, in connection-seconds).
    pub wasted_connection_s: f64,
    /// retry: attempts started, first attempts included (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u64>,
    /// retry: retries started (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
}

/// One row of `pods.csv`: one pod at one sampling instant.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PodRow {
    /// Sampling instant, seconds from the start.
    pub time_s: f64,
    /// Pod number (never reused).
    pub pod: u32,
    /// The version it runs.
    pub version: String,
    /// `starting`, `ready` or `terminating`.
    pub state: String,
    /// Clients the pod's pools count (pg-pool `totalCount`, summed).
    pub open: u32,
    /// Clients held by callers.
    pub checked_out: u32,
    /// Callers waiting.
    pub waiters: u32,
    /// Sum of the pools' `max`.
    pub capacity: u32,
    /// (open − idle) / capacity: pg-pool's usual utilisation metric.
    pub utilisation: f64,
}

/// One worker's request pool at one sampling instant: the gauges a
/// node-postgres user exports (`totalCount`, `idleCount`, `waitingCount`).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct WorkerRow {
    /// Sampling instant, seconds from the start.
    pub time_s: f64,
    /// Pod number.
    pub pod: u32,
    /// Worker number within the pod.
    pub worker: u32,
    /// `totalCount`: connecting, idle, checked out and leaked clients.
    pub total: u32,
    /// `idleCount`.
    pub idle: u32,
    /// `waitingCount`.
    pub waiting: u32,
    /// The pool's `max`.
    pub max: u32,
}

/// One line of the event log (`events.csv`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LogEntry {
    /// Seconds from the start.
    pub time_s: f64,
    /// Wall-clock time (with `meta.start`) or time from the start.
    pub clock: String,
    /// What happened.
    pub kind: LogKind,
    /// The pod concerned, if one.
    pub pod: Option<u32>,
    /// Details in words.
    pub detail: String,
    /// The version a deploy or rollback moves to. Not a column of
    /// `events.csv`: the detail names it.
    #[serde(skip)]
    pub version: Option<String>,
}

/// The histograms of one sample interval.
#[derive(Clone, Copy)]
pub struct IntervalHistograms<'a> {
    /// Waits of every acquire that ended in the interval.
    pub waits: &'a DurationHistogram,
    /// Client-observed latencies of every answer and give-up in it.
    pub latencies: &'a DurationHistogram,
}

/// Where rows go as they are produced.
pub trait Sink {
    /// One interval's row, with the interval's histograms.
    fn series(&mut self, row: &SeriesRow, hists: IntervalHistograms) -> std::io::Result<()>;
    /// Every pod's row at the same instant.
    fn pods(&mut self, rows: &[PodRow]) -> std::io::Result<()>;
    /// One line of the event log.
    fn event(&mut self, _entry: &LogEntry) -> std::io::Result<()> {
        Ok(())
    }
    /// Every live worker's request pool at the same instant. Only sinks that
    /// want them say so (building the rows costs a pass over the pools).
    fn wants_workers(&self) -> bool {
        false
    }
    /// The rows asked for by [`wants_workers`](Self::wants_workers).
    fn workers(&mut self, _rows: &[WorkerRow]) -> std::io::Result<()> {
        Ok(())
    }
}

/// Several sinks fed the same rows.
pub struct Tee<'a>(pub Vec<&'a mut dyn Sink>);

impl Sink for Tee<'_> {
    fn series(&mut self, row: &SeriesRow, hists: IntervalHistograms) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.series(row, hists))
    }
    fn pods(&mut self, rows: &[PodRow]) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.pods(rows))
    }
    fn event(&mut self, entry: &LogEntry) -> std::io::Result<()> {
        self.0.iter_mut().try_for_each(|s| s.event(entry))
    }
    fn wants_workers(&self) -> bool {
        self.0.iter().any(|s| s.wants_workers())
    }
    fn workers(&mut self, rows: &[WorkerRow]) -> std::io::Result<()> {
        self.0
            .iter_mut()
            .filter(|s| s.wants_workers())
            .try_for_each(|s| s.workers(rows))
    }
}

/// A sink that keeps only the event log.
#[derive(Default)]
pub struct EventSink(pub Vec<LogEntry>);

impl Sink for EventSink {
    fn series(&mut self, _: &SeriesRow, _: IntervalHistograms) -> std::io::Result<()> {
        Ok(())
    }
    fn pods(&mut self, _: &[PodRow]) -> std::io::Result<()> {
        Ok(())
    }
    fn event(&mut self, entry: &LogEntry) -> std::io::Result<()> {
        self.0.push(entry.clone());
        Ok(())
    }
}

/// A sink that keeps nothing (summary-only runs: replications, sweeps).
pub struct NullSink;

impl Sink for NullSink {
    fn series(&mut self, _: &SeriesRow, _: IntervalHistograms) -> std::io::Result<()> {
        Ok(())
    }
    fn pods(&mut self, _: &[PodRow]) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink that keeps everything in memory (tests).
#[derive(Default)]
pub struct MemorySink {
    /// The series rows in order.
    pub rows: Vec<SeriesRow>,
    /// The pod rows in order.
    pub pods: Vec<PodRow>,
    /// The event log in order.
    pub events: Vec<LogEntry>,
}

impl Sink for MemorySink {
    fn series(&mut self, row: &SeriesRow, _: IntervalHistograms) -> std::io::Result<()> {
        self.rows.push(row.clone());
        Ok(())
    }
    fn pods(&mut self, rows: &[PodRow]) -> std::io::Result<()> {
        self.pods.extend_from_slice(rows);
        Ok(())
    }
    fn event(&mut self, entry: &LogEntry) -> std::io::Result<()> {
        self.events.push(entry.clone());
        Ok(())
    }
}
