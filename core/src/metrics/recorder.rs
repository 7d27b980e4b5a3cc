//! The streaming collector the model writes to. Per sample interval it keeps
//! counters and two small histograms and hands a [`SeriesRow`] to a
//! [`Sink`]; for the whole run (after the warm-up) it keeps counters, three
//! histograms and a few time-weighted levels. Nothing is kept per request.

use super::alerts::AlertEngine;
use super::buckets::WAIT_BOUNDS_S;
use super::histogram::DurationHistogram;
use super::level::Level;
use super::log_kind::LogKind;
use super::series::{IntervalHistograms, LogEntry, PodRow, SeriesRow, Sink};
use crate::caller_class::CallerClass;
use crate::engine::SimTime;
use crate::scenario::Scenario;

/// How an acquire (`pool.connect()`) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcquireEnd {
    /// Got a client.
    Served,
    /// `timeout exceeded when trying to connect` (queued caller).
    QueueTimeout,
    /// `Connection terminated due to connection timeout` (own handshake).
    ConnectTimeout,
    /// SQLSTATE 53300 from the server.
    Refused,
    /// The caller stopped waiting: its client left and the handler was
    /// cancelled (`cancel_on_abort`). An unfinished wait too.
    Abandoned,
}

/// How a request handler ended (the server-side view; partitions arrivals
/// with the handlers still in flight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandlerEnd {
    /// Finished its work (possibly after its client left).
    Completed,
    /// Failed: `timeout exceeded when trying to connect` (queued).
    QueueTimeout,
    /// Failed: `Connection terminated due to connection timeout` (own handshake).
    ConnectTimeout,
    /// Failed: refused by the database.
    Refused,
    /// Failed for a reason unrelated to the pool.
    AppError,
    /// No live worker took it, or its worker process died.
    Unavailable,
    /// Stopped because its client left (`cancel_on_abort`).
    Cancelled,
    /// Failed: the sidecar gave its transaction no server connection within
    /// `query_wait_timeout` and disconnected it.
    PoolerTimeout,
}

/// What the client saw (partitions arrivals with the clients still waiting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientEnd {
    /// A successful answer before the deadline.
    Ok,
    /// An error answer before the deadline.
    Error,
    /// No answer by the deadline: the client left.
    GaveUp,
}

/// An acquire is "starved" when it waited longer than this or failed.
pub const STARVED_AFTER: SimTime = SimTime::from_millis(100);

#[derive(Clone, Debug, Default)]
struct IntervalCounts {
    arrivals: u64,
    completed: u64,
    goodput: u64,
    acquire_timeouts: u64,
    refusals: u64,
    gave_up: u64,
    app_errors: u64,
    client_errors: u64,
    client_resolved: u64,
    starved_requests: u64,
    starved_jobs: u64,
    leaked: u64,
    job_runs: u64,
    wasted_held_ns: u64,
}

/// Whole-run totals after the warm-up.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Requests that arrived after the warm-up.
    pub arrived: u64,
    /// Handlers that finished their work.
    pub completed: u64,
    /// Answers before the deadline.
    pub goodput: u64,
    /// Handlers failed by an acquire timeout in the queue.
    pub queue_timeouts: u64,
    /// Handlers failed by a connection timeout during their handshake.
    pub connect_timeouts: u64,
    /// Handlers failed by a database refusal.
    pub refused: u64,
    /// Handlers failed for other reasons.
    pub app_errors: u64,
    /// Handlers lost: no live worker, or their worker died.
    pub unavailable: u64,
    /// Handlers stopped because their client left.
    pub cancelled: u64,
    /// Handlers failed by the sidecar's `query_wait_timeout`.
    pub pooler_timeouts: u64,
    /// Clients that left at the deadline.
    pub gave_up: u64,
    /// Clients that got an error before the deadline.
    pub client_errors: u64,
    /// Handlers that completed after their client left: wasted work.
    pub wasted: u64,
    /// Connection time (checkout to release, every checkout) of those
    /// handlers, in nanoseconds.
    pub wasted_held_ns: u64,
    /// Acquires by class: [requests, job].
    pub acquires: [AcquireTotals; 2],
    /// Acquires that never got a connection, by class: [requests, job].
    pub unfinished: [UnfinishedTotals; 2],
    /// Connections leaked.
    pub leaked: u64,
}

