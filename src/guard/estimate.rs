//! What running a scenario costs, estimated before it runs.
//!
//! The estimate counts work in *events*, the simulator's unit of work: a
//! request costs one arrival and two events per checkout (grant and hold
//! end, the connection steps amortised over the client's reuse); a job run
//! two events and two per connection (four with a new pool every run, whose
//! connections are opened each time); a sample one per pod (a `pods.csv`
//! row) and a tenth per worker (its pool is read); and the load balancer's
//! arrival streams are re-timed whenever a pod starts or stops, one event's
//! worth per pod.
//!
//! Memory and pending events count what is in the system at the *peak*:
//! the fleet, and the requests and job runs in flight. Below the pools'
//! capacity (connections ÷ hold time per request) that is Little's law,
//! rate × time in the system. Above it, the waiters' queue grows at the
//! excess rate until each waiter leaves, at its acquire timeout or its
//! client's deadline (when the handler stops with it) or at the end of the
//! run: about (rate − capacity) × that stay. Either way no more requests
//! can be in the system than arrive in the run. A waiter holds its timers
//! in the event queue (the acquire timeout, the client's deadline); a
//! request at work one event.

use crate::model::traffic::RateProfile;
use crate::scenario::{Action, App, JobPlacement, JobPoolMode, Scenario};

/// Events per second of one core, roughly (3.6 million requests of the
/// shipped 30-minute scenarios take 11 million events and 2 to 4 s).
pub const EVENTS_PER_SECOND: f64 = 3e6;

/// Bytes of memory per worker process (its pool and routing entries) and per
/// pod, measured on fleets of 10 000 to 40 000 workers.
pub(super) const BYTES_PER_WORKER: f64 = 1024.0;
pub(super) const BYTES_PER_POD: f64 = 512.0;
/// Bytes per request in flight (the request, its timers, its queue place).
pub(super) const BYTES_PER_REQUEST: f64 = 512.0;
/// Bytes per job run in flight and per connection it holds (the client,
/// its server session, a pool when every run has its own).
pub(super) const BYTES_PER_RUN: f64 = 512.0;
pub(super) const BYTES_PER_CONNECTION: f64 = 512.0;
/// The program itself, with empty tables.
pub(super) const BASE_BYTES: f64 = 8e6;
/// Bytes per sample of `timeseries.csv` and per pod of `pods.csv`
/// (measured: 152 and 37 on the shipped scenarios).
pub(super) const BYTES_PER_SERIES_ROW: f64 = 160.0;
pub(super) const BYTES_PER_POD_ROW: f64 = 40.0;
/// Bytes per sample of the OpenMetrics export, and per pod (measured: 5.3
/// kB a sample for one pod, 33 kB for 20).
const OPENMETRICS_BYTES_PER_SAMPLE: f64 = 5000.0;
const OPENMETRICS_BYTES_PER_POD: f64 = 1500.0;
/// Bytes per `trace.jsonl` line (measured: 112); a request writes one at
/// its arrival and end and two per checkout (grant, release), about 4.
pub(super) const BYTES_PER_TRACE_LINE: f64 = 120.0;

/// What a command writes (or keeps) of a run, for the output estimate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outputs {
    /// A row per sample and a row per pod and sample: the CSV files, or the
    /// snapshots and chart series kept in memory.
    pub rows: bool,
    /// The series in the OpenMetrics text format (an export, or the
    /// promtool input of `alerts`).
    pub openmetrics: bool,
    /// `trace.jsonl`: a line per step of every request and job run.
    pub trace: bool,
}

/// The estimated cost of running a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Requests expected to arrive.
    pub requests: f64,
    /// Events to handle, routing rebuilds and sample rows included.
    pub events: f64,
    /// Peak memory in bytes.
    pub memory_bytes: f64,
    /// Most events pending at once.
    pub peak_pending: f64,
    /// Bytes written (or kept) as [`Outputs`] says.
    pub output_bytes: f64,
}

impl Estimate {
    /// Computing time in seconds at [`EVENTS_PER_SECOND`].
    pub fn seconds(&self) -> f64 {
        self.events / EVENTS_PER_SECOND
    }
}

/// Requests of one version's app in the system at the peak rate.
struct InSystem {
    /// All of them: at work, holding a connection or waiting for one.
    requests: f64,
    /// Those waiting for a connection.
    waiting: f64,
}

/// Requests of `app` in the system at `rate`, of the `requests` that
/// arrive in the whole run (see the module doc).
fn requests_in_system(s: &Scenario, app: &App, rate: f64, requests: f64) -> InSystem {
    let r = &app.requests;
    let duration = s.duration.as_secs_f64();
    let per_request = f64::from(r.checkouts) * r.hold.mean();
    let pools = f64::from(s.fleet.pods) * f64::from(s.fleet.workers) * f64::from(app.pool.max);
    let connections = pools.min(f64::from(s.database.max_connections));
    let capacity = if per_request > 0.0 {
        connections / per_request
    } else {
        f64::INFINITY
    };
    let holding = (rate * per_request).min(connections);
    let working = rate * r.app_time.mean();
    let mut stay = duration;
    if let Some(t) = app.pool.acquire_timeout {
        stay = stay.min(t.as_secs_f64());
    }
    if r.cancel_on_abort && !r.deadline.is_never() {
        stay = stay.min(r.deadline.as_secs_f64());
    }
    let waiting = ((rate - capacity).max(0.0) * stay).min(requests);
    InSystem {
        requests: (holding + working + waiting).min(requests),
        waiting,
    }
}

