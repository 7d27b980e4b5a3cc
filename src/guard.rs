//! Resource guards: a scenario's cost estimated before it runs, and refused
//! when it would run for hours, exhaust memory, pile up more pending events
//! than the event queue holds, or write more than `--max-output`;
//! `--force` skips these checks. The event queue's own limit still holds at
//! run time: a run that reaches it stops with an error.
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

use crate::engine::scheduler::MAX_PENDING;
use crate::model::RunError;
use crate::model::traffic::RateProfile;
use crate::scenario::{Action, App, JobPlacement, JobPoolMode, Scenario};
use std::fmt;

/// Events per second of one core, roughly (3.6 million requests of the
/// shipped 30-minute scenarios take 11 million events and 2 to 4 s).
pub const EVENTS_PER_SECOND: f64 = 3e6;

/// Bytes of memory per worker process (its pool and routing entries) and per
/// pod, measured on fleets of 10 000 to 40 000 workers.
const BYTES_PER_WORKER: f64 = 1024.0;
const BYTES_PER_POD: f64 = 512.0;
/// Bytes per request in flight (the request, its timers, its queue place).
const BYTES_PER_REQUEST: f64 = 512.0;
/// Bytes per job run in flight and per connection it holds (the client,
/// its server session, a pool when every run has its own).
const BYTES_PER_RUN: f64 = 512.0;
const BYTES_PER_CONNECTION: f64 = 512.0;
/// The program itself, with empty tables.
const BASE_BYTES: f64 = 8e6;
/// Bytes per sample of `timeseries.csv` and per pod of `pods.csv`
/// (measured: 152 and 37 on the shipped scenarios).
const BYTES_PER_SERIES_ROW: f64 = 160.0;
const BYTES_PER_POD_ROW: f64 = 40.0;
/// Bytes per sample of the OpenMetrics export, and per pod (measured: 5.3
/// kB a sample for one pod, 33 kB for 20).
const OPENMETRICS_BYTES_PER_SAMPLE: f64 = 5000.0;
const OPENMETRICS_BYTES_PER_POD: f64 = 1500.0;
/// Bytes per `trace.jsonl` line (measured: 112); a request writes one at
/// its arrival and end and two per checkout (grant, release), about 4.
const BYTES_PER_TRACE_LINE: f64 = 120.0;

/// Default limits: a few minutes of computing, a few GB of memory and of
/// output.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_events: 1_000_000_000,
    max_memory_bytes: 4_000_000_000,
    max_output_bytes: 4_000_000_000,
};

/// What a run is allowed to cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Most events (see the module doc); `--max-events` sets it.
    pub max_events: u64,
    /// Most memory, in bytes.
    pub max_memory_bytes: u64,
    /// Most bytes of output; `--max-output` sets it.
    pub max_output_bytes: u64,
}

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

/// Refuse `s`, read from `file`, if its estimate is over `limits` (or its
/// peak pending events over the event queue's limit). `concurrent` runs
/// of it at once need that many times its memory.
pub fn check(
    file: &str,
    s: &Scenario,
    outputs: Outputs,
    limits: Limits,
    concurrent: usize,
) -> Result<Estimate, Box<TooBig>> {
    let mut estimate = estimate(s, outputs);
    estimate.memory_bytes *= concurrent.max(1) as f64;
    let over = Over {
        events: estimate.events > limits.max_events as f64,
        memory: estimate.memory_bytes > limits.max_memory_bytes as f64,
        pending: estimate.peak_pending > MAX_PENDING as f64,
        output: estimate.output_bytes > limits.max_output_bytes as f64,
    };
    if over.events || over.memory || over.pending || over.output {
        return Err(Box::new(TooBig {
            file: file.to_owned(),
            scenario: s.name.clone(),
            estimate,
            limits,
            concurrent,
            over,
        }));
    }
    Ok(estimate)
}

/// Which limits an estimate is over.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Over {
    /// Too many events.
    pub events: bool,
    /// Too much memory.
    pub memory: bool,
    /// More events pending at once than the event queue holds.
    pub pending: bool,
    /// Too much output.
    pub output: bool,
}