/// Acquire totals of one class.
#[derive(Clone, Debug, Default)]
pub struct AcquireTotals {
    /// Acquires that ended.
    pub count: u64,
    /// Of which waited at all (queue or handshake).
    pub waited: u64,
    /// Of which found the pool full and queued.
    pub found_full: u64,
    /// Timed out (either message).
    pub timed_out: u64,
    /// Refused by the database.
    pub refused: u64,
    /// Waited over 100 ms or failed.
    pub starved: u64,
}

/// Acquires of one class that never got a connection: their caller
/// stopped waiting, its process exited, or it still waited at the end.
#[derive(Clone, Debug, Default)]
pub struct UnfinishedTotals {
    /// Ended by a give-up with `cancel_on_abort` (also counted, with their
    /// waits, among the acquires that ended).
    pub abandoned: u64,
    /// Ended by the exit of their worker process (pod exit or crash).
    pub process_exit: u64,
    /// Still waiting when the run stopped.
    pub waiting_at_end: u64,
    /// Sum of their ages (start of the acquire to its end, or to the end
    /// of the run), in nanoseconds.
    pub age_sum_ns: u128,
    /// The oldest.
    pub max_age: SimTime,
}

/// Why an acquire never got a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfinished {
    /// Its caller gave up and was cancelled.
    Abandoned,
    /// Its worker process exited.
    ProcessExit,
    /// The run stopped while it waited.
    WaitingAtEnd,
}

impl UnfinishedTotals {
    /// Every unfinished acquire.
    pub fn count(&self) -> u64 {
        self.abandoned + self.process_exit + self.waiting_at_end
    }

    /// Count one of age `age`.
    fn add(&mut self, why: Unfinished, age: SimTime) {
        match why {
            Unfinished::Abandoned => self.abandoned += 1,
            Unfinished::ProcessExit => self.process_exit += 1,
            Unfinished::WaitingAtEnd => self.waiting_at_end += 1,
        }
        self.age_sum_ns += u128::from(age.0);
        self.max_age = self.max_age.max(age);
    }

    /// Add `other`'s counts to these.
    pub fn merge(&mut self, other: &UnfinishedTotals) {
        self.abandoned += other.abandoned;
        self.process_exit += other.process_exit;
        self.waiting_at_end += other.waiting_at_end;
        self.age_sum_ns += other.age_sum_ns;
        self.max_age = self.max_age.max(other.max_age);
    }
}

impl AcquireTotals {
    /// Add `other`'s counts to these.
    pub fn merge(&mut self, other: &AcquireTotals) {
        self.count += other.count;
        self.waited += other.waited;
        self.found_full += other.found_full;
        self.timed_out += other.timed_out;
        self.refused += other.refused;
        self.starved += other.starved;
    }
}

/// A timeline change, remembered as the likely cause of the alerts that
/// follow it.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// When it happened.
    pub at: SimTime,
    /// Its kind and detail: `deploy v2, rolling (surge 1, unavailable 0)`.
    pub text: String,
    /// The version deployed, if it was a deploy.
    pub deployed: Option<String>,
}

/// The collector.
pub struct Recorder {
    warmup: SimTime,
    start_clock: Option<crate::scenario::ClockTime>,
    sample_interval: SimTime,
    /// Event-log lines not yet handed to the sink.
    log: Vec<LogEntry>,
    /// Alert rules and their episodes.
    pub alerts: AlertEngine,
    /// The last timeline change: what caused an alert.
    pub last_change: Option<Change>,
    /// For each alert episode that fired: the change that preceded it.
    pub causes: Vec<Vec<Option<Change>>>,
    /// Calibration targets.
    pub targets: super::targets::TargetTracker,
    interval: IntervalCounts,
    interval_wait: DurationHistogram,
    interval_latency: DurationHistogram,
    /// Whole-run totals after the warm-up.
    pub totals: Totals,
    /// Client-observed latency of every resolved request after the warm-up.
    pub latency: DurationHistogram,
    /// Acquire waits after the warm-up, by class.
    pub waits: [DurationHistogram; 2],
    /// Application backends holding a server slot.
    pub open: Level,
    /// Clients checked out (leaked ones not included).
    pub checked_out: Level,
    /// Leaked connections created so far (whole run).
    pub leaked_cumulative: u64,
    /// retry: what the clients' retries do (with `[retry]`).
    pub retry: Option<super::retry::RetryCounters>,
}

