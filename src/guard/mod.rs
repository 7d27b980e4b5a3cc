//! Resource guards: a scenario's cost estimated before it runs, and refused
//! when it would run for hours, exhaust memory, pile up more pending events
//! than the event queue holds, or write more than `--max-output`;
//! `--force` skips these checks. The event queue's own limit still holds at
//! run time: a run that reaches it stops with an error.
//!
//! [`estimate`] tells what a run costs, [`check`] refuses it over its
//! [`Limits`], and [`GuardArgs`] are the options that set them.

mod estimate;
mod flags;
mod limits;
mod words;

pub use estimate::{EVENTS_PER_SECOND, Estimate, Outputs, estimate};
pub use flags::{GuardArgs, parse_count, parse_size};
pub use limits::{DEFAULT_LIMITS, Limits, Over, TooBig, check};

use crate::model::RunError;
use words::{count, human_time};

/// `e` with `file` in front if it is a run stopped by the event queue's
/// limit ([`RunError::TooManyPending`]), which does not know its file.
pub fn name_file(e: anyhow::Error, file: &str) -> anyhow::Error {
    let piled_up = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<RunError>(),
            Some(RunError::TooManyPending { .. })
        )
    });
    if piled_up {
        e.context(file.to_owned())
    } else {
        e
    }
}

/// Runs taking longer than this, in seconds, are announced up front.
const ANNOUNCE_AFTER_S: f64 = 5.0;

/// What `runs` runs of `events` events in all take on `threads` threads,
/// as a line for stderr, if it is more than a few seconds: `None` if not.
pub fn duration_note(runs: usize, events: f64, threads: usize) -> Option<String> {
    let seconds = events / EVENTS_PER_SECOND / threads.clamp(1, runs.max(1)) as f64;
    (seconds > ANNOUNCE_AFTER_S).then(|| {
        format!(
            "{runs} runs of about {} events each: {} on {threads} thread{}",
            count(events / runs.max(1) as f64),
            human_time(seconds),
            if threads == 1 { "" } else { "s" }
        )
    })
}

#[cfg(test)]
mod tests;
