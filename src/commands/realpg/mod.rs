//! `pooldrill realpg SCENARIO`: the scenario on a real PostgreSQL beside
//! pooldrill (docs/validation.md). It starts a throw-away server
//! ([`postgres`]), runs the real fleet of Node.js workers with real
//! `pg.Pool`s N times ([`harness`], honouring the scenario's [`subset`]),
//! fits the hold and setup times to what they measured ([`calibrate`]),
//! runs pooldrill's replications of the calibrated scenario ([`simulate`])
//! and judges each metric ([`agreement`]); [`report`] writes
//! comparison.json, comparison.md and the charts. Exit 0 when they agree,
//! 1 when they do not, 2 on bad input or a missing PostgreSQL or Node.js.

pub mod agreement;
pub mod calibrate;
pub mod harness;
pub mod postgres;
pub mod report;
pub mod simulate;
pub mod subset;

use crate::engine::SimTime;
use crate::interrupt;
use crate::scenario::units::Duration;
use crate::scenario::validate::{Overrides, parse_with};
use crate::scenario_file::read_source;
use crate::stdout::outln;
use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `pooldrill realpg` options.
#[derive(Debug, Args)]
pub struct RealpgArgs {
    /// The scenario (one pod; see docs/validation.md for the keys honoured).
    pub scenario: PathBuf,
    /// Real runs.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..=50))]
    pub runs: u32,
    /// Length of each run, e.g. `180s` (default: the scenario's duration).
    #[arg(long)]
    pub duration: Option<Duration>,
    /// pooldrill replications of the calibrated scenario.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub replications: u32,
    /// The false-alarm rate of this run when the model is right (the
    /// chance that it says "disagree" anyway); CI runs two arms at 0.005.
    #[arg(long, default_value_t = agreement::FALSE_ALARM, value_parser = false_alarm_rate)]
    pub false_alarm: f64,
    /// Judge the real runs already in the output folder's `real/` again,
    /// with their length and warm-up, starting no server and no fleet:
    /// after a change of the calibration or of pooldrill.
    #[arg(long)]
    pub rejudge: bool,
    /// Output folder (default: output/realpg-NAME).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The harness folder (default: this source tree's validation/).
    #[arg(long)]
    pub harness: Option<PathBuf>,
}

/// `--false-alarm`: a probability in (0, 0.5].
fn false_alarm_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 0.5 => Ok(p),
        _ => Err(format!(
            "expected a probability in (0, 0.5], found {text:?}"
        )),
    }
}

/// The value at summary.json's dotted `path` in `v` (NaN when absent).
fn at(v: &Value, path: &str) -> f64 {
    v.pointer(&format!("/{}", path.replace('.', "/")))
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN)
}

/// Read a JSON file.
fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// `--rejudge`: the real runs saved in `out` (`real/real-N.json`, at least
/// 2), the server's version and the runs' length and warm-up.
fn saved_runs(out: &Path) -> Result<(Vec<Value>, String, SimTime, SimTime)> {
    let work = out.join("real");
    let mut real = Vec::new();
    while work.join(format!("real-{}.json", real.len())).is_file() {
        real.push(read_json(&work.join(format!("real-{}.json", real.len())))?);
    }
    anyhow::ensure!(
        real.len() >= 2,
        "--rejudge needs at least 2 real runs in {}, found {}",
        work.display(),
        real.len()
    );
    let run = read_json(&work.join("run-0.json"))?;
    let secs = |key: &str| SimTime::from_secs_f64(at(&run, key));
    let server = read_json(&out.join("comparison.json"))
        .ok()
        .and_then(|c| c["server"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok((real, server, secs("run.duration_s"), secs("run.warmup_s")))
}

/// The folder of a session's real runs until they replace `real/`.
const FRESH_REAL: &str = "real-new";

/// Replace the folder `to` (if any) by the folder `from`.
fn replace_dir(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("removing {}", to.display()))?;
    }
    std::fs::rename(from, to)
        .with_context(|| format!("renaming {} to {}", from.display(), to.display()))
}

