//! The run's time series as Prometheus would have scraped them: the metric
//! names and labels that exporters in the wild publish (postgres_exporter,
//! node-postgres pool gauges exposed through prom-client, RED request
//! metrics), with timestamps anchored at `meta.start` on a chosen date.
//!
//! [`Exporter`] turns the simulation's rows into samples and hands them to a
//! [`SampleOut`]: [`OpenMetricsOut`] writes the OpenMetrics text format
//! (`promtool tsdb create-blocks-from openmetrics` loads it), and
//! `pooldrill alerts` writes promtool rule-test input from the same samples.
//!
//! OpenMetrics wants every series' points together and every family's series
//! together, while a run produces one instant of every series at a time. The
//! series are therefore spooled ([`Spool`]: a few kilobytes in memory per
//! series, the rest in temporary files) and written family after family at
//! the end: memory grows with the number of series, never with the run's
//! length.

use crate::metrics::buckets::WAIT_BOUNDS_S;
use crate::metrics::{
    DurationHistogram, IntervalHistograms, LogEntry, LogKind, PodRow, SeriesRow, Sink, WorkerRow,
};
use crate::scenario::Scenario;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::str::FromStr;

/// A calendar day (UTC): the date on which the run's `meta.start` falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    days: i64,
}

impl Date {
    /// The default anchor: the day of the write-up's incident.
    pub const DEFAULT: Date = Date {
        days: days_from_civil(2026, 1, 15),
    };

    /// Milliseconds since the Unix epoch at midnight UTC of this day.
    pub fn epoch_ms(self) -> i64 {
        self.days * 86_400_000
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("expected a date like 2026-01-15 (1970 to 9999), found \"{s}\"");
        let mut parts = s.trim().split('-');
        let mut next = |len: usize| {
            parts
                .next()
                .filter(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse::<u32>().ok())
        };
        let (Some(y), Some(m), Some(d)) = (next(4), next(2), next(2)) else {
            return Err(bad());
        };
        if parts.next().is_some() || y < 1970 || !(1..=12).contains(&m) || d == 0 {
            return Err(bad());
        }
        let days = days_from_civil(y as i64, m, d);
        if civil_from_days(days) != (y as i64, m, d) {
            return Err(bad());
        }
        Ok(Date { days })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.days);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// `ms` since the epoch as RFC 3339 in UTC (`2026-01-15T14:15:00Z`).
pub fn rfc3339(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let s = ms_of_day / 1000;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        Date { days },
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// An OpenMetrics metric type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic count; samples end in `_total`.
    Counter,
    /// A value read at the instant.
    Gauge,
    /// `_bucket{le}`, `_count`, `_sum`.
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Every exported metric family, in the order they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// postgres_exporter: backends by database and state.
    StatActivityCount,
    /// postgres_exporter: `max_connections`.
    MaxConnections,
    /// postgres_exporter: `superuser_reserved_connections`.
    SuperuserReservedConnections,
    /// postgres_exporter: `reserved_connections` (PostgreSQL 16).
    ReservedConnections,
    /// Pool `totalCount`.
    PoolSize,
    /// Pool `idleCount`.
    PoolIdle,
    /// Pool `waitingCount`.
    PoolWaiting,
    /// Pool `max`.
    PoolMax,
    /// `pool.connect()` waits.
    AcquireWait,
    /// Requests failed by the pool.
    AcquireErrors,
    /// Client-visible answers by status code.
    HttpRequests,
    /// Client-observed latency.
    HttpDuration,
    /// Ground truth: server slots held by leaked clients.
    LeakedConnections,
    /// Ground truth: timeline events, for annotations.
    TimelineEvent,
}

impl Metric {
    /// Every family, in file order.
    pub const ALL: [Metric; 14] = [
        Metric::StatActivityCount,
        Metric::MaxConnections,
        Metric::SuperuserReservedConnections,
        Metric::ReservedConnections,
        Metric::PoolSize,
        Metric::PoolIdle,
        Metric::PoolWaiting,
        Metric::PoolMax,
        Metric::AcquireWait,
        Metric::AcquireErrors,
        Metric::HttpRequests,
        Metric::HttpDuration,
        Metric::LeakedConnections,
        Metric::TimelineEvent,
    ];

