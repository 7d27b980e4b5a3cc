//! `pooldrill sweep FILE --set KEY=VALUES [--set …]`: a grid over scenario
//! keys, every point replicated; with `--shard i/n`, one slice of it, for
//! `pooldrill merge` to recombine; with `--emit slurm|k8s --shards N`, the
//! batch script that runs it in N shards instead.

use super::emit::{Emit, Flag, ShardedRun, emit};
use super::shared_flags::SharedFlags;
use crate::format::{exact, percent};
use crate::guard::{self, GuardArgs, Outputs};
use crate::model::RunOptions;
use crate::replicate::grid::{Grid, parse_set};
use crate::replicate::kpi::{Kpi, Unit, kpi_defs};
use crate::replicate::sweep::{Manifest, Shard, estimates};
use crate::replicate::{CONFIDENCE, par_map, progress_bar, replicate};
use crate::report::replications_csv::ReplicationTable;
use crate::report::{OutputDir, fit_table, sweep_charts, sweep_table};
use crate::scenario::locate::span_of;
use crate::scenario::units::Duration;
use crate::scenario::validate::{Overrides, parse_with_files};
use crate::scenario::{Scenario, ScenarioError};
use crate::scenario_file::{ScenarioFolder, load_file, read_source};
use crate::stdout::{out, outln};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `sweep`.
#[derive(Debug, Args)]
#[command(
    mut_arg("seed", |a| a.help("Replace the scenario's master seed")),
    mut_arg("out", |a| a.help(
        "Output folder (default: output/sweep-<name>, or output/sweep-<name>-shard-<i>-of-<n> with \
         --shard); with --emit, the folder of the shards and the merge (for k8s, where the results \
         volume is mounted in the pods: default /results)"
    )),
)]
pub struct SweepArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// A key and its values, in the file's units; repeat for a grid:
    /// pool.max=4..12, traffic.rate=1000/s..3000/s:500/s,
    /// pool.idle_timeout=10s..60s:10s, job.fan_out=1,2,4.
    #[arg(long = "set", value_name = "KEY=VALUES", required = true)]
    pub sets: Vec<String>,
    /// Independent replications per grid point.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: u32,
    /// The master seed, the duration and the output folder.
    #[command(flatten)]
    pub shared: SharedFlags,
    /// Run only slice i of n (0 ≤ i < n) and write its raw results, for
    /// `pooldrill merge`.
    #[arg(long, value_name = "i/n", allow_hyphen_values = true)]
    pub shard: Option<Shard>,
    /// The KPI the charts show (a KPI id of sweep.csv, e.g. error_rate,
    /// refusal_rate, wait_p99_s, peak_open).
    #[arg(long, default_value = "error_rate")]
    pub metric: String,
    /// A point is safe when the upper end of the metric's 95 % interval is
    /// below this, in the KPI's unit: 0.01 or 1% for rates, 100ms for
    /// times, 450 for counts (default: 1% for error_rate, else none).
    #[arg(long, value_name = "BOUND", allow_hyphen_values = true)]
    pub safe_below: Option<String>,
    /// Check the model's invariants after every event (slower).
    #[arg(long)]
    pub check_invariants: bool,
    /// Print the batch script that runs this sweep in --shards slices
    /// instead of running it: a Slurm job array or a Kubernetes Indexed Job
    /// (with the merge step). Nothing is run or written.
    #[arg(long, value_enum, requires = "shards")]
    pub emit: Option<Emit>,
    /// With --emit: how many shards (array tasks, Job completions), at most
    /// the sweep's runs (points × replications).
    #[arg(long, value_name = "N", requires = "emit")]
    pub shards: Option<u32>,
    /// With --emit: CPUs per shard (Slurm --cpus-per-task, the pod's CPU
    /// request); at most the CPUs of a node, or the shards never start.
    #[arg(long, value_name = "C", default_value_t = 1, requires = "emit",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub cpus: u32,
    /// With --emit k8s: the container image, with pooldrill on its PATH
    /// (default pooldrill:VERSION).
    #[arg(long, requires = "emit")]
    pub image: Option<String>,
    /// The resource guard's limits, for every grid point.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// Run the sweep (or its shard) and write its files.
