//! The scenario file as written: TOML tables mapped one to one onto serde
//! structs. Every key is optional unless said otherwise; defaults are applied
//! in [`super::validate`], which turns this into a [`super::Scenario`].
//! Unknown keys are rejected everywhere.

use super::units::{ClockTime, Duration, Percent, Rate, TimeSpec};
use serde::Deserialize;
use std::collections::BTreeMap;

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
    /// Named versions of the application: overrides of `[requests]`,
    /// `[pool]` and `[job]`.
    pub versions: Option<BTreeMap<String, VersionFile>>,
    /// The timeline: deploys, rollbacks, traffic changes...
    pub events: Option<Vec<EventFile>>,
    /// Alert rules replayed over the time series.
    pub alerts: Option<Vec<AlertFile>>,
    /// Alert evaluation settings.
    pub alerting: Option<AlertingFile>,
    /// Figures the scenario is calibrated to, shown beside the simulated ones.
    pub targets: Option<Vec<TargetFile>>,
    /// A PgBouncer sidecar in every pod (absent: the pools connect to
    /// PostgreSQL directly).
    pub pooler: Option<PoolerFile>,
    /// retry: the clients' retries (absent: none).
    pub retry: Option<super::retry::RetryFile>,
    /// Series measured in production, scored against the run.
    pub observed: Option<Vec<super::observed::ObservedFile>>,
}

/// `[pooler]`: a PgBouncer sidecar in every pod, in transaction pooling
/// mode, between the pod's node-postgres pools and PostgreSQL.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolerFile {
    /// `default_pool_size`: server connections per pod.
    pub pool_size: Option<i64>,
    /// `query_wait_timeout`: a client not given a server connection in this
    /// time is disconnected; 0 = wait for ever.
    pub query_wait_timeout: Option<Duration>,
    /// `server_idle_timeout`: idle server connections are closed after this;
    /// 0 = never.
    pub server_idle_timeout: Option<Duration>,
    /// `server_login_retry`: after a failed server login, no new one before this.
    pub server_login_retry: Option<Duration>,
    /// Time for a node-postgres client to connect to the sidecar.
    pub client_setup: Option<DistFile>,
}

/// One `[[targets]]` entry: a metric over a window (`metric`, `from`, `to`,
/// `expected`), or the time an alert first fires (`alert`, `expected_at`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// What it is, e.g. "error rate after the deploy".
    pub label: String,
    /// The metric (any alert metric).
    pub metric: Option<AlertMetric>,
    /// Start of the window.
    pub from: Option<TimeSpec>,
    /// End of the window.
    pub to: Option<TimeSpec>,
    /// The target value, in the metric's unit.
    pub expected: Option<f64>,
    /// An alert's name.
    pub alert: Option<String>,
    /// When that alert is expected to fire first.
    pub expected_at: Option<TimeSpec>,
    /// Why the simulation may differ.
    pub note: Option<String>,
}

/// `[versions."v2.3.0"]`: what this version changes.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionFile {
    /// Overrides of `[requests]`.
    pub requests: Option<RequestsFile>,
    /// Overrides of `[pool]`.
    pub pool: Option<PoolFile>,
    /// Overrides of `[job]` (`enabled = false` removes the job).
    pub job: Option<JobFile>,
}