    /// The family name (a counter's samples add `_total`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::StatActivityCount => "pg_stat_activity_count",
            Metric::MaxConnections => "pg_settings_max_connections",
            Metric::SuperuserReservedConnections => "pg_settings_superuser_reserved_connections",
            Metric::ReservedConnections => "pg_settings_reserved_connections",
            Metric::PoolSize => "pg_pool_size",
            Metric::PoolIdle => "pg_pool_idle_connections",
            Metric::PoolWaiting => "pg_pool_waiting_connections",
            Metric::PoolMax => "pg_pool_max",
            Metric::AcquireWait => "pg_pool_acquire_wait_seconds",
            Metric::AcquireErrors => "pg_pool_acquire_errors",
            Metric::HttpRequests => "http_requests",
            Metric::HttpDuration => "http_request_duration_seconds",
            Metric::LeakedConnections => "pooldrill_leaked_connections",
            Metric::TimelineEvent => "pooldrill_timeline_event",
        }
    }

    /// Its type.
    pub fn kind(self) -> Kind {
        match self {
            Metric::AcquireWait | Metric::HttpDuration => Kind::Histogram,
            Metric::AcquireErrors | Metric::HttpRequests => Kind::Counter,
            _ => Kind::Gauge,
        }
    }

    /// Its `# HELP` text.
    pub fn help(self) -> &'static str {
        match self {
            Metric::StatActivityCount => {
                "number of connections in this state (backends still in their handshake are not counted)"
            }
            Metric::MaxConnections => "Server Parameter: max_connections",
            Metric::SuperuserReservedConnections => {
                "Server Parameter: superuser_reserved_connections"
            }
            Metric::ReservedConnections => "Server Parameter: reserved_connections",
            Metric::PoolSize => {
                "The current size of the connection pool, including active and idle members (totalCount)."
            }
            Metric::PoolIdle => "The total number of idle connections (idleCount).",
            Metric::PoolWaiting => "The total number of waiting clients (waitingCount).",
            Metric::PoolMax => "The maximum size of the connection pool.",
            Metric::AcquireWait => {
                "Time pool.connect() waited for a client, request and job acquires."
            }
            Metric::AcquireErrors => {
                "Requests failed by pool.connect(): acquire timeouts and too_many_connections refusals."
            }
            Metric::HttpRequests => {
                "Answers given to clients by status code (504: the client gave up at its deadline)."
            }
            Metric::HttpDuration => {
                "Client-observed latency: arrival to answer, or to the deadline for clients that gave up."
            }
            Metric::LeakedConnections => {
                "pooldrill ground truth: server slots held by leaked clients."
            }
            Metric::TimelineEvent => {
                "pooldrill ground truth: 1 at the instant of a timeline event (deploy, rollback, first refusal, alert transitions)."
            }
        }
    }

    fn unit(self) -> Option<&'static str> {
        self.name().ends_with("_seconds").then_some("seconds")
    }
}

/// One exported sample.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// Its family.
    pub metric: Metric,
    /// Appended to the family name: `_total`, `_bucket`, `_count`, `_sum`
    /// or nothing.
    pub suffix: &'static str,
    /// The labels that name the series within its family, rendered
    /// `a="x",b="y"` (escaped), without braces.
    pub labels: &'a str,
    /// `le` (rendered the same way), which tells the buckets of one
    /// histogram point apart.
    pub part: Option<&'a str>,
    /// Milliseconds since the epoch.
    pub t_ms: i64,
    /// The value.
    pub value: f64,
}

