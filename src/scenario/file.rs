//! The scenario file as written: TOML tables mapped one to one onto serde
//! structs. Every key is optional unless said otherwise; defaults are applied
//! in [`super::validate`], which turns this into a [`super::Scenario`].
//! Unknown keys are rejected everywhere.

use super::units::{Duration, Rate};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Name, duration, seed, warm-up, sampling.
    pub meta: MetaFile,
    /// Pods and workers.
    #[serde(default)]
    pub fleet: FleetFile,
    /// Request arrivals.
    #[serde(default)]
    pub traffic: TrafficFile,
    /// What one request does.
    #[serde(default)]
    pub requests: RequestsFile,
    /// The per-worker node-postgres pool.
    #[serde(default)]
    pub pool: PoolFile,
    /// PostgreSQL.
    #[serde(default)]
    pub database: DatabaseFile,
    /// The background job (absent: no job).
    pub job: Option<JobFile>,
}

/// `[meta]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaFile {
    /// Scenario name: names the output folder.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Simulated time to run.
    pub duration: Duration,
    /// Master seed of every random stream.
    pub seed: Option<u64>,
    /// Leading time left out of summary statistics.
    pub warmup: Option<Duration>,
    /// Time-series resolution.
    pub sample_interval: Option<Duration>,
}

/// `[fleet]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// Number of pods.
    pub pods: Option<i64>,
    /// Node.js worker processes per pod, each with its own pool.
    pub workers: Option<i64>,
    /// `"random"` or `"round_robin"`.
    pub dispatch: Option<Dispatch>,
}

/// How requests are spread over workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dispatch {
    /// Every request goes to a uniformly random worker: per-worker arrivals
    /// stay Poisson, as behind real load balancers.
    Random,
    /// Requests are dealt to the workers in turn, fleet-wide.
    RoundRobin,
}

/// `[traffic]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficFile {
    /// Fleet-wide request rate.
    pub rate: Option<Rate>,
    /// `"poisson"` or `"deterministic"`.
    pub arrivals: Option<ArrivalProcess>,
    /// Later changes of the rate.
    pub profile: Option<Vec<RateChangeFile>>,
}

/// The inter-arrival law.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalProcess {
    /// Exponential gaps.
    Poisson,
    /// Evenly spaced arrivals.
    Deterministic,
}

/// One `[[traffic.profile]]` entry: from `at`, the rate becomes `rate`,
/// reached linearly over `ramp` (a step when absent).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateChangeFile {
    /// When the change starts.
    pub at: Duration,
    /// The new fleet-wide rate.
    pub rate: Rate,
    /// How long the change takes.
    pub ramp: Option<Duration>,
}

/// `[requests]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsFile {
    /// Sequential checkouts per request.
    pub checkouts: Option<i64>,
    /// How long each checkout holds its client.
    pub hold: Option<DistFile>,
    /// Time the handler spends before its first checkout.
    pub app_time: Option<DistFile>,
    /// Probability that a request fails for a reason unrelated to the pool.
    pub error_probability: Option<f64>,
    /// Whether such a failure releases the client with an error (destroying it).
    pub error_destroys_client: Option<bool>,
    /// Upstream (load balancer / client) deadline; 0 = none.
    pub deadline: Option<Duration>,
    /// Whether the handler stops when the client gives up (Node does not).
    pub cancel_on_abort: Option<bool>,
}

/// A duration distribution: `{ dist = "lognormal", median = "5ms", p99 = "25ms" }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistFile {
    /// Which law.
    pub dist: Option<DistKind>,
    /// Mean (exponential; lognormal with p99).
    pub mean: Option<Duration>,
    /// The value (deterministic).
    pub value: Option<Duration>,
    /// Lower bound (uniform).
    pub min: Option<Duration>,
    /// Upper bound (uniform).
    pub max: Option<Duration>,
    /// Median (lognormal).
    pub median: Option<Duration>,
    /// 99th percentile (lognormal).
    pub p99: Option<Duration>,
}

