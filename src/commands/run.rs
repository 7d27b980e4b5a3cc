//! `pooldrill run FILE`: one scenario, summary on the terminal, files in a
//! folder.

use super::shared_flags::SharedFlags;
use super::window_arg::{self, WindowArg};
use crate::engine::SimTime;
use crate::guard::{self, GuardArgs, Outputs};
use crate::interrupt;
use crate::metrics::observed::ObservedSink;
use crate::metrics::window_tally::Windows;
use crate::metrics::{NullSink, Sink, Summary, Tee};
use crate::model::{RunError, RunOptions, Simulation};
use crate::replicate::comparison::Arm;
use crate::report::replicated::{self, replicate_to_folder};
use crate::report::windows as report_windows;
use crate::report::{CsvSink, Date, OpenMetricsSink, OutputDir, OutputFile, terminal};
use crate::scenario::Scenario;
use crate::scenario::overrides::{parse_set, parse_with_sets};
use crate::scenario::validate::Overrides;
use crate::scenario_file::{ScenarioFolder, load_file, read_source};
use crate::stdout::out;
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// The seed, the duration and the output folder.
    #[command(flatten)]
    pub shared: SharedFlags,
    /// Check the model's invariants after every event (slower).
    #[arg(long)]
    pub check_invariants: bool,
    /// Also write trace.jsonl: every arrival, queueing, grant, timeout,
    /// refusal, release, eviction and leak (large).
    #[arg(long)]
    pub trace: bool,
    /// The resource guard's limits.
    #[command(flatten)]
    pub guard: GuardArgs,
    /// Most events pending at once before the run stops (for tests: the
    /// event queue's own limit is the default and the most).
    #[arg(long, hide = true, value_name = "N")]
    pub max_pending: Option<usize>,
    /// Also write the time series in the OpenMetrics text format to PATH
    /// (for `promtool tsdb create-blocks-from openmetrics`).
    #[arg(long, value_name = "PATH")]
    pub openmetrics: Option<PathBuf>,
    /// The day on which `meta.start` falls in the OpenMetrics timestamps
    /// (UTC) [default: the scenario's meta.date, else 2026-01-15].
    #[arg(long, value_name = "YYYY-MM-DD", requires = "openmetrics")]
    pub date: Option<Date>,
    /// Independent replications, run in parallel: with N ≥ 2 the folder
    /// gets their statistics (as `compare` writes them) instead of one run's
    /// files.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: u32,
    /// Set a value over the file's by its dotted key path (pool.max=6,
    /// job.pool_mode=shared); repeatable, each key once. The summary's
    /// scenario hash then covers the sets (docs/browser.md#the-scenario-hash).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Also summarise the requests that arrived in FROM..TO, beside the
    /// whole run and in windows.json: times of day ("14:10..14:20", with
    /// meta.start) or from the start ("10m..20m"); repeatable.
    #[arg(long = "window", value_name = "FROM..TO", value_parser = window_arg::parse)]
    pub windows: Vec<WindowArg>,
}

/// A run stopped by a signal (SIGINT, SIGTERM, SIGHUP).
#[derive(Debug, thiserror::Error)]
#[error(
    "{scenario}: interrupted at {at} of {total} simulated ({percent:.0} %); nothing written, {out} left as it was"
)]
pub struct Interrupted {
    scenario: String,
    at: SimTime,
    total: SimTime,
    percent: f64,
    out: String,
}

