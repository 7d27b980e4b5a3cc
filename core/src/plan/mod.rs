//! The capacity plan: the arithmetic of the write-up done right (reserved
//! slots, other clients, the job's pool, rolling deploys), the queueing
//! view at the scenario's load, and the write-up's pre-deploy checklist.
//!
//! The plan reads a validated scenario (or none: the scenario defaults)
//! and the figures given over it; it needs neither the filesystem nor a
//! command line, so it lives in the core, where a browser can show it too.
//! The deploy figure is an upper bound of the connections the pods can
//! hold at once under the simulator's own rollout, replayed for fleets of
//! up to [`REPLAY_MAX_PODS`] pods.

mod checklist;
mod deploy;
mod job;
mod queueing;

pub use checklist::{Check, Item};
pub use deploy::REPLAY_MAX_PODS;
pub use job::{JobFlag, JobPool};
pub use queueing::Queueing;

use crate::engine::SimTime;
use crate::scenario::units::{Duration, Percent, Rate};
use crate::scenario::validate::parse;
use crate::scenario::{App, PatienceLaw, Scenario, ScenarioError};
use serde::Serialize;

/// The figures given over the scenario's (each `None`: the scenario's, or
/// without one the defaults).
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs {
    /// PostgreSQL max_connections (default 500).
    pub max_connections: Option<u32>,
    /// Reserved slots: superuser_reserved_connections + reserved_connections
    /// (default 3).
    pub reserved: Option<u32>,
    /// Pods (default 20).
    pub pods: Option<u32>,
    /// Worker processes per pod (default 4).
    pub workers: Option<u32>,
    /// Each worker's pool max (default 10).
    pub pool_max: Option<u32>,
    /// maxSurge of the deploys (default: the file's deploys, else 25%).
    pub surge: Option<Percent>,
    /// Slots other clients hold (default 5).
    pub other_clients: Option<u32>,
    /// The background job's pool.
    pub job: Option<JobFlag>,
    /// Fleet-wide request rate for the queueing view (default 400/s).
    pub rate: Option<Rate>,
    /// Mean time a checkout holds its client (default 50ms).
    pub hold: Option<Duration>,
    /// pg-pool connectionTimeoutMillis ("0s": wait for ever; default 0s).
    pub acquire_timeout: Option<Duration>,
}

/// One application version's capacity and queueing figures.
#[derive(Clone, Debug, Serialize)]
pub struct VersionPlan {
    /// Its name.
    pub name: String,
    /// Each worker's pool max.
    pub pool_max: u32,
    /// The job.
    pub job: JobPool,
    /// Whether the job releases in finally (`None`: no job or unknown).
    pub job_releases: Option<bool>,
    /// Connections one pod can open: workers × max + its job pools.
    pub per_pod: u64,
    /// pods × per_pod.
    pub possible: u64,
    /// An upper bound of the connections the pods can hold at once during
    /// the deploys: the deploy's peak of pods holding connections × per_pod
    /// (`None`: no bound, a job builds a new pool every run).
    pub possible_in_deploy: Option<u64>,
    /// Whether `possible_in_deploy` fits in the app's slots.
    pub fits: bool,
    /// The largest pool max that fits during a deploy (0: none does).
    pub safe_pool_max: u32,
    /// The largest pool max that fits outside deploys.
    pub steady_pool_max: u32,
    /// Queueing view at the configured max, the safe max and twice the
    /// load.
    pub queueing: Vec<Queueing>,
}

