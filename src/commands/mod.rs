//! One module per command.

pub mod check;
pub mod run;

use crate::model::RunError;
use crate::scenario::ScenarioError;

/// The exit code for an error (see [`crate::cli`]).
pub fn exit_code(e: &anyhow::Error) -> i32 {
    for cause in e.chain() {
        if cause.downcast_ref::<ScenarioError>().is_some()
            || cause.downcast_ref::<crate::guard::TooBig>().is_some()
        {
            return 2;
        }
        if cause.downcast_ref::<run::Interrupted>().is_some() {
            return 130;
        }
        if let Some(run) = cause.downcast_ref::<RunError>() {
            return match run {
                RunError::Invariant { .. } => 3,
                RunError::Interrupted(_) => 130,
                RunError::Sink(_) => 2,
            };
        }
    }
    2
}
