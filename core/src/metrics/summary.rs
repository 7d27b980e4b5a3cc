//! `summary.json`: the run's figures after the warm-up. The field names are
//! a contract that scripts rely on: fields may be added, never renamed.

use super::histogram::DurationHistogram;
use super::recorder::{AcquireTotals, Recorder, UnfinishedTotals};
use super::retry::AttemptOutcomes;
use super::sections::{acquire_sections, connection_summary, request_summary};
use crate::engine::SimTime;
use crate::scenario::Scenario;
use serde::Serialize;

/// The whole summary.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    /// `"pooldrill"`.
    pub tool: String,
    /// The tool's version.
    pub version: String,
    /// Which scenario, seed and period.
    pub scenario: ScenarioInfo,
    /// Requests: outcomes and latency.
    pub requests: RequestSummary,
    /// Every acquire (`pool.connect()`), requests and job together.
    pub acquire: AcquireSummary,
    /// Acquires by class.
    pub acquire_by_class: ByClass,
    /// Connections.
    pub connections: ConnectionSummary,
    /// The background job.
    pub job: JobSummary,
    /// Alert replay: each rule's episodes and time to detect.
    pub alerts: Vec<AlertSummary>,
    /// Calibration targets beside the simulated values.
    pub targets: Vec<super::targets::TargetResult>,
    /// The database's CPU (with `database.cpu_cores`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuSummary>,
    /// The PgBouncer sidecars (with `[pooler]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooler: Option<PoolerSummary>,
    /// retry: attempts by outcome (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_by_outcome: Option<AttemptOutcomes>,
    /// retry: seconds from the end of the trigger until the error rate is
    /// back to its level before it and stays there (docs/retries.md);
    /// `null` if it never is, or without a trigger (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_s: Option<Option<f64>>,
    /// The run scored against each `[[observed]]` series (absent without
    /// them; filled after the run from the time series: `metrics::observed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub observed: Vec<super::observed::ObservedScore>,
    /// The windows asked for (`run --window`): written to `windows.json`,
    /// not here.
    #[serde(skip)]
    pub windows: Vec<super::window_summary::WindowSummary>,
    /// Each deploy's and rollback's before / during / after windows (the
    /// terminal's tables only).
    #[serde(skip)]
    pub rollouts: Vec<super::window_summary::RolloutSummary>,
}

/// The database's CPU after the warm-up.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CpuSummary {
    /// Cores.
    pub cores: u32,
    /// Fraction of useful CPU lost per active query beyond the cores.
    pub contention: f64,
    /// Queries (CPU parts of holds) that started after the warm-up and
    /// finished.
    pub queries: u64,
    /// Time-weighted mean of queries running at once.
    pub mean_active_queries: f64,
    /// Most queries running at once.
    pub peak_active_queries: u64,
    /// Time-weighted mean of busy cores / cores.
    pub utilisation: f64,
    /// Σ query time / Σ query work: how much contention stretched the
    /// queries (1 = never slowed).
    pub mean_stretch: Option<f64>,
}

/// The sidecars: transactions waiting for a server connection (apart from
/// pg-pool's acquire waits) and logins to PostgreSQL.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PoolerSummary {
    /// `default_pool_size` of every sidecar.
    pub pool_size: u32,
    /// Server waits of every transaction: `found_full` = found no idle
    /// server connection; `timed_out` = `query_wait_timeout`.
    pub waits: AcquireSummary,
    /// The same by class.
    pub waits_by_class: ByClass,
    /// Server logins started after the warm-up.
    pub logins: u64,
    /// Of which PostgreSQL refused (53300).
    pub refused_logins: u64,
    /// Server logins started during the warm-up (not in `logins`).
    pub warmup_logins: u64,
    /// Of which PostgreSQL refused (not in `refused_logins`).
    pub warmup_refused_logins: u64,
}

/// One alert rule's replay.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AlertSummary {
    /// Rule name.
    pub name: String,
    /// Rule severity.
    pub severity: crate::scenario::Severity,
    /// The rule, as text: `error_rate > 0.01 over 1m for 3m`.
    pub rule: String,
    /// Pending → firing → resolved episodes.
    pub episodes: Vec<EpisodeSummary>,
    /// When it first fired (s), if it did.
    pub first_firing_s: Option<f64>,
    /// The timeline change before the first firing.
    pub caused_by: Option<String>,
    /// That change in a few words, for tables: `deploy v2` for a deploy,
    /// otherwise `caused_by` up to its first comma. Not in `summary.json`.
    #[serde(skip)]
    pub cause_label: Option<String>,
    /// First firing − that change (s).
    pub time_to_detect_s: Option<f64>,
}