pub fn sweep(args: &SweepArgs, quiet: bool) -> Result<i32> {
    if args.emit.is_some() && args.shard.is_some() {
        bail!("--shard: not with --emit (the emitted script gives each task its shard)");
    }
    crate::interrupt::catch();
    let points = grid_scenarios(&args.file, &args.sets, args.shared.overrides())?;
    let GridScenarios {
        base,
        grid,
        scenarios,
        ..
    } = &points;
    let kpis = kpi_defs(
        base.alerts.iter().map(|a| a.name.as_str()),
        base.retry.is_some(),
    );
    let Some(kpi) = kpis.iter().find(|k| k.id == args.metric) else {
        let ids: Vec<&str> = kpis.iter().map(|k| k.id.as_str()).collect();
        bail!(
            "--metric: expected one of {}, found \"{}\"",
            ids.join(", "),
            args.metric
        );
    };
    let safe_below = match &args.safe_below {
        Some(text) => Some(bound(kpi, text)?),
        None => (kpi.id == "error_rate").then_some(0.01),
    };
    let manifest = Manifest {
        kpis,
        metric: args.metric.clone(),
        safe_below,
        ..points.manifest(args.replications, args.shard)
    };
    let out = default_out(&args.shared, "sweep", &base.name, args.shard);
    let options = RunOptions {
        check_invariants: args.check_invariants || cfg!(debug_assertions),
        ..RunOptions::default()
    };
    // An emitted script runs each shard on `--cpus` threads: its points
    // pass the same guard first, so a cluster never queues runs that fail.
    let cpus = args.emit.map(|_| args.cpus as usize);
    let (items, events, concurrent) = guard_items(&manifest, scenarios, &args.guard, cpus)?;
    if let (Some(target), Some(shards)) = (args.emit, args.shards) {
        let run = ShardedRun {
            command: "sweep",
            name: base.name.clone(),
            scenario: args.file.clone(),
            source: points.source.clone(),
            flags: shard_flags(args),
            points: grid.size(),
            replications: args.replications,
            shards,
            cpus: args.cpus,
            out: args.shared.out.clone(),
        };
        return emit(target, &run, args.image.as_deref());
    }
    if let Some(note) = guard::duration_note(items.len(), events, concurrent)
        && !quiet
    {
        eprintln!("{note}");
    }
    let (table, dir) = run_items(&manifest, &items, &out, quiet, |point, seed| {
        let r = replicate(&scenarios[point], seed, options, false)?;
        Ok(r.kpis.into_iter().map(|(_, v)| v).collect())
    })?;
    write_folder(&manifest, &table, dir, None)?;
    match manifest.shard {
        Some(s) => outln!("{}", shard_note(s, &manifest, items.len(), &out)),
        None => out!("{}", summary(&manifest, &table, &out)),
    }
    Ok(0)
}

/// What a shard's run says: its runs and how to recombine them.
pub fn shard_note(shard: Shard, manifest: &Manifest, runs: usize, out: &Path) -> String {
    format!(
        "shard {shard}: {runs} of {} runs; recombine every shard with: pooldrill merge DIR... --out DIR\n  files: {}/{{manifest.json, replications.csv}}",
        manifest.items(),
        out.display()
    )
}

/// A scenario file, its grid and every point's validated scenario.
pub struct GridScenarios {
    /// The file as given on the command line.
    pub file: String,
    /// Its text.
    pub source: String,
    /// The file as written (its `[[observed]]` series read).
    pub base: Scenario,
    /// The grid of `--set` values.
    pub grid: Grid,
    /// Each point's scenario, with the command line's overrides.
    pub scenarios: Vec<Scenario>,
}

