//! Resource guards: a scenario's cost estimated before it runs, and refused
//! when it would run for hours or exhaust memory (`--max-events`, `--force`).
//!
//! The estimate counts work in *events*, the simulator's unit of work: a
//! request costs one arrival and two events per checkout (grant and hold
//! end, the connection steps amortised over the client's reuse); a job run
//! two events and two per connection; a sample one per pod (a `pods.csv`
//! row) and a tenth per worker (its pool is read); and the load balancer's
//! arrival streams are re-timed whenever a pod starts or stops, one event's
//! worth per pod. Memory counts the fleet and the requests in flight by
//! Little's law (rate × service time): queues that grow without bound under
//! exhaustion are not foreseen, which is what Ctrl-C is for.

use crate::model::traffic::RateProfile;
use crate::scenario::{Action, JobPlacement, Scenario};
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
/// The program itself, with empty tables.
const BASE_BYTES: f64 = 8e6;
/// Bytes per CSV row written (`pods.csv`, `timeseries.csv`).
const BYTES_PER_ROW: f64 = 120.0;

/// Default limits: a few minutes of computing and a few GiB of memory.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_events: 1_000_000_000,
    max_memory_bytes: 4_000_000_000,
};

/// What a run is allowed to cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Most events (see the module doc); `--max-events` sets it.
    pub max_events: u64,
    /// Most memory, in bytes.
    pub max_memory_bytes: u64,
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
    /// Bytes of CSV written.
    pub output_bytes: f64,
}

impl Estimate {
    /// Computing time in seconds at [`EVENTS_PER_SECOND`].
    pub fn seconds(&self) -> f64 {
        self.events / EVENTS_PER_SECOND
    }
}

/// Estimate what running `s` costs.
pub fn estimate(s: &Scenario) -> Estimate {
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
    let apps = s.versions.iter().map(|v| &v.app);
    let checkouts = apps
        .clone()
        .map(|a| a.requests.checkouts)
        .max()
        .unwrap_or(1) as f64;
    let service_s = apps
        .clone()
        .map(|a| a.requests.app_time.mean() + a.requests.checkouts as f64 * a.requests.hold.mean())
        .fold(0.0, f64::max);
    let job_events = apps
        .filter_map(|a| a.job.as_ref())
        .map(|j| {
            let runners = match j.placement {
                JobPlacement::OneWorker => pods,
                JobPlacement::EveryWorker => pods * workers,
            };
            runners * duration / j.period.as_secs_f64() * (2.0 + 2.0 * j.fan_out as f64)
        })
        .fold(0.0, f64::max);
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
    let in_flight = peak_rate * service_s;
    Estimate {
        requests,
        events,
        memory_bytes: BASE_BYTES
            + pods * BYTES_PER_POD
            + pods * workers * BYTES_PER_WORKER
            + in_flight * BYTES_PER_REQUEST,
        output_bytes: samples * (pods + 1.0) * BYTES_PER_ROW,
    }
}

/// Refuse `s` if its estimate is over `limits`.
pub fn check(s: &Scenario, limits: Limits) -> Result<Estimate, TooBig> {
    let estimate = estimate(s);
    let events = estimate.events > limits.max_events as f64;
    let memory = estimate.memory_bytes > limits.max_memory_bytes as f64;
    if events || memory {
        return Err(TooBig {
            scenario: s.name.clone(),
            estimate,
            limits,
            events,
            memory,
        });
    }
    Ok(estimate)
}