/// The whole plan.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// Where the numbers come from.
    pub source: String,
    /// `max_connections`.
    pub max_connections: u32,
    /// Superuser and role reserves.
    pub reserved: u32,
    /// Slots an ordinary role may use.
    pub usable: u32,
    /// Slots other clients hold.
    pub other_clients: u32,
    /// Slots the application may hold: usable − other clients.
    pub app_slots: u32,
    /// Pods.
    pub pods: u32,
    /// Workers per pod.
    pub workers: u32,
    /// Extra pods during a deploy (the largest maxSurge).
    pub surge: u32,
    /// Where the surge comes from.
    pub surge_source: String,
    /// The most pods that can hold connections at once during the deploys:
    /// ready pods plus terminated ones until their grace ends.
    pub deploy_pods: u64,
    /// When that peak is first reached in the replayed deploys (seconds
    /// from the start; `None` when not replayed).
    pub deploy_peak_at_s: Option<f64>,
    /// What `deploy_pods` counts, and how it was found.
    pub deploy_bound: String,
    /// The write-up's formula, floor(max_connections / (pods × workers)).
    pub write_up_pool_max: u32,
    /// Fleet-wide request rate (peak), per second.
    pub rate: f64,
    /// Checkouts per request.
    pub checkouts: u32,
    /// Mean hold per checkout (s).
    pub hold_s: f64,
    /// Acquire timeout (s), if any.
    pub acquire_timeout_s: Option<f64>,
    /// Whether the timeout is exponential (Erlang A) rather than fixed.
    pub exponential_timeout: bool,
    /// Per version that runs.
    pub versions: Vec<VersionPlan>,
    /// The pre-deploy checklist.
    pub checklist: Vec<Item>,
    /// Whether every version fits during a deploy.
    pub fits: bool,
}

/// Figures a plan cannot be made from.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// At least as many reserved slots as slots.
    #[error(
        "--reserved: expected fewer reserved slots than max_connections ({max_connections}), found {reserved}"
    )]
    Reserved {
        /// The reserved slots.
        reserved: u32,
        /// `max_connections`.
        max_connections: u32,
    },
    /// The scenario defaults do not parse (a bug).
    #[error("the scenario defaults: {0}")]
    Defaults(ScenarioError),
}

