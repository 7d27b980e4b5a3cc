//! The part of a scenario a real fleet can honour, resolved into the JSON
//! the harness (`validation/harness.js`) reads. The scenario is parsed and
//! validated once, by pooldrill; whatever the harness cannot do is refused
//! with the key's file:line:col, never run approximately.
//!
//! The error listeners (`pool.error_listener`, `job.error_listener`) only
//! matter when the server reaps sessions (`idle_session_timeout`), which is
//! refused: the harness always listens.

use crate::dist::Dist;
use crate::engine::SimTime;
use crate::scenario::locate::span_of;
use crate::scenario::{
    ArrivalProcess, Dispatch, JobPlacement, JobPoolMode, PatienceLaw, PoolConfig, QueueDiscipline,
    ReleaseDiscipline, Scenario, ScenarioError,
};
use serde::Serialize;
use serde_json::{Value, json};

/// The scenario's values the harness honours.
#[derive(Clone, Debug, Serialize)]
pub struct Subset {
    /// Workers of the one pod.
    pub workers: u32,
    /// Fleet-wide arrivals per second.
    pub rate_per_s: f64,
    /// `poisson` or `deterministic`.
    pub arrivals: &'static str,
    /// `[requests]`.
    pub requests: Value,
    /// `[pool]`.
    pub pool: Value,
    /// `[job]`, or null.
    pub job: Value,
    /// Superuser sessions held open for the whole run (the scenario's
    /// `database.other_clients`; the monitor comes on top).
    pub other_clients: u32,
    /// `database.max_connections`.
    pub max_connections: u32,
    /// `database.superuser_reserved_connections`.
    pub superuser_reserved: u32,
}

/// A distribution as the harness samples it (seconds).
pub fn dist_json(d: &Dist) -> Value {
    match *d {
        Dist::Deterministic(value) => json!({"kind": "deterministic", "value": value}),
        Dist::Exponential { mean } => json!({"kind": "exponential", "mean": mean}),
        Dist::Uniform { lo, hi } => json!({"kind": "uniform", "lo": lo, "hi": hi}),
        Dist::LogNormal { mu, sigma } => json!({"kind": "lognormal", "mu": mu, "sigma": sigma}),
    }
}

fn ms(t: Option<SimTime>) -> u64 {
    // pg-pool reads 0 as "off" for both timeouts.
    t.map_or(0, |t| (t.as_secs_f64() * 1e3).round() as u64)
}

/// Collects the first key the harness cannot honour.
struct Refusals<'a> {
    file: &'a str,
    source: &'a str,
    first: Option<ScenarioError>,
}

impl Refusals<'_> {
    /// Refuse `path` when `unsupported`, saying what the harness can do.
    fn check(&mut self, unsupported: bool, path: &str, can: &str) {
        if unsupported && self.first.is_none() {
            self.first = Some(ScenarioError::at_span(
                self.file,
                self.source,
                span_of(self.source, path),
                path,
                format!("the real fleet (pooldrill realpg) cannot honour this: expected {can}"),
            ));
        }
    }

    fn pool(&mut self, p: &PoolConfig, at: &str) {
        let key = |k: &str| format!("{at}.{k}");
        self.check(p.min > 0, &key("min"), "0 (pg-pool's default)");
        self.check(
            p.max_lifetime.is_some(),
            &key("max_lifetime"),
            "\"0s\" (off)",
        );
        self.check(p.max_uses.is_some(), &key("max_uses"), "no max_uses");
        self.check(p.queue != QueueDiscipline::Fifo, &key("queue"), "\"fifo\"");
        self.check(
            p.acquire_timeout_law != PatienceLaw::Fixed,
            &key("acquire_timeout_law"),
            "\"fixed\"",
        );
        self.check(p.job_limit.is_some(), &key("job_limit"), "no job_limit");
    }
}

fn pool_json(p: &PoolConfig) -> Value {
    json!({
        "max": p.max,
        "idle_timeout_ms": ms(p.idle_timeout),
        "acquire_timeout_ms": ms(p.acquire_timeout),
    })
}