/// Run the command; its exit code.
pub fn realpg(args: &RealpgArgs, quiet: bool) -> Result<i32> {
    interrupt::catch();
    // A second signal waits for the server's removal instead of skipping it.
    let _hold = interrupt::hold();
    let file = args.scenario.display().to_string();
    let source = read_source(&args.scenario)?;
    let scenario = parse_with(&file, &source, Overrides::default())?;
    super::warn(&scenario);
    let sub = subset::subset(&scenario, &file, &source)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("realpg-{}", scenario.name)));
    let work = out.join("real");
    let (real, server_version, duration, warmup) = if args.rejudge {
        saved_runs(&out)?
    } else {
        let dir = args.harness.clone().unwrap_or_else(harness::default_dir);
        harness::check(&dir)?;
        postgres::find_bindir()?;
        // A shorter --duration keeps at most a sixth of it as warm-up.
        let duration = args.duration.map_or(scenario.duration, |d| d.0);
        let warmup = scenario.warmup.min(SimTime(duration.0 / 6));
        // This session's runs go to a fresh folder that replaces real/ only
        // with the results: real/ never mixes runs of two sessions.
        let fresh = out.join(FRESH_REAL);
        if fresh.exists() {
            std::fs::remove_dir_all(&fresh)
                .with_context(|| format!("removing {}", fresh.display()))?;
        }
        std::fs::create_dir_all(&fresh).with_context(|| format!("creating {}", fresh.display()))?;

        let server = postgres::Server::start(sub.max_connections, sub.superuser_reserved)?;
        let config =
            harness::run_config(&sub, &server, duration.as_secs_f64(), warmup.as_secs_f64());
        let mut real = Vec::new();
        for i in 0..args.runs as usize {
            if !quiet {
                eprintln!(
                    "real run {}/{} ({} s)",
                    i + 1,
                    args.runs,
                    duration.as_secs_f64()
                );
            }
            real.push(harness::run_once(&dir, &fresh, i, &config)?);
        }
        (real, server.version(), duration, warmup)
        // The server stops here, before the simulation takes the CPU.
    };

    let values = |key: &str| -> Vec<f64> {
        real.iter()
            .flat_map(|r| r[key].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_f64())
            .collect()
    };
    let hold = calibrate::fit_lognormal(&values("held_s"));
    let setup = calibrate::fit_lognormal(&values("setup_s"));
    let sim_scenario = calibrate::calibrated(&scenario, duration, warmup, hold, setup);
    let sims = simulate::simulate(&sim_scenario, args.replications, quiet)?;
    if interrupt::requested() {
        return Err(interrupt::Stopped.into());
    }

    let metrics: Vec<_> = agreement::METRICS
        .iter()
        .map(|&(name, gate, beyond)| {
            let r: Vec<f64> = real.iter().map(|v| at(v, name)).collect();
            let s: Vec<f64> = sims.iter().map(|v| at(&v.summary, name)).collect();
            let tail = if beyond > 0.0 {
                let fewest = real.iter().map(|v| at(v, "requests.arrived"));
                beyond * fewest.fold(f64::INFINITY, f64::min)
            } else {
                f64::INFINITY
            };
            agreement::judge(name, &r, &s, gate, tail, args.false_alarm)
        })
        .collect();
    let mut error_texts = serde_json::Map::new();
    for r in &real {
        for (text, n) in r["error_texts"].as_object().into_iter().flatten() {
            let sum = error_texts.get(text).and_then(Value::as_u64).unwrap_or(0);
            error_texts.insert(text.clone(), (sum + n.as_u64().unwrap_or(0)).into());
        }
    }
    let comparison = report::Comparison {
        agree: agreement::all_agree(&metrics),
        scenario: scenario.name.clone(),
        server: server_version,
        runs: real.len(),
        duration_s: duration.as_secs_f64(),
        warmup_s: warmup.as_secs_f64(),
        replications: args.replications,
        achieved_rate_per_s: real.iter().map(|r| at(r, "achieved_rate_per_s")).collect(),
        scenario_rate_per_s: sub.rate_per_s,
        calibration: report::Calibration {
            hold,
            setup,
            other_clients: sim_scenario.database.other_clients,
        },
        idle_acquire_p50_wait_s: real
            .iter()
            .map(|r| Some(at(r, "acquire.idle_p50_wait_s")).filter(|v| v.is_finite()))
            .collect(),
        arrival_lag: real.iter().map(|r| r["event_loop"].clone()).collect(),
        error_texts: Value::Object(error_texts),
        false_alarm: args.false_alarm,
        power_fraction: agreement::POWER_FRACTION,
        metrics,
    };
    if !args.rejudge {
        replace_dir(&out.join(FRESH_REAL), &work)?;
    }
    let json_path = out.join("comparison.json");
    std::fs::write(&json_path, serde_json::to_vec_pretty(&comparison)?)
        .with_context(|| format!("writing {}", json_path.display()))?;
    let md_path = out.join("comparison.md");
    std::fs::write(&md_path, report::markdown(&comparison))
        .with_context(|| format!("writing {}", md_path.display()))?;
    report::charts(&comparison, &real, &sims, &out)?;
    outln!("{}", report::markdown(&comparison));
    Ok(if comparison.agree { 0 } else { 1 })
}
