//! One module per command.

pub mod alerts;
pub mod check;
pub mod compare;
pub mod dashboard;
pub mod emit;
pub mod fit;
pub mod grafana;
pub mod merge;
pub mod plan;
pub mod realpg;
pub mod replay;
pub mod report;
pub mod run;
pub mod shared_flags;
pub mod sweep;
pub mod window_arg;

use crate::interrupt;
use crate::model::RunError;
use crate::scenario::ScenarioError;

/// Parse `--seed`: a whole number from 0 to 2^64 − 1. The flag takes
/// negative numbers as values (`allow_negative_numbers`), so that `-1` gets
/// this message rather than clap's tip to write `-- -1`.
pub fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "expected a whole number from 0 to {}, found \"{s}\"",
            u64::MAX
        )
    })
}

/// Say on stderr what is valid in `scenario` but likely wrong (a job that
/// can deadlock): every command that loads a scenario does.
pub fn warn(scenario: &crate::scenario::Scenario) {
    for w in &scenario.warnings {
        eprintln!("warning: {w}");
    }
}

/// The exit code for an error (see [`crate::cli`]).
pub fn exit_code(e: &anyhow::Error) -> i32 {
    for cause in e.chain() {
        if cause.downcast_ref::<ScenarioError>().is_some()
            || cause.downcast_ref::<crate::guard::TooBig>().is_some()
        {
            return 2;
        }
        if cause.downcast_ref::<run::Interrupted>().is_some()
            || cause.downcast_ref::<interrupt::Stopped>().is_some()
        {
            return interrupt::exit_code().unwrap_or(130);
        }
        if cause.downcast_ref::<crate::stdout::Closed>().is_some()
            || cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(crate::stdout::is_closed)
        {
            return crate::stdout::CLOSED_EXIT_CODE;
        }
        if let Some(run) = cause.downcast_ref::<RunError>() {
            return match run {
                RunError::Invariant { .. } => 3,
                RunError::Interrupted(_) => interrupt::exit_code().unwrap_or(130),
                RunError::Sink(_) | RunError::TooManyPending { .. } => 2,
            };
        }
    }
    2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    #[test]
    fn each_kind_of_error_has_its_documented_exit_code() {
        let scenario = ScenarioError::at_span("x.toml", "", None, "", "expected …, found …");
        assert_eq!(exit_code(&anyhow::Error::new(scenario)), 2);
        let bug = RunError::Invariant {
            at: SimTime::ZERO,
            what: "a pool holds 3 clients, max 2".into(),
        };
        assert_eq!(exit_code(&anyhow::Error::new(bug).context("scenario x")), 3);
        let stopped = RunError::Interrupted(SimTime::ZERO);
        assert_eq!(exit_code(&anyhow::Error::new(stopped)), 130);
        assert_eq!(exit_code(&anyhow::Error::new(crate::stdout::Closed)), 141);
        let closed = std::io::Error::new(std::io::ErrorKind::BrokenPipe, crate::stdout::Closed);
        assert_eq!(
            exit_code(&anyhow::Error::new(closed).context("cannot write -")),
            141
        );
        let piled_up = RunError::TooManyPending {
            at: SimTime::ZERO,
            limit: 16,
            requests: 8,
        };
        assert_eq!(exit_code(&anyhow::Error::new(piled_up)), 2);
        let disk = std::io::Error::other("No space left on device");
        assert_eq!(
            exit_code(&anyhow::Error::new(disk).context("cannot write")),
            2
        );
    }
}
