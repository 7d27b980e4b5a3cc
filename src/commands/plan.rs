//! `pooldrill plan [FILE] [--pods N …]`: the capacity arithmetic of the
//! write-up done right (reserved slots, other clients, the job's pool,
//! rolling deploys), the queueing view at the scenario's load, and the
//! write-up's pre-deploy checklist. Exit code 0: the fleet fits; 1: it is
//! over-provisioned; 2: bad input. Meant to gate a deploy in CI.
//!
//! The deploy figure is an upper bound of the connections the pods can
//! hold at once under the simulator's own rollout: the file's deploys (or
//! one rolling deploy with Kubernetes' defaults) are replayed without
//! traffic ([`pod_timeline::replay`]), and every terminated pod counts
//! until its grace period ends, the latest it can exit with connections.

use crate::engine::SimTime;
use crate::model::pod_timeline;
use crate::report::plan as render;
use crate::scenario::units::{Duration, Percent, Rate};
use crate::scenario::validate::parse;
use crate::scenario::{
    Action, AlertMetric, App, JobPlacement, JobPoolMode, PatienceLaw, ReleaseDiscipline, Rollout,
    Scenario, Strategy, TimelineEvent,
};
use crate::scenario_file::load_file;
use crate::stdout::{out, outln};
use crate::theory::{
    AbandonmentFigures, erlang_a, erlang_c, mmc_deterministic_patience, mmc_mean_wait,
};
use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;
use std::str::FromStr;

/// Arguments of `plan`: a scenario file, flags, or both (flags win).
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A scenario file to plan from (without one, flags and the scenario
    /// defaults of docs/semantics.md#defaults).
    pub file: Option<PathBuf>,
    /// PostgreSQL max_connections (default 500).
    #[arg(long, value_parser = bounded::<1, 262_143>)]
    pub max_connections: Option<u32>,
    /// Reserved slots: superuser_reserved_connections + reserved_connections
    /// (default 3).
    #[arg(long, value_parser = bounded::<0, 262_143>)]
    pub reserved: Option<u32>,
    /// Pods (default 20).
    #[arg(long, value_parser = bounded::<1, 1_000_000>)]
    pub pods: Option<u32>,
    /// Worker processes per pod, each with its own pool (default 4).
    #[arg(long, value_parser = bounded::<1, 1024>)]
    pub workers: Option<u32>,
    /// Each worker's pool max (default 10).
    #[arg(long, value_parser = bounded::<1, 100_000>)]
    pub pool_max: Option<u32>,
    /// maxSurge of the deploys: a whole percentage of the pods ("25%",
    /// rounded up as Kubernetes does) or a pod count (default: the file's
    /// deploys, else 25%).
    #[arg(long)]
    pub surge: Option<Percent>,
    /// Slots other clients hold: monitoring, psql, migrations (default 5).
    #[arg(long, value_parser = bounded::<0, 262_143>)]
    pub other_clients: Option<u32>,
    /// The background job's pool: "none", "shared" (the worker's pool) or
    /// "own:N" (a pool of max N in one worker per pod).
    #[arg(long)]
    pub job: Option<JobFlag>,
    /// Fleet-wide request rate for the queueing view (default 400/s).
    #[arg(long)]
    pub rate: Option<Rate>,
    /// Mean time a checkout holds its client (default 50ms).
    #[arg(long)]
    pub hold: Option<Duration>,
    /// pg-pool connectionTimeoutMillis ("0s": wait for ever; default 0s).
    #[arg(long)]
    pub acquire_timeout: Option<Duration>,
    /// Print the plan as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A flag's integer, in the range of the scenario file's field of the same
/// meaning (and its error's words).
fn bounded<const MIN: u32, const MAX: u32>(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| (i64::from(MIN)..=i64::from(MAX)).contains(v))
        .map(|v| v as u32)
        .ok_or_else(|| format!("expected an integer from {MIN} to {MAX}, found {s}"))
}

/// `--job`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobFlag {
    /// No background job.
    None,
    /// The job uses the worker's pool.
    Shared,
    /// A pool of its own with this max, in one worker per pod.
    Own(u32),
}