fn class_index(class: CallerClass) -> usize {
    match class {
        CallerClass::Request => 0,
        CallerClass::Job => 1,
    }
}

impl Recorder {
    /// A recorder for a run of `scenario`.
    pub fn new(scenario: &Scenario) -> Recorder {
        Recorder {
            warmup: scenario.warmup,
            start_clock: scenario.start_clock,
            sample_interval: scenario.sample_interval,
            log: Vec::new(),
            alerts: AlertEngine::new(
                scenario.alerts.clone(),
                scenario.alert_interval,
                scenario.database.max_connections,
            ),
            last_change: None,
            causes: vec![Vec::new(); scenario.alerts.len()],
            targets: super::targets::TargetTracker::new(
                scenario.targets.clone(),
                scenario.database.max_connections,
            ),
            interval: IntervalCounts::default(),
            interval_wait: DurationHistogram::new(2),
            interval_latency: DurationHistogram::new(2),
            totals: Totals::default(),
            latency: DurationHistogram::new(3),
            waits: [DurationHistogram::new(3), DurationHistogram::new(3)],
            open: Level::default(),
            checked_out: Level::default(),
            leaked_cumulative: 0,
            retry: scenario.retry.as_ref().map(|_| Default::default()),
        }
    }

    /// The end of the warm-up.
    pub fn warmup(&self) -> SimTime {
        self.warmup
    }

    /// Whether something that started at `t` counts in the summary.
    #[inline]
    pub fn counts(&self, t: SimTime) -> bool {
        t >= self.warmup
    }

    /// A request arrived.
    #[inline]
    pub fn arrival(&mut self, now: SimTime) {
        self.interval.arrivals += 1;
        if self.counts(now) {
            self.totals.arrived += 1;
        }
    }

    /// An acquire that started at `started` ended now.
    #[inline(always)]
    pub fn acquire(
        &mut self,
        now: SimTime,
        class: CallerClass,
        started: SimTime,
        found_full: bool,
        end: AcquireEnd,
    ) {
        let wait = now - started;
        let starved = end != AcquireEnd::Served || wait > STARVED_AFTER;
        if starved {
            match class {
                CallerClass::Request => self.interval.starved_requests += 1,
                CallerClass::Job => self.interval.starved_jobs += 1,
            }
        }
        self.interval_wait.record(wait);
        if !self.counts(started) {
            return;
        }
        let k = class_index(class);
        self.waits[k].record(wait);
        let t = &mut self.totals.acquires[k];
        t.count += 1;
        t.waited += u64::from(wait > SimTime::ZERO);
        t.found_full += u64::from(found_full);
        t.starved += u64::from(starved);
        match end {
            AcquireEnd::QueueTimeout | AcquireEnd::ConnectTimeout => t.timed_out += 1,
            AcquireEnd::Refused => t.refused += 1,
            AcquireEnd::Abandoned => self.totals.unfinished[k].add(Unfinished::Abandoned, wait),
            AcquireEnd::Served => {}
        }
    }

    /// An acquire that started at `started` ends now without a connection
    /// and without an [`acquire`](Self::acquire) record: its process
    /// exited, or the run stops while it waits.
    pub fn unfinished_acquire(
        &mut self,
        now: SimTime,
        class: CallerClass,
        started: SimTime,
        why: Unfinished,
    ) {
        if self.counts(started) {
            self.totals.unfinished[class_index(class)].add(why, now - started);
        }
    }