impl Sample<'_> {
    /// The series' metric name: family name and suffix.
    pub fn name(&self) -> String {
        format!("{}{}", self.metric.name(), self.suffix)
    }

    /// The full label set, without braces.
    pub fn all_labels(&self) -> String {
        match (self.labels.is_empty(), self.part) {
            (_, None) => self.labels.to_owned(),
            (true, Some(p)) => p.to_owned(),
            (false, Some(p)) => format!("{},{p}", self.labels),
        }
    }
}

/// Where samples go.
pub trait SampleOut {
    /// One sample. The samples of a series come in time order.
    fn sample(&mut self, s: &Sample) -> io::Result<()>;
}

/// A label value escaped for the text format and PromQL (`\\`, `\"`, `\n`).
pub fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// A float as the text format writes it: integers without a fraction,
/// `NaN`, `+Inf`, `-Inf`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The `le` label value of a bucket bound in OpenMetrics' canonical form
/// (`"0.05"`, `"1.0"`, `"+Inf"`).
pub fn le_value(bound: Option<f64>) -> String {
    match bound {
        None => "+Inf".into(),
        Some(b) if b.fract() == 0.0 => format!("{b:.1}"),
        Some(b) => format!("{b}"),
    }
}

/// PostgreSQL's `pg_stat_activity.state` values, all of which
/// postgres_exporter reports for every database (zero when absent).
const STATES: [&str; 6] = [
    "active",
    "idle",
    "idle in transaction",
    "idle in transaction (aborted)",
    "fastpath function call",
    "disabled",
];

/// The application's database and the one other clients use.
const DATABASES: [&str; 2] = ["app", "postgres"];

/// Timeline events exported as `pooldrill_timeline_event` (the rest of the
/// event log, per pod or per leak, would be thousands of series).
const TIMELINE_KINDS: [LogKind; 11] = [
    LogKind::Deploy,
    LogKind::Rollback,
    LogKind::RolloutComplete,
    LogKind::Traffic,
    LogKind::Job,
    LogKind::ServerSetting,
    LogKind::FirstRefusal,
    LogKind::FirstAcquireTimeout,
    LogKind::AlertPending,
    LogKind::AlertFiring,
    LogKind::AlertResolved,
];

/// Cumulative counters since the start of the run.
#[derive(Clone, Debug, Default)]
struct Totals {
    ok: u64,
    errors: u64,
    gave_up: u64,
    timeouts: u64,
    refusals: u64,
    waits: Cumulative,
    latencies: Cumulative,
}

/// A histogram since the start of the run: observations per bucket of
/// [`WAIT_BOUNDS_S`] and `+Inf` (not cumulative over `le`), and their sum.
#[derive(Clone, Debug)]
struct Cumulative {
    buckets: Vec<u64>,
    sum_s: f64,
}

impl Default for Cumulative {
    fn default() -> Cumulative {
        Cumulative {
            buckets: vec![0; WAIT_BOUNDS_S.len() + 1],
            sum_s: 0.0,
        }
    }
}

impl Cumulative {
    /// Add an interval's observations.
    fn add(&mut self, h: &DurationHistogram) {
        for (total, n) in self.buckets.iter_mut().zip(h.bucket_counts(WAIT_BOUNDS_S)) {
            *total += n;
        }
        self.sum_s += h.sum_secs();
    }
}

/// A pool: (pod, worker), the worker absent for a pod's job pools.
type PoolKey = (u32, Option<u32>);

/// Pool gauges: totalCount, idleCount, waitingCount, max.
#[derive(Clone, Copy, Debug, Default)]
struct PoolGauges {
    total: u32,
    idle: u32,
    waiting: u32,
    max: u32,
}

/// Turns sink rows into samples of the exported metrics.
pub struct Exporter<O> {
    out: O,
    epoch_ms: i64,
    settings: [(Metric, f64); 3],
    leak_state: &'static str,
    started: bool,
    now_ms: i64,
    totals: Totals,
    workers: Vec<WorkerRow>,
    live_pools: BTreeSet<PoolKey>,
    last_event_ms: HashMap<String, i64>,
}

