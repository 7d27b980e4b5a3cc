//! `pooldrill run FILE`: one scenario, summary on the terminal, files in a
//! folder.

use super::compare;
use crate::engine::SimTime;
use crate::guard::{self, DEFAULT_LIMITS, Limits};
use crate::interrupt;
use crate::metrics::{NullSink, Sink, Summary, Tee};
use crate::model::{RunError, RunOptions, Simulation};
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
    #[arg(long, allow_negative_numbers = true, value_parser = super::parse_seed)]
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
    /// Refuse scenarios estimated at more than N events (default 1e9, a few
    /// minutes); takes 5000000000 or 5e9.
    #[arg(long, value_name = "N", value_parser = guard::parse_count)]
    pub max_events: Option<u64>,
    /// Run even if the resource estimate is over the limits.
    #[arg(long)]
    pub force: bool,
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

/// A run stopped by Ctrl-C.
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
    let overrides = Overrides {
        seed: args.seed,
        duration: args.duration,
    };
    interrupt::catch();
    let scenario = load_file(&args.file, overrides)?;
    for w in &scenario.warnings {
        eprintln!("warning: {w}");
    }
    if !args.force {
        let limits = Limits {
            max_events: args.max_events.unwrap_or(DEFAULT_LIMITS.max_events),
            ..DEFAULT_LIMITS
        };
        guard::check(&scenario, limits)?;
    }
    let out = args
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
/// trace.jsonl) into `out` (all or nothing: a failed run also removes the
/// folder if it created it).
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
    let existed = out.exists();
    let result = write_run(scenario, out, options, quiet, trace, also);
    if result.is_err() && !existed {
        // Only an empty folder is removed: never anything else.
        let _ = std::fs::remove_dir(out);
    }
    result
}

fn write_run(
    scenario: &Scenario,
    out: &Path,
    options: RunOptions,
    quiet: bool,
    trace: bool,
    also: &mut dyn Sink,
) -> Result<Summary> {
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
    let mut trace_file = if trace {
        Some(dir.file("trace.jsonl")?)
    } else {
        dir.remove_on_commit("trace.jsonl");
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
    let result = sim.run(&mut Tee(vec![&mut sink, also]), |t| {
        bar.set_position(t.0 / 1_000_000);
        !interrupt::requested()
    });
    bar.finish_and_clear();
    let summary = match result {
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
    let json = serde_json::to_vec_pretty(&summary)?;
    dir.write("summary.json", &json)
        .with_context(cannot_write)?;
    dir.commit()?;
    Ok(summary)
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