/// A scenario refused by [`check`].
#[derive(Debug, thiserror::Error)]
pub struct TooBig {
    /// The file it was read from.
    pub file: String,
    /// Its name.
    pub scenario: String,
    /// What it would cost.
    pub estimate: Estimate,
    /// What it may cost.
    pub limits: Limits,
    /// Runs of it at once (their memory is counted together).
    pub concurrent: usize,
    /// Which limits it is over.
    pub over: Over,
}

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.estimate;
        let runs = if self.concurrent > 1 {
            format!(" ({} runs at once)", self.concurrent)
        } else {
            String::new()
        };
        write!(
            f,
            "{}: scenario {} is too big to run: about {} requests and {} events ({} of computing at {} events/s), {} of memory{runs}, {} events pending at the peak and {} of output; ",
            self.file,
            self.scenario,
            count(e.requests),
            count(e.events),
            human_time(e.seconds()),
            count(EVENTS_PER_SECOND),
            bytes(e.memory_bytes),
            count(e.peak_pending),
            bytes(e.output_bytes),
        )?;
        let over = self.over;
        let mut limits = Vec::new();
        if over.events {
            let max = self.limits.max_events as f64;
            limits.push(format!(
                "the limit is {} event{} ({})",
                count(max),
                if max == 1.0 { "" } else { "s" },
                human_time(max / EVENTS_PER_SECOND)
            ));
        }
        if over.memory {
            limits.push(format!(
                "the memory limit is {}",
                bytes(self.limits.max_memory_bytes as f64)
            ));
        }
        if over.pending {
            limits.push(format!(
                "the event queue holds at most {} pending events (work waiting for a connection piles up, each waiter with its timers)",
                count(MAX_PENDING as f64)
            ));
        }
        if over.output {
            limits.push(format!(
                "the output limit is {}",
                bytes(self.limits.max_output_bytes as f64)
            ));
        }
        write!(f, "{}. ", limits.join(" and "))?;
        let mut advice = Vec::new();
        if over.events {
            advice.push(format!(
                "shorten the run (--duration), lower the rate or the fleet, or raise the limit with --max-events {}",
                round_up(e.events * 1.05)
            ));
        }
        if over.memory {
            advice.push("use fewer pods, workers or requests per second".to_owned());
        }
        if over.pending {
            advice.push(
                "lower traffic.rate, the job's rate, pool.acquire_timeout or requests.deadline, or raise pool.max"
                    .to_owned(),
            );
        }
        if over.output {
            advice.push(format!(
                "raise meta.sample_interval, shorten the run, drop --trace or --openmetrics, or raise the limit with --max-output {}",
                bytes_flag(e.output_bytes * 1.05)
            ));
        }
        let mut advice = advice.join("; ");
        if let Some(first) = advice.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        write!(
            f,
            "{advice}; or skip these checks with --force (at your own risk"
        )?;
        if over.pending {
            write!(f, ": a run whose event queue fills up stops with an error")?;
        }
        write!(f, ")")
    }
}

/// Parse a count for `--max-events`: `5000000000`, `5_000_000_000` or `5e9`.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let clean = s.replace('_', "");
    if let Ok(n) = clean.parse::<u64>() {
        return Ok(n);
    }
    match clean.parse::<f64>() {
        Ok(v) if (1.0..1.8e19).contains(&v) && v.fract() == 0.0 => Ok(v as u64),
        _ => Err(format!(
            "expected a whole number of events like 5000000000 or 5e9, found \"{s}\""
        )),
    }
}

/// Parse a size for `--max-output`: `500MB`, `4GB`, `1.5TB`, `800kB` or
/// bytes (`4000000000`); decimal units, `K`/`M`/`G`/`T` alone accepted.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let text = s.trim();
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "K" | "KB" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        "T" | "TB" => 1e12,
        _ => f64::NAN,
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v >= 0.0 && (v * scale) < 1.8e19 => Ok((v * scale).round() as u64),
        _ => Err(format!(
            "expected a size like 500MB, 4GB or 4000000000 (bytes), found \"{s}\""
        )),
    }
}