/// Milliseconds since the epoch of the start of a run of `scenario` whose
/// `meta.start` (midnight without one) falls on `date`.
pub fn run_epoch_ms(scenario: &Scenario, date: Date) -> i64 {
    date.epoch_ms() + i64::from(scenario.start_clock.map_or(0, |c| c.0)) * 1000
}

impl<O: SampleOut> Exporter<O> {
    /// Samples of a run of `scenario` whose `meta.start` (midnight without
    /// one) falls on `date`, handed to `out`.
    pub fn new(scenario: &Scenario, date: Date, out: O) -> Exporter<O> {
        let db = &scenario.database;
        let leaks_in_transaction = scenario
            .versions
            .iter()
            .filter_map(|v| v.app.job.as_ref())
            .any(|j| j.leak_in_transaction);
        Exporter {
            out,
            epoch_ms: run_epoch_ms(scenario, date),
            settings: [
                (Metric::MaxConnections, f64::from(db.max_connections)),
                (
                    Metric::SuperuserReservedConnections,
                    f64::from(db.superuser_reserved),
                ),
                (Metric::ReservedConnections, f64::from(db.reserved)),
            ],
            leak_state: if leaks_in_transaction {
                "idle in transaction"
            } else {
                "idle"
            },
            started: false,
            now_ms: 0,
            totals: Totals::default(),
            workers: Vec::new(),
            live_pools: BTreeSet::new(),
            last_event_ms: HashMap::new(),
        }
    }

    /// The output, once the run is over.
    pub fn into_out(self) -> O {
        self.out
    }

    /// Milliseconds since the epoch of a time from the start.
    fn ms(&self, time_s: f64) -> i64 {
        self.epoch_ms + (time_s * 1000.0).round() as i64
    }

    fn emit(
        &mut self,
        metric: Metric,
        suffix: &'static str,
        labels: &str,
        part: Option<&str>,
        t_ms: i64,
        value: f64,
    ) -> io::Result<()> {
        self.out.sample(&Sample {
            metric,
            suffix,
            labels,
            part,
            t_ms,
            value,
        })
    }

    /// Every counter and histogram at `t_ms`.
    fn counters(&mut self, t_ms: i64) -> io::Result<()> {
        let t = self.totals.clone();
        for (code, n) in [("200", t.ok), ("500", t.errors), ("504", t.gave_up)] {
            let labels = format!("code=\"{code}\"");
            self.emit(
                Metric::HttpRequests,
                "_total",
                &labels,
                None,
                t_ms,
                n as f64,
            )?;
        }
        for (reason, n) in [
            ("timeout", t.timeouts),
            ("too_many_connections", t.refusals),
        ] {
            let labels = format!("reason=\"{reason}\"");
            self.emit(
                Metric::AcquireErrors,
                "_total",
                &labels,
                None,
                t_ms,
                n as f64,
            )?;
        }
        self.histogram(Metric::AcquireWait, &t.waits, t_ms)?;
        self.histogram(Metric::HttpDuration, &t.latencies, t_ms)
    }

    /// One point of a histogram: cumulative `_bucket{le}`, `_count`, `_sum`.
    fn histogram(&mut self, metric: Metric, h: &Cumulative, t_ms: i64) -> io::Result<()> {
        let mut cumulative = 0u64;
        for (i, n) in h.buckets.iter().enumerate() {
            cumulative += n;
            let le = format!("le=\"{}\"", le_value(WAIT_BOUNDS_S.get(i).copied()));
            self.emit(metric, "_bucket", "", Some(&le), t_ms, cumulative as f64)?;
        }
        self.emit(metric, "_count", "", None, t_ms, cumulative as f64)?;
        self.emit(metric, "_sum", "", None, t_ms, h.sum_s)
    }

