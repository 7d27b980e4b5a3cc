//! The series the page's charts draw, gathered from a run's rows: one
//! column per line, the deploys and alerts to mark, and the cap.

use pooldrill_core::metrics::{IntervalHistograms, LogEntry, LogKind, PodRow, SeriesRow, Sink};
use pooldrill_core::scenario::Scenario;
use serde_json::{Value, json};

/// The rows' columns, in time order. `NaN` (JSON `null`) where an interval
/// had no acquire to take a percentile of.
#[derive(Default)]
pub struct ChartSink {
    time_s: Vec<f64>,
    db_occupied: Vec<u64>,
    request_pools: Vec<u64>,
    job_pools: Vec<u64>,
    leaked: Vec<u64>,
    acquire_timeouts: Vec<u64>,
    refusals: Vec<u64>,
    gave_up: Vec<u64>,
    app_errors: Vec<u64>,
    starved_requests: Vec<u64>,
    starved_jobs: Vec<u64>,
    wait_p50_s: Vec<Option<f64>>,
    wait_p95_s: Vec<Option<f64>>,
    wait_p99_s: Vec<Option<f64>>,
    markers: Vec<Value>,
}

impl Sink for ChartSink {
    fn series(&mut self, row: &SeriesRow, _: IntervalHistograms) -> std::io::Result<()> {
        self.time_s.push(row.time_s);
        self.db_occupied.push(row.db_occupied);
        self.request_pools.push(row.open_request_pools);
        self.job_pools.push(row.open_job_pools);
        self.leaked.push(row.open_leaked);
        self.acquire_timeouts.push(row.acquire_timeouts);
        self.refusals.push(row.refusals);
        self.gave_up.push(row.gave_up);
        self.app_errors.push(row.app_errors);
        self.starved_requests.push(row.starved_requests);
        self.starved_jobs.push(row.starved_jobs);
        self.wait_p50_s.push(row.wait_p50_s);
        self.wait_p95_s.push(row.wait_p95_s);
        self.wait_p99_s.push(row.wait_p99_s);
        Ok(())
    }

    fn pods(&mut self, _: &[PodRow]) -> std::io::Result<()> {
        Ok(())
    }

    fn event(&mut self, entry: &LogEntry) -> std::io::Result<()> {
        let kind = match entry.kind {
            LogKind::Deploy => "deploy",
            LogKind::Rollback => "rollback",
            LogKind::AlertFiring => "alert",
            LogKind::FirstRefusal => "event",
            _ => return Ok(()),
        };
        self.markers.push(json!({
            "t": entry.time_s,
            "kind": kind,
            "label": entry.version.clone().unwrap_or_else(|| entry.detail.clone()),
        }));
        Ok(())
    }
}

impl ChartSink {
    /// The charts' data: the columns, the markers, the database's
    /// `max_connections` and the slots an ordinary role can use.
    pub fn chart(self, scenario: &Scenario) -> Value {
        json!({
            "name": scenario.name,
            "duration_s": scenario.duration.as_secs_f64(),
            "sample_interval_s": scenario.sample_interval.as_secs_f64(),
            "max_connections": scenario.database.max_connections,
            "usable_slots": scenario.database.usable_slots(),
            "has_job": scenario.versions.iter().any(|v| v.app.job.is_some()),
            "time_s": self.time_s,
            "db_occupied": self.db_occupied,
            "request_pools": self.request_pools,
            "job_pools": self.job_pools,
            "leaked": self.leaked,
            "acquire_timeouts": self.acquire_timeouts,
            "refusals": self.refusals,
            "gave_up": self.gave_up,
            "app_errors": self.app_errors,
            "starved_requests": self.starved_requests,
            "starved_jobs": self.starved_jobs,
            "wait_p50_s": self.wait_p50_s,
            "wait_p95_s": self.wait_p95_s,
            "wait_p99_s": self.wait_p99_s,
            "markers": self.markers,
        })
    }
}