impl FromStr for JobFlag {
    type Err = String;
    fn from_str(s: &str) -> Result<JobFlag, String> {
        match s.trim() {
            "none" => Ok(JobFlag::None),
            "shared" => Ok(JobFlag::Shared),
            t => t
                .strip_prefix("own:")
                .and_then(|n| bounded::<1, 100_000>(n).ok())
                .map(JobFlag::Own)
                .ok_or_else(|| {
                    format!("expected none, shared or own:N (N from 1 to 100000), found \"{s}\"")
                }),
        }
    }
}

/// A checklist item's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Done, and fine.
    Checked,
    /// Needs attention.
    Flagged,
    /// Cannot be checked from what was given.
    Unknown,
}

/// One item of the pre-deploy checklist.
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    /// The write-up's words.
    pub item: &'static str,
    /// Its state.
    pub check: Check,
    /// Why.
    pub detail: String,
}

/// The job as the arithmetic sees it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "pool")]
pub enum JobPool {
    /// No job.
    None,
    /// The worker's request pool.
    Shared {
        /// Mean connections the job holds in its worker's pool (Erlangs).
        load: f64,
    },
    /// Its own pools.
    Own {
        /// Their max.
        max: u32,
        /// Job pools per pod.
        per_pod: u32,
        /// A new pool every run (`per_run`): overlapping runs add more.
        per_run: bool,
    },
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

/// Erlang figures for one pool size and load, per worker.
#[derive(Clone, Debug, Serialize)]
pub struct Queueing {
    /// What this row is ("pool max 6", "2 × load").
    pub case: String,
    /// Pool size c.
    pub pool_max: u32,
    /// Offered load a = λ × mean hold (Erlangs), the job's included.
    pub offered: f64,
    /// P(an acquire waits): Erlang C (1 when a ≥ c).
    pub p_wait: f64,
    /// Mean wait per acquire (s), when the queue is stable.
    pub mean_wait_s: Option<f64>,
    /// P(an acquire times out), with an acquire timeout.
    pub p_timeout: Option<f64>,
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

/// Compute the plan, print it, and return 0 (fits) or 1 (over-provisioned).
pub fn plan(args: &PlanArgs) -> Result<i32> {
    let scenario = args
        .file
        .as_ref()
        .map(|f| load_file(f, Default::default()))
        .transpose()?;
    let plan = compute(args, scenario.as_ref())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        out!("{}", render::text(&plan));
    }
    Ok(if plan.fits { 0 } else { 1 })
}

/// The versions a scenario runs: the first, and every deployed one.
fn running_versions(s: &Scenario) -> Vec<usize> {
    let mut out = vec![0];
    for e in &s.events {
        if let Action::Deploy { version, .. } = e.action
            && !out.contains(&version)
        {
            out.push(version);
        }
    }
    out
}

/// The largest surge of the scenario's deploys and rollbacks, if any.
fn file_surge(s: &Scenario) -> Option<(u32, String)> {
    rollouts(s)
        .map(|r| {
            let pods = match r.strategy {
                Strategy::Canary => r.max_surge.max(r.canary_pods),
                _ => r.max_surge,
            };
            (
                pods,
                format!("the file's {:?} deploy", r.strategy).to_lowercase(),
            )
        })
        .max_by_key(|(pods, _)| *pods)
}

/// The rollouts of a scenario's deploys and rollbacks.
fn rollouts(s: &Scenario) -> impl Iterator<Item = &Rollout> {
    s.events.iter().filter_map(|e| match &e.action {
        Action::Deploy { rollout, .. } | Action::Rollback { rollout } => Some(rollout),
        _ => None,
    })
}

/// Above this many pods the deploys are not replayed (the rollout's
/// bookkeeping grows with the square of the fleet): the bound then counts
/// every pod the deploys may create.
pub const REPLAY_MAX_PODS: u32 = 5_000;

/// The most pods that can hold connections at once during `scenario`'s
/// deploys (one rolling deploy with Kubernetes' defaults if it has none),
/// with `pods` pods and `--surge` as given: (pods, when, how).
fn deploy_pods(
    scenario: &Scenario,
    pods: u32,
    surge: Option<Percent>,
) -> (u64, Option<SimTime>, String) {
    let mut s = scenario.clone();
    s.fleet.pods = pods;
    if rollouts(&s).next().is_none() {
        let rollout = Rollout::kubernetes_default(pods, SimTime::from_secs(20));
        s.events.insert(
            0,
            TimelineEvent {
                at: SimTime::ZERO,
                action: Action::Deploy {
                    version: 0,
                    rollout,
                },
            },
        );
    }
    for e in &mut s.events {
        if let Action::Deploy { rollout, .. } | Action::Rollback { rollout } = &mut e.action
            && let Some(surge) = surge
            && rollout.strategy != Strategy::AllAtOnce
        {
            rollout.max_surge = surge.of(pods, true);
            *rollout = rollout.resolve_fenceposts();
        }
    }
    let grace = s.fleet.termination_grace;
    let deploys = rollouts(&s).count() as u64;
    let replayed = if deploys == 1 { "deploy" } else { "deploys" };
    if pods > REPLAY_MAX_PODS {
        return (
            u64::from(pods) * (1 + deploys),
            None,
            format!(
                "the first fleet and every pod the {replayed} may create (deploys of more than {REPLAY_MAX_PODS} pods are not replayed)"
            ),
        );
    }
    let peak = pod_timeline::bound_peak(&pod_timeline::replay(&s), |_| 1, grace);
    (
        peak.value,
        Some(peak.at),
        format!(
            "ready pods, and terminated ones until termination_grace ({grace}) ends, in the replayed {replayed}"
        ),
    )
}

/// The plan from `args` over `scenario` (if any).
pub fn compute(args: &PlanArgs, scenario: Option<&Scenario>) -> Result<Plan> {
    let db = scenario.map(|s| &s.database);
    let max_connections = args
        .max_connections
        .or(db.map(|d| d.max_connections))
        .unwrap_or(500);
    let reserved = args
        .reserved
        .or(db.map(|d| d.superuser_reserved + d.reserved))
        .unwrap_or(3);
    anyhow::ensure!(
        reserved < max_connections,
        "--reserved: expected fewer reserved slots than max_connections ({max_connections}), found {reserved}"
    );
    let usable = max_connections - reserved;
    let other_clients = args
        .other_clients
        .or(db.map(|d| d.other_clients))
        .unwrap_or(5);
    let app_slots = usable.saturating_sub(other_clients);
    let pods = args.pods.or(scenario.map(|s| s.fleet.pods)).unwrap_or(20);
    let workers = args
        .workers
        .or(scenario.map(|s| s.fleet.workers))
        .unwrap_or(4);
    let (surge, surge_source) = match args.surge {
        Some(Percent::Count(n)) => (n, "--surge".to_owned()),
        Some(p @ Percent::Share(share)) => (
            p.of(pods, true),
            format!("--surge {share}% of {pods} pods, rounded up"),
        ),
        None => scenario.and_then(file_surge).unwrap_or((
            Percent::Share(25).of(pods, true),
            format!("Kubernetes' default maxSurge, 25 % of {pods} pods rounded up"),
        )),
    };
    let defaults;
    let base = match scenario {
        Some(s) => s,
        None => {
            defaults = parse("flags", "[meta]\nname = \"flags\"\nduration = \"1m\"\n")
                .map_err(|e| anyhow::anyhow!("the scenario defaults: {e}"))?;
            &defaults
        }
    };
    let (deploy_pods, deploy_peak_at, deploy_bound) = deploy_pods(base, pods, args.surge);
    let rate = args
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
        Some(s) => running_versions(s)
            .into_iter()
            .map(|v| (s.versions[v].name.clone(), Some(&s.versions[v].app)))
            .collect(),
        None => vec![("flags".to_owned(), None)],
    };
    let first = apps[0].1;
    let checkouts = first.map_or(1, |a| a.requests.checkouts);
    let hold_s = args
        .hold
        .map(|d| d.0.as_secs_f64())
        .or(first.map(|a| a.requests.hold.mean()))
        .unwrap_or(0.050);
    let acquire_timeout_s = match args.acquire_timeout {
        Some(d) => (d.0.0 > 0).then(|| d.0.as_secs_f64()),
        None => first.and_then(|a| a.pool.acquire_timeout.map(|t| t.as_secs_f64())),
    };
    let exponential_timeout =
        first.is_some_and(|a| a.pool.acquire_timeout_law == PatienceLaw::Exponential);
    let per_worker = rate * f64::from(checkouts) / (f64::from(pods) * f64::from(workers));
    let queue = |case: String, c: u32, offered: f64| -> Queueing {
        queueing(
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
            let pool_max = args.pool_max.or(app.map(|a| a.pool.max)).unwrap_or(10);
            let (job, job_releases) = job_pool(args.job, *app, workers);
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
        source: args
            .file
            .as_ref()
            .map_or("flags and scenario defaults".into(), |f| {
                f.display().to_string()
            }),
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
    plan.checklist = checklist(&plan, scenario);
    Ok(plan)
}

/// The job's pool in `app`, or as `--job` says.
fn job_pool(flag: Option<JobFlag>, app: Option<&App>, workers: u32) -> (JobPool, Option<bool>) {
    match flag {
        Some(JobFlag::None) => return (JobPool::None, None),
        Some(JobFlag::Own(max)) => {
            let releases = app.and_then(|a| a.job.as_ref()).map(finally);
            return (
                JobPool::Own {
                    max,
                    per_pod: 1,
                    per_run: false,
                },
                releases,
            );
        }
        Some(JobFlag::Shared) if app.and_then(|a| a.job.as_ref()).is_none() => {
            return (JobPool::Shared { load: 0.0 }, None);
        }
        _ => {}
    }
    let Some(job) = app.and_then(|a| a.job.as_ref()) else {
        return (JobPool::None, None);
    };
    let runners = match job.placement {
        JobPlacement::OneWorker => 1,
        JobPlacement::EveryWorker => workers,
    };
    let pool = if flag == Some(JobFlag::Shared) || job.pool_mode == JobPoolMode::Shared {
        // Little's law: a run every period holds fan_out clients for the
        // mean hold.
        JobPool::Shared {
            load: f64::from(job.fan_out) * job.hold.mean() / job.period.as_secs_f64(),
        }
    } else {
        JobPool::Own {
            max: job.pool.max,
            per_pod: runners,
            per_run: job.pool_mode == JobPoolMode::PerRun,
        }
    };
    (pool, Some(finally(job)))
}

fn finally(job: &crate::scenario::Job) -> bool {
    job.release == ReleaseDiscipline::Finally
}

/// Erlang figures for one worker's pool of size `c` at offered load
/// `offered` (Erlangs), mean hold `hold_s`.
fn queueing(
    case: String,
    c: u32,
    offered: f64,
    hold_s: f64,
    timeout_s: Option<f64>,
    exponential: bool,
) -> Queueing {
    if offered <= 0.0 {
        // No load (no requests, or holds of zero): nobody ever waits.
        return Queueing {
            case,
            pool_max: c,
            offered: 0.0,
            p_wait: 0.0,
            mean_wait_s: Some(0.0),
            p_timeout: timeout_s.map(|_| 0.0),
        };
    }
    let mu = 1.0 / hold_s;
    let lambda = offered * mu;
    let stable = offered < f64::from(c);
    let abandonment = timeout_s.map(|tau| -> AbandonmentFigures {
        if exponential {
            erlang_a(c, lambda, mu, 1.0 / tau)
        } else {
            mmc_deterministic_patience(c, lambda, mu, tau)
        }
    });
    let (p_wait, mean_wait_s) = match abandonment {
        Some(f) => (f.p_wait, Some(f.mean_wait)),
        None if stable => (erlang_c(c, offered), Some(mmc_mean_wait(c, lambda, mu))),
        None => (1.0, None),
    };
    Queueing {
        case,
        pool_max: c,
        offered,
        p_wait,
        mean_wait_s,
        p_timeout: abandonment.map(|f| f.p_abandon),
    }
}

/// The write-up's pre-deploy checklist, plus its ADR's "release in
/// finally".
fn checklist(plan: &Plan, scenario: Option<&Scenario>) -> Vec<Item> {
    use Check::*;
    let worst = plan
        .versions
        .iter()
        .max_by_key(|v| v.possible_in_deploy.unwrap_or(u64::MAX))
        .expect("a version");
    let in_deploy = worst
        .possible_in_deploy
        .map_or("no bound".to_owned(), |n| n.to_string());
    let mut items = vec![
        Item {
            item: "Calculate connection requirements (pods × workers × pool_size)",
            check: Checked,
            detail: format!(
                "{} × {} × {}{} = {} possible; {} during a deploy (at most {} pods hold connections at once: {})",
                plan.pods,
                plan.workers,
                worst.pool_max,
                match worst.job {
                    JobPool::Own { max, per_pod, .. } =>
                        format!(" + {} × {per_pod} × {max} (job pools)", plan.pods),
                    _ => String::new(),
                },
                worst.possible,
                in_deploy,
                plan.deploy_pods,
                plan.deploy_bound
            ),
        },
        Item {
            item: "Verify against DB max_connections",
            check: if plan.fits { Checked } else { Flagged },
            detail: format!(
                "{}{} {} {} slots the app may hold ({} max_connections − {} reserved − {} other clients); largest safe pool max: {}",
                if worst.possible_in_deploy.is_none() {
                    "a new job pool every run: overlapping runs each open another, so "
                } else {
                    ""
                },
                in_deploy,
                if plan.fits { "≤" } else { ">" },
                plan.app_slots,
                plan.max_connections,
                plan.reserved,
                plan.other_clients,
                worst.safe_pool_max
            ),
        },
    ];
    let own: Vec<&str> = plan
        .versions
        .iter()
        .filter(|v| matches!(v.job, JobPool::Own { .. }))
        .map(|v| v.name.as_str())
        .collect();
    items.push(Item {
        item: "Add connection to existing pool (not new pool)",
        check: if own.is_empty() { Checked } else { Flagged },
        detail: if own.is_empty() {
            "no job pool of its own".into()
        } else {
            format!("the job builds a pool of its own: {}", own.join(", "))
        },
    });
    let doubled: Vec<&Queueing> = plan
        .versions
        .iter()
        .filter_map(|v| v.queueing.iter().find(|q| q.case.ends_with("2 × load")))
        .collect();
    let saturated = doubled.iter().any(|q| q.offered >= f64::from(q.pool_max));
    items.push(Item {
        item: "Test at 2x expected load",
        check: if saturated { Flagged } else { Checked },
        detail: format!(
            "M/M/c at 2 × {:.0}/s: offered {:.2} Erlangs per worker for a pool of {}{}; simulate it with pooldrill sweep FILE --set traffic.rate=…",
            plan.rate,
            doubled.first().map_or(0.0, |q| q.offered),
            doubled.first().map_or(0, |q| q.pool_max),
            if saturated { ": the pool cannot keep up" } else { "" }
        ),
    });
    items.push(match scenario {
        None => Item {
            item: "Add pool metrics to dashboard",
            check: Unknown,
            detail: "give a scenario file with [[alerts]] to check".into(),
        },
        Some(s) => {
            let has =
                |metrics: &[AlertMetric]| s.alerts.iter().any(|a| metrics.contains(&a.metric));
            let wanted = [
                (
                    "pool utilisation",
                    has(&[AlertMetric::PoolUtilisation, AlertMetric::Waiters]),
                ),
                (
                    "acquire wait",
                    has(&[
                        AlertMetric::WaitMeanS,
                        AlertMetric::WaitP50S,
                        AlertMetric::WaitP95S,
                        AlertMetric::WaitP99S,
                    ]),
                ),
                (
                    "exhaustion failures",
                    has(&[
                        AlertMetric::ExhaustionFailuresPerS,
                        AlertMetric::RefusalsPerS,
                        AlertMetric::AcquireTimeoutsPerS,
                    ]),
                ),
            ];
            let missing: Vec<&str> = wanted.iter().filter(|w| !w.1).map(|w| w.0).collect();
            Item {
                item: "Add pool metrics to dashboard",
                check: if missing.is_empty() { Checked } else { Flagged },
                detail: if missing.is_empty() {
                    "alerts on pool utilisation, acquire wait and exhaustion failures".into()
                } else {
                    format!("no alert on {}", missing.join(", "))
                },
            }
        }
    });
    let leaky: Vec<&str> = plan
        .versions
        .iter()
        .filter(|v| v.job_releases == Some(false))
        .map(|v| v.name.as_str())
        .collect();
    let unknown = plan
        .versions
        .iter()
        .any(|v| v.job != JobPool::None && v.job_releases.is_none());
    items.push(Item {
        item: "Release connections in finally{} blocks (the write-up's ADR)",
        check: match (leaky.is_empty(), unknown) {
            (false, _) => Flagged,
            (true, true) => Unknown,
            (true, false) => Checked,
        },
        detail: if !leaky.is_empty() {
            format!("the job leaks on failure in {}", leaky.join(", "))
        } else if unknown {
            "give a scenario file to check the job's release".into()
        } else {
            "every job run releases in finally (or there is no job)".into()
        },
    });
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(flags: &[&str]) -> PlanArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            plan: PlanArgs,
        }
        let mut argv = vec!["plan"];
        argv.extend_from_slice(flags);
        Cli::parse_from(argv).plan
    }