/// An episode with wall-clock times.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EpisodeSummary {
    /// Pending from (s).
    pub pending_at_s: f64,
    /// Firing from (s).
    pub firing_at_s: Option<f64>,
    /// Resolved at (s).
    pub resolved_at_s: Option<f64>,
    /// Pending from (clock).
    pub pending_at: String,
    /// Firing from (clock).
    pub firing_at: Option<String>,
    /// Resolved at (clock).
    pub resolved_at: Option<String>,
}

/// Which run this is.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ScenarioInfo {
    /// Scenario name.
    pub name: String,
    /// Hex digest of the scenario file.
    pub hash: String,
    /// Master seed.
    pub seed: u64,
    /// Simulated time (s).
    pub duration_s: f64,
    /// Leading time left out of these figures (s).
    pub warmup_s: f64,
}

/// Request outcomes, counting requests that arrived after the warm-up.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RequestSummary {
    /// Requests that arrived.
    pub arrived: u64,
    /// Handlers that finished their work (throughput), in time or not.
    pub completed: u64,
    /// Answers before the client's deadline.
    pub goodput: u64,
    /// Handlers failed by an acquire timeout (both messages).
    pub acquire_timeouts: u64,
    /// Of which `timeout exceeded when trying to connect` (queued).
    pub queue_timeouts: u64,
    /// Of which `Connection terminated due to connection timeout` (handshake).
    pub connect_timeouts: u64,
    /// Handlers failed by a database refusal (SQLSTATE 53300).
    pub refused: u64,
    /// Handlers failed for reasons unrelated to the pool.
    pub app_errors: u64,
    /// Requests that found no live worker, or whose worker died.
    pub unavailable: u64,
    /// Handlers stopped because their client left.
    pub cancelled: u64,
    /// Handlers failed by the sidecar's `query_wait_timeout` (with
    /// `[pooler]`; then part of the handler partition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooler_timeouts: Option<u64>,
    /// Handlers still running at the end.
    pub in_flight: u64,
    /// Clients that left at their deadline.
    pub gave_up: u64,
    /// Clients answered with an error before their deadline.
    pub errors: u64,
    /// Handlers that completed after their client had left (wasted work).
    pub wasted: u64,
    /// Connection time those handlers held (s): every checkout of each,
    /// from checkout to release — connection-seconds spent on answers
    /// nobody received.
    pub wasted_connection_s: f64,
    /// Clients still waiting at the end.
    pub clients_waiting: u64,
    /// retry: requests waiting out a backoff at the end, in both
    /// partitions (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_backoff: Option<u64>,
    /// retry: attempts, first attempts included (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u64>,
    /// retry: attempts − first attempts (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u64>,
    /// retry: retries wanted but refused by the budget or the attempt
    /// limit (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries_dropped: Option<u64>,
    /// retry: attempts / arrived (with `[retry]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amplification: Option<f64>,
    /// (errors + give-ups) / answered-or-gave-up, from the client's side.
    pub error_rate: f64,
    /// Client-observed latency, median (s).
    pub p50_latency_s: Option<f64>,
    /// Client-observed latency, 95th percentile (s).
    pub p95_latency_s: Option<f64>,
    /// Client-observed latency, 99th percentile (s).
    pub p99_latency_s: Option<f64>,
    /// Client-observed latency, mean (s): exact (not from the histogram's
    /// buckets).
    pub mean_latency_s: Option<f64>,
}

/// Acquire figures.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AcquireSummary {
    /// Acquires that ended.
    pub count: u64,
    /// Waited at all: queue or connection setup.
    pub waited: u64,
    /// Found the pool full and queued.
    pub found_full: u64,
    /// Timed out (either message).
    pub timed_out: u64,
    /// Refused by the database.
    pub refused: u64,
    /// Waited over 100 ms or failed.
    pub starved: u64,
    /// Mean wait, exact; a timed-out acquire counts its full wait (s).
    pub mean_wait_s: Option<f64>,
    /// Median wait (s).
    pub p50_wait_s: Option<f64>,
    /// 95th percentile wait (s).
    pub p95_wait_s: Option<f64>,
    /// 99th percentile wait (s).
    pub p99_wait_s: Option<f64>,
    /// Acquires that never got a connection (pg-pool acquires only; not
    /// in the sidecar's `waits`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<UnfinishedSummary>,
}

