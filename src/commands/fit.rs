//! `pooldrill fit FILE --set KEY=VALUES [--set …]`: `sweep`'s grid, each
//! point's replications scored against the scenario's `[[observed]]`
//! series and the points ranked by their fit (docs/own-incident.md).
//!
//! A fit is a sweep whose KPIs are fit scores: the same grid, guard,
//! sharding (`--shard i/n`) and `merge`, with one difference in the seeds —
//! replication `i` of every point runs under the same seed, so that the
//! points' scores are compared paired. The score of a run is the mean over
//! the observed series of their RMSE divided by the observed series' mean
//! absolute value (`metrics::observed::fit_score`).

use super::replay::simulate;
use super::shared_flags::SharedFlags;
use super::sweep::{
    GridScenarios, default_out, grid_scenarios, guard_items, point_label, point_scenario,
    run_items, shard_note, write_folder,
};
use crate::format::percent;
use crate::guard::{self, GuardArgs};
use crate::metrics::NullSink;
use crate::metrics::observed::{ObservedScore, ObservedSink, fit_score};
use crate::model::{RunOptions, Simulation};
use crate::replicate::kpi::{Kpi, Unit};
use crate::replicate::sweep::{Manifest, Shard};
use crate::report::charts::{self, ObservedLine};
use crate::report::fit_table::rank;
use crate::report::replications_csv::ReplicationTable;
use crate::report::{OutputDir, number};
use crate::scenario::Scenario;
use crate::scenario::observed::Observed;
use crate::scenario::units::Duration;
use crate::scenario::validate::Overrides;
use crate::scenario_file::{ScenarioFolder, load_file, read_source};
use crate::stdout::{out, outln};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

/// A chart of one run.
type Draw = fn(&charts::RunSeries, &Path) -> Result<()>;

/// The charts of the best point: file stem and drawing.
const BEST: [(&str, Draw); 2] = [
    ("fit-best-timeline", charts::incident_timeline),
    ("fit-best-waits", charts::wait_heatmap),
];