/// One `[[events]]` entry. Which keys apply depends on `kind`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventFile {
    /// When: `"15m"` after the start, or a wall-clock time `"14:15"` (needs `meta.start`).
    pub at: TimeSpec,
    /// What happens.
    pub kind: EventKind,
    /// deploy: the version to roll out.
    pub version: Option<String>,
    /// deploy, rollback: `"rolling"`, `"all_at_once"` or `"canary"`.
    pub strategy: Option<Strategy>,
    /// deploy, rollback: Kubernetes `maxSurge`, `"25%"` or a pod count.
    pub max_surge: Option<Percent>,
    /// deploy, rollback: Kubernetes `maxUnavailable`, `"25%"` or a pod count.
    pub max_unavailable: Option<Percent>,
    /// deploy, rollback, restart: time from pod creation to ready.
    pub pod_startup: Option<Duration>,
    /// canary: pods of the new version first.
    pub canary_pods: Option<i64>,
    /// canary: time before the rest follow.
    pub canary_pause: Option<Duration>,
    /// traffic: the new fleet-wide rate.
    pub rate: Option<Rate>,
    /// traffic: reached linearly over this time (a step without it).
    pub ramp: Option<Duration>,
    /// traffic, with `traffic.rate_from`: from now on, the file's rate times
    /// this.
    pub scale: Option<f64>,
    /// job: switch the job on or off.
    pub enabled: Option<bool>,
    /// server: new `idle_session_timeout`.
    pub idle_session_timeout: Option<Duration>,
    /// server: new `idle_in_transaction_session_timeout`.
    pub idle_in_transaction_session_timeout: Option<Duration>,
    /// restart: the pod to restart.
    pub pod: Option<i64>,
}

/// Kinds of timeline events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Roll out a version.
    Deploy,
    /// Roll back to the version before the last deploy (`kubectl rollout undo`).
    Rollback,
    /// Change the request rate.
    Traffic,
    /// Switch the background job on or off.
    Job,
    /// Change a server setting.
    Server,
    /// Restart one pod's processes.
    Restart,
}

/// How a deploy replaces pods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Kubernetes RollingUpdate with maxSurge / maxUnavailable.
    Rolling,
    /// Every new pod at once; old pods go when the new ones are ready.
    AllAtOnce,
    /// `canary_pods` first, the rest (rolling) after `canary_pause`.
    Canary,
}

/// `[alerting]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingFile {
    /// How often rules are evaluated (Prometheus `evaluation_interval`).
    pub evaluation_interval: Option<Duration>,
}

/// One `[[alerts]]` rule: `metric` over `window` compared with `threshold`,
/// true for `for` before it fires.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertFile {
    /// Alert name.
    pub name: String,
    /// What is measured.
    pub metric: AlertMetric,
    /// Comparison: `">"`, `">="`, `"<"`, `"<="`.
    pub op: CompareOp,
    /// The threshold, in the metric's unit (ratios as fractions, times in s).
    pub threshold: f64,
    /// Range of the rate or average (Prometheus `[1m]`).
    pub window: Option<Duration>,
    /// How long the condition must hold before firing.
    #[serde(rename = "for")]
    pub for_: Option<Duration>,
    /// `page`, `warning`, or free text (`ticket`...).
    pub severity: Option<super::Severity>,
}

/// Metrics alert rules can use, each aggregated over the rule's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertMetric {
    /// Client-visible failures / outcomes.
    ErrorRate,
    /// Database refusals per second.
    RefusalsPerS,
    /// Acquire timeouts per second.
    AcquireTimeoutsPerS,
    /// Refusals and acquire timeouts per second ("exhaustion failures").
    ExhaustionFailuresPerS,
    /// Request arrivals per second.
    RequestsPerS,
    /// Mean acquire wait (s).
    WaitMeanS,
    /// Acquire-wait quantiles (s), from histogram buckets as Prometheus computes them.
    WaitP50S,
    /// See `wait_p50_s`.
    WaitP95S,
    /// See `wait_p50_s`.
    WaitP99S,
    /// Client-latency quantiles (s), from histogram buckets.
    LatencyP50S,
    /// See `latency_p50_s`.
    LatencyP95S,
    /// See `latency_p50_s`.
    LatencyP99S,
    /// Application backends holding a server slot.
    OpenConnections,
    /// Server slots taken / `max_connections`.
    DbUtilisation,
    /// The busiest pool's (totalCount − idleCount) / max.
    PoolUtilisation,
    /// Callers waiting for a client.
    Waiters,
    /// Server slots held by leaked clients.
    OpenLeaked,
}

