//! Scenario files: the TOML format ([`file`]), units ([`units`]), errors that
//! point at a line and column ([`error`]), and validation into the typed
//! [`Scenario`] the simulation runs ([`validate`]), from text the caller's
//! [`Resolve`] reads ([`resolve`]).

pub mod error;
pub mod file;
pub mod locate;
pub mod observed;
pub mod overrides;
pub mod resolve;
pub mod retry;
pub mod severity;
pub mod units;
pub mod validate;

use crate::dist::Dist;
use crate::engine::SimTime;
pub use error::{ScenarioError, ScenarioWarning};
pub use file::{
    AlertMetric, ArrivalProcess, CompareOp, Dispatch, Interpolation, JobPlacement, JobPoolMode,
    PatienceLaw, QueueDiscipline, ReleaseDiscipline, Strategy,
};
pub use resolve::Resolve;
pub use severity::Severity;
pub use units::ClockTime;
use units::Percent;

/// A validated scenario: every default applied, every value in range.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name; names the output folder.
    pub name: String,
    /// Free text from the file.
    pub description: String,
    /// Simulated time to run.
    pub duration: SimTime,
    /// Master seed of every random stream.
    pub seed: u64,
    /// Leading time left out of summary statistics.
    pub warmup: SimTime,
    /// Time-series resolution.
    pub sample_interval: SimTime,
    /// Pods and workers.
    pub fleet: Fleet,
    /// Request arrivals.
    pub traffic: Traffic,
    /// The application's versions; the first runs at the start.
    pub versions: Vec<Version>,
    /// PostgreSQL.
    pub database: Database,
    /// Wall-clock time of the start, if given.
    pub start_clock: Option<ClockTime>,
    /// `meta.date`: the day (UTC) the start falls on, as (year, month, day).
    pub date: Option<(i32, u32, u32)>,
    /// The timeline, in time order.
    pub events: Vec<TimelineEvent>,
    /// Alert rules.
    pub alerts: Vec<AlertRule>,
    /// How often alert rules are evaluated.
    pub alert_interval: SimTime,
    /// Calibration targets.
    pub targets: Vec<Target>,
    /// The PgBouncer sidecar of every pod, if any.
    pub pooler: Option<PoolerConfig>,
    /// retry: the clients' retry policy, if any (docs/retries.md).
    pub retry: Option<retry::Retry>,
    /// `[[observed]]`: measured series the run is scored against (their
    /// points are read by [`resolve::load`], not by validation).
    pub observed: Vec<observed::Observed>,
    /// Hex digest of the scenario source (and command-line overrides).
    pub hash: String,
    /// What is valid but likely wrong (a job that can deadlock), located
    /// like errors; commands print them to stderr.
    pub warnings: Vec<ScenarioWarning>,
}

/// A PgBouncer sidecar in every pod, in transaction pooling mode
/// (docs/semantics.md#pgbouncer; docs/models.md).
#[derive(Clone, Debug, PartialEq)]
pub struct PoolerConfig {
    /// `default_pool_size`: most server connections per pod.
    pub pool_size: u32,
    /// `query_wait_timeout` (`None` = wait for ever).
    pub query_wait_timeout: Option<SimTime>,
    /// `server_idle_timeout` (`None` = never close idle servers).
    pub server_idle_timeout: Option<SimTime>,
    /// `server_login_retry`: pause after a failed server login.
    pub server_login_retry: SimTime,
    /// Time for a node-postgres client to connect to the sidecar.
    pub client_setup: Dist,
}

/// Pods and workers.
#[derive(Clone, Debug)]
pub struct Fleet {
    /// Number of pods.
    pub pods: u32,
    /// Worker processes per pod.
    pub workers: u32,
    /// How requests are spread over workers.
    pub dispatch: Dispatch,
    /// A terminating pod exits when its requests are done or after this.
    pub termination_grace: SimTime,
    /// Time to replace a crashed worker process.
    pub worker_restart: SimTime,
    /// Whether a terminating pod ends its pools once its requests are done.
    pub shutdown_ends_pools: bool,
}

/// A named version of the application.
#[derive(Clone, Debug)]
pub struct Version {
    /// Its name, e.g. `v2.3.0`.
    pub name: String,
    /// What it does.
    pub app: App,
}

/// Something that happens at a given time.
#[derive(Clone, Debug)]
pub struct TimelineEvent {
    /// When.
    pub at: SimTime,
    /// What.
    pub action: Action,
}