    fn row(
        &mut self,
        row: &SeriesRow,
        waits: &DurationHistogram,
        latencies: &DurationHistogram,
    ) -> io::Result<()> {
        if !self.started {
            self.started = true;
            self.counters(self.epoch_ms)?;
        }
        let t_ms = self.ms(row.time_s);
        self.now_ms = t_ms;
        let t = &mut self.totals;
        t.ok += row.goodput;
        t.errors += row.failed - row.gave_up;
        t.gave_up += row.gave_up;
        t.timeouts += row.acquire_timeouts;
        t.refusals += row.refusals;
        t.waits.add(waits);
        t.latencies.add(latencies);
        self.counters(t_ms)?;
        self.activity(row, t_ms)?;
        for (metric, value) in self.settings {
            self.emit(metric, "", "", None, t_ms, value)?;
        }
        let leaked = row.open_leaked as f64;
        self.emit(Metric::LeakedConnections, "", "", None, t_ms, leaked)
    }

    /// `pg_stat_activity_count` as postgres_exporter reports it: pooled
    /// clients held by callers are active, idle ones idle, leaked ones idle
    /// (in a transaction if the job leaks inside one), other clients idle in
    /// their own database.
    fn activity(&mut self, row: &SeriesRow, t_ms: i64) -> io::Result<()> {
        let app_sessions = row.open_request_pools + row.open_job_pools + row.open_leaked;
        let others = row.db_occupied.saturating_sub(app_sessions);
        for datname in DATABASES {
            for state in STATES {
                let count = match (datname, state) {
                    ("app", "active") => row.checked_out,
                    ("app", s) => {
                        let idle = if s == "idle" { row.idle } else { 0 };
                        idle + if s == self.leak_state {
                            row.open_leaked
                        } else {
                            0
                        }
                    }
                    (_, "idle") => others,
                    _ => 0,
                };
                let labels = format!("datname=\"{datname}\",state=\"{state}\"");
                self.emit(
                    Metric::StatActivityCount,
                    "",
                    &labels,
                    None,
                    t_ms,
                    count as f64,
                )?;
            }
        }
        Ok(())
    }

    /// Pool gauges: each worker's request pool, and each pod's job pools
    /// (the pod's pools less its request pools, summed when a pod runs
    /// several). A pool that went away gets a last sample of zeros, standing
    /// in for the staleness marker a real scrape would record.
    fn pools(&mut self, pods: &[PodRow]) -> io::Result<()> {
        let t_ms = self.now_ms;
        let mut pools: BTreeMap<PoolKey, PoolGauges> = BTreeMap::new();
        let mut requests: HashMap<u32, PoolGauges> = HashMap::new();
        for w in std::mem::take(&mut self.workers) {
            let g = PoolGauges {
                total: w.total,
                idle: w.idle,
                waiting: w.waiting,
                max: w.max,
            };
            pools.insert((w.pod, Some(w.worker)), g);
            let sum = requests.entry(w.pod).or_default();
            sum.total += g.total;
            sum.idle += g.idle;
            sum.waiting += g.waiting;
            sum.max += g.max;
        }
        for p in pods {
            let req = requests.get(&p.pod).copied().unwrap_or_default();
            let max = p.capacity.saturating_sub(req.max);
            if max == 0 {
                continue;
            }
            let busy = (p.utilisation * f64::from(p.capacity)).round() as u32;
            let idle = p.open.saturating_sub(busy);
            let job = PoolGauges {
                total: p.open.saturating_sub(req.total),
                idle: idle.saturating_sub(req.idle),
                waiting: p.waiters.saturating_sub(req.waiting),
                max,
            };
            pools.insert((p.pod, None), job);
        }
        let gone: Vec<PoolKey> = self
            .live_pools
            .iter()
            .filter(|k| !pools.contains_key(k))
            .copied()
            .collect();
        for key in gone {
            self.pool_gauges(key, PoolGauges::default(), false, t_ms)?;
        }
        self.live_pools = pools.keys().copied().collect();
        for (key, g) in pools {
            self.pool_gauges(key, g, true, t_ms)?;
        }
        Ok(())
    }

