//! `pooldrill compare A.toml B.toml [...]`: several designs under the same
//! random numbers, replicated, with every KPI's mean, confidence interval
//! and paired difference from the first design.

use crate::guard::{self, GuardArgs, Outputs};
use crate::model::RunOptions;
use crate::replicate::comparison::{Arm, Comparison, run_arms};
use crate::replicate::progress_bar;
use crate::report::{OutputDir, bands, kpi_table, replications_csv};
use crate::scenario::Scenario;
use crate::scenario::units::Duration;
use crate::scenario::validate::Overrides;
use crate::scenario_file::load_file;
use crate::stdout::{out, outln};
use anyhow::{Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Scenario files, one per design (arm); differences are taken from the
    /// first.
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Independent replications per arm (replication i of every arm uses
    /// the same seed).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: u32,
    /// Master seed of every arm (default: the first file's `meta.seed`).
    #[arg(long, allow_negative_numbers = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Replace every arm's duration (e.g. "10m").
    #[arg(long)]
    pub duration: Option<Duration>,
    /// Output folder (default: output/compare-<first>-vs-<second>…).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Check the model's invariants after every event (slower).
    #[arg(long)]
    pub check_invariants: bool,
    /// The resource guard's limits, for every arm.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// Run the comparison, print its table, write its files.
pub fn compare(args: &CompareArgs, quiet: bool) -> Result<i32> {
    crate::interrupt::catch();
    let arms = load_arms(&args.files, args.seed, args.duration)?;
    let runs = arms.len() * args.replications as usize;
    let concurrent = runs.min(rayon::current_num_threads());
    let mut events = 0.0;
    for arm in &arms {
        let estimate =
            args.guard
                .check(&arm.file, &arm.scenario, Outputs::default(), concurrent)?;
        events += estimate.events * f64::from(args.replications);
    }
    if let Some(note) = guard::duration_note(runs, events, concurrent)
        && !quiet
    {
        eprintln!("{note}");
    }
    let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("compare-{}", names.join("-vs-"))));
    let options = RunOptions {
        check_invariants: args.check_invariants || cfg!(debug_assertions),
        ..RunOptions::default()
    };
    let seed = arms[0].scenario.seed;
    let c = replicate_to_folder(&arms, seed, args.replications, options, &out, quiet)?;
    out!("{}", kpi_table::terminal(&c));
    print_files(&out);
    Ok(0)
}

/// Read and validate every arm's file; every arm runs under one master
/// seed, `seed` or the first file's.
pub fn load_arms(
    files: &[PathBuf],
    seed: Option<u64>,
    duration: Option<Duration>,
) -> Result<Vec<Arm>> {
    let overrides = Overrides {
        seed: None,
        duration,
    };
    let mut arms = Vec::new();
    for file in files {
        let scenario = load_file(file, overrides)?;
        super::warn(&scenario);
        arms.push(Arm {
            name: scenario.name.clone(),
            file: file.display().to_string(),
            scenario,
        });
    }
    same_durations(&arms)?;
    let master = seed.unwrap_or(arms[0].scenario.seed);
    for arm in &mut arms {
        arm.scenario.seed = master;
    }
    let unique = |arms: &[Arm]| {
        arms.iter()
            .enumerate()
            .all(|(i, a)| arms[..i].iter().all(|b| b.name != a.name))
    };
    if !unique(&arms) {
        for arm in &mut arms {
            arm.name = arm.file.clone();
        }
    }
    if !unique(&arms) {
        for (i, arm) in arms.iter_mut().enumerate() {
            arm.name = format!("{} #{}", arm.name, i + 1);
        }
    }
    Ok(arms)
}

/// Refuse arms of different durations: their KPIs would cover different
/// spans of time (and counts would differ by the length alone), so their
/// differences would not measure the designs.
fn same_durations(arms: &[Arm]) -> Result<()> {
    let first = &arms[0];
    if let Some(other) = arms
        .iter()
        .find(|a| a.scenario.duration != first.scenario.duration)
    {
        bail!(
            "{}: expected every arm to last as long as {} ({}), found {}: pass --duration to run every arm for the same time",
            other.file,
            first.file,
            first.scenario.duration,
            other.scenario.duration
        );
    }
    Ok(())
}

/// Replicate `arms` and write the statistics into `out` (all or nothing):
/// `kpis.csv`, `kpis.json`, `replications.csv`, `series.csv` and an
/// overlay chart per key series.
pub fn replicate_to_folder(
    arms: &[Arm],
    seed: u64,
    replications: u32,
    options: RunOptions,
    out: &Path,
    quiet: bool,
) -> Result<Comparison> {
    let mut dir = OutputDir::create(out)?;
    let bar = progress_bar(arms.len() * replications as usize, "replications", quiet);
    let c = run_arms(arms, seed, replications, options, true, &bar)?;
    dir.write("kpis.csv", &kpi_table::csv(&c)?)?;
    dir.write("kpis.json", &kpi_table::json(&c))?;
    dir.write(
        "replications.csv",
        &replications_csv::comparison(&c).to_csv()?,
    )?;
    dir.write("series.csv", &bands::series_csv(&c))?;
    bands::charts(&c, &mut dir)?;
    dir.commit()?;
    Ok(c)
}

/// `run --replications N`: one arm, its table and files.
pub fn run_replicated(
    file: &Path,
    scenario: Scenario,
    replications: u32,
    options: RunOptions,
    out: &Path,
    quiet: bool,
) -> Result<i32> {
    let seed = scenario.seed;
    let arm = Arm {
        name: scenario.name.clone(),
        file: file.display().to_string(),
        scenario,
    };
    let c = replicate_to_folder(&[arm], seed, replications, options, out, quiet)?;
    out!("{}", kpi_table::terminal(&c));
    print_files(out);
    Ok(0)
}

/// The files a replicated run writes, on the terminal.
fn print_files(out: &Path) {
    outln!(
        "  files: {}/{{kpis.csv, kpis.json, replications.csv, series.csv, open-connections, error-rate, acquire-wait (.png, .svg)}}",
        out.display()
    );
}
