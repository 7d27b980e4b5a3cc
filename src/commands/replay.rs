//! `pooldrill replay` (and `pooldrill` with no arguments): the main job. Runs
//! the shipped before, after, fixed and incident scenarios (and the
//! write-up's reading of the incident), and writes into `output/` each
//! scenario's files, the training chart set and `report.md`.

use crate::guard::{GuardArgs, Outputs};
use crate::metrics::summary::AlertSummary;
use crate::metrics::{EventSink, LogEntry, LogKind, NullSink, Sink, Summary, Tee};
use crate::model::{RunOptions, Simulation};
use crate::report::charts::{self, ChartSink, Marker, MarkerKind, Region, RegionKind, RunSeries};
use crate::report::markdown::{ChartRef, ReplayRun, replay_report};
use crate::report::retry_storm::RetryStorm;
use crate::report::{CsvSink, Date, OpenMetricsSink, OutputDir, output};
use crate::scenario::{AlertMetric, Scenario, Severity};
use crate::stdout::outln;
use anyhow::{Context, Result, bail};
use clap::Args;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// Arguments of `replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Folder holding the scenario files.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Output folder.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Also write each scenario's series in the OpenMetrics text format, as
    /// `DIR/<scenario>.om` (for `promtool tsdb create-blocks-from openmetrics`).
    #[arg(long, value_name = "DIR")]
    pub openmetrics: Option<PathBuf>,
    /// The date the OpenMetrics timestamps are anchored to (at `meta.start`).
    /// [default: each scenario's meta.date, else 2026-01-15]
    #[arg(long, value_name = "YYYY-MM-DD", requires = "openmetrics")]
    pub date: Option<Date>,
    /// The resource guard's limits, for every scenario.
    #[command(flatten)]
    pub guard: GuardArgs,
}

impl Default for ReplayArgs {
    fn default() -> Self {
        ReplayArgs {
            scenarios: "scenarios".into(),
            out: "output".into(),
            openmetrics: None,
            date: None,
            guard: GuardArgs::default(),
        }
    }
}

/// The scenarios replayed, in report order.
pub const SCENARIOS: [&str; 5] = ["before", "after", "fixed", "incident", "incident-as-told"];

/// The retry storm's arms, in chart order: one fleet and one spike, with
/// clients that do not retry, retry with little backoff, and retry within
/// a budget (docs/retries.md).
pub const RETRY_ARMS: [&str; 3] = ["retry-none", "retry-storm", "retry-budget"];

/// One scenario's run: what the report, the charts and the handout need.
pub struct ReplayResult {
    /// The scenario.
    pub scenario: Scenario,
    /// Its summary.
    pub summary: Summary,
    /// Its time series, with the events and alert episodes as markers and
    /// regions.
    pub run: RunSeries,
    /// Its event log.
    pub events: Vec<LogEntry>,
}

/// One scenario's run, its files staged but not yet in place.
struct Replayed {
    result: ReplayResult,
    dir: OutputDir,
    /// Its OpenMetrics export, if asked for.
    om: Option<OpenMetricsSink>,
}

/// Run every replayed scenario of `scenarios` (in parallel) if it passes
/// `guard`, writing no file: the results in report order.
pub fn results(scenarios: &Path, guard: &GuardArgs) -> Result<Vec<ReplayResult>> {
    let rows = Outputs {
        rows: true,
        ..Outputs::default()
    };
    load(files(scenarios), guard, rows)?
        .into_par_iter()
        .map(|s| simulate(s, &mut NullSink))
        .collect()
}

/// Run the retry storm's arms of the folder `scenarios` (in parallel) if
/// they pass `guard`, writing no file: the results in chart order, or
/// `None` if a file of theirs is missing.
pub fn retry_arms(scenarios: &Path, guard: &GuardArgs) -> Result<Option<Vec<ReplayResult>>> {
    let paths: Vec<PathBuf> = RETRY_ARMS
        .iter()
        .map(|name| scenarios.join(format!("{name}.toml")))
        .collect();
    if !paths.iter().all(|p| p.is_file()) {
        return Ok(None);
    }
    let rows = Outputs {
        rows: true,
        ..Outputs::default()
    };
    load(paths, guard, rows)?
        .into_par_iter()
        .map(|s| simulate(s, &mut NullSink))
        .collect::<Result<_>>()
        .map(Some)
}