/// Run one scenario file.
pub fn run(args: &RunArgs, quiet: bool) -> Result<i32> {
    interrupt::catch();
    let scenario = load_with_sets(&args.file, &args.sets, args.shared.overrides())?;
    super::warn(&scenario);
    let file = args.file.display().to_string();
    let outputs = Outputs {
        rows: args.replications == 1,
        openmetrics: args.openmetrics.is_some() && args.replications == 1,
        trace: args.trace && args.replications == 1,
    };
    let windows = window_arg::resolve(&scenario, &args.windows)?;
    let runs = args.replications as usize;
    let concurrent = runs.min(rayon::current_num_threads());
    let estimate = args.guard.check(&file, &scenario, outputs, concurrent)?;
    if let Some(note) = guard::duration_note(runs, estimate.events * runs as f64, concurrent)
        && runs > 1
        && !quiet
    {
        eprintln!("{note}");
    }
    let out = args
        .shared
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scenario.name));
    let options = RunOptions {
        check_invariants: args.check_invariants || cfg!(debug_assertions),
        ..RunOptions::default()
    };
    if args.replications > 1 {
        anyhow::ensure!(
            !args.trace,
            "--trace needs a single run: drop --replications"
        );
        anyhow::ensure!(
            args.windows.is_empty(),
            "--window needs a single run: drop --replications"
        );
        anyhow::ensure!(
            args.openmetrics.is_none(),
            "--openmetrics needs a single run: drop --replications"
        );
        let seed = scenario.seed;
        let arm = Arm::new(&args.file, scenario);
        let c = replicate_to_folder(&[arm], seed, args.replications, options, &out, quiet)?;
        replicated::print(&c, &out);
        return Ok(0);
    }
    // A bad --openmetrics path is refused before the run, not after it.
    let mut om_file = args
        .openmetrics
        .as_deref()
        .map(|path| OutputFile::create(path, &[&args.file]))
        .transpose()?;
    let om = om_file
        .as_ref()
        .map(|_| OpenMetricsSink::create(&scenario, Date::or_scenario(args.date, &scenario)))
        .transpose()
        .context("cannot create a temporary folder for the OpenMetrics export")?;
    let (summary, dir, om) = stage_run(
        &scenario,
        &out,
        options,
        quiet,
        Records {
            trace: args.trace,
            windows,
        },
        args.max_pending,
        om,
    )
    .map_err(|e| guard::name_file(e, &file))?;
    // The export and the folder go out together: nothing after a signal,
    // and a signal while they go out waits for them.
    let to_stdout = om_file.as_ref().is_some_and(OutputFile::is_stdout);
    {
        let _hold = interrupt::hold();
        if interrupt::requested() {
            return Err(interrupt::Stopped.into());
        }
        if let (Some(om), Some(target)) = (om, om_file.as_mut()) {
            let shown = args.openmetrics.as_deref().unwrap_or(Path::new("-"));
            om.write_to(target)
                .with_context(|| format!("cannot write {}", shown.display()))?;
        }
        dir.commit()?;
        if let Some(file) = om_file {
            file.commit()?;
        }
    }
    let mut text = terminal::summary_table(&summary);
    text.push_str(&report_windows::windows_table(&scenario, &summary));
    text.push_str(&report_windows::rollout_tables(&scenario, &summary));
    let also = if summary.windows.is_empty() {
        ""
    } else {
        ", windows.json"
    };
    text.push_str(&format!(
        "  files: {}/{{timeseries.csv, pods.csv, events.csv, summary.json{also}}}\n",
        out.display()
    ));
    if let Some(path) = &args.openmetrics {
        text.push_str(&format!(
            "  openmetrics: {} (timestamps from {})\n",
            path.display(),
            Date::or_scenario(args.date, &scenario)
        ));
    }
    // With `--openmetrics -` standard output carries the export.
    if to_stdout {
        eprint!("{text}");
    } else {
        out!("{text}");
    }
    Ok(0)
}

