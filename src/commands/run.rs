//! `pooldrill run FILE`: one scenario, summary on the terminal, files in a
//! folder.

use crate::engine::SimTime;
use crate::metrics::Summary;
use crate::model::{RunOptions, Simulation};
use crate::report::{CsvSink, OutputDir, terminal};
use crate::scenario::units::Duration;
use crate::scenario::validate::{Overrides, load_file};
use crate::scenario::Scenario;
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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
    let summary = run_to_folder(&scenario, &out, options, quiet)?;
    print!("{}", terminal::summary_table(&summary));
    println!("  files: {}/{{timeseries.csv, pods.csv, summary.json}}", out.display());
    Ok(0)
}

/// Run the three shipped states of the incident (before, after, fixed).
pub fn run_shipped(quiet: bool) -> Result<i32> {
    for name in ["before", "after", "fixed"] {
        let file = Path::new("scenarios").join(format!("{name}.toml"));
        let scenario = Scenario::load(&file)?;
        let out = Path::new("output").join(&scenario.name);
        let summary = run_to_folder(&scenario, &out, RunOptions::default(), quiet)?;
        print!("{}", terminal::summary_table(&summary));
        println!();
    }
    Ok(0)
}

/// Run `scenario`, writing timeseries.csv, pods.csv and summary.json into
/// `out` (all or nothing).
pub fn run_to_folder(scenario: &Scenario, out: &Path, options: RunOptions, quiet: bool) -> Result<Summary> {
    let mut dir = OutputDir::create(out)?;
    let mut sink = CsvSink::new(dir.file("timeseries.csv")?, dir.file("pods.csv")?);
    let bar = progress_bar(scenario, quiet);
    let summary = Simulation::new(scenario, options)
        .run(&mut sink, |t| {
            bar.set_position(t.0 / 1_000_000);
            true
        })
        .with_context(|| format!("scenario {}", scenario.name))?;
    bar.finish_and_clear();
    sink.finish()
        .with_context(|| format!("cannot write the CSV files in {}", out.display()))?;
    let json = serde_json::to_vec_pretty(&summary)?;
    dir.write("summary.json", &json)?;
    dir.commit()?;
    Ok(summary)
}

/// A progress bar over simulated milliseconds, drawn only on a terminal.
fn progress_bar(scenario: &Scenario, quiet: bool) -> ProgressBar {
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
