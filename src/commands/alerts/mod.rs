//! `pooldrill alerts FILE --rules rules.yml`: would *your* Prometheus alert
//! rules have paged you in time? Runs the scenario, writes a promtool
//! rule-test file whose input series are the run's exported metrics (the
//! names of [`crate::report::openmetrics`]), has `promtool test rules`
//! evaluate the user's rules with the real Prometheus engine, and reports
//! when each alert went pending and fired, relative to the deploy and to the
//! first refusal.
//!
//! promtool only checks assertions at given `eval_time`s, so the test file
//! asks, at every evaluation time, for `timestamp(ALERTS)` and expects
//! nothing: promtool then prints, as failures, every pending or firing alert
//! with the time it was evaluated at. Those transitions are folded into
//! episodes the way pooldrill's own alert replay folds its own.

mod episodes;
mod promql;
mod promtool;
mod report;
mod rules;
mod test_file;

use crate::guard::{self, GuardArgs, Outputs};
use crate::report::OutputFile;
use crate::scenario::Scenario;
use crate::scenario::units::Duration;
use crate::scenario::validate::Overrides;
use crate::scenario_file::load_file;
use crate::stdout::out;
use anyhow::{Context, Result, bail};
use clap::Args;
pub use promtool::find_promtool;
use promtool::{check_rules, run_test};
use report::report;
pub use report::{AlertOutcome, AlertsReport, render};
pub use rules::AlertRuleInfo;
use rules::{Rules, warn_unmatched};
use std::io;
use std::path::{Path, PathBuf};
use test_file::write_test;

/// Arguments of `alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// A Prometheus rule file (`groups:` of alerting and recording rules).
    #[arg(long, value_name = "RULES.yml")]
    pub rules: PathBuf,
    /// Replace the scenario's seed.
    #[arg(long, allow_negative_numbers = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Replace the scenario's duration (e.g. "40m").
    #[arg(long)]
    pub duration: Option<Duration>,
    /// Keep the generated promtool test file at this path (`-`: standard
    /// output; without promtool, write it and stop there).
    #[arg(long, value_name = "PATH")]
    pub write_test: Option<PathBuf>,
    /// The resource guard's limits.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// Run `scenario`, evaluate the alerting rules of `rules` with `promtool`
/// (the test file is written to `test`), and compare.
pub fn evaluate(
    scenario: &Scenario,
    rules: &Path,
    promtool: &Path,
    test: &Path,
    quiet: bool,
) -> Result<AlertsReport> {
    let rules = Rules::load(rules)?;
    check_rules(promtool, &rules.path)?;
    let run = write_test(scenario, &rules, test, quiet)?;
    let active = run_test(promtool, test)?;
    Ok(report(scenario, &rules, run, &active))
}

/// Copy the generated test `test` to `kept` (the `--write-test` output,
/// shown as `path`) and commit it.
fn keep_test(test: &Path, mut kept: OutputFile, path: &Path) -> Result<()> {
    let mut from =
        std::fs::File::open(test).with_context(|| format!("cannot read {}", test.display()))?;
    // Nothing goes out after a signal, and a signal while it does waits.
    let _hold = crate::interrupt::hold();
    if crate::interrupt::requested() {
        return Err(crate::interrupt::Stopped.into());
    }
    io::copy(&mut from, &mut kept).with_context(|| format!("cannot write {}", path.display()))?;
    kept.commit()
}

/// `pooldrill alerts`: exit 0 when at least one alert fired, 1 when none did.
pub fn alerts(args: &AlertsArgs, quiet: bool) -> Result<i32> {
    let overrides = Overrides {
        seed: args.seed,
        duration: args.duration,
    };
    crate::interrupt::catch();
    let scenario = load_file(&args.file, overrides)?;
    super::warn(&scenario);
    let file = args.file.display().to_string();
    // The promtool test holds the series as an OpenMetrics export would.
    let series = Outputs {
        openmetrics: true,
        ..Outputs::default()
    };
    args.guard.check(&file, &scenario, series, 1)?;
    // A bad --write-test path is refused before the run, not after it.
    let mut kept = args
        .write_test
        .as_deref()
        .map(|path| OutputFile::create(path, &[&args.file, &args.rules]))
        .transpose()?;
    let to_stdout = kept.as_ref().is_some_and(OutputFile::is_stdout);
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    // promtool reads the test from a file of its own; --write-test gets a copy.
    let test = tmp.path().join("pooldrill-rules-test.yml");
    let Some(promtool) = find_promtool() else {
        let rules = Rules::load(&args.rules)?;
        let Some(kept) = kept else {
            bail!(
                "promtool not found (install Debian's `prometheus` package, or set PROMTOOL); \
                 add --write-test PATH to only write the rule test"
            );
        };
        let run =
            write_test(&scenario, &rules, &test, quiet).map_err(|e| guard::name_file(e, &file))?;
        warn_unmatched(&args.rules, &run.unmatched);
        keep_test(&test, kept, args.write_test.as_deref().unwrap_or(&test))?;
        let shown = args.write_test.as_deref().unwrap_or(&test).display();
        eprintln!(
            "promtool not found: wrote {shown}; run `promtool test rules {shown}` where it is installed"
        );
        return Ok(0);
    };
    let report = evaluate(&scenario, &args.rules, &promtool, &test, quiet)
        .map_err(|e| guard::name_file(e, &file));
    // The test is kept even when promtool failed on it, to look into.
    if let (Some(kept), Some(path)) = (kept.take(), &args.write_test)
        && test.exists()
    {
        keep_test(&test, kept, path)?;
    }
    let report = report?;
    let unmatched: Vec<(String, Vec<String>)> = report
        .alerts
        .iter()
        .filter(|a| !a.unmatched.is_empty())
        .map(|a| (a.rule.name.clone(), a.unmatched.clone()))
        .collect();
    warn_unmatched(&args.rules, &unmatched);
    let text = render(&scenario, &args.rules, &report);
    // With `--write-test -` standard output carries the test.
    if to_stdout {
        eprint!("{text}");
    } else {
        out!("{text}");
    }
    let fired = report
        .alerts
        .iter()
        .any(|a| a.promtool.iter().any(|e| e.firing_at_s.is_some()));
    Ok(if fired { 0 } else { 1 })
}
