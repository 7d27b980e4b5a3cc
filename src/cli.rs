//! Command-line interface: argument parsing and dispatch only. Each command
//! lives in [`crate::commands`].
//!
//! Exit codes: 0 success; 1 a gate found what it checks (plan, alerts);
//! 2 bad input or usage (scenario errors, bad flags, unwritable output);
//! 3 an internal error (a broken model invariant); 130 interrupted.

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
    /// What to do (default: the incident replay of the shipped scenarios).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one scenario: summary on the terminal, CSV and JSON in a folder.
    Run(commands::run::RunArgs),
    /// Validate scenario files without running them.
    Check {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
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
        None => commands::run::run_shipped(cli.quiet),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            commands::exit_code(&e)
        }
    }
}