/// Acquires that never got a connection: ended by a give-up with
/// `cancel_on_abort` (`abandoned`, which also count among the acquires that
/// ended, with their waits), by their process's exit, or still waiting when
/// the run stopped. An acquire that timed out or was refused ended, and is
/// not among them. Their ages run from the start of the acquire to its end
/// (or to the end of the run).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct UnfinishedSummary {
    /// All of them.
    pub count: u64,
    /// Mean age (s).
    pub mean_age_s: Option<f64>,
    /// The oldest (s).
    pub max_age_s: Option<f64>,
    /// Ended by a give-up with `cancel_on_abort`.
    pub abandoned: u64,
    /// Ended by the exit of their worker process.
    pub process_exit: u64,
    /// Still waiting when the run stopped.
    pub waiting_at_end: u64,
}

impl UnfinishedSummary {
    /// The summary of `t`.
    fn of(t: &UnfinishedTotals) -> UnfinishedSummary {
        let count = t.count();
        UnfinishedSummary {
            count,
            mean_age_s: (count > 0).then(|| t.age_sum_ns as f64 / 1e9 / count as f64),
            max_age_s: (count > 0).then(|| t.max_age.as_secs_f64()),
            abandoned: t.abandoned,
            process_exit: t.process_exit,
            waiting_at_end: t.waiting_at_end,
        }
    }
}

/// Acquire figures of each class.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ByClass {
    /// Request handlers.
    pub request: AcquireSummary,
    /// Background-job runs.
    pub job: AcquireSummary,
}

/// Connection figures.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ConnectionSummary {
    /// Most application backends holding a server slot at once.
    pub peak_open: u64,
    /// Time-weighted mean of the same.
    pub mean_open: f64,
    /// Time-weighted mean of clients held by callers.
    pub mean_checked_out: f64,
    /// Connections leaked after the warm-up.
    pub leaked: u64,
    /// `max_connections` − reserves: what an ordinary role can ever use.
    pub usable_slots: u32,
    /// Slots held by other clients.
    pub other_clients: u32,
    /// `max_connections`.
    pub max_connections: u32,
    /// pods × workers × max, plus the job's own pools.
    pub possible: u64,
    /// Most server slots taken at once, other clients included (whole run).
    pub peak_db_occupied: u32,
}

/// Background-job figures (runs started after the warm-up).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct JobSummary {
    /// Runs started.
    pub runs_started: u64,
    /// Runs that finished their work and released.
    pub runs_completed: u64,
    /// Runs that failed (their own error or a failed acquire).
    pub runs_failed: u64,
    /// Of which: runs that never got their connections (an acquire was
    /// refused or timed out).
    pub runs_starved: u64,
    /// Ticks skipped because the previous run was still going.
    pub runs_skipped: u64,
    /// Runs that took longer than the period.
    pub runs_late: u64,
    /// The work queue (`pool_mode = "queue"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<JobQueueSummary>,
}

/// The queue-based job's work queue: a run enqueues an item, a consumer
/// takes it; `runs_late` then counts items done more than a period after
/// they were enqueued.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct JobQueueSummary {
    /// Items a consumer took (enqueued after the warm-up).
    pub taken: u64,
    /// Mean time from enqueue to a consumer taking the item (s).
    pub mean_wait_s: Option<f64>,
    /// Most items waiting at once (whole run).
    pub peak_backlog: u64,
    /// Items still waiting at the end.
    pub backlog_at_end: u64,
    /// Sum of those waits (s).
    #[serde(skip)]
    pub wait_sum_s: f64,
}

