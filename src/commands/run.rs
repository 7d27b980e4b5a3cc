//! `pooldrill run FILE`: one scenario, summary on the terminal, files in a
//! folder.

use super::compare;
use crate::engine::SimTime;
use crate::metrics::{NullSink, Sink, Summary, Tee};
use crate::model::{RunOptions, Simulation};
use crate::report::{CsvSink, Date, OpenMetricsSink, OutputDir, terminal};
use crate::scenario::Scenario;
use crate::scenario::units::Duration;
use crate::scenario::validate::{Overrides, load_file};
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
    /// Replace the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace the scenario's duration (e.g. "10m").
    #[arg(long)]
    pub duration: Option<Duration>,
    /// Output folder (default: output/<scenario name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Check the model's invariants after every event (slower).
    #[arg(long)]
    pub check_invariants: bool,
    /// Also write trace.jsonl: every arrival, queueing, grant, timeout,
    /// refusal, release, eviction and leak (large).
    #[arg(long)]
    pub trace: bool,
    /// Also write the time series in the OpenMetrics text format to PATH
    /// (for `promtool tsdb create-blocks-from openmetrics`).
    #[arg(long, value_name = "PATH")]
    pub openmetrics: Option<PathBuf>,
    /// The day on which `meta.start` falls in the OpenMetrics timestamps
    /// (UTC).
    #[arg(long, value_name = "YYYY-MM-DD", default_value_t = Date::DEFAULT, requires = "openmetrics")]
    pub date: Date,
    /// Independent replications, run in parallel: with N ≥ 2 the folder
    /// gets their statistics (as `compare` writes them) instead of one run's
    /// files.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: u32,
}

/// Run one scenario file.
pub fn run(args: &RunArgs, quiet: bool) -> Result<i32> {
    let overrides = Overrides {
        seed: args.seed,
        duration: args.duration,
    };
    let scenario = load_file(&args.file, overrides)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&scenario.name));
    let options = RunOptions {
        check_invariants: args.check_invariants || cfg!(debug_assertions),
    };
    if args.replications > 1 {
        anyhow::ensure!(
            !args.trace,
            "--trace needs a single run: drop --replications"
        );
        anyhow::ensure!(
            args.openmetrics.is_none(),
            "--openmetrics needs a single run: drop --replications"
        );
        return compare::run_replicated(
            &args.file,
            scenario,
            args.replications,
            options,
            &out,
            quiet,
        );
    }
    let summary = match &args.openmetrics {
        Some(path) => {
            let mut om = OpenMetricsSink::create(&scenario, args.date)
                .context("cannot create a temporary folder for the OpenMetrics export")?;
            let summary = run_to_folder_also(&scenario, &out, options, quiet, args.trace, &mut om)?;
            om.write_file(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            summary
        }
        None => run_to_folder(&scenario, &out, options, quiet, args.trace)?,
    };
    print!("{}", terminal::summary_table(&summary));
    println!(
        "  files: {}/{{timeseries.csv, pods.csv, events.csv, summary.json}}",
        out.display()
    );
    if let Some(path) = &args.openmetrics {
        println!(
            "  openmetrics: {} (timestamps from {})",
            path.display(),
            args.date
        );
    }
    Ok(0)
}

/// Run `scenario`, writing timeseries.csv, pods.csv, summary.json (and
/// trace.jsonl) into `out` (all or nothing).
pub fn run_to_folder(
    scenario: &Scenario,
    out: &Path,
    options: RunOptions,
    quiet: bool,
    trace: bool,
) -> Result<Summary> {
    run_to_folder_also(scenario, out, options, quiet, trace, &mut NullSink)
}

/// [`run_to_folder`], feeding the rows to `also` as well (an OpenMetrics
/// export, say).
pub fn run_to_folder_also(
    scenario: &Scenario,
    out: &Path,
    options: RunOptions,
    quiet: bool,
    trace: bool,
    also: &mut dyn Sink,
) -> Result<Summary> {
    let mut dir = OutputDir::create(out)?;
    let mut sink = CsvSink::new(
        dir.file("timeseries.csv")?,
        dir.file("pods.csv")?,
        dir.file("events.csv")?,
    );
    let mut trace_file = if trace {
        Some(dir.file("trace.jsonl")?)
    } else {
        None
    };
    let mut trace_error: Option<std::io::Error> = None;
    let bar = progress_bar(scenario, quiet);
    let mut sim = Simulation::new(scenario, options);
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
    let summary = sim
        .run(&mut Tee(vec![&mut sink, also]), |t| {
            bar.set_position(t.0 / 1_000_000);
            true
        })
        .with_context(|| format!("scenario {}", scenario.name))?;
    bar.finish_and_clear();
    if let Some(e) = trace_error {
        return Err(e).context("cannot write trace.jsonl");
    }
    if let Some(mut file) = trace_file {
        file.flush().context("cannot write trace.jsonl")?;
    }
    sink.finish()
        .with_context(|| format!("cannot write the CSV files in {}", out.display()))?;
    let json = serde_json::to_vec_pretty(&summary)?;
    dir.write("summary.json", &json)?;
    dir.commit()?;
    Ok(summary)
}

/// A progress bar over simulated milliseconds, drawn only on a terminal.
pub(crate) fn progress_bar(scenario: &Scenario, quiet: bool) -> ProgressBar {
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