/// The plan from `inputs` over `scenario`, given with the name it was read
/// under (without one: over the scenario defaults).
pub fn compute(inputs: &Inputs, scenario: Option<(&str, &Scenario)>) -> Result<Plan, PlanError> {
    let (file, scenario) = (scenario.map(|s| s.0), scenario.map(|s| s.1));
    let db = scenario.map(|s| &s.database);
    let max_connections = inputs
        .max_connections
        .or(db.map(|d| d.max_connections))
        .unwrap_or(500);
    let reserved = inputs
        .reserved
        .or(db.map(|d| d.superuser_reserved + d.reserved))
        .unwrap_or(3);
    if reserved >= max_connections {
        return Err(PlanError::Reserved {
            reserved,
            max_connections,
        });
    }
    let usable = max_connections - reserved;
    let other_clients = inputs
        .other_clients
        .or(db.map(|d| d.other_clients))
        .unwrap_or(5);
    let app_slots = usable.saturating_sub(other_clients);
    let pods = inputs.pods.or(scenario.map(|s| s.fleet.pods)).unwrap_or(20);
    let workers = inputs
        .workers
        .or(scenario.map(|s| s.fleet.workers))
        .unwrap_or(4);
    let (surge, surge_source) = match inputs.surge {
        Some(Percent::Count(n)) => (n, "--surge".to_owned()),
        Some(p @ Percent::Share(share)) => (
            p.of(pods, true),
            format!("--surge {share}% of {pods} pods, rounded up"),
        ),
        None => scenario.and_then(deploy::file_surge).unwrap_or((
            Percent::Share(25).of(pods, true),
            format!("Kubernetes' default maxSurge, 25 % of {pods} pods rounded up"),
        )),
    };
    let defaults;
    let base = match scenario {
        Some(s) => s,
        None => {
            defaults = parse("flags", "[meta]\nname = \"flags\"\nduration = \"1m\"\n")
                .map_err(PlanError::Defaults)?;
            &defaults
        }
    };
    let (deploy_pods, deploy_peak_at, deploy_bound) = deploy::deploy_pods(base, pods, inputs.surge);
    let rate = inputs
        .rate
        .map(|r| r.0)
        .or(scenario.map(|s| {
            s.traffic
                .rate_points
                .iter()
                .map(|p| p.1)
                .fold(0.0, f64::max)
        }))
        .unwrap_or(400.0);
    let apps: Vec<(String, Option<&App>)> = match scenario {
        Some(s) => deploy::running_versions(s)
            .into_iter()
            .map(|v| (s.versions[v].name.clone(), Some(&s.versions[v].app)))
            .collect(),
        None => vec![("flags".to_owned(), None)],
    };
    let first = apps[0].1;
    let checkouts = first.map_or(1, |a| a.requests.checkouts);
    let hold_s = inputs
        .hold
        .map(|d| d.0.as_secs_f64())
        .or(first.map(|a| a.requests.hold.mean()))
        .unwrap_or(0.050);
    let acquire_timeout_s = match inputs.acquire_timeout {
        Some(d) => (d.0.0 > 0).then(|| d.0.as_secs_f64()),
        None => first.and_then(|a| a.pool.acquire_timeout.map(|t| t.as_secs_f64())),
    };
    let exponential_timeout =
        first.is_some_and(|a| a.pool.acquire_timeout_law == PatienceLaw::Exponential);
    let per_worker = rate * f64::from(checkouts) / (f64::from(pods) * f64::from(workers));
    let queue = |case: String, c: u32, offered: f64| -> Queueing {
        queueing::queueing(
            case,
            c,
            offered,
            hold_s,
            acquire_timeout_s,
            exponential_timeout,
        )
    };
    let versions: Vec<VersionPlan> = apps
        .iter()
        .map(|(name, app)| {
            let pool_max = inputs.pool_max.or(app.map(|a| a.pool.max)).unwrap_or(10);
            let (job, job_releases) = job::job_pool(inputs.job, *app, workers);
            let job_per_pod = match job {
                JobPool::Own { max, per_pod, .. } => u64::from(max) * u64::from(per_pod),
                _ => 0,
            };
            let per_pod = u64::from(workers) * u64::from(pool_max) + job_per_pod;
            let possible = u64::from(pods) * per_pod;
            let per_run = matches!(job, JobPool::Own { per_run: true, .. });
            let possible_in_deploy = (!per_run).then_some(deploy_pods * per_pod);
            let largest = |pods: u64| {
                let per_pod = u64::from(app_slots) / pods;
                (per_pod.saturating_sub(job_per_pod) / u64::from(workers)) as u32
            };
            let safe_pool_max = if per_run { 0 } else { largest(deploy_pods) };
            let a = per_worker * hold_s;
            let job_load = match job {
                JobPool::Shared { load } => load,
                _ => 0.0,
            };
            let mut queueing = vec![queue(
                format!("pool max {pool_max} (configured)"),
                pool_max,
                a,
            )];
            if safe_pool_max > 0 && safe_pool_max != pool_max {
                queueing.push(queue(
                    format!("pool max {safe_pool_max} (largest safe)"),
                    safe_pool_max,
                    a,
                ));
            }
            queueing.push(queue(
                format!("pool max {pool_max}, 2 × load"),
                pool_max,
                2.0 * a,
            ));
            if job_load > 0.0 {
                queueing.push(queue(
                    format!("pool max {pool_max}, the job's worker"),
                    pool_max,
                    a + job_load,
                ));
            }
            VersionPlan {
                name: name.clone(),
                pool_max,
                job,
                job_releases,
                per_pod,
                possible,
                possible_in_deploy,
                fits: possible_in_deploy.is_some_and(|n| n <= u64::from(app_slots)),
                safe_pool_max,
                steady_pool_max: largest(u64::from(pods)),
                queueing,
            }
        })
        .collect();
    let fits = versions.iter().all(|v| v.fits);
    let mut plan = Plan {
        source: file.unwrap_or("flags and scenario defaults").to_owned(),
        max_connections,
        reserved,
        usable,
        other_clients,
        app_slots,
        pods,
        workers,
        surge,
        surge_source,
        deploy_pods,
        deploy_peak_at_s: deploy_peak_at.map(SimTime::as_secs_f64),
        deploy_bound,
        write_up_pool_max: (u64::from(max_connections) / (u64::from(pods) * u64::from(workers)))
            as u32,
        rate,
        checkouts,
        hold_s,
        acquire_timeout_s,
        exponential_timeout,
        versions,
        checklist: Vec::new(),
        fits,
    };
    plan.checklist = checklist::checklist(&plan, scenario);
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `text` as the command line would read it.
    fn read<T: std::str::FromStr>(text: &str) -> T {
        text.parse().unwrap_or_else(|_| panic!("{text}"))
    }

    #[test]
    fn the_write_ups_fix_does_not_survive_a_rolling_deploy() {
        let given = Inputs {
            pool_max: Some(6),
            ..Inputs::default()
        };
        let p = compute(&given, None).unwrap();
        let v = &p.versions[0];
        assert_eq!((p.usable, p.app_slots, p.surge), (497, 492, 5));
        // 20 pods, 5 surge, 5 unavailable, ready in 20 s, 30 s grace: at
        // 40 s the 20 new pods are ready while the 10 terminated at 20 s
        // and the 5 at 40 s may still hold their connections.
        assert_eq!(p.deploy_pods, 35);
        assert_eq!(p.deploy_peak_at_s, Some(40.0));
        assert_eq!((v.possible, v.possible_in_deploy), (480, Some(35 * 24)));
        assert!(!p.fits);
        assert_eq!((v.safe_pool_max, v.steady_pool_max), (492 / 35 / 4, 6));
        assert_eq!(p.write_up_pool_max, 6);
    }

    #[test]
    fn a_job_pool_of_its_own_counts_per_pod() {
        let given = Inputs {
            pool_max: Some(10),
            job: Some(JobFlag::Own(10)),
            surge: Some(read("0")),
            ..Inputs::default()
        };
        let p = compute(&given, None).unwrap();
        let v = &p.versions[0];
        // No surge, 5 unavailable: at 20 s, 15 ready pods and the 10
        // terminated at 0 s and 20 s.
        assert_eq!(p.deploy_pods, 25);
        assert_eq!((v.possible, v.possible_in_deploy), (1000, Some(25 * 50)));
        assert_eq!(v.safe_pool_max, (492 / 25 - 10) / 4);
        let flagged: Vec<&str> = p
            .checklist
            .iter()
            .filter(|i| i.check == Check::Flagged)
            .map(|i| i.item)
            .collect();
        assert!(flagged.contains(&"Add connection to existing pool (not new pool)"));
    }

    /// Kubernetes resolves "7%" of 100 pods to a surge of 7, not 8.
    #[test]
    fn surge_percentages_round_as_kubernetes_does() {
        let given = Inputs {
            pods: Some(100),
            surge: Some(read("7%")),
            ..Inputs::default()
        };
        assert_eq!(compute(&given, None).unwrap().surge, 7);
    }

    /// No load is legal: a hold of zero, or no requests.
    #[test]
    fn zero_load_never_waits() {
        let no_hold = Inputs {
            hold: Some(read("0s")),
            ..Inputs::default()
        };
        let no_rate = Inputs {
            rate: Some(read("0/s")),
            ..Inputs::default()
        };
        for given in [no_hold, no_rate] {
            let p = compute(&given, None).unwrap();
            let q = &p.versions[0].queueing[0];
            assert_eq!((q.offered, q.p_wait, q.mean_wait_s), (0.0, 0.0, Some(0.0)));
        }
        let file = parse(
            "zero.toml",
            "[meta]\nname = \"z\"\nduration = \"1m\"\n\
             [requests]\nhold = { dist = \"deterministic\", value = \"0s\" }\n\
             [pool]\nacquire_timeout = \"1s\"\n",
        )
        .unwrap();
        let p = compute(&Inputs::default(), Some(("zero.toml", &file))).unwrap();
        assert_eq!(p.source, "zero.toml");
        let q = &p.versions[0].queueing[0];
        assert_eq!((q.p_wait, q.p_timeout), (0.0, Some(0.0)));
    }

    /// 70000 pods × 70000 workers wrapped u32: the arithmetic is in u64.
    #[test]
    fn the_largest_fleets_do_not_overflow() {
        let given = Inputs {
            pods: Some(1_000_000),
            workers: Some(1024),
            pool_max: Some(100_000),
            ..Inputs::default()
        };
        let p = compute(&given, None).unwrap();
        assert_eq!(p.versions[0].possible, 1_000_000 * 1024 * 100_000);
        assert_eq!(p.write_up_pool_max, 0);
        assert!(!p.fits);
    }

    #[test]
    fn more_reserved_slots_than_slots_are_refused() {
        let given = Inputs {
            max_connections: Some(10),
            reserved: Some(10),
            ..Inputs::default()
        };
        let e = compute(&given, None).expect_err("refused");
        assert_eq!(
            e.to_string(),
            "--reserved: expected fewer reserved slots than max_connections (10), found 10"
        );
    }
}