/// Comparison of an alert rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum CompareOp {
    /// `>`
    #[serde(rename = ">")]
    Above,
    /// `>=`
    #[serde(rename = ">=")]
    AtLeast,
    /// `<`
    #[serde(rename = "<")]
    Below,
    /// `<=`
    #[serde(rename = "<=")]
    AtMost,
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
    /// Wall-clock time of the start, `"14:00"`: charts and logs show clock times.
    pub start: Option<ClockTime>,
    /// The day (UTC) the start falls on, `"2026-03-14"`: places telemetry's
    /// absolute times, and is the default of `--date`.
    pub date: Option<String>,
    /// Name of the version running at the start (default `"initial"`).
    pub version: Option<String>,
    /// retry: the end of the trigger, from which `recovery_s` is measured
    /// (default: the last timeline event).
    pub trigger_end: Option<Duration>,
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
    /// Kubernetes `terminationGracePeriodSeconds`: a terminating pod exits
    /// when its requests are done or after this.
    pub termination_grace: Option<Duration>,
    /// Time for the cluster primary to replace a crashed worker.
    pub worker_restart: Option<Duration>,
    /// Whether the app calls `pool.end()` on SIGTERM once its requests are
    /// done (then a terminating pod exits at once); without it the process
    /// lives until its idle clients time out, or the grace period ends.
    pub shutdown_ends_pools: Option<bool>,
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
    /// A telemetry file (relative to the scenario's) holding the rate over
    /// time, instead of `rate` and `profile`.
    pub rate_from: Option<String>,
    /// How the rate goes between the file's points.
    pub interpolate: Option<Interpolation>,
}

/// How a rate profile read from a file goes between its points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// Each rate holds until the next point.
    #[default]
    Step,
    /// Straight lines between the points.
    Linear,
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
    /// Fraction of each hold that is CPU work on the database (with
    /// `database.cpu_cores`); the rest (network round trips, app code inside
    /// the transaction) is not slowed by contention.
    pub cpu_fraction: Option<f64>,
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
    /// Whether the app registered `pool.on('error')`: without it, the server
    /// killing an idle client crashes the worker.
    pub error_listener: Option<bool>,
    /// Order of the waiters: `"fifo"` (pg-pool) or `"requests_first"` (a
    /// priority gate in front of `connect()`). `[pool]` only.
    pub queue: Option<QueueDiscipline>,
    /// Most clients the job may hold at once in the shared pool (a
    /// reservation for requests). `[pool]` only.
    pub job_limit: Option<i64>,
}

/// Order in which a pool serves its waiters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueDiscipline {
    /// Strict arrival order (pg-pool).
    Fifo,
    /// Requests before the job; FIFO within each class.
    RequestsFirst,
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
    /// CPU cores: with it, active queries share the cores (processor sharing).
    pub cpu_cores: Option<i64>,
    /// Fraction of useful CPU lost per active query beyond the cores
    /// (context switches, lock contention); needs `cpu_cores`.
    pub cpu_contention: Option<f64>,
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
    /// Connections checked out by one run, one after the other.
    pub fan_out: Option<i64>,
    /// How long a run holds its connections.
    pub hold: Option<DistFile>,
    /// Probability that a run fails.
    pub error_probability: Option<f64>,
    /// `"shared"`, `"own"`, `"per_run"` or `"queue"`.
    pub pool_mode: Option<JobPoolMode>,
    /// `"finally"` or `"leaky"`.
    pub release: Option<ReleaseDiscipline>,
    /// Whether leaked clients sit inside an open transaction.
    pub leak_in_transaction: Option<bool>,
    /// Whether the job's code listens for `'error'` on its clients: without
    /// it, the server killing a leaked client crashes the worker.
    pub error_listener: Option<bool>,
    /// Options of the job's own pool (pool_mode own, per_run or queue).
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
    /// A new pool every run, ended when the run finishes (unless a leaky
    /// run failed: its pool then lives on with the leaked clients).
    PerRun,
    /// Runs push work items to a queue, drained by one consumer per pod that
    /// holds one connection of its own.
    Queue,
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