/// The subset of `scenario` (parsed from `source`, named `file`) the real
/// fleet runs, or the first key it cannot honour.
pub fn subset(scenario: &Scenario, file: &str, source: &str) -> Result<Subset, ScenarioError> {
    let mut r = Refusals {
        file,
        source,
        first: None,
    };
    let fleet = &scenario.fleet;
    r.check(fleet.pods != 1, "fleet.pods", "1 (one pod of N workers)");
    r.check(
        fleet.dispatch != Dispatch::Random,
        "fleet.dispatch",
        "\"random\" (each worker sees its own Poisson arrivals)",
    );
    r.check(
        scenario.traffic.rate_points.len() != 1,
        "traffic.profile",
        "a constant rate",
    );
    r.check(!scenario.events.is_empty(), "events", "no timeline");
    r.check(scenario.versions.len() != 1, "versions", "one version");
    r.check(scenario.pooler.is_some(), "pooler", "no [pooler]");
    let db = &scenario.database;
    r.check(db.cpu.is_some(), "database.cpu_cores", "no CPU model");
    r.check(
        db.reserved > 0,
        "database.reserved_connections",
        "0 (PostgreSQL 15 has no reserved_connections)",
    );
    r.check(
        db.idle_session_timeout.is_some(),
        "database.idle_session_timeout",
        "\"0s\" (off)",
    );
    r.check(
        db.idle_in_transaction_timeout.is_some(),
        "database.idle_in_transaction_session_timeout",
        "\"0s\" (off)",
    );
    let app = scenario.app();
    let req = &app.requests;
    r.check(
        !req.deadline.is_never(),
        "requests.deadline",
        "\"0s\" (no client deadline)",
    );
    r.pool(&app.pool, "pool");
    let job = match &app.job {
        None => Value::Null,
        Some(job) => {
            r.check(
                !matches!(job.pool_mode, JobPoolMode::Own | JobPoolMode::Shared),
                "job.pool_mode",
                "\"own\" or \"shared\"",
            );
            r.check(job.leak_in_transaction, "job.leak_in_transaction", "false");
            if job.pool_mode == JobPoolMode::Own {
                r.pool(&job.pool, "job.pool");
            }
            json!({
                "period_s": job.period.as_secs_f64(),
                "placement": match job.placement {
                    JobPlacement::OneWorker => "one_worker",
                    JobPlacement::EveryWorker => "every_worker",
                },
                "overlap": job.overlap,
                "fan_out": job.fan_out,
                "hold": dist_json(&job.hold),
                "error_probability": job.error_probability,
                "pool_mode": if job.pool_mode == JobPoolMode::Shared { "shared" } else { "own" },
                "release": match job.release {
                    ReleaseDiscipline::Leaky => "leaky",
                    ReleaseDiscipline::Finally => "finally",
                },
                "pool": pool_json(&job.pool),
            })
        }
    };
    if let Some(e) = r.first {
        return Err(e);
    }
    Ok(Subset {
        workers: fleet.workers,
        rate_per_s: scenario.traffic.rate_points[0].1,
        arrivals: match scenario.traffic.arrivals {
            ArrivalProcess::Poisson => "poisson",
            ArrivalProcess::Deterministic => "deterministic",
        },
        requests: json!({
            "checkouts": req.checkouts,
            "hold": dist_json(&req.hold),
            "app_time": dist_json(&req.app_time),
            "error_probability": req.error_probability,
            "error_destroys_client": req.error_destroys_client,
        }),
        pool: pool_json(&app.pool),
        job,
        other_clients: db.other_clients,
        max_connections: db.max_connections,
        superuser_reserved: db.superuser_reserved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[meta]\nname = \"t\"\nduration = \"60s\"\n\n[fleet]\npods = 1\nworkers = 2\n\n[requests]\ndeadline = \"0s\"\n";

    #[test]
    fn a_plain_one_pod_scenario_is_honoured() {
        let s = Scenario::parse("t.toml", BASE).unwrap();
        let sub = subset(&s, "t.toml", BASE).unwrap();
        assert_eq!(sub.workers, 2);
        assert!(sub.job.is_null());
    }

    #[test]
    fn a_key_it_cannot_honour_is_refused_at_its_line_and_column() {
        let src = format!("{BASE}\n[pool]\nmin = 2\n");
        let s = Scenario::parse("t.toml", &src).unwrap();
        let e = subset(&s, "t.toml", &src).unwrap_err();
        assert_eq!((e.line, e.column, e.path.as_str()), (13, 7, "pool.min"));
        let src = BASE.replace("pods = 1", "pods = 3");
        let s = Scenario::parse("t.toml", &src).unwrap();
        let e = subset(&s, "t.toml", &src).unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (6, "fleet.pods"));
    }
}