pub(crate) fn opt(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The summary figures of one set of acquires (or server waits): their
/// counts and the histogram of their waits (timeouts count their full wait).
pub(crate) fn acquire_summary(t: &AcquireTotals, h: &DurationHistogram) -> AcquireSummary {
    let [p50, p95, p99] = h.quantiles_secs([0.50, 0.95, 0.99]).map(opt);
    AcquireSummary {
        count: t.count,
        waited: t.waited,
        found_full: t.found_full,
        timed_out: t.timed_out,
        refused: t.refused,
        starved: t.starved,
        mean_wait_s: (t.count > 0).then(|| h.sum_secs() / t.count as f64),
        p50_wait_s: p50,
        p95_wait_s: p95,
        p99_wait_s: p99,
        unfinished: None,
    }
}

/// [`acquire_summary`] with the acquires that never got a connection.
pub(crate) fn acquire_summary_with_unfinished(
    t: &AcquireTotals,
    h: &DurationHistogram,
    unfinished: &UnfinishedTotals,
) -> AcquireSummary {
    AcquireSummary {
        unfinished: Some(UnfinishedSummary::of(unfinished)),
        ..acquire_summary(t, h)
    }
}

/// What the simulation knows at the end besides the recorder.
pub struct EndState {
    /// The time the run stopped.
    pub end: SimTime,
    /// Counted handlers still running.
    pub in_flight: u64,
    /// Counted clients still waiting.
    pub clients_waiting: u64,
    /// Most server slots ever taken.
    pub peak_db_occupied: u32,
    /// Job figures.
    pub job: JobSummary,
    /// CPU figures, if modelled.
    pub cpu: Option<CpuSummary>,
    /// Sidecar figures, if any.
    pub pooler: Option<PoolerSummary>,
    /// retry: counted requests waiting out a backoff.
    pub in_backoff: u64,
}

impl Summary {
    /// Assemble the summary of a finished run.
    pub fn build(scenario: &Scenario, rec: &Recorder, end: EndState) -> Summary {
        let retry = rec.retry.as_ref();
        let warmup = rec.warmup();
        let (acquire, acquire_by_class) = acquire_sections(&rec.tally);
        let (windows, rollouts) = super::window_summary::build(scenario, rec, &end);
        Summary {
            tool: "pooldrill".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            scenario: ScenarioInfo {
                name: scenario.name.clone(),
                hash: scenario.hash.clone(),
                seed: scenario.seed,
                duration_s: end.end.as_secs_f64(),
                warmup_s: warmup.as_secs_f64(),
            },
            requests: request_summary(
                scenario,
                &rec.tally,
                [end.in_flight, end.clients_waiting],
                retry.map(|r| (r, end.in_backoff)),
            ),
            acquire,
            acquire_by_class,
            connections: connection_summary(
                scenario,
                rec.open.peak(),
                [
                    rec.open.mean(end.end, warmup),
                    rec.checked_out.mean(end.end, warmup),
                ],
                rec.tally.totals.leaked,
                end.peak_db_occupied,
            ),
            windows,
            rollouts,
            job: end.job,
            cpu: end.cpu,
            pooler: end.pooler,
            attempts_by_outcome: retry.map(|r| r.outcomes.clone()),
            recovery_s: retry.map(|r| {
                let policy = scenario.retry.as_ref()?;
                r.recovery_s(policy.trigger_start?, policy.trigger_end?, end.end)
            }),
            alerts: alert_summaries(rec),
            observed: Vec::new(),
            targets: rec.targets.results(
                |name| {
                    let i = rec.alerts.rules().iter().position(|r| r.name == name)?;
                    rec.alerts.episodes[i].iter().find_map(|e| e.firing_at_s)
                },
                |s| rec.clock(SimTime::from_secs_f64(s)),
            ),
        }
    }
}

/// A serde enum's snake_case name.
fn name_of<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn alert_summaries(rec: &Recorder) -> Vec<AlertSummary> {
    let clock = |s: f64| rec.clock(SimTime::from_secs_f64(s));
    rec.alerts
        .rules()
        .iter()
        .zip(&rec.alerts.episodes)
        .zip(&rec.causes)
        .map(|((rule, episodes), causes)| {
            let first_firing_s = episodes.iter().find_map(|e| e.firing_at_s);
            let cause = causes.first().cloned().flatten();
            AlertSummary {
                name: rule.name.clone(),
                severity: rule.severity.clone(),
                rule: format!(
                    "{} {} {} over {} for {}",
                    name_of(rule.metric),
                    name_of(rule.op),
                    rule.threshold,
                    rule.window,
                    rule.for_
                ),
                episodes: episodes
                    .iter()
                    .map(|e| EpisodeSummary {
                        pending_at_s: e.pending_at_s,
                        firing_at_s: e.firing_at_s,
                        resolved_at_s: e.resolved_at_s,
                        pending_at: clock(e.pending_at_s),
                        firing_at: e.firing_at_s.map(clock),
                        resolved_at: e.resolved_at_s.map(clock),
                    })
                    .collect(),
                first_firing_s,
                time_to_detect_s: first_firing_s
                    .zip(cause.as_ref())
                    .map(|(f, c)| f - c.at.as_secs_f64()),
                cause_label: cause.as_ref().map(|c| match &c.deployed {
                    Some(version) => format!("deploy {version}"),
                    None => {
                        let text = format!("{} at {}", c.text, rec.clock(c.at));
                        text.split(',').next().unwrap_or_default().to_owned()
                    }
                }),
                caused_by: cause.map(|c| format!("{} at {}", c.text, rec.clock(c.at))),
            }
        })
        .collect()
}
