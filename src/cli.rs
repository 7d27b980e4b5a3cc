//! Command-line interface: argument parsing and dispatch only. Each command
//! lives in [`crate::commands`].
//!
//! Exit codes: 0 success; 1 a gate found what it checks (plan, alerts);
//! 2 bad input or usage (scenario errors, bad flags, unwritable output, an
//! output path that is a folder or a FIFO with no reader); 3 an internal
//! error (a broken model invariant); 130 interrupted by SIGINT (Ctrl-C), 143
//! by SIGTERM, 129 by SIGHUP; 141 standard output closed while it carried the
//! product (`run --openmetrics -`, `report --out -`, `alerts --write-test -`,
//! `grafana-dashboard`, `sweep --emit`).

use crate::commands;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Replays database connection-pool exhaustion incidents.
#[derive(Debug, Parser)]
#[command(name = "pooldrill", version, about, long_about = None)]
pub struct Cli {
    /// No progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// What to do (default: `replay`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario: summary on the terminal, CSV and JSON in a folder.
    Run(commands::run::RunArgs),
    /// Replay the incident: before, after, fixed and incident scenarios,
    /// the training charts and output/report.md (the default command).
    Replay(commands::replay::ReplayArgs),
    /// The "Connection Pool Health" panel: at one moment (--at 14:28), or
    /// replayed as simulated time passes (--play).
    Dashboard(commands::dashboard::DashboardArgs),
    /// The HTML training handout: every replayed scenario's story, figures,
    /// alerts and charts in one self-contained file.
    Report(commands::report::ReportArgs),
    /// Validate scenario files without running them.
    Check {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Evaluate Prometheus alert rules on a run with promtool: when would
    /// each alert have gone pending and fired?
    Alerts(commands::alerts::AlertsArgs),
    /// Print a Grafana dashboard (JSON model) over the exported metrics.
    GrafanaDashboard(commands::grafana::GrafanaArgs),
    /// Compare designs under the same random numbers: KPIs with confidence
    /// intervals and paired differences.
    Compare(commands::compare::CompareArgs),
    /// Sweep scenario keys over a grid: KPIs with confidence intervals per
    /// point, a heatmap with the safe region; `--shard i/n` runs a slice.
    Sweep(commands::sweep::SweepArgs),
    /// Fit scenario keys to the [[observed]] series: sweep's grid, each
    /// point scored (mean normalised RMSE, paired CIs), fit.csv best first.
    Fit(commands::fit::FitArgs),
    /// Recombine the shards of a sweep into what one run would have written.
    Merge(commands::merge::MergeArgs),
    /// Capacity plan: pool arithmetic with reserved slots, other clients,
    /// job pools and deploy surge; the queueing view; the pre-deploy
    /// checklist. Exit 0 fits, 1 over-provisioned, 2 bad input.
    Plan(commands::plan::PlanArgs),
    /// The scenario on a real PostgreSQL (throw-away server, real Node.js
    /// workers) beside pooldrill calibrated by it: exit 0 they agree, 1 they
    /// do not, 2 bad input or no PostgreSQL/Node.js (docs/validation.md).
    Realpg(commands::realpg::RealpgArgs),
}

/// Parse the arguments, run the command, return the process exit code. A
/// panic is a bug: its message is printed and the exit code is 3.
pub fn main() -> i32 {
    std::panic::catch_unwind(parse_and_run).unwrap_or(3)
}

fn parse_and_run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Some(Command::Run(args)) => commands::run::run(&args, cli.quiet),
        Some(Command::Check { files }) => commands::check::check(&files),
        Some(Command::Replay(args)) => commands::replay::replay(&args),
        Some(Command::Alerts(args)) => commands::alerts::alerts(&args, cli.quiet),
        Some(Command::GrafanaDashboard(args)) => commands::grafana::grafana_dashboard(&args),
        Some(Command::Dashboard(args)) => commands::dashboard::dashboard(&args),
        Some(Command::Report(args)) => commands::report::report(&args),
        Some(Command::Compare(args)) => commands::compare::compare(&args, cli.quiet),
        Some(Command::Sweep(args)) => commands::sweep::sweep(&args, cli.quiet),
        Some(Command::Fit(args)) => commands::fit::fit(&args, cli.quiet),
        Some(Command::Merge(args)) => commands::merge::merge(&args),
        Some(Command::Plan(args)) => commands::plan::plan(&args),
        Some(Command::Realpg(args)) => commands::realpg::realpg(&args, cli.quiet),
        None => commands::replay::replay(&commands::replay::ReplayArgs::default()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = commands::exit_code(&e);
            // A closed stdout under the product ends the command as SIGPIPE
            // would: without a message.
            if code != crate::stdout::CLOSED_EXIT_CODE {
                eprintln!("error: {e:#}");
            }
            code
        }
    }
}