    fn pool_gauges(
        &mut self,
        (pod, worker): PoolKey,
        g: PoolGauges,
        with_max: bool,
        t_ms: i64,
    ) -> io::Result<()> {
        let labels = match worker {
            Some(w) => format!("pod=\"pod-{pod}\",worker=\"{w}\",pool=\"requests\""),
            None => format!("pod=\"pod-{pod}\",pool=\"job\""),
        };
        self.emit(Metric::PoolSize, "", &labels, None, t_ms, g.total.into())?;
        self.emit(Metric::PoolIdle, "", &labels, None, t_ms, g.idle.into())?;
        self.emit(
            Metric::PoolWaiting,
            "",
            &labels,
            None,
            t_ms,
            g.waiting.into(),
        )?;
        if with_max {
            self.emit(Metric::PoolMax, "", &labels, None, t_ms, g.max.into())?;
        }
        Ok(())
    }

    fn timeline(&mut self, e: &LogEntry) -> io::Result<()> {
        if !TIMELINE_KINDS.contains(&e.kind) {
            return Ok(());
        }
        // Alert transitions read "Name (value 0.0123)": one series per alert.
        let detail = e.detail.split(" (value").next().unwrap_or_default();
        let labels = format!("kind=\"{}\",detail=\"{}\"", e.kind, escape(detail));
        let t_ms = self.ms(e.time_s);
        let last = self.last_event_ms.entry(labels.clone()).or_insert(i64::MIN);
        if t_ms <= *last {
            return Ok(()); // two at one instant: one point says it
        }
        *last = t_ms;
        self.emit(Metric::TimelineEvent, "", &labels, None, t_ms, 1.0)
    }
}

impl<O: SampleOut> Sink for Exporter<O> {
    fn series(&mut self, row: &SeriesRow, hists: IntervalHistograms) -> io::Result<()> {
        self.row(row, hists.waits, hists.latencies)
    }
    fn pods(&mut self, rows: &[PodRow]) -> io::Result<()> {
        self.pools(rows)
    }
    fn event(&mut self, entry: &LogEntry) -> io::Result<()> {
        self.timeline(entry)
    }
    fn wants_workers(&self) -> bool {
        true
    }
    fn workers(&mut self, rows: &[WorkerRow]) -> io::Result<()> {
        self.workers.clear();
        self.workers.extend_from_slice(rows);
        Ok(())
    }
}

/// Per-series byte streams, appended in any interleaving and read back one
/// series at a time: each keeps up to [`Spool::SPILL_AT`] bytes in memory
/// and appends the rest to its own file in a temporary folder.
pub struct Spool {
    dir: tempfile::TempDir,
    bufs: Vec<Vec<u8>>,
    spilled: Vec<bool>,
}

impl Spool {
    /// Bytes a series keeps in memory before they go to its file.
    pub const SPILL_AT: usize = 8 * 1024;

    /// An empty spool in the system's temporary folder.
    pub fn new() -> io::Result<Spool> {
        Ok(Spool {
            dir: tempfile::Builder::new()
                .prefix("pooldrill-spool")
                .tempdir()?,
            bufs: Vec::new(),
            spilled: Vec::new(),
        })
    }

    /// A new series; returns its id.
    pub fn add(&mut self) -> usize {
        self.bufs.push(Vec::new());
        self.spilled.push(false);
        self.bufs.len() - 1
    }

    /// Bytes held in memory for series `id`.
    pub fn in_memory(&self, id: usize) -> usize {
        self.bufs[id].len()
    }

    fn path(&self, id: usize) -> std::path::PathBuf {
        self.dir.path().join(id.to_string())
    }