/// Timers a waiting request holds in the event queue.
fn timers_per_waiter(app: &App) -> f64 {
    f64::from(u8::from(app.pool.acquire_timeout.is_some()))
        + f64::from(u8::from(!app.requests.deadline.is_never()))
}

/// What one version's job costs.
#[derive(Default)]
struct JobLoad {
    /// Runs over the whole run.
    runs: f64,
    /// The events they take.
    events: f64,
    /// Runs in flight at once.
    in_flight: f64,
}

/// What the job of `app`, if any, costs.
fn job_load(s: &Scenario, app: &App) -> JobLoad {
    let Some(j) = &app.job else {
        return JobLoad::default();
    };
    let (pods, workers) = (f64::from(s.fleet.pods), f64::from(s.fleet.workers));
    let duration = s.duration.as_secs_f64();
    let runners = match j.placement {
        JobPlacement::OneWorker => pods,
        JobPlacement::EveryWorker => pods * workers,
    };
    let rate = runners / j.period.as_secs_f64();
    let runs = rate * duration;
    let fan_out = f64::from(j.fan_out);
    let steps = match j.pool_mode {
        JobPoolMode::PerRun => 2.0 + 4.0 * fan_out,
        _ => 2.0 + 2.0 * fan_out,
    };
    // A run lasts its hold, or until it gives up waiting when the runs
    // want more connections than their pools have.
    let pool = match j.pool_mode {
        JobPoolMode::Shared => &app.pool,
        _ => &j.pool,
    };
    let connections = match j.pool_mode {
        JobPoolMode::PerRun => f64::INFINITY,
        JobPoolMode::Queue => pods,
        _ => runners * f64::from(pool.max),
    }
    .min(f64::from(s.database.max_connections));
    let hold = j.hold.mean();
    let mut length = hold;
    if rate * fan_out * hold > connections {
        length += pool.acquire_timeout.map_or(duration, |t| t.as_secs_f64());
    }
    let mut in_flight = (rate * length).min(runs);
    if !j.overlap {
        in_flight = in_flight.min(runners);
    }
    JobLoad {
        runs,
        events: runs * steps,
        in_flight,
    }
}

/// Estimate what running `s` costs, writing `outputs`.
pub fn estimate(s: &Scenario, outputs: Outputs) -> Estimate {
    let duration = s.duration.as_secs_f64();
    let (pods, workers) = (s.fleet.pods as f64, s.fleet.workers as f64);
    let profile = RateProfile::new(s.traffic.rate_points.clone());
    let requests = profile.cumulative(duration);
    let peak_rate = s
        .traffic
        .rate_points
        .iter()
        .map(|p| p.1)
        .fold(0.0, f64::max);
    let max_of = |f: &dyn Fn(&App) -> f64| s.versions.iter().map(|v| f(&v.app)).fold(0.0, f64::max);
    let checkouts = max_of(&|a| f64::from(a.requests.checkouts)).max(1.0);
    let in_system = |a: &App| requests_in_system(s, a, peak_rate, requests);
    let waiting_timers = max_of(&|a| in_system(a).waiting * timers_per_waiter(a));
    let in_system = max_of(&|a| in_system(a).requests);
    let job_runs = max_of(&|a| job_load(s, a).runs);
    let job_events = max_of(&|a| job_load(s, a).events);
    let runs_in_flight = max_of(&|a| job_load(s, a).in_flight);
    let fan_out = max_of(&|a| a.job.as_ref().map_or(0.0, |j| f64::from(j.fan_out)));
    let samples = (duration / s.sample_interval.as_secs_f64()).ceil();
    let pod_changes: f64 = s
        .events
        .iter()
        .map(|e| match e.action {
            Action::Deploy { .. } | Action::Rollback { .. } => 2.0 * pods,
            Action::Restart { .. } => 2.0,
            _ => 0.0,
        })
        .sum();
    // Each start or stop re-times every pod's stream; the fleet starts with one.
    let routing = (1.0 + pod_changes) * pods;
    let events = requests * (1.0 + 2.0 * checkouts)
        + job_events
        + samples * (pods + workers * pods / 10.0)
        + routing;
    // Per pod its arrival stream, per worker a pool timer (idle check or
    // job tick), per request at work a step, per waiter its timers, per job
    // run a step per connection.
    let peak_pending =
        pods + pods * workers + in_system + waiting_timers + runs_in_flight * (1.0 + fan_out);
    let mut output_bytes = 0.0;
    if outputs.rows {
        output_bytes += samples * (BYTES_PER_SERIES_ROW + pods * BYTES_PER_POD_ROW);
    }
    if outputs.openmetrics {
        output_bytes += samples * (OPENMETRICS_BYTES_PER_SAMPLE + pods * OPENMETRICS_BYTES_PER_POD);
    }
    if outputs.trace {
        output_bytes += BYTES_PER_TRACE_LINE
            * (requests * (2.0 + 2.0 * checkouts) + job_runs * (2.0 + 2.0 * fan_out));
    }
    Estimate {
        requests,
        events,
        memory_bytes: BASE_BYTES
            + pods * BYTES_PER_POD
            + pods * workers * BYTES_PER_WORKER
            + in_system * BYTES_PER_REQUEST
            + runs_in_flight * (BYTES_PER_RUN + fan_out * BYTES_PER_CONNECTION),
        peak_pending,
        output_bytes,
    }
}