/// `b` bytes rounded up to two significant digits, as `--max-output`
/// takes it: `11GB`, `510MB`.
fn bytes_flag(b: f64) -> String {
    let (value, unit) = match b {
        b if b < 1e9 => (b / 1e6, "MB"),
        b if b < 1e12 => (b / 1e9, "GB"),
        b => (b / 1e12, "TB"),
    };
    let step = 10f64.powf((value.max(10.0).log10().floor() - 1.0).max(0.0));
    format!("{}{unit}", (value / step).ceil() * step)
}

/// The command-line options of the guard, the same for every command that
/// simulates.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct GuardArgs {
    /// Refuse runs estimated at more than N events each (default 1e9, a
    /// few minutes); takes 5000000000 or 5e9.
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_events: Option<u64>,
    /// Refuse runs estimated to write more than SIZE of files (default
    /// 4GB); takes 500MB, 4GB, 1TB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_output: Option<u64>,
    /// Run even if the resource estimate is over the limits.
    #[arg(long)]
    pub force: bool,
}

impl GuardArgs {
    /// The limits these options set.
    pub fn limits(&self) -> Limits {
        Limits {
            max_events: self.max_events.unwrap_or(DEFAULT_LIMITS.max_events),
            max_output_bytes: self.max_output.unwrap_or(DEFAULT_LIMITS.max_output_bytes),
            ..DEFAULT_LIMITS
        }
    }

    /// [`check`] `s` from `file` with these limits, `concurrent` runs of it
    /// at once; with `--force`, only estimate it.
    pub fn check(
        &self,
        file: &str,
        s: &Scenario,
        outputs: Outputs,
        concurrent: usize,
    ) -> anyhow::Result<Estimate> {
        if self.force {
            return Ok(estimate(s, outputs));
        }
        check(file, s, outputs, self.limits(), concurrent).map_err(|e| anyhow::Error::new(*e))
    }
}

/// `e` with `file` in front if it is a run stopped by the event queue's
/// limit ([`RunError::TooManyPending`]), which does not know its file.
pub fn name_file(e: anyhow::Error, file: &str) -> anyhow::Error {
    let piled_up = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<RunError>(),
            Some(RunError::TooManyPending { .. })
        )
    });
    if piled_up {
        e.context(file.to_owned())
    } else {
        e
    }
}

/// Runs taking longer than this, in seconds, are announced up front.
const ANNOUNCE_AFTER_S: f64 = 5.0;

/// What `runs` runs of `events` events in all take on `threads` threads,
/// as a line for stderr, if it is more than a few seconds: `None` if not.
pub fn duration_note(runs: usize, events: f64, threads: usize) -> Option<String> {
    let seconds = events / EVENTS_PER_SECOND / threads.clamp(1, runs.max(1)) as f64;
    (seconds > ANNOUNCE_AFTER_S).then(|| {
        format!(
            "{runs} runs of about {} events each: {} on {threads} thread{}",
            count(events / runs.max(1) as f64),
            human_time(seconds),
            if threads == 1 { "" } else { "s" }
        )
    })
}

/// `x` rounded up to one significant digit, as `2e12`.
fn round_up(x: f64) -> String {
    let exp = x.max(1.0).log10().floor();
    let digit = (x / 10f64.powf(exp)).ceil();
    if digit >= 10.0 {
        format!("1e{}", exp + 1.0)
    } else {
        format!("{digit}e{exp}")
    }
}

/// `3.6 M`, `2.1e12`: a count for people.
fn count(n: f64) -> String {
    match n {
        n if n < 1e4 => format!("{n:.0}"),
        n if n < 1e6 => format!("{:.0} k", n / 1e3),
        n if n < 1e9 => format!("{:.1} M", n / 1e6),
        n => format!("{n:.1e}"),
    }
}

