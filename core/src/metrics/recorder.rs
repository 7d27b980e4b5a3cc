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
pub use super::tally::{AcquireTotals, Tally, Totals, Unfinished, UnfinishedTotals};
use super::window_tally::{WindowTallies, Windows};
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
    /// Per-request figures of the whole run after the warm-up.
    pub tally: Tally,
    /// Below this time the per-request methods leave [`Self::tally`] alone
    /// (or hand the record to the windows): the warm-up's end, or, with
    /// windows, never reached, so that the one comparison the methods make
    /// anyway sends every record to the windows (which keep the whole run's
    /// tally until they close) and none costs more without them.
    gate: SimTime,
    /// Windows summarised apart (`run --window`, the rollout tables).
    pub windows: Option<Box<WindowTallies>>,
    /// Whether the warm-up ended and the levels started measuring.
    measuring: bool,
    /// Arrivals in the intervals already closed, warm-up included.
    arrivals_before: u64,
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
            tally: Tally::default(),
            gate: scenario.warmup,
            windows: None,
            measuring: false,
            arrivals_before: 0,
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

    /// The whole run's tally so far (the windows keep it while they are
    /// open).
    pub fn whole(&self) -> &Tally {
        self.windows.as_deref().map_or(&self.tally, |w| &w.whole)
    }

    /// Requests that arrived after the warm-up so far (with windows, the
    /// whole tally counts them only when the windows close).
    pub fn arrived(&self) -> u64 {
        match self.windows.as_deref() {
            Some(w) => w.arrived_since_warmup(self.arrivals_so_far()),
            None => self.tally.totals.arrived,
        }
    }

    /// Every arrival so far, warm-up included: exact at any instant, so a
    /// window's arrivals are the difference between its edges.
    fn arrivals_so_far(&self) -> u64 {
        self.arrivals_before + self.interval.arrivals
    }

    /// A request arrived.
    #[inline(always)]
    pub fn arrival(&mut self, now: SimTime) {
        self.interval.arrivals += 1;
        // With windows, arrivals are counted at their edges instead (see
        // `arrivals_so_far`).
        if now < self.gate {
            return;
        }
        self.tally.arrival();
    }

    /// A record of something that started at `t` off the hot path: to the
    /// whole run's tally if `t` is after the warm-up, and to each window
    /// holding `t`.
    fn record(&mut self, t: SimTime, feed: impl Fn(&mut Tally)) {
        let counts = self.counts(t);
        match self.windows.as_deref_mut() {
            Some(w) => w.feed(t, feed),
            None if counts => feed(&mut self.tally),
            None => {}
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
        if started < self.gate {
            if let Some(w) = self.windows.as_deref_mut() {
                w.acquire(started, class_index(class), wait, found_full, end);
            }
            return;
        }
        self.tally
            .acquire(class_index(class), wait, found_full, starved, end);
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
        let k = class_index(class);
        self.record(started, |t| t.unfinished(k, why, now - started));
    }

    /// A handler (of a request that arrived at `arrived`) ended.
    /// `client_gone` says whether its client had already left; `held` is
    /// the connection time of its checkouts.
    #[inline(always)]
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
        if arrived < self.gate {
            if let Some(w) = self.windows.as_deref_mut() {
                w.handler(arrived, end, client_gone, held);
            }
            return;
        }
        self.tally.handler(end, client_gone, held);
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
        if arrived < self.gate {
            if let Some(w) = self.windows.as_deref_mut() {
                w.client(arrived, latency, end);
            }
            return;
        }
        self.tally.client(latency, end);
    }

    /// `n` connections were leaked now.
    pub fn leaked(&mut self, now: SimTime, n: u64) {
        self.leaked_cumulative += n;
        self.interval.leaked += n;
        self.record(now, |t| t.totals.leaked += n);
    }

    /// Summarise `windows` apart as well (`run --window`, the rollout
    /// tables); without any, nothing changes.
    pub fn watch(&mut self, windows: Windows, end: SimTime) {
        if windows.spans.is_empty() && !windows.rollouts {
            return;
        }
        self.windows = Some(Box::new(WindowTallies::new(windows, self.warmup, end)));
        self.gate = SimTime::NEVER;
    }

    /// Called by the run loop before the first event at or after the time
    /// the previous call returned (`SimTime::ZERO` at first): the warm-up's
    /// end starts the levels measuring, a window's edge takes their
    /// integrals. Returns the next such time.
    #[cold]
    #[inline(never)]
    pub fn mark(&mut self, now: SimTime) -> SimTime {
        if now < self.warmup {
            return self.warmup;
        }
        if !self.measuring {
            self.open.start_measuring();
            self.checked_out.start_measuring();
            self.measuring = true;
        }
        let arrivals = self.arrivals_so_far();
        match self.windows.as_mut() {
            Some(w) => w.mark(now, arrivals, &mut self.open, &mut self.checked_out),
            None => SimTime::NEVER,
        }
    }

    /// The run stopped at `end`: close the windows still open.
    pub fn close_windows(&mut self, end: SimTime) {
        if let Some(w) = self.windows.as_mut() {
            w.close(
                end,
                self.arrivals_before + self.interval.arrivals,
                &mut self.open,
                &mut self.checked_out,
            );
            self.tally = std::mem::take(&mut w.whole);
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
        let arrivals = self.arrivals_so_far();
        if let Some(w) = self.windows.as_mut() {
            w.change(
                now,
                kind,
                &detail,
                arrivals,
                [&mut self.open, &mut self.checked_out],
            );
        }
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
        self.arrivals_before += self.interval.arrivals;
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