/// The scenario file at `path` with the `--set` options `sets` written in.
fn load_with_sets(path: &Path, sets: &[String], overrides: Overrides) -> Result<Scenario> {
    if sets.is_empty() {
        return Ok(load_file(path, overrides)?);
    }
    let folder = ScenarioFolder::of(path);
    let sets = sets
        .iter()
        .map(|s| parse_set(s).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()?;
    let source = read_source(path)?;
    Ok(parse_with_sets(
        &path.display().to_string(),
        &source,
        &sets,
        overrides,
        &folder,
    )?)
}

/// What a single run records besides its usual files.
struct Records {
    /// Every caller's and client's event, to trace.jsonl.
    trace: bool,
    /// The windows summarised apart, the `--window` ones to windows.json.
    windows: Windows,
}

/// Run `scenario` into the staged folder `out` (timeseries.csv, pods.csv,
/// events.csv, summary.json and the [`Records`]), feeding the rows
/// to the OpenMetrics export `om` as well if there is one, and stopping at
/// `max_pending` events pending at once (default: the event queue's limit):
/// the summary, the folder to commit and the export to write.
fn stage_run(
    scenario: &Scenario,
    out: &Path,
    options: RunOptions,
    quiet: bool,
    Records { trace, windows }: Records,
    max_pending: Option<usize>,
    mut om: Option<OpenMetricsSink>,
) -> Result<(Summary, OutputDir, Option<OpenMetricsSink>)> {
    let cannot_write = || {
        format!(
            "cannot write the output files in {} (the previous ones are left as they were)",
            out.display()
        )
    };
    let mut dir = OutputDir::create(out)?;
    let mut sink = CsvSink::new(
        dir.file("timeseries.csv")?,
        dir.file("pods.csv")?,
        dir.file("events.csv")?,
    );
    let mut trace_file = trace.then(|| dir.file("trace.jsonl")).transpose()?;
    let mut trace_error: Option<std::io::Error> = None;
    let bar = progress_bar(scenario, quiet);
    let write_windows = !windows.spans.is_empty();
    let mut sim = Simulation::new(scenario, options).with_windows(windows);
    if let Some(limit) = max_pending {
        sim = sim.with_max_pending(limit);
    }
    if let Some(file) = trace_file.as_mut() {
        let error = &mut trace_error;
        sim = sim.with_tracer(Box::new(move |event| {
            if error.is_none() {
                let line = serde_json::to_writer(&mut *file, event).map_err(std::io::Error::from);
                if let Err(e) = line.and_then(|()| file.write_all(b"\n")) {
                    *error = Some(e);
                }
            }
        }));
    }
    let mut none = NullSink;
    let also: &mut dyn Sink = match om.as_mut() {
        Some(export) => export,
        None => &mut none,
    };
    let mut observed = ObservedSink::new(&scenario.observed);
    let result = sim.run(&mut Tee(vec![&mut sink, also, &mut observed]), |t| {
        bar.set_position(t.0 / 1_000_000);
        !interrupt::requested()
    });
    bar.finish_and_clear();
    let mut summary = match result {
        Err(RunError::Interrupted(at)) => {
            return Err(Interrupted {
                scenario: scenario.name.clone(),
                at,
                total: scenario.duration,
                percent: 100.0 * at.as_secs_f64() / scenario.duration.as_secs_f64(),
                out: out.display().to_string(),
            }
            .into());
        }
        Err(RunError::Sink(e)) => return Err(e).with_context(cannot_write),
        result => result.with_context(|| format!("scenario {}", scenario.name))?,
    };
    if let Some(e) = trace_error {
        return Err(e).with_context(cannot_write);
    }
    if let Some(mut file) = trace_file {
        file.flush().with_context(cannot_write)?;
    }
    sink.finish().with_context(cannot_write)?;
    summary.observed = observed.scores(&scenario.observed);
    let json = serde_json::to_vec_pretty(&summary)?;
    dir.write("summary.json", &json)
        .with_context(cannot_write)?;
    if write_windows {
        let json = report_windows::windows_json(&summary)?;
        dir.write("windows.json", &json)
            .with_context(cannot_write)?;
    }
    Ok((summary, dir, om))
}

/// A progress bar over simulated milliseconds, drawn only on a terminal.
pub fn progress_bar(scenario: &Scenario, quiet: bool) -> ProgressBar {
    let total = scenario.duration.0 / SimTime::from_millis(1).0;
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {percent:>3}% simulated, eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(scenario.name.clone());
    bar
}
