//! `pooldrill report`: the HTML training handout. Runs the replayed
//! scenarios and the retry storm's arms (as `replay` does, without writing
//! their files), draws the charts in a scratch folder, and writes one
//! self-contained page.

use crate::commands::replay::{self, ReplayResult};
use crate::guard::GuardArgs;
use crate::report::OutputFile;
use crate::report::charts::{self, RunSeries};
use crate::report::html::{Chart, HandoutRun, handout};
use crate::stdout::outln;
use anyhow::{Context, Result};
use clap::Args;
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Folder holding the scenario files.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// The HTML file to write (`-`: standard output).
    #[arg(long, default_value = "output/report.html")]
    pub out: PathBuf,
    /// The resource guard's limits, for every scenario.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// The runs compared side by side at the end of the handout.
const COMPARED: [&str; 3] = ["before", "after", "fixed"];

/// A chart drawn from one run.
type Draw = fn(&RunSeries, &Path) -> Result<()>;

/// Every run gets its timeline; runs with a timeline of changes (deploys,
/// rollbacks) get the detail charts too.
const TIMELINE: (&str, &str, Draw) = (
    "timeline",
    "the run minute by minute: requests, errors, waits, connections by kind, failures",
    charts::incident_timeline,
);
const DETAIL: [(&str, &str, Draw); 3] = [
    (
        "waits",
        "acquire waits over time (heatmap: waits are zero or the timeout)",
        charts::wait_heatmap,
    ),
    ("pods", "pool utilisation per pod", charts::pod_heatmap),
    (
        "starvation",
        "acquires that waited over 100 ms or failed, by class",
        charts::starvation,
    ),
];

/// Side-by-side charts: file stem, runs, caption.
const GROUPS: [(&str, &[&str], &str); 2] = [
    (
        "before-after-fixed",
        &COMPARED,
        "before, after and fixed on shared scales",
    ),
    (
        "realistic-vs-as-told",
        &["incident", "incident-as-told"],
        "the realistic model beside the write-up's reading",
    ),
];

/// Write the handout.
pub fn report(args: &ReportArgs) -> Result<i32> {
    crate::interrupt::catch();
    // A bad --out path is refused before the runs, not after them.
    let mut inputs = replay::files(&args.scenarios);
    inputs.extend(
        replay::RETRY_ARMS
            .iter()
            .map(|name| args.scenarios.join(format!("{name}.toml"))),
    );
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let mut file = OutputFile::create_with_folders(&args.out, &inputs)?;
    let results = replay::results(&args.scenarios, &args.guard)?;
    let scratch = tempfile::tempdir().context("cannot create a scratch folder for the charts")?;
    let charts: Vec<Vec<Chart>> = results
        .par_iter()
        .map(|r| run_charts(r, scratch.path()))
        .collect::<Result<_>>()?;
    let runs: Vec<HandoutRun> = results
        .iter()
        .zip(charts)
        .map(|(r, charts)| HandoutRun {
            scenario: &r.scenario,
            summary: &r.summary,
            run: &r.run,
            events: &r.events,
            charts,
        })
        .collect();
    let comparison = group_charts(&results, scratch.path())?;
    let arms = replay::retry_arms(&args.scenarios, &args.guard)?;
    let storm = arms
        .as_deref()
        .map(|arms| storm_chart(arms, scratch.path()))
        .transpose()?;
    let arms = arms.as_deref().map(replay::storm_arms);
    let page = handout(
        &runs,
        &COMPARED,
        &comparison,
        arms.as_ref().zip(storm.as_ref()),
    );
    let to_stdout = file.is_stdout();
    // Nothing goes out after a signal (to standard output or a FIFO the
    // page goes out as it is written), and a signal while it does waits.
    let _hold = crate::interrupt::hold();
    if crate::interrupt::requested() {
        return Err(crate::interrupt::Stopped.into());
    }
    file.write_all(page.as_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    file.commit()?;
    let line = format!(
        "handout: {} ({} KB)",
        args.out.display(),
        page.len().div_ceil(1024)
    );
    // With `--out -` standard output carries the page.
    if to_stdout {
        eprintln!("{line}");
    } else {
        outln!("{line}");
    }
    Ok(0)
}

/// Draw one run's charts into `scratch` and read them back.
fn run_charts(r: &ReplayResult, scratch: &Path) -> Result<Vec<Chart>> {
    let detail: &[(&str, &str, Draw)] = if r.scenario.events.is_empty() {
        &[]
    } else {
        &DETAIL
    };
    std::iter::once(&TIMELINE)
        .chain(detail)
        .map(|(suffix, caption, draw)| {
            let stem = scratch.join(format!("{}-{suffix}", r.scenario.name));
            draw(&r.run, &stem)?;
            Chart::load(&stem, &format!("{}: {caption}", r.scenario.name))
        })
        .collect()
}

/// Draw the side-by-side charts whose runs are all there.
fn group_charts(results: &[ReplayResult], scratch: &Path) -> Result<Vec<Chart>> {
    let mut out = Vec::new();
    for (stem, names, caption) in GROUPS {
        let group: Vec<RunSeries> = names
            .iter()
            .filter_map(|n| results.iter().find(|r| r.scenario.name == *n))
            .map(|r| r.run.clone())
            .collect();
        if group.len() == names.len() {
            let path = scratch.join(stem);
            charts::small_multiples(&group, &path)?;
            out.push(Chart::load(&path, caption)?);
        }
    }
    Ok(out)
}

/// Draw the retry storm's chart of `arms`.
fn storm_chart(arms: &[ReplayResult], scratch: &Path) -> Result<Chart> {
    let path = scratch.join("retry-storm");
    let runs: Vec<RunSeries> = arms.iter().map(|r| r.run.clone()).collect();
    charts::retry_storm(&runs, &path)?;
    Chart::load(
        &path,
        &format!("the retry storm: {}", replay::RETRY_ARMS.join(", ")),
    )
}