    #[test]
    fn the_write_ups_fix_does_not_survive_a_rolling_deploy() {
        let p = compute(&args(&["--pool-max", "6"]), None).unwrap();
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
        let p = compute(
            &args(&["--pool-max", "10", "--job", "own:10", "--surge", "0"]),
            None,
        )
        .unwrap();
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

    #[test]
    fn queueing_matches_erlang_c_and_m_m_c_d() {
        let q = queueing("x".into(), 6, 3.125, 0.05, None, false);
        assert!((q.p_wait - 0.116).abs() < 5e-4, "{q:?}");
        let q = queueing("x".into(), 10, 9.0, 1.0, Some(0.3), false);
        assert!((q.p_timeout.unwrap() - 0.0894).abs() < 5e-4, "{q:?}");
        let q = queueing("x".into(), 4, 5.0, 0.05, None, false);
        assert_eq!((q.p_wait, q.mean_wait_s), (1.0, None));
    }

    #[test]
    fn flags_parse_like_the_issue_writes_them() {
        assert_eq!(args(&["--surge", "25%"]).surge, Some(Percent::Share(25)));
        assert_eq!(args(&["--surge", "5"]).surge, Some(Percent::Count(5)));
        assert_eq!("own:10".parse(), Ok(JobFlag::Own(10)));
        assert_eq!("shared".parse(), Ok(JobFlag::Shared));
        assert!("own:0".parse::<JobFlag>().is_err());
    }

    /// Kubernetes resolves "7%" of 100 pods to a surge of 7, not 8.
    #[test]
    fn surge_percentages_round_as_kubernetes_does() {
        let p = compute(&args(&["--pods", "100", "--surge", "7%"]), None).unwrap();
        assert_eq!(p.surge, 7);
    }

    /// No load is legal: a hold of zero, or no requests.
    #[test]
    fn zero_load_never_waits() {
        for flags in [&["--hold", "0s"][..], &["--rate", "0/s"]] {
            let p = compute(&args(flags), None).unwrap();
            let q = &p.versions[0].queueing[0];
            assert_eq!((q.offered, q.p_wait, q.mean_wait_s), (0.0, 0.0, Some(0.0)));
        }
        let q = queueing("x".into(), 4, 0.0, 0.0, Some(1.0), false);
        assert_eq!(q.p_timeout, Some(0.0));
        let file = parse(
            "zero.toml",
            "[meta]\nname = \"z\"\nduration = \"1m\"\n\
             [requests]\nhold = { dist = \"deterministic\", value = \"0s\" }\n\
             [pool]\nacquire_timeout = \"1s\"\n",
        )
        .unwrap();
        let p = compute(&args(&[]), Some(&file)).unwrap();
        let q = &p.versions[0].queueing[0];
        assert_eq!((q.p_wait, q.p_timeout), (0.0, Some(0.0)));
    }

    /// 70000 pods × 70000 workers wrapped u32; the flags now take the
    /// file's ranges, and the arithmetic is in u64.
    #[test]
    fn flags_take_the_files_ranges() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            plan: PlanArgs,
        }
        let e = Cli::try_parse_from(["plan", "--workers", "70000"])
            .err()
            .expect("refused");
        assert!(
            e.to_string()
                .contains("expected an integer from 1 to 1024, found 70000"),
            "{e}"
        );
        for (flag, max) in [
            ("--pods", "1000001"),
            ("--pool-max", "100001"),
            ("--max-connections", "262144"),
            ("--other-clients", "-1"),
        ] {
            assert!(Cli::try_parse_from(["plan", flag, max]).is_err(), "{flag}");
        }
        let p = compute(
            &args(&[
                "--pods",
                "1000000",
                "--workers",
                "1024",
                "--pool-max",
                "100000",
            ]),
            None,
        )
        .unwrap();
        assert_eq!(p.versions[0].possible, 1_000_000 * 1024 * 100_000);
        assert_eq!(p.write_up_pool_max, 0);
        assert!(!p.fits);
    }
}