/// `12 MB`, `3.4 GB`, `26 TB`, `2.0e15 bytes`.
fn bytes(b: f64) -> String {
    let (value, unit) = match b {
        b if b < 1e6 => (b / 1e3, "kB"),
        b if b < 1e9 => (b / 1e6, "MB"),
        b if b < 1e12 => (b / 1e9, "GB"),
        b if b < 1e15 => (b / 1e12, "TB"),
        b => return format!("{b:.1e} bytes"),
    };
    if value < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// `under a second`, `about 40 s`, `about 12 min`, `about 5.2 h`,
/// `about 3.1 days`, `about 19 years`, `about 2.0e4 years`.
fn human_time(s: f64) -> String {
    let years = s / (365.25 * 86400.0);
    let about = match s {
        s if s < 1.0 => return "under a second".to_owned(),
        s if s < 90.0 => format!("{s:.0} s"),
        s if s < 5400.0 => format!("{:.0} min", s / 60.0),
        s if s < 2.0 * 86400.0 => format!("{:.1} h", s / 3600.0),
        s if s < 365.0 * 86400.0 => format!("{:.1} days", s / 86400.0),
        _ if years < 1000.0 => format!("{years:.0} years"),
        _ => format!("{years:.1e} years"),
    };
    format!("about {about}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(extra: &str) -> Scenario {
        let text = format!("[meta]\nname = \"g\"\nduration = \"30m\"\n{extra}");
        Scenario::parse("g.toml", &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn oversized(name: &str, text: &str) -> Scenario {
        Scenario::parse(name, text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// What `run` writes: the CSV files.
    const CSV: Outputs = Outputs {
        rows: true,
        openmetrics: false,
        trace: false,
    };

    fn check_one(s: &Scenario, outputs: Outputs) -> Result<Estimate, Box<TooBig>> {
        check("g.toml", s, outputs, DEFAULT_LIMITS, 1)
    }

    #[test]
    fn requests_follow_the_rate_profile() {
        let e = estimate(
            &scenario(
                "[traffic]\nrate = \"100/s\"\n[[traffic.profile]]\nat = \"10m\"\nrate = \"300/s\"\nramp = \"10m\"\n",
            ),
            CSV,
        );
        // 10 min at 100/s, a ramp averaging 200/s, 10 min at 300/s.
        assert!(
            (e.requests - 600.0 * (100.0 + 200.0 + 300.0)).abs() < 1.0,
            "{e:?}"
        );
    }

    #[test]
    fn laptop_sized_runs_pass() {
        let shipped = scenario("[traffic]\nrate = \"2000/s\"\n");
        assert!(check_one(&shipped, CSV).is_ok());
        let big = Scenario::parse(
            "big.toml",
            "[meta]\nname = \"big\"\nduration = \"10m\"\n[fleet]\npods = 500\nworkers = 8\n[traffic]\nrate = \"50000/s\"\n[database]\nmax_connections = 5000\n",
        )
        .unwrap();
        let e = check_one(&big, CSV).expect("500 pods × 8 workers at 50 000/s pass");
        assert!(e.events > 5e7 && e.events < 2e8, "{e:?}");
    }

    #[test]
    fn every_shipped_scenario_passes_with_its_files_and_exports() {
        let everything = Outputs {
            rows: true,
            openmetrics: true,
            trace: false,
        };
        let mut files = Vec::new();
        for dir in ["scenarios", "scenarios/theory", "scenarios/scale"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "toml") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 20, "{files:?}");
        for path in files {
            let s = crate::scenario_file::load(&path).unwrap();
            let e = check_one(&s, everything);
            assert!(e.is_ok(), "{}: {}", path.display(), e.unwrap_err());
        }
    }

    #[test]
    fn huge_runs_are_refused_with_the_estimate_and_the_way_out() {
        let rate = check_one(&scenario("[traffic]\nrate = \"1e12/s\"\n"), CSV).unwrap_err();
        assert!(rate.over.events && rate.over.memory, "{rate}");
        let long = Scenario::parse(
            "long.toml",
            "[meta]\nname = \"long\"\nduration = \"3650days\"\n[traffic]\nrate = \"2000/s\"\n",
        )
        .unwrap();
        let e = check_one(&long, Outputs::default()).unwrap_err();
        assert!(e.over.events && !e.over.memory && !e.over.pending && !e.over.output);
        let text = e.to_string();
        assert!(
            text.starts_with("g.toml: scenario long is too big"),
            "{text}"
        );
        assert!(text.contains("6.3e11 requests"), "{text}");
        assert!(
            text.contains("--max-events 2e12") && text.contains("--force"),
            "{text}"
        );
        let raised = Limits {
            max_events: parse_count("2e12").unwrap(),
            ..DEFAULT_LIMITS
        };
        assert!(check("long.toml", &long, Outputs::default(), raised, 1).is_ok());
        let fleet = scenario("[fleet]\npods = 1000000\nworkers = 1000\n");
        let e = check_one(&fleet, CSV).unwrap_err();
        assert!(e.over.memory && e.to_string().contains("fewer pods"), "{e}");
    }

    #[test]
    fn the_waiters_of_an_overloaded_pool_are_counted_at_their_peak() {
        let s = oversized(
            "pile-up.toml",
            include_str!("../tests/oversized/pile-up.toml"),
        );
        let e = estimate(&s, CSV);
        // 300 000/s against 100/s of service: the queue grows for the 80 s
        // acquire timeout, each waiter with two timers pending.
        let waiters = (300_000.0 - 100.0) * 80.0;
        assert!(
            e.peak_pending > 3.0 * waiters && e.peak_pending < 3.0 * waiters * 1.01,
            "{e:?}"
        );
        assert!(e.memory_bytes > waiters * BYTES_PER_REQUEST, "{e:?}");
        let refused = check_one(&s, CSV).unwrap_err();
        assert!(refused.over.pending && refused.over.memory, "{refused}");
        let text = refused.to_string();
        assert!(
            text.contains("72.0 M events pending at the peak")
                && text.contains("at most 16.8 M pending events")
                && text.contains("pool.acquire_timeout"),
            "{text}"
        );
        // The same pool below its capacity: a handful of requests in the
        // system, as Little's law says.
        let mut calm = s.clone();
        calm.traffic.rate_points = vec![(0.0, 50.0)];
        let e = check_one(&calm, CSV).unwrap();
        assert!(e.peak_pending < 10.0, "{e:?}");
    }

    #[test]
    fn little_s_law_is_bounded_by_the_requests_that_arrive() {
        let s = oversized(
            "long-hold.toml",
            include_str!("../tests/oversized/long-hold.toml"),
        );
        let e = check_one(&s, CSV).expect("a million-hour hold on a one-minute run passes");
        assert!(e.requests > 1.1e5 && e.requests < 1.3e5, "{e:?}");
        let most = BASE_BYTES + 20.0 * (BYTES_PER_POD + 4.0 * BYTES_PER_WORKER);
        assert!(
            e.memory_bytes <= most + e.requests * BYTES_PER_REQUEST,
            "{e:?}"
        );
    }

    #[test]
    fn a_sample_every_microsecond_is_refused_for_its_output() {
        let s = oversized(
            "sample-1us.toml",
            include_str!("../tests/oversized/sample-1us.toml"),
        );
        let e = check_one(&s, CSV).unwrap_err();
        assert!(e.over.output && !e.over.events && !e.over.memory, "{e}");
        // 10^7 samples of a timeseries.csv row and 20 pods.csv rows.
        let rows = 1e7 * (BYTES_PER_SERIES_ROW + 20.0 * BYTES_PER_POD_ROW);
        assert_eq!(e.estimate.output_bytes, rows);
        let text = e.to_string();
        assert!(
            text.contains("9.6 GB of output")
                && text.contains("the output limit is 4.0 GB")
                && text.contains("--max-output 11GB"),
            "{text}"
        );
        let raised = Limits {
            max_output_bytes: parse_size("11GB").unwrap(),
            ..DEFAULT_LIMITS
        };
        assert!(check("sample-1us.toml", &s, CSV, raised, 1).is_ok());
        // Commands that write no rows (sweep, compare) are not refused.
        assert!(check_one(&s, Outputs::default()).is_ok());
    }

    #[test]
    fn the_trace_counts_in_the_output() {
        let s = scenario("[traffic]\nrate = \"2000/s\"\n");
        let plain = estimate(&s, CSV);
        let traced = estimate(&s, Outputs { trace: true, ..CSV });
        // 3.6 M requests of four lines: 1.7 GB (the shipped scenarios
        // write 1.6 GB).
        let trace = traced.output_bytes - plain.output_bytes;
        assert_eq!(trace, 3.6e6 * 4.0 * BYTES_PER_TRACE_LINE);
        let limits = Limits {
            max_output_bytes: parse_size("1GB").unwrap(),
            ..DEFAULT_LIMITS
        };
        assert!(check("g.toml", &s, CSV, limits, 1).is_ok());
        let e = check("g.toml", &s, Outputs { trace: true, ..CSV }, limits, 1).unwrap_err();
        assert!(
            e.over.output && e.to_string().contains("drop --trace"),
            "{e}"
        );
    }

    #[test]
    fn job_runs_in_flight_and_their_connections_are_counted() {
        let s = oversized(
            "job-1us.toml",
            include_str!("../tests/oversized/job-1us.toml"),
        );
        let e = check_one(&s, CSV).unwrap_err();
        assert!(e.over.memory && e.over.pending, "{e}");
        // 20 pods × 10^6 runs a second, each a second long (its hold) plus
        // the 5 s it may wait, as many as run in the minute at most.
        let runs = 20.0 * 1e6 * 6.0;
        let per_run = BYTES_PER_RUN + 2.0 * BYTES_PER_CONNECTION;
        assert!(e.estimate.memory_bytes > runs * per_run, "{e}");
        // Without overlap, one run per runner at most.
        let mut single = s.clone();
        for v in &mut single.versions {
            v.app.job.as_mut().unwrap().overlap = false;
        }
        assert!(estimate(&single, CSV).memory_bytes < 1e8);
    }

    #[test]
    fn concurrent_runs_need_their_memory_together() {
        let s = scenario("[fleet]\npods = 1000\nworkers = 1000\n");
        let one = check("g.toml", &s, CSV, DEFAULT_LIMITS, 1).unwrap();
        assert!(one.memory_bytes > 1e9, "{one:?}");
        let e = check("g.toml", &s, CSV, DEFAULT_LIMITS, 4).unwrap_err();
        assert!(
            e.over.memory && e.to_string().contains("(4 runs at once)"),
            "{e}"
        );
    }

    #[test]
    fn long_batches_are_announced_with_their_time() {
        let note = duration_note(10_000, 10_000.0 * 11e6, 2).unwrap();
        assert_eq!(
            note,
            "10000 runs of about 11.0 M events each: about 5.1 h on 2 threads"
        );
        assert_eq!(duration_note(10, 10.0 * 1e6, 2), None);
        // More threads than runs do not make one run faster.
        assert!(duration_note(1, 3e7, 8).unwrap().contains("about 10 s"));
    }

    #[test]
    fn counts_parse_in_three_spellings() {
        assert_eq!(parse_count("5000000000"), Ok(5_000_000_000));
        assert_eq!(parse_count("5_000_000_000"), Ok(5_000_000_000));
        assert_eq!(parse_count("5e9"), Ok(5_000_000_000));
        assert!(parse_count("-1").is_err() && parse_count("1e40").is_err());
        assert!(parse_count("lots").is_err() && parse_count("2.5").is_err());
    }

    #[test]
    fn sizes_parse_with_decimal_units() {
        assert_eq!(parse_size("4GB"), Ok(4_000_000_000));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1.5 TB"), Ok(1_500_000_000_000));
        assert_eq!(parse_size("800k"), Ok(800_000));
        assert_eq!(parse_size("4000000000"), Ok(4_000_000_000));
        for bad in ["lots", "4XB", "-1GB", "1e30GB", ""] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(bytes_flag(10.08e9), "11GB");
        assert_eq!(bytes_flag(504e6), "510MB");
    }
}