    /// Append to series `id`.
    pub fn append(&mut self, id: usize, bytes: &[u8]) -> io::Result<()> {
        self.bufs[id].extend_from_slice(bytes);
        if self.bufs[id].len() >= Self::SPILL_AT {
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(id))?;
            f.write_all(&self.bufs[id])?;
            self.bufs[id].clear();
            self.spilled[id] = true;
        }
        Ok(())
    }

    /// Copy everything series `id` received to `out`, and forget it.
    pub fn drain_into(&mut self, id: usize, out: &mut dyn Write) -> io::Result<()> {
        if self.spilled[id] {
            let path = self.path(id);
            io::copy(&mut File::open(&path)?, out)?;
            std::fs::remove_file(path)?;
            self.spilled[id] = false;
        }
        out.write_all(&std::mem::take(&mut self.bufs[id]))
    }
}

/// Writes samples as OpenMetrics text: [`finish`](Self::finish) writes
/// every family in [`Metric::ALL`] order, each series' points together.
pub struct OpenMetricsOut {
    spool: Spool,
    ids: HashMap<(Metric, String), usize>,
    families: BTreeMap<Metric, Vec<usize>>,
    line: String,
}

impl OpenMetricsOut {
    /// An empty output.
    pub fn new() -> io::Result<OpenMetricsOut> {
        Ok(OpenMetricsOut {
            spool: Spool::new()?,
            ids: HashMap::new(),
            families: BTreeMap::new(),
            line: String::new(),
        })
    }

    /// Write the whole exposition, ending with `# EOF`.
    pub fn finish(mut self, out: &mut dyn Write) -> io::Result<()> {
        for (metric, ids) in std::mem::take(&mut self.families) {
            let name = metric.name();
            writeln!(out, "# TYPE {name} {}", metric.kind().name())?;
            if let Some(unit) = metric.unit() {
                writeln!(out, "# UNIT {name} {unit}")?;
            }
            writeln!(out, "# HELP {name} {}", metric.help())?;
            for id in ids {
                self.spool.drain_into(id, out)?;
            }
        }
        out.write_all(b"# EOF\n")?;
        out.flush()
    }
}

impl SampleOut for OpenMetricsOut {
    fn sample(&mut self, s: &Sample) -> io::Result<()> {
        // One OpenMetrics Metric per label set: a histogram's buckets, count
        // and sum of one instant are one point of the same Metric.
        let key = (s.metric, s.labels.to_owned());
        let id = match self.ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.spool.add();
                self.ids.insert(key, id);
                self.families.entry(s.metric).or_default().push(id);
                id
            }
        };
        use fmt::Write as _;
        let line = &mut self.line;
        line.clear();
        let labels = s.all_labels();
        let (secs, ms) = (s.t_ms.div_euclid(1000), s.t_ms.rem_euclid(1000));
        let _ = write!(line, "{}", s.name());
        if !labels.is_empty() {
            let _ = write!(line, "{{{labels}}}");
        }
        let _ = write!(line, " {} {secs}", format_value(s.value));
        if ms != 0 {
            let _ = write!(line, ".{ms:03}");
        }
        line.push('\n');
        self.spool.append(id, self.line.as_bytes())
    }
}

/// A sink that streams a run into an OpenMetrics exposition.
pub type OpenMetricsSink = Exporter<OpenMetricsOut>;

impl OpenMetricsSink {
    /// A sink for a run of `scenario` anchored on `date`.
    pub fn create(scenario: &Scenario, date: Date) -> io::Result<OpenMetricsSink> {
        Ok(Exporter::new(scenario, date, OpenMetricsOut::new()?))
    }

    /// Write the exposition to `out`.
    pub fn write_to(self, out: &mut dyn Write) -> io::Result<()> {
        self.into_out().finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_print_and_anchor() {
        let d: Date = "2026-01-15".parse().unwrap();
        assert_eq!(d, Date::DEFAULT);
        assert_eq!(d.to_string(), "2026-01-15");
        // 2026-01-15T00:00:00Z, from `date -u -d 2026-01-15 +%s`.
        assert_eq!(d.epoch_ms(), 1_768_435_200_000);
        assert_eq!(rfc3339(d.epoch_ms() + 51_300_000), "2026-01-15T14:15:00Z");
        assert_eq!(
            "2024-02-29".parse::<Date>().unwrap().to_string(),
            "2024-02-29"
        );
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-1-15",
            "15/01/2026",
            "1969-12-31",
            "",
        ] {
            let err = bad.parse::<Date>().unwrap_err();
            assert!(err.contains("expected a date like 2026-01-15"), "{err}");
        }
    }