/// Names of the supported laws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistKind {
    /// `value`
    Deterministic,
    /// `mean`
    Exponential,
    /// `min`, `max`
    Uniform,
    /// `median` and `p99`, or `mean` and `p99`
    Lognormal,
}

/// `[pool]` and `[job.pool]`: node-postgres pool options.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolFile {
    /// Most clients (connecting, idle, checked out) at once.
    pub max: Option<i64>,
    /// Idle clients are not evicted below this many clients.
    pub min: Option<i64>,
    /// `idleTimeoutMillis`; 0 = never evict.
    pub idle_timeout: Option<Duration>,
    /// `connectionTimeoutMillis`: bounds queue wait and connection setup; 0 = wait forever.
    pub acquire_timeout: Option<Duration>,
    /// `"fixed"` (pg-pool) or `"exponential"` (mean = acquire_timeout; for Erlang A checks).
    pub acquire_timeout_law: Option<PatienceLaw>,
    /// `maxLifetimeSeconds`; 0 = unlimited.
    pub max_lifetime: Option<Duration>,
    /// `maxUses`; 0 = unlimited, 1 = a new connection per checkout.
    pub max_uses: Option<i64>,
}

/// How acquire timeouts are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatienceLaw {
    /// Every waiter gives up after exactly the timeout (pg-pool).
    Fixed,
    /// Exponential with mean the timeout (M/M/c+M, test use).
    Exponential,
}

/// `[database]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    /// `max_connections`.
    pub max_connections: Option<i64>,
    /// `superuser_reserved_connections`.
    pub superuser_reserved_connections: Option<i64>,
    /// `reserved_connections` (PostgreSQL 16+).
    pub reserved_connections: Option<i64>,
    /// Slots held all the time by other clients (monitoring, psql, migrations).
    pub other_clients: Option<i64>,
    /// Time to establish a connection.
    pub setup: Option<DistFile>,
    /// Fraction of the setup time after which the reserve is checked.
    pub reserve_check_at: Option<f64>,
    /// Time to a "sorry, too many clients already" refusal.
    pub too_many_clients_delay: Option<DistFile>,
    /// `idle_session_timeout`; 0 = off.
    pub idle_session_timeout: Option<Duration>,
    /// `idle_in_transaction_session_timeout`; 0 = off.
    pub idle_in_transaction_session_timeout: Option<Duration>,
}

/// `[job]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFile {
    /// Whether the job runs at all.
    pub enabled: Option<bool>,
    /// Time between runs (`setInterval`).
    pub period: Option<Duration>,
    /// `"one_worker"` per pod or `"every_worker"`.
    pub runs_in: Option<JobPlacement>,
    /// Whether a run starts while the previous one is still going.
    pub overlap: Option<bool>,
    /// Connections checked out by one run, all at once.
    pub fan_out: Option<i64>,
    /// How long a run holds its connections.
    pub hold: Option<DistFile>,
    /// Probability that a run fails.
    pub error_probability: Option<f64>,
    /// `"shared"`, `"own"` or `"per_run"`.
    pub pool_mode: Option<JobPoolMode>,
    /// `"finally"` or `"leaky"`.
    pub release: Option<ReleaseDiscipline>,
    /// Whether leaked clients sit inside an open transaction.
    pub leak_in_transaction: Option<bool>,
    /// Options of the job's own pool (pool_mode own or per_run).
    pub pool: Option<PoolFile>,
}

/// Where the job code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobPlacement {
    /// One worker per pod (an elected worker or the cluster primary).
    OneWorker,
    /// Every worker process.
    EveryWorker,
}

/// Which pool the job uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobPoolMode {
    /// The worker's request pool.
    Shared,
    /// A pool of its own, created once per process.
    Own,
    /// A new pool every run, ended when the run succeeds.
    PerRun,
}

/// How the job gives its connections back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseDiscipline {
    /// `release()` in a `finally` block: always released.
    Finally,
    /// Released only on success: clients held when a run fails are never released.
    Leaky,
}