impl GridScenarios {
    /// The manifest of this grid, replicated `replications` times (of
    /// which this folder runs `shard`), without its KPIs: a sweep's by
    /// default, which a fit turns into its own.
    pub fn manifest(&self, replications: u32, shard: Option<Shard>) -> Manifest {
        Manifest {
            tool: "pooldrill".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            scenario: self.base.name.clone(),
            file: self.file.clone(),
            hash: self.base.hash.clone(),
            seed: self.scenarios[0].seed,
            duration_s: self.scenarios[0].duration.as_secs_f64(),
            replications,
            confidence: CONFIDENCE,
            axes: self.grid.axes.clone(),
            kpis: Vec::new(),
            metric: String::new(),
            safe_below: None,
            shard,
            fit: false,
        }
    }
}

/// The scenario at `path` and the grid `sets` spans over it.
pub fn grid_scenarios(path: &Path, sets: &[String], overrides: Overrides) -> Result<GridScenarios> {
    let file = path.display().to_string();
    let source = read_source(path)?;
    // The file as written first, so that its own mistakes are reported as
    // such; then every point, with the command line's values.
    let base = load_file(path, Overrides::default())?;
    super::warn(&base);
    let table: toml::Table =
        toml::from_str(&source).with_context(|| format!("{file}: not a TOML table"))?;
    let axes = sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()?;
    let grid = Grid::new(axes)?;
    let folder = ScenarioFolder::of(path);
    let scenarios = (0..grid.size())
        .map(|p| point_scenario(&file, &source, &table, &grid, p, overrides, &folder))
        .collect::<Result<Vec<_>>>()?;
    Ok(GridScenarios {
        file,
        source,
        base,
        grid,
        scenarios,
    })
}

/// `--out`, or `output/<command>-<name>` (with `-shard-<i>-of-<n>` for a
/// shard).
pub fn default_out(
    shared: &SharedFlags,
    command: &str,
    name: &str,
    shard: Option<Shard>,
) -> PathBuf {
    shared.out.clone().unwrap_or_else(|| {
        let name = match shard {
            Some(s) => format!("{command}-{name}-shard-{}-of-{}", s.index, s.count),
            None => format!("{command}-{name}"),
        };
        Path::new("output").join(name)
    })
}

/// The items this folder runs (its shard's), once every point passed the
/// guard (`cpus`: the threads of an emitted shard, else this machine's):
/// the items, the events they will cost and how many run at once.
pub fn guard_items(
    manifest: &Manifest,
    scenarios: &[Scenario],
    guard: &GuardArgs,
    cpus: Option<usize>,
) -> Result<(Vec<usize>, f64, usize)> {
    let items: Vec<usize> = (0..manifest.items())
        .filter(|&k| manifest.holds(k))
        .collect();
    let concurrent = items
        .len()
        .min(cpus.unwrap_or_else(rayon::current_num_threads));
    let grid = manifest.grid();
    let mut events = 0.0;
    for (point, scenario) in scenarios.iter().enumerate() {
        let estimate = guard
            .check(&manifest.file, scenario, Outputs::default(), concurrent)
            .with_context(|| format!("grid point {point} ({})", point_label(&grid, point)))?;
        let runs = items
            .iter()
            .filter(|&&k| manifest.item(k).0 == point)
            .count();
        events += estimate.events * runs as f64;
    }
    Ok((items, events, concurrent))
}

/// Run `items` of `manifest` in parallel, each as `run(point, seed)`, into
/// the table of their values and the staged folder `out`.
pub fn run_items(
    manifest: &Manifest,
    items: &[usize],
    out: &Path,
    quiet: bool,
    run: impl Fn(usize, u64) -> Result<Vec<f64>> + Sync + Send,
) -> Result<(ReplicationTable, OutputDir)> {
    let dir = OutputDir::create(out)?;
    let bar = progress_bar(items.len(), &manifest.scenario, quiet);
    let values = par_map(items.len(), &bar, |j| {
        let k = items[j];
        let (point, rep) = manifest.item(k);
        run(point, manifest.seed_of(k))
            .map_err(|e| e.context(format!("grid point {point}, replication {rep}")))
    })
    .map_err(|e| guard::name_file(e, &manifest.file))?;
    let grid = manifest.grid();
    let rows = items
        .iter()
        .zip(values)
        .map(|(&k, v)| (manifest.ids(k, &grid), v))
        .collect();
    let table = ReplicationTable {
        id_columns: manifest.id_columns(),
        kpis: manifest.kpis.iter().map(|k| k.id.clone()).collect(),
        rows,
    };
    Ok((table, dir))
}