/// Arguments of `fit`.
#[derive(Debug, Args)]
#[command(
    mut_arg("seed", |a| a.help("Replace the scenario's master seed")),
    mut_arg("out", |a| a.help(
        "Output folder (default: output/fit-<name>, or output/fit-<name>-shard-<i>-of-<n> with --shard)"
    )),
)]
pub struct FitArgs {
    /// The scenario file, with its [[observed]] series.
    pub file: PathBuf,
    /// A key and its values, as for sweep: job.error_probability=0.1..0.4:0.1,
    /// job.period=20s,30s,60s.
    #[arg(long = "set", value_name = "KEY=VALUES", required = true)]
    pub sets: Vec<String>,
    /// Replications per grid point (replication i of every point shares
    /// its random numbers).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: u32,
    /// The master seed, the duration and the output folder.
    #[command(flatten)]
    pub shared: SharedFlags,
    /// Run only slice i of n (0 ≤ i < n) and write its raw results, for
    /// `pooldrill merge`.
    #[arg(long, value_name = "i/n", allow_hyphen_values = true)]
    pub shard: Option<Shard>,
    /// Check the model's invariants after every event (slower).
    #[arg(long)]
    pub check_invariants: bool,
    /// The resource guard's limits, for every grid point.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// Run the fit (or its shard) and write its files.
pub fn fit(args: &FitArgs, quiet: bool) -> Result<i32> {
    crate::interrupt::catch();
    let points = grid_scenarios(&args.file, &args.sets, args.shared.overrides())?;
    let GridScenarios {
        file,
        base,
        scenarios,
        ..
    } = &points;
    if base.observed.is_empty() {
        bail!("{file}: expected at least one [[observed]] series to fit to, found none");
    }
    let observed = &base.observed;
    let manifest = Manifest {
        kpis: fit_kpis(observed),
        metric: "fit_score".into(),
        fit: true,
        ..points.manifest(args.replications, args.shard)
    };
    let out = default_out(&args.shared, "fit", &base.name, args.shard);
    let options = RunOptions {
        check_invariants: args.check_invariants || cfg!(debug_assertions),
        ..RunOptions::default()
    };
    let (items, events, concurrent) = guard_items(&manifest, scenarios, &args.guard, None)?;
    if let Some(note) = guard::duration_note(items.len(), events, concurrent)
        && !quiet
    {
        eprintln!("{note}");
    }
    let (table, dir) = run_items(&manifest, &items, &out, quiet, |point, seed| {
        let scores = scores(&scenarios[point], seed, options, observed)?;
        Ok(std::iter::once(fit_score(&scores))
            .chain(scores.iter().map(ObservedScore::normalised_rmse))
            .collect())
    })?;
    let draw = |best: usize, dir: &mut OutputDir| {
        best_charts(&scenarios[best], manifest.seed, observed, dir)
    };
    write_folder(&manifest, &table, dir, Some(&draw))?;
    match manifest.shard {
        Some(s) => outln!("{}", shard_note(s, &manifest, items.len(), &out)),
        None => out!("{}", summary(&manifest, &table, &out)),
    }
    Ok(0)
}

/// The KPIs of a fit: the score, then each series' normalised RMSE.
fn fit_kpis(observed: &[Observed]) -> Vec<Kpi> {
    let kpi = |id: String, label: String| Kpi {
        id,
        label,
        unit: Unit::Ratio,
    };
    let mut kpis = vec![kpi(
        "fit_score".into(),
        "fit score (mean normalised RMSE)".into(),
    )];
    kpis.extend(observed.iter().enumerate().map(|(i, o)| {
        kpi(
            format!("nrmse.{i}.{}", o.metric),
            format!("normalised RMSE of {}", o.label),
        )
    }));
    kpis
}

/// One run of `scenario` under `seed`, scored against `observed`.
fn scores(
    scenario: &Scenario,
    seed: u64,
    options: RunOptions,
    observed: &[Observed],
) -> Result<Vec<ObservedScore>> {
    let mut scenario = scenario.clone();
    scenario.seed = seed;
    let mut sink = ObservedSink::new(observed);
    Simulation::new(&scenario, options)
        .run(&mut sink, |_| !crate::interrupt::requested())
        .with_context(|| format!("scenario {} with seed {seed}", scenario.name))?;
    Ok(sink.scores(observed))
}

/// The best point's run (its replication 0) charted with the observed
/// series over it.
fn best_charts(
    scenario: &Scenario,
    seed: u64,
    observed: &[Observed],
    dir: &mut OutputDir,
) -> Result<()> {
    let mut scenario = scenario.clone();
    scenario.seed = seed;
    let mut run = simulate(scenario, &mut NullSink)?.run;
    run.observed = observed
        .iter()
        .map(|o| ObservedLine {
            metric: o.metric.clone(),
            label: o.label.clone(),
            points: o.points.clone(),
        })
        .collect();
    for (stem, draw) in BEST {
        draw(&run, &dir.chart_stem(stem))?;
    }
    Ok(())
}

/// The best point's charts for `merge`: the fit's scenario file read again
/// (it must be the one the shards ran) and the point rebuilt from the
/// manifest.
pub fn merged_best_charts(manifest: &Manifest, best: usize, dir: &mut OutputDir) -> Result<()> {
    let path = Path::new(&manifest.file);
    let base = load_file(path, Overrides::default())?;
    if base.hash != manifest.hash {
        bail!(
            "{}: expected the scenario file the fit ran (hash {}), found hash {}",
            manifest.file,
            manifest.hash,
            base.hash
        );
    }
    let source = read_source(path)?;
    let table: toml::Table =
        toml::from_str(&source).with_context(|| format!("{}: not a TOML table", manifest.file))?;
    let overrides = Overrides {
        seed: Some(manifest.seed),
        duration: Some(Duration(crate::engine::SimTime::from_secs_f64(
            manifest.duration_s,
        ))),
    };
    let grid = manifest.grid();
    let folder = ScenarioFolder::of(path);
    let scenario = point_scenario(
        &manifest.file,
        &source,
        &table,
        &grid,
        best,
        overrides,
        &folder,
    )?;
    best_charts(&scenario, manifest.seed, &base.observed, dir)
}

/// The best five points with their scores, for the terminal.
fn summary(manifest: &Manifest, table: &ReplicationTable, out: &Path) -> String {
    use std::fmt::Write;
    let values: Vec<Vec<f64>> = table.rows.iter().map(|(_, v)| v.clone()).collect();
    let ranking = rank(manifest, &values);
    let grid = manifest.grid();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} points × {} replications (paired), seed {}; fit score = mean normalised RMSE over {} observed series, lower is better (mean, {} CI)",
        manifest.scenario,
        grid.size(),
        manifest.replications,
        manifest.seed,
        manifest.kpis.len() - 1,
        percent(manifest.confidence, 0)
    );
    for (i, r) in ranking.iter().take(5).enumerate() {
        let _ = writeln!(
            s,
            "  {}. {}  score {}{}",
            i + 1,
            point_label(&grid, r.point),
            interval(&r.score),
            if i == 0 {
                String::new()
            } else {
                format!(", vs best {}", interval(&r.vs_best))
            }
        );
    }
    let _ = writeln!(
        s,
        "  files: {}/{{manifest.json, replications.csv, fit.csv, {}.png, {}.png}}",
        out.display(),
        BEST[0].0,
        BEST[1].0
    );
    s
}

/// `0.123 [0.110, 0.136]`.
fn interval(e: &crate::stats::Estimate) -> String {
    let short = |v: f64| number((v * 1e4).round() / 1e4);
    format!("{} [{}, {}]", short(e.mean), short(e.lo()), short(e.hi()))
}