/// The files of the replayed scenarios in the folder `scenarios`, in
/// report order.
pub fn files(scenarios: &Path) -> Vec<PathBuf> {
    SCENARIOS
        .iter()
        .map(|name| scenarios.join(format!("{name}.toml")))
        .collect()
}

/// Load the scenario files `paths`, each one refused if running it (in
/// parallel with the others) and writing `outputs` would cost more than
/// `guard` allows.
fn load(paths: Vec<PathBuf>, guard: &GuardArgs, outputs: Outputs) -> Result<Vec<Scenario>> {
    let concurrent = paths.len().min(rayon::current_num_threads());
    let mut loaded = Vec::new();
    for path in paths {
        let scenario = crate::scenario_file::load(&path)?;
        super::warn(&scenario);
        let file = path.display().to_string();
        guard.check(&file, &scenario, outputs, concurrent)?;
        loaded.push(scenario);
    }
    Ok(loaded)
}

/// Run every scenario, then write the charts and the report.
pub fn replay(args: &ReplayArgs) -> Result<i32> {
    crate::interrupt::catch();
    let outputs = Outputs {
        rows: true,
        openmetrics: args.openmetrics.is_some(),
        trace: false,
    };
    let scenarios = load(files(&args.scenarios), &args.guard, outputs)?;
    let files = files(&args.scenarios);
    for (j, s) in scenarios.iter().enumerate() {
        if let Some(i) = scenarios[..j].iter().position(|o| o.name == s.name) {
            bail!(
                "{} and {} are both named \"{}\" (meta.name): their files would go to the same \
                 folder {}; give each its own name",
                files[i].display(),
                files[j].display(),
                s.name,
                args.out.join(&s.name).display()
            );
        }
    }
    let mut root = OutputDir::create(&args.out)?;
    // The export folder may be the output folder itself.
    let mut om_dir = args
        .openmetrics
        .as_deref()
        .filter(|d| !output::same_folder(d, &args.out))
        .map(OutputDir::create)
        .transpose()?;
    let runs: Vec<Replayed> = scenarios
        .into_par_iter()
        .map(|s| run_one(s, args))
        .collect::<Result<_>>()?;
    let results: Vec<&ReplayResult> = runs.iter().map(|r| &r.result).collect();
    let charts = draw_charts(&results, &mut root)?;
    let arms = retry_arms(&args.scenarios, &args.guard)?;
    let storm = arms
        .as_deref()
        .map(|arms| draw_retry_storm(arms, &mut root))
        .transpose()?;
    let report_runs: Vec<ReplayRun> = results
        .iter()
        .map(|r| ReplayRun {
            scenario: &r.scenario,
            summary: &r.summary,
            events: &r.events,
        })
        .collect();
    let arms = arms.as_deref().map(storm_arms);
    let storm = arms.as_ref().zip(storm.as_ref());
    root.write(
        "report.md",
        replay_report(&report_runs, &charts, storm).as_bytes(),
    )?;
    for r in &results {
        let s = &r.summary.requests;
        outln!(
            "{:<17} error rate {:>7.3} %  refused {:>6}  acquire timeouts {:>6}  peak open {:>3}  {}",
            r.scenario.name,
            s.error_rate * 100.0,
            s.refused,
            s.acquire_timeouts,
            r.summary.connections.peak_open,
            alerts_fired(&r.summary.alerts)
        );
    }
    let mut set = Vec::new();
    for r in runs {
        if let Some(om) = r.om {
            let folder = om_dir.as_mut().unwrap_or(&mut root);
            let name = format!("{}.om", r.result.scenario.name);
            let mut file = folder.file(&name)?;
            om.write_to(&mut file)
                .and_then(|()| std::io::Write::flush(&mut file))
                .with_context(|| format!("cannot write {}", folder.path().join(&name).display()))?;
        }
        set.push(r.dir);
    }
    set.push(root);
    set.extend(om_dir);
    // The per-scenario folders, the root and the export folder, as one set.
    output::commit_all(set)?;
    outln!("report: {}", args.out.join("report.md").display());
    Ok(0)
}

/// The alerts that fired, each at its first firing, in time order (rules
/// that fired together in file order): `PoolExhaustionFailures 14:15:30,
/// PoolUtilisationHigh 14:22:45`.
fn alerts_fired(alerts: &[AlertSummary]) -> String {
    let mut fired: Vec<(f64, String)> = alerts
        .iter()
        .filter_map(|a| {
            let e = a.episodes.iter().find(|e| e.firing_at.is_some())?;
            Some((
                e.firing_at_s?,
                format!("{} {}", a.name, e.firing_at.as_ref()?),
            ))
        })
        .collect();
    if fired.is_empty() {
        return "no alert fired".to_owned();
    }
    fired.sort_by(|a, b| a.0.total_cmp(&b.0));
    let fired: Vec<String> = fired.into_iter().map(|(_, text)| text).collect();
    fired.join(", ")
}

