//! The exporter: the simulation's rows turned into samples of the exported
//! metrics, with the names and labels exporters in the wild publish.

use super::{Date, Metric, Sample, SampleOut, escape, le_value};
use crate::metrics::buckets::WAIT_BOUNDS_S;
use crate::metrics::{
    DurationHistogram, IntervalHistograms, LogEntry, LogKind, PodRow, SeriesRow, Sink, WorkerRow,
};
use crate::scenario::Scenario;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