    #[test]
    fn values_and_bounds_are_canonical() {
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(0.125), "0.125");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(le_value(Some(1.0)), "1.0");
        assert_eq!(le_value(Some(0.075)), "0.075");
        assert_eq!(le_value(None), "+Inf");
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }

    /// Every sample as (series, seconds from the start, value).
    struct Samples(Vec<(String, i64, f64)>);

    impl SampleOut for Samples {
        fn sample(&mut self, s: &Sample) -> io::Result<()> {
            let series = format!("{}{{{}}}", s.name(), s.all_labels());
            self.0.push((series, s.t_ms / 1000, s.value));
            Ok(())
        }
    }

    #[test]
    fn latencies_accumulate_into_a_cumulative_histogram_with_an_exact_sum() {
        use crate::engine::SimTime;
        let source = "[meta]\nname = \"h\"\nduration = \"2s\"\n";
        let scenario = Scenario::parse("h.toml", source).unwrap();
        let mut exporter = Exporter::new(&scenario, Date { days: 0 }, Samples(Vec::new()));
        let (waits, mut latencies) = (DurationHistogram::new(2), DurationHistogram::new(2));
        for (t, ms) in [(1.0, &[4, 4, 250][..]), (2.0, &[70_000])] {
            latencies.reset();
            for &ms in ms {
                latencies.record(SimTime::from_millis(ms));
            }
            let row = SeriesRow {
                time_s: t,
                ..SeriesRow::default()
            };
            let hists = IntervalHistograms {
                waits: &waits,
                latencies: &latencies,
            };
            exporter.series(&row, hists).unwrap();
        }
        let samples = exporter.into_out().0;
        let at = |series: &str, t: i64| {
            let name = format!("http_request_duration_seconds_{series}");
            let found = samples.iter().find(|s| s.0 == name && s.1 == t);
            found.unwrap_or_else(|| panic!("{name} at {t}")).2
        };
        assert_eq!(at("count{}", 0), 0.0);
        assert_eq!(at("bucket{le=\"0.005\"}", 1), 2.0);
        assert_eq!(at("bucket{le=\"0.3\"}", 1), 3.0);
        assert_eq!(at("count{}", 1), 3.0);
        assert!((at("sum{}", 1) - 0.258).abs() < 1e-12);
        // 70 s is above the last bound: only in +Inf.
        assert_eq!(at("bucket{le=\"60.0\"}", 2), 3.0);
        assert_eq!(at("bucket{le=\"+Inf\"}", 2), 4.0);
        assert_eq!(at("count{}", 2), 4.0);
        assert!((at("sum{}", 2) - 70.258).abs() < 1e-9);
    }

    #[test]
    fn the_spool_keeps_little_in_memory_and_gives_everything_back() {
        let mut spool = Spool::new().unwrap();
        let (a, b) = (spool.add(), spool.add());
        let mut expected_a = Vec::new();
        for i in 0..10_000 {
            let line = format!("a {i}\n");
            spool.append(a, line.as_bytes()).unwrap();
            expected_a.extend_from_slice(line.as_bytes());
            spool.append(b, b"b\n").unwrap();
            assert!(spool.in_memory(a) < Spool::SPILL_AT);
        }
        let mut out = Vec::new();
        spool.drain_into(a, &mut out).unwrap();
        assert_eq!(out, expected_a);
        out.clear();
        spool.drain_into(b, &mut out).unwrap();
        assert_eq!(out, b"b\n".repeat(10_000));
    }
}
