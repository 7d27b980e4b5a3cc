//! `pooldrill compare A.toml B.toml [...]`: several designs under the same
//! random numbers, replicated, with every KPI's mean, confidence interval
//! and paired difference from the first design.

use super::shared_flags::SharedFlags;
use crate::guard::{self, GuardArgs, Outputs};
use crate::model::RunOptions;
use crate::replicate::comparison::Arm;
use crate::report::replicated::{self, replicate_to_folder};
use crate::scenario::units::Duration;
use crate::scenario::validate::Overrides;
use crate::scenario_file::load_file;
use anyhow::{Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `compare`.
#[derive(Debug, Args)]
#[command(
    mut_arg("seed", |a| a.help("Master seed of every arm (default: the first file's `meta.seed`)")),
    mut_arg("duration", |a| a.help("Replace every arm's duration (e.g. \"10m\")")),
    mut_arg("out", |a| a.help("Output folder (default: output/compare-<first>-vs-<second>…)")),
)]
pub struct CompareArgs {
    /// Scenario files, one per design (arm); differences are taken from the
    /// first.
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Independent replications per arm (replication i of every arm uses
    /// the same seed).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: u32,
    /// The master seed, every arm's duration and the output folder.
    #[command(flatten)]
    pub shared: SharedFlags,
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
    let arms = load_arms(&args.files, args.shared.seed, args.shared.duration)?;
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
        .shared
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("compare-{}", names.join("-vs-"))));
    let options = RunOptions {
        check_invariants: args.check_invariants || cfg!(debug_assertions),
        ..RunOptions::default()
    };
    let seed = arms[0].scenario.seed;
    let c = replicate_to_folder(&arms, seed, args.replications, options, &out, quiet)?;
    replicated::print(&c, &out);
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
        arms.push(Arm::new(file, scenario));
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