/// A scenario refused by [`check`].
#[derive(Debug, thiserror::Error)]
pub struct TooBig {
    /// Its name.
    pub scenario: String,
    /// What it would cost.
    pub estimate: Estimate,
    /// What it may cost.
    pub limits: Limits,
    /// Whether it has too many events.
    pub events: bool,
    /// Whether it needs too much memory.
    pub memory: bool,
}

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.estimate;
        write!(
            f,
            "scenario {} is too big to run: about {} requests and {} events ({} of computing at {} events/s), {} of memory and {} of CSV files; ",
            self.scenario,
            count(e.requests),
            count(e.events),
            human_time(e.seconds()),
            count(EVENTS_PER_SECOND),
            bytes(e.memory_bytes),
            bytes(e.output_bytes),
        )?;
        let mut limits = Vec::new();
        if self.events {
            let max = self.limits.max_events as f64;
            limits.push(format!(
                "the limit is {} event{} ({})",
                count(max),
                if max == 1.0 { "" } else { "s" },
                human_time(max / EVENTS_PER_SECOND)
            ));
        }
        if self.memory {
            limits.push(format!(
                "the memory limit is {}",
                bytes(self.limits.max_memory_bytes as f64)
            ));
        }
        write!(f, "{}. ", limits.join(" and "))?;
        if self.events && !self.memory {
            write!(
                f,
                "Shorten the run (--duration), lower the rate or the fleet, or raise the limit with --max-events {} (or skip these checks with --force)",
                round_up(e.events * 1.05)
            )
        } else {
            write!(
                f,
                "Use fewer pods, workers or requests per second, or skip these checks with --force (at your own risk)"
            )
        }
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

    #[test]
    fn requests_follow_the_rate_profile() {
        let e = estimate(&scenario(
            "[traffic]\nrate = \"100/s\"\n[[traffic.profile]]\nat = \"10m\"\nrate = \"300/s\"\nramp = \"10m\"\n",
        ));
        // 10 min at 100/s, a ramp averaging 200/s, 10 min at 300/s.
        assert!(
            (e.requests - 600.0 * (100.0 + 200.0 + 300.0)).abs() < 1.0,
            "{e:?}"
        );
    }

    #[test]
    fn laptop_sized_runs_pass() {
        let shipped = scenario("[traffic]\nrate = \"2000/s\"\n");
        assert!(check(&shipped, DEFAULT_LIMITS).is_ok());
        let big = Scenario::parse(
            "big.toml",
            "[meta]\nname = \"big\"\nduration = \"10m\"\n[fleet]\npods = 500\nworkers = 8\n[traffic]\nrate = \"50000/s\"\n[database]\nmax_connections = 5000\n",
        )
        .unwrap();
        let e = check(&big, DEFAULT_LIMITS).expect("500 pods × 8 workers at 50 000/s pass");
        assert!(e.events > 5e7 && e.events < 2e8, "{e:?}");
    }

    #[test]
    fn huge_runs_are_refused_with_the_estimate_and_the_way_out() {
        let rate = check(&scenario("[traffic]\nrate = \"1e12/s\"\n"), DEFAULT_LIMITS).unwrap_err();
        assert!(rate.events && rate.memory, "{rate}");
        let long = Scenario::parse(
            "long.toml",
            "[meta]\nname = \"long\"\nduration = \"3650days\"\n[traffic]\nrate = \"2000/s\"\n",
        )
        .unwrap();
        let e = check(&long, DEFAULT_LIMITS).unwrap_err();
        assert!(e.events && !e.memory);
        let text = e.to_string();
        assert!(text.contains("6.3e11 requests"), "{text}");
        assert!(
            text.contains("--max-events 2e12") && text.contains("--force"),
            "{text}"
        );
        let raised = Limits {
            max_events: parse_count("2e12").unwrap(),
            ..DEFAULT_LIMITS
        };
        assert!(check(&long, raised).is_ok());
        let fleet = scenario("[fleet]\npods = 1000000\nworkers = 1000\n");
        let e = check(&fleet, DEFAULT_LIMITS).unwrap_err();
        assert!(e.memory && e.to_string().contains("fewer pods"), "{e}");
    }

    #[test]
    fn counts_parse_in_three_spellings() {
        assert_eq!(parse_count("5000000000"), Ok(5_000_000_000));
        assert_eq!(parse_count("5_000_000_000"), Ok(5_000_000_000));
        assert_eq!(parse_count("5e9"), Ok(5_000_000_000));
        assert!(parse_count("-1").is_err() && parse_count("1e40").is_err());
        assert!(parse_count("lots").is_err() && parse_count("2.5").is_err());
    }
}