/// Run one scenario into `out/<name>/` (staged), keeping what charts need,
/// and export its series if asked.
fn run_one(scenario: Scenario, args: &ReplayArgs) -> Result<Replayed> {
    let mut dir = OutputDir::create(&args.out.join(&scenario.name))?;
    let mut csv = CsvSink::new(
        dir.file("timeseries.csv")?,
        dir.file("pods.csv")?,
        dir.file("events.csv")?,
    );
    let (result, om) = match &args.openmetrics {
        None => (simulate(scenario, &mut csv)?, None),
        Some(_) => {
            let mut om =
                OpenMetricsSink::create(&scenario, Date::or_scenario(args.date, &scenario))
                    .context("cannot create a temporary folder for the OpenMetrics export")?;
            let result = simulate(scenario, &mut Tee(vec![&mut csv, &mut om]))?;
            (result, Some(om))
        }
    };
    csv.finish().context("cannot write the CSV files")?;
    dir.write("summary.json", &serde_json::to_vec_pretty(&result.summary)?)?;
    Ok(Replayed { result, dir, om })
}

/// Run one scenario, its rows also going to `sink`.
pub fn simulate(scenario: Scenario, sink: &mut dyn Sink) -> Result<ReplayResult> {
    let mut chart = ChartSink::default();
    let mut events = EventSink::default();
    let summary = {
        let mut tee = Tee(vec![sink, &mut chart, &mut events]);
        Simulation::new(&scenario, RunOptions::default())
            .run(&mut tee, |_| !crate::interrupt::requested())
            .with_context(|| format!("scenario {}", scenario.name))?
    };
    let run = run_series(&scenario, &summary, &events.0, chart);
    Ok(ReplayResult {
        scenario,
        summary,
        run,
        events: events.0,
    })
}

/// What the charts need of a run: the series, and its events as markers and
/// alert episodes as shaded regions.
fn run_series(s: &Scenario, summary: &Summary, events: &[LogEntry], chart: ChartSink) -> RunSeries {
    let mut markers = Vec::new();
    for e in events {
        let (label, kind) = match e.kind {
            LogKind::Deploy => (
                format!("deploy {}", e.version.as_deref().unwrap_or_default()),
                MarkerKind::Deploy,
            ),
            LogKind::Rollback => ("rollback".to_owned(), MarkerKind::Rollback),
            LogKind::FirstRefusal | LogKind::FirstAcquireTimeout => {
                (e.kind.words(), MarkerKind::Event)
            }
            _ => continue,
        };
        markers.push(Marker {
            t_s: e.time_s,
            label,
            kind,
        });
    }
    let end = s.duration.as_secs_f64();
    let mut regions = Vec::new();
    for (a, rule) in summary.alerts.iter().zip(&s.alerts) {
        for e in &a.episodes {
            if let Some(firing) = e.firing_at_s {
                markers.push(Marker {
                    t_s: firing,
                    label: format!("{} fires", a.name),
                    kind: MarkerKind::Alert,
                });
                regions.push(Region {
                    from_s: firing,
                    to_s: e.resolved_at_s.unwrap_or(end),
                    label: a.name.clone(),
                    kind: if rule.severity == Severity::Page {
                        RegionKind::AlertFiring
                    } else {
                        RegionKind::AlertPending
                    },
                });
            }
        }
    }
    // retry: the trigger the retry storm's recovery is measured from.
    if let Some((from, to)) = s
        .retry
        .as_ref()
        .and_then(|r| r.trigger_start.zip(r.trigger_end))
    {
        regions.push(Region {
            from_s: from.as_secs_f64(),
            to_s: to.as_secs_f64(),
            label: "trigger".to_owned(),
            kind: RegionKind::Trigger,
        });
    }
    let page = s
        .alerts
        .iter()
        .find(|a| a.severity == Severity::Page && a.metric == AlertMetric::ErrorRate);
    let run = chart.into_run();
    let pools = run.rows.iter().map(|r| r.pools).max().unwrap_or(0) as u32;
    RunSeries {
        scenario: s.name.clone(),
        seed: s.seed,
        replications: 1,
        start_clock: s.start_clock.map(|c| (c.0 / 3600, c.0 / 60 % 60)),
        markers,
        regions,
        error_alert: page.map(|a| a.threshold),
        max_connections: s.database.max_connections,
        usable_slots: s.database.usable_slots(),
        pools,
        ..run
    }
}