/// Timeline actions.
#[derive(Clone, Debug)]
pub enum Action {
    /// Roll out version `version` (an index into [`Scenario::versions`]).
    Deploy {
        /// Which version.
        version: usize,
        /// How.
        rollout: Rollout,
    },
    /// Roll back to the version that ran before the last deploy.
    Rollback {
        /// How.
        rollout: Rollout,
    },
    /// The request rate changes (already part of [`Traffic::rate_points`]).
    Traffic {
        /// The new rate per second.
        rate: f64,
        /// Over this long.
        ramp: SimTime,
    },
    /// From now on the rate is `traffic.rate_from`'s times `scale` (already
    /// part of [`Traffic::rate_points`]).
    TrafficScale {
        /// The multiplier.
        scale: f64,
    },
    /// The job is switched on or off.
    Job {
        /// On or off.
        enabled: bool,
    },
    /// Server settings change (`None`: unchanged; `Some(None)`: off).
    Server {
        /// New `idle_session_timeout`.
        idle_session_timeout: Option<Option<SimTime>>,
        /// New `idle_in_transaction_session_timeout`.
        idle_in_transaction_timeout: Option<Option<SimTime>>,
    },
    /// Restart the processes of the pod at this position in the fleet.
    Restart {
        /// Position among the live pods, oldest first.
        pod: u32,
        /// Time until it is ready again.
        pod_startup: SimTime,
    },
}

/// How a deploy replaces pods.
#[derive(Clone, Copy, Debug)]
pub struct Rollout {
    /// Rolling, all at once, or canary.
    pub strategy: Strategy,
    /// Extra pods allowed during the rollout.
    pub max_surge: u32,
    /// Pods that may be unavailable during the rollout.
    pub max_unavailable: u32,
    /// Pod creation to ready.
    pub pod_startup: SimTime,
    /// Canary: pods of the new version first.
    pub canary_pods: u32,
    /// Canary: wait before the rest.
    pub canary_pause: SimTime,
}

/// A calibration target.
#[derive(Clone, Debug)]
pub struct Target {
    /// What it is.
    pub label: String,
    /// How it is measured.
    pub check: TargetCheck,
    /// Why the simulation may differ.
    pub note: String,
}

/// How a target is measured.
#[derive(Clone, Debug)]
pub enum TargetCheck {
    /// A metric aggregated over `(from, to]`.
    Window {
        /// The metric.
        metric: AlertMetric,
        /// Window start.
        from: SimTime,
        /// Window end.
        to: SimTime,
        /// Target value.
        expected: f64,
    },
    /// When an alert first fires.
    AlertFires {
        /// Alert name.
        alert: String,
        /// Expected first firing.
        at: SimTime,
    },
}

/// An alert rule.
#[derive(Clone, Debug)]
pub struct AlertRule {
    /// Name.
    pub name: String,
    /// What is measured.
    pub metric: AlertMetric,
    /// Comparison.
    pub op: CompareOp,
    /// Threshold in the metric's unit.
    pub threshold: f64,
    /// Aggregation window.
    pub window: SimTime,
    /// Pending time before firing.
    pub for_: SimTime,
    /// How urgent it is.
    pub severity: Severity,
}

/// Request arrivals.
#[derive(Clone, Debug)]
pub struct Traffic {
    /// Poisson or deterministic gaps.
    pub arrivals: ArrivalProcess,
    /// Fleet-wide rate over time: `(time in s, rate per s)` corner points of
    /// a piecewise-linear function, constant after the last point.
    pub rate_points: Vec<(f64, f64)>,
}

/// Everything a deploy can change: what a request does, the pool, the job.
#[derive(Clone, Debug)]
pub struct App {
    /// What one request does.
    pub requests: Requests,
    /// The per-worker request pool.
    pub pool: PoolConfig,
    /// The background job, if any.
    pub job: Option<Job>,
}

/// What one request does.
#[derive(Clone, Debug)]
pub struct Requests {
    /// Sequential checkouts per request.
    pub checkouts: u32,
    /// Hold time per checkout.
    pub hold: Dist,
    /// Handler time before the first checkout.
    pub app_time: Dist,
    /// Probability of a failure unrelated to the pool.
    pub error_probability: f64,
    /// Whether that failure releases the client with an error.
    pub error_destroys_client: bool,
    /// Upstream deadline ([`SimTime::NEVER`] = none).
    pub deadline: SimTime,
    /// Whether the handler stops when its client gives up.
    pub cancel_on_abort: bool,
    /// Fraction of each hold that is CPU work on the database (used with
    /// [`Database::cpu`]).
    pub cpu_fraction: f64,
}

/// node-postgres pool options.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolConfig {
    /// Most clients at once.
    pub max: u32,
    /// No idle eviction at or below this many clients.
    pub min: u32,
    /// Whether `pool.on('error')` is registered (without it, a reaped idle
    /// client crashes the worker).
    pub error_listener: bool,
    /// Idle eviction delay (`None` = never).
    pub idle_timeout: Option<SimTime>,
    /// Acquire timeout (`None` = wait forever).
    pub acquire_timeout: Option<SimTime>,
    /// Fixed or exponential acquire timeouts.
    pub acquire_timeout_law: PatienceLaw,
    /// Client lifetime (`None` = unlimited).
    pub max_lifetime: Option<SimTime>,
    /// Checkouts per client (`None` = unlimited).
    pub max_uses: Option<u32>,
    /// Order of the waiters.
    pub queue: QueueDiscipline,
    /// Most clients the job may hold at once (`None` = no reservation).
    pub job_limit: Option<u32>,
}