    /// A handler (of a request that arrived at `arrived`) ended.
    /// `client_gone` says whether its client had already left; `held` is
    /// the connection time of its checkouts.
    #[inline]
    pub fn handler(&mut self, arrived: SimTime, end: HandlerEnd, client_gone: bool, held: SimTime) {
        match end {
            HandlerEnd::Completed => {
                self.interval.completed += 1;
                if client_gone {
                    self.interval.wasted_held_ns += held.0;
                }
            }
            HandlerEnd::QueueTimeout | HandlerEnd::ConnectTimeout => {
                self.interval.acquire_timeouts += 1
            }
            HandlerEnd::Refused => self.interval.refusals += 1,
            HandlerEnd::AppError => self.interval.app_errors += 1,
            HandlerEnd::Unavailable | HandlerEnd::Cancelled | HandlerEnd::PoolerTimeout => {}
        }
        if !self.counts(arrived) {
            return;
        }
        let t = &mut self.totals;
        match end {
            HandlerEnd::Completed if client_gone => {
                t.completed += 1;
                t.wasted += 1;
                t.wasted_held_ns += held.0;
            }
            HandlerEnd::Completed => t.completed += 1,
            HandlerEnd::QueueTimeout => t.queue_timeouts += 1,
            HandlerEnd::ConnectTimeout => t.connect_timeouts += 1,
            HandlerEnd::Refused => t.refused += 1,
            HandlerEnd::AppError => t.app_errors += 1,
            HandlerEnd::Unavailable => t.unavailable += 1,
            HandlerEnd::Cancelled => t.cancelled += 1,
            HandlerEnd::PoolerTimeout => t.pooler_timeouts += 1,
        }
    }

    /// What the client of a request that arrived at `arrived` saw, now.
    #[inline(always)]
    pub fn client(&mut self, now: SimTime, arrived: SimTime, end: ClientEnd) {
        let latency = now - arrived;
        self.interval.client_resolved += 1;
        self.interval_latency.record(latency);
        match end {
            ClientEnd::Ok => self.interval.goodput += 1,
            ClientEnd::Error => self.interval.client_errors += 1,
            ClientEnd::GaveUp => {
                self.interval.client_errors += 1;
                self.interval.gave_up += 1;
            }
        }
        if !self.counts(arrived) {
            return;
        }
        self.latency.record(latency);
        match end {
            ClientEnd::Ok => self.totals.goodput += 1,
            ClientEnd::Error => self.totals.client_errors += 1,
            ClientEnd::GaveUp => self.totals.gave_up += 1,
        }
    }

    /// `n` connections were leaked now.
    pub fn leaked(&mut self, now: SimTime, n: u64) {
        self.leaked_cumulative += n;
        self.interval.leaked += n;
        if self.counts(now) {
            self.totals.leaked += n;
        }
    }

    /// A job run started now.
    pub fn job_run(&mut self) {
        self.interval.job_runs += 1;
    }

    /// Add a line to the event log; timeline changes are remembered as the
    /// likely cause of the alerts that follow. `version` is the version a
    /// deploy or rollback moves to.
    pub fn log(
        &mut self,
        now: SimTime,
        kind: LogKind,
        pod: Option<u32>,
        version: Option<String>,
        detail: String,
    ) {
        if kind.is_change() {
            self.last_change = Some(Change {
                at: now,
                text: format!("{kind} {detail}").trim().to_owned(),
                deployed: version.clone().filter(|_| kind == LogKind::Deploy),
            });
        }
        self.log.push(LogEntry {
            time_s: now.as_secs_f64(),
            clock: self.clock(now),
            kind,
            pod,
            detail,
            version,
        });
    }

    /// `t` as a wall-clock time, or from the start.
    pub fn clock(&self, t: SimTime) -> String {
        match self.start_clock {
            Some(start) => {
                crate::scenario::ClockTime(start.0 + (t.0 / 1_000_000_000) as u32).to_string()
            }
            None => t.to_string(),
        }
    }

    /// Hand the buffered log lines to the sink.
    pub fn flush_log(&mut self, sink: &mut dyn Sink) -> std::io::Result<()> {
        for entry in self.log.drain(..) {
            sink.event(&entry)?;
        }
        Ok(())
    }