/// The training chart set, staged in the output folder.
fn draw_charts(runs: &[&ReplayResult], root: &mut OutputDir) -> Result<Vec<ChartRef>> {
    let by_name = |name: &str| {
        runs.iter()
            .find(|r| r.scenario.name == name)
            .map(|r| &r.run)
    };
    let mut refs = Vec::new();
    let mut stage = |root: &mut OutputDir, stem: String, caption: String| {
        let path = root.chart_stem(&stem);
        refs.push(ChartRef { stem, caption });
        path
    };
    type Draw = fn(&RunSeries, &Path) -> Result<()>;
    let per_incident: [(&str, &str, Draw); 4] = [
        (
            "timeline",
            "the incident, minute by minute",
            charts::incident_timeline,
        ),
        (
            "waits",
            "acquire waits over time (heatmap)",
            charts::wait_heatmap,
        ),
        ("pods", "pool utilisation per pod", charts::pod_heatmap),
        (
            "starvation",
            "starved acquires by class",
            charts::starvation,
        ),
    ];
    for name in ["incident", "incident-as-told"] {
        let Some(run) = by_name(name) else { continue };
        for (suffix, caption, draw) in per_incident {
            let stem = stage(
                root,
                format!("{name}-{suffix}"),
                format!("{name}: {caption}"),
            );
            draw(run, &stem)?;
        }
    }
    let groups: [(&str, &[&str], &str); 2] = [
        (
            "before-after-fixed",
            &["before", "after", "fixed"],
            "before, after and fixed on shared scales",
        ),
        (
            "realistic-vs-as-told",
            &["incident", "incident-as-told"],
            "the realistic model beside the write-up's reading",
        ),
    ];
    for (stem, names, caption) in groups {
        let group: Vec<RunSeries> = names.iter().filter_map(|n| by_name(n).cloned()).collect();
        if group.len() == names.len() {
            let path = stage(root, stem.to_owned(), caption.to_owned());
            charts::small_multiples(&group, &path)?;
        }
    }
    Ok(refs)
}

/// The retry storm's arms, as its report section reads them.
pub fn storm_arms(arms: &[ReplayResult]) -> RetryStorm<'_> {
    RetryStorm {
        arms: arms
            .iter()
            .map(|r| (r.scenario.name.as_str(), &r.summary))
            .collect(),
    }
}

/// The retry storm's chart, staged in the output folder.
fn draw_retry_storm(arms: &[ReplayResult], root: &mut OutputDir) -> Result<ChartRef> {
    let stem = "retry-storm";
    let path = root.chart_stem(stem);
    let runs: Vec<RunSeries> = arms.iter().map(|r| r.run.clone()).collect();
    charts::retry_storm(&runs, &path)?;
    Ok(ChartRef {
        stem: stem.to_owned(),
        caption: format!("the retry storm: {}", RETRY_ARMS.join(", ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::summary::EpisodeSummary;

    fn fired_at(name: &str, firing: &[(f64, &str)]) -> AlertSummary {
        AlertSummary {
            name: name.into(),
            severity: Severity::Warning,
            rule: String::new(),
            episodes: firing
                .iter()
                .map(|&(s, clock)| EpisodeSummary {
                    pending_at_s: s,
                    firing_at_s: Some(s),
                    resolved_at_s: None,
                    pending_at: clock.into(),
                    firing_at: Some(clock.into()),
                    resolved_at: None,
                })
                .collect(),
            first_firing_s: firing.first().map(|f| f.0),
            caused_by: None,
            cause_label: None,
            time_to_detect_s: None,
        }
    }

    #[test]
    fn the_one_line_summary_lists_alerts_in_the_order_they_fired() {
        let alerts = [
            fired_at("PoolUtilisationHigh", &[(1365.0, "14:22:45")]),
            fired_at("AcquireWaitHigh", &[]),
            fired_at(
                "PoolExhaustionFailures",
                &[(930.0, "14:15:30"), (1410.0, "14:23:30")],
            ),
        ];
        assert_eq!(
            alerts_fired(&alerts),
            "PoolExhaustionFailures 14:15:30, PoolUtilisationHigh 14:22:45"
        );
        assert_eq!(alerts_fired(&alerts[1..2]), "no alert fired");
    }
}