/// The background job.
#[derive(Clone, Debug)]
pub struct Job {
    /// Time between runs.
    pub period: SimTime,
    /// One worker per pod, or every worker.
    pub placement: JobPlacement,
    /// Whether runs may overlap.
    pub overlap: bool,
    /// Connections per run.
    pub fan_out: u32,
    /// How long a run holds its connections.
    pub hold: Dist,
    /// Probability that a run fails.
    pub error_probability: f64,
    /// Shared, own or per-run pool.
    pub pool_mode: JobPoolMode,
    /// Finally or leaky.
    pub release: ReleaseDiscipline,
    /// Whether leaked clients sit in an open transaction.
    pub leak_in_transaction: bool,
    /// Whether the job listens for client errors (without it, a reaped
    /// leaked client crashes the worker).
    pub error_listener: bool,
    /// The job's own pool (unused in shared mode).
    pub pool: PoolConfig,
}

/// PostgreSQL.
#[derive(Clone, Debug)]
pub struct Database {
    /// `max_connections`.
    pub max_connections: u32,
    /// `superuser_reserved_connections`.
    pub superuser_reserved: u32,
    /// `reserved_connections`.
    pub reserved: u32,
    /// Slots held by other clients for the whole run.
    pub other_clients: u32,
    /// Connection setup time.
    pub setup: Dist,
    /// Fraction of the setup time at which the reserve is checked.
    pub reserve_check_at: f64,
    /// Time to a "too many clients" refusal.
    pub too_many_clients_delay: Dist,
    /// `idle_session_timeout` (`None` = off).
    pub idle_session_timeout: Option<SimTime>,
    /// `idle_in_transaction_session_timeout` (`None` = off).
    pub idle_in_transaction_timeout: Option<SimTime>,
    /// The server's CPU, if its contention is modelled.
    pub cpu: Option<Cpu>,
}

/// The database server's processors: active queries share them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cpu {
    /// Cores.
    pub cores: u32,
    /// Fraction of useful CPU lost per active query beyond the cores.
    pub contention: f64,
}

impl Database {
    /// Slots an ordinary role can ever use: `max_connections` minus the
    /// superuser and role reserves.
    pub fn usable_slots(&self) -> u32 {
        self.max_connections - self.superuser_reserved - self.reserved
    }
}

impl Rollout {
    /// Kubernetes' defaults: rolling, 25 % surge, 25 % unavailable.
    pub fn kubernetes_default(pods: u32, pod_startup: SimTime) -> Rollout {
        Rollout {
            strategy: Strategy::Rolling,
            max_surge: Percent::Share(25).of(pods, true),
            max_unavailable: Percent::Share(25).of(pods, false),
            pod_startup,
            canary_pods: 0,
            canary_pause: SimTime::ZERO,
        }
    }

    /// Kubernetes' `ResolveFenceposts`: when surge and unavailable both
    /// resolve to zero pods (percentages of a small fleet), one pod may be
    /// unavailable, so that the rollout can proceed.
    pub fn resolve_fenceposts(mut self) -> Rollout {
        if self.max_surge == 0 && self.max_unavailable == 0 {
            self.max_unavailable = 1;
        }
        self
    }
}

impl Scenario {
    /// The application as deployed at the start.
    pub fn app(&self) -> &App {
        &self.versions[0].app
    }

    /// Simulated time `t` as a wall-clock string (`"14:15:30"`), or as
    /// minutes and seconds from the start (`"15m30s"`) without a start time.
    pub fn clock(&self, t: SimTime) -> String {
        match self.start_clock {
            Some(start) => ClockTime(start.0 + (t.0 / 1_000_000_000) as u32).to_string(),
            None => t.to_string(),
        }
    }

    /// Read the scenario file `name` through `files`, parse and validate it.
    pub fn load(name: &str, files: &dyn Resolve) -> Result<Scenario, ScenarioError> {
        resolve::load(name, files, validate::Overrides::default())
    }

    /// Parse and validate scenario text; `file` names it in errors.
    pub fn parse(file: &str, source: &str) -> Result<Scenario, ScenarioError> {
        validate::parse(file, source)
    }

    /// Every server connection a fleet of this scenario could open at the
    /// start: pods × workers × max, plus the job's own pools (its queue
    /// consumers' single connections); with a sidecar, pods × its pool size.
    pub fn possible_connections(&self) -> u64 {
        self.possible_connections_of(self.app())
    }

    /// The same for a fleet running `app` (one live pool per job runner).
    pub fn possible_connections_of(&self, app: &App) -> u64 {
        if let Some(pooler) = &self.pooler {
            return self.fleet.pods as u64 * pooler.pool_size as u64;
        }
        let workers = self.fleet.pods as u64 * self.fleet.workers as u64;
        let mut possible = workers * app.pool.max as u64;
        if let Some(job) = &app.job {
            let runners = match job.placement {
                JobPlacement::OneWorker => self.fleet.pods as u64,
                JobPlacement::EveryWorker => workers,
            };
            match job.pool_mode {
                JobPoolMode::Shared => {}
                JobPoolMode::Queue => possible += self.fleet.pods as u64,
                JobPoolMode::Own | JobPoolMode::PerRun => possible += runners * job.pool.max as u64,
            }
        }
        possible
    }
}