/// The flags every shard of an emitted sweep runs with: all the user gave
/// but the scenario (passed apart), `--out`, `--shard` and `--emit`'s own.
/// A new flag of `SweepArgs` fails to compile here until it is placed.
fn shard_flags(args: &SweepArgs) -> Vec<Flag> {
    let SweepArgs {
        file: _,
        sets,
        replications,
        shared: SharedFlags {
            seed,
            duration,
            out: _,
        },
        shard: _,
        metric,
        safe_below,
        check_invariants,
        emit: _,
        shards: _,
        cpus: _,
        image: _,
        guard:
            GuardArgs {
                max_events,
                max_output,
                force,
            },
    } = args;
    let flag = |name, value: Option<String>| Flag { name, value };
    let mut flags: Vec<Flag> = sets
        .iter()
        .map(|s| flag("--set", Some(s.clone())))
        .collect();
    flags.push(flag("--replications", Some(replications.to_string())));
    flags.extend(seed.map(|s| flag("--seed", Some(s.to_string()))));
    flags.extend(duration.map(|d| flag("--duration", Some(exact(d.0)))));
    flags.push(flag("--metric", Some(metric.clone())));
    flags.extend(safe_below.clone().map(|b| flag("--safe-below", Some(b))));
    if *check_invariants {
        flags.push(flag("--check-invariants", None));
    }
    flags.extend(max_events.map(|n| flag("--max-events", Some(n.to_string()))));
    flags.extend(max_output.map(|n| flag("--max-output", Some(n.to_string()))));
    if *force {
        flags.push(flag("--force", None));
    }
    flags
}

/// `text` as a bound in the KPI's stored unit: `0.01` or `1%` for ratios,
/// `100ms` or `0.1` (s) for times, a number for counts.
fn bound(kpi: &Kpi, text: &str) -> Result<f64> {
    let t = text.trim();
    let value = match kpi.unit {
        Unit::Ratio => t
            .strip_suffix('%')
            .map_or_else(
                || t.parse::<f64>(),
                |p| p.trim().parse::<f64>().map(|v| v / 100.0),
            )
            .ok(),
        Unit::Seconds => t
            .parse::<f64>()
            .ok()
            .or_else(|| t.parse::<Duration>().ok().map(|d| d.0.as_secs_f64())),
        Unit::Count => t.parse::<f64>().ok(),
    };
    match value {
        Some(v) if v.is_finite() && v <= 0.0 => bail!(
            "--safe-below: expected a bound above zero for {} (its values are never negative: no point could be safe), found \"{text}\"",
            kpi.id
        ),
        Some(v) if v.is_finite() => Ok(v),
        _ => bail!(
            "--safe-below: expected {} for {}, found \"{text}\"",
            match kpi.unit {
                Unit::Ratio => "a fraction like 0.01 or a percentage like 1%",
                Unit::Seconds => "a time like 100ms (or seconds)",
                Unit::Count => "a number",
            },
            kpi.id
        ),
    }
}

/// Grid point `p` for people: `pool.max=4, traffic.rate=1000`.
pub fn point_label(grid: &Grid, p: usize) -> String {
    let values = grid.point(p);
    let labels: Vec<String> = grid
        .axes
        .iter()
        .zip(values)
        .map(|(axis, i)| format!("{}={}", axis.path, axis.label(i)))
        .collect();
    labels.join(", ")
}