    /// Close the interval ending at `now`: write its row and the pod rows,
    /// evaluate the alert rules, then start a new interval.
    pub fn sample(
        &mut self,
        now: SimTime,
        gauges: &Gauges,
        pods: &[PodRow],
        sink: &mut dyn Sink,
    ) -> std::io::Result<()> {
        let c = &self.interval;
        let q = |h: &DurationHistogram| {
            h.quantiles_secs([0.50, 0.95, 0.99])
                .map(|v| v.is_finite().then_some(v))
        };
        let [wait_p50_s, wait_p95_s, wait_p99_s] = q(&self.interval_wait);
        let [latency_p50_s, latency_p95_s, latency_p99_s] = q(&self.interval_latency);
        let row = SeriesRow {
            time_s: now.as_secs_f64(),
            arrivals: c.arrivals,
            completed: c.completed,
            goodput: c.goodput,
            acquire_timeouts: c.acquire_timeouts,
            refusals: c.refusals,
            gave_up: c.gave_up,
            app_errors: c.app_errors,
            answered: c.client_resolved,
            failed: c.client_errors,
            error_rate: (c.client_resolved > 0)
                .then(|| c.client_errors as f64 / c.client_resolved as f64),
            acquires: self.interval_wait.count(),
            wait_sum_s: self.interval_wait.sum_secs(),
            wait_p50_s,
            wait_p95_s,
            wait_p99_s,
            latency_p50_s,
            latency_p95_s,
            latency_p99_s,
            open_request_pools: gauges.open_request_pools,
            open_job_pools: gauges.open_job_pools,
            open_leaked: gauges.open_leaked,
            db_occupied: gauges.db_occupied,
            connecting: gauges.connecting,
            checked_out: gauges.checked_out,
            idle: gauges.idle,
            waiters: gauges.waiters,
            pools_starving: gauges.pools_starving,
            pools: gauges.pools,
            pool_utilisation_max: gauges.pool_utilisation_max,
            starved_requests: c.starved_requests,
            starved_jobs: c.starved_jobs,
            job_runs: c.job_runs,
            leaked: c.leaked,
            leaked_cumulative: self.leaked_cumulative,
            wasted_connection_s: c.wasted_held_ns as f64 / 1e9,
            attempts: self.retry.as_ref().map(|r| r.interval_attempts),
            retries: self.retry.as_ref().map(|r| r.interval_retries),
        };
        let hists = IntervalHistograms {
            waits: &self.interval_wait,
            latencies: &self.interval_latency,
        };
        sink.series(&row, hists)?;
        sink.pods(pods)?;
        let buckets = super::window::Buckets {
            waits: self.interval_wait.bucket_counts(WAIT_BOUNDS_S),
            latencies: self.interval_latency.bucket_counts(WAIT_BOUNDS_S),
        };
        let length = self.sample_interval.min(now);
        self.targets.push(now, length, &row, &buckets);
        for (at, t) in self.alerts.push(now, length, &row, buckets) {
            let value = t.value.map_or("no data".to_owned(), |v| format!("{v:.4}"));
            if t.kind == LogKind::AlertFiring {
                let i = self
                    .alerts
                    .rules()
                    .iter()
                    .position(|r| r.name == t.alert)
                    .expect("rule");
                self.causes[i].push(self.last_change.clone());
            }
            self.log(
                at,
                t.kind,
                None,
                None,
                format!("{} (value {value})", t.alert),
            );
        }
        self.flush_log(sink)?;
        self.interval = IntervalCounts::default();
        if let Some(r) = self.retry.as_mut() {
            (r.interval_attempts, r.interval_retries) = (0, 0);
        }
        self.interval_wait.reset();
        self.interval_latency.reset();
        Ok(())
    }
}

/// Fleet-wide state at a sampling instant.
#[derive(Clone, Copy, Debug, Default)]
pub struct Gauges {
    /// Server slots held by request pools (connecting, idle, checked out).
    pub open_request_pools: u64,
    /// Server slots held by job pools.
    pub open_job_pools: u64,
    /// Server slots held by leaked clients.
    pub open_leaked: u64,
    /// Every slot taken on the server, other clients included.
    pub db_occupied: u64,
    /// Handshakes in progress.
    pub connecting: u64,
    /// Clients held by callers.
    pub checked_out: u64,
    /// Idle clients.
    pub idle: u64,
    /// Callers waiting in pool queues.
    pub waiters: u64,
    /// Pools with waiters (and so nothing idle to give).
    pub pools_starving: u64,
    /// Pools in the fleet.
    pub pools: u64,
    /// The busiest pool's (totalCount − idleCount) / max.
    pub pool_utilisation_max: f64,
}