/// The validated scenario of grid point `p`. A value that does not
/// validate is reported at the key's place in the original file.
pub fn point_scenario(
    file: &str,
    source: &str,
    table: &toml::Table,
    grid: &Grid,
    p: usize,
    overrides: Overrides,
    folder: &ScenarioFolder,
) -> Result<Scenario> {
    let text = grid.source_at(table, p)?;
    parse_with_files(file, &text, overrides, folder).map_err(|e| {
        let settings: Vec<String> = grid
            .axes
            .iter()
            .zip(grid.point(p))
            .map(|(a, i)| format!("{} = {}", a.path, a.label(i)))
            .collect();
        let span = (!e.path.is_empty())
            .then(|| span_of(source, &e.path))
            .flatten();
        ScenarioError::at_span(
            file,
            source,
            span,
            &e.path,
            format!("{} (with {} from --set)", e.message, settings.join(", ")),
        )
        .into()
    })
}

/// Draws a fit's chart of its best point into the folder.
pub type BestChart<'a> = &'a dyn Fn(usize, &mut OutputDir) -> Result<()>;

/// Write a sweep's folder: `manifest.json` and `replications.csv`, and for
/// a whole sweep `sweep.csv` and its charts, for a whole fit `fit.csv` and
/// `best` of its best point (all or nothing).
pub fn write_folder(
    manifest: &Manifest,
    table: &ReplicationTable,
    mut dir: OutputDir,
    best: Option<BestChart>,
) -> Result<()> {
    let mut json = serde_json::to_vec_pretty(manifest)?;
    json.push(b'\n');
    dir.write("manifest.json", &json)?;
    dir.write("replications.csv", &table.to_csv()?)?;
    if manifest.shard.is_none() {
        let values: Vec<Vec<f64>> = table.rows.iter().map(|(_, v)| v.clone()).collect();
        let estimates = estimates(manifest, &values);
        if manifest.fit {
            let ranking = fit_table::rank(manifest, &values);
            dir.write("fit.csv", &fit_table::csv(manifest, &ranking)?)?;
            if let (Some(draw), Some(first)) = (best, ranking.first()) {
                draw(first.point, &mut dir)?;
            }
        } else {
            dir.write("sweep.csv", &sweep_table::csv(manifest, &estimates)?)?;
            sweep_charts::charts(manifest, &estimates, &mut dir)?;
        }
    }
    dir.commit()?;
    Ok(())
}

/// The charted metric at every point, for the terminal.
fn summary(manifest: &Manifest, table: &ReplicationTable, out: &Path) -> String {
    use std::fmt::Write;
    let values: Vec<Vec<f64>> = table.rows.iter().map(|(_, v)| v.clone()).collect();
    let estimates = estimates(manifest, &values);
    let grid = manifest.grid();
    let kpi = &manifest.kpis[manifest.metric_index()];
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} points × {} replications, seed {}; {} (mean ± {} CI)",
        manifest.scenario,
        grid.size(),
        manifest.replications,
        manifest.seed,
        kpi.label,
        percent(manifest.confidence, 0)
    );
    const SHOWN: usize = 60;
    let labels: Vec<String> = (0..grid.size().min(SHOWN))
        .map(|p| {
            grid.axes
                .iter()
                .zip(grid.point(p))
                .filter(|(a, _)| a.values.len() > 1)
                .map(|(a, i)| format!("{} = {}", a.path, a.label(i)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for (label, point) in labels.iter().zip(&estimates) {
        let safe = match sweep_table::is_safe(manifest, point) {
            Some(true) => "  safe",
            _ => "",
        };
        let e = &point[manifest.metric_index()];
        let pad = " ".repeat(width - label.chars().count());
        let _ = writeln!(
            s,
            "  {label}{pad}  {}{safe}",
            kpi.unit.format_non_negative(e)
        );
    }
    if grid.size() > SHOWN {
        let _ = writeln!(s, "  … {} more points in sweep.csv", grid.size() - SHOWN);
    }
    let _ = writeln!(
        s,
        "  files: {}/{{manifest.json, replications.csv, sweep.csv, charts}}",
        out.display()
    );
    s
}
