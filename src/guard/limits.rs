//! The limits a run must stay under, and the refusal of one that would
//! not: what it would cost, which limits it is over, and the way out.

use super::estimate::{EVENTS_PER_SECOND, Estimate, Outputs, estimate};
use super::words::{bytes, bytes_flag, count, human_time, round_up};
use crate::engine::scheduler::MAX_PENDING;
use crate::scenario::Scenario;
use std::fmt;

/// Default limits: a few minutes of computing, a few GB of memory and of
/// output.
pub const DEFAULT_LIMITS: Limits = Limits {
    max_events: 1_000_000_000,
    max_memory_bytes: 4_000_000_000,
    max_output_bytes: 4_000_000_000,
};

/// What a run is allowed to cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Most events (see the module doc); `--max-events` sets it.
    pub max_events: u64,
    /// Most memory, in bytes.
    pub max_memory_bytes: u64,
    /// Most bytes of output; `--max-output` sets it.
    pub max_output_bytes: u64,
}

/// Refuse `s`, read from `file`, if its estimate is over `limits` (or its
/// peak pending events over the event queue's limit). `concurrent` runs
/// of it at once need that many times its memory.
pub fn check(
    file: &str,
    s: &Scenario,
    outputs: Outputs,
    limits: Limits,
    concurrent: usize,
) -> Result<Estimate, Box<TooBig>> {
    let mut estimate = estimate(s, outputs);
    estimate.memory_bytes *= concurrent.max(1) as f64;
    let over = Over {
        events: estimate.events > limits.max_events as f64,
        memory: estimate.memory_bytes > limits.max_memory_bytes as f64,
        pending: estimate.peak_pending > MAX_PENDING as f64,
        output: estimate.output_bytes > limits.max_output_bytes as f64,
    };
    if over.events || over.memory || over.pending || over.output {
        return Err(Box::new(TooBig {
            file: file.to_owned(),
            scenario: s.name.clone(),
            estimate,
            limits,
            concurrent,
            over,
        }));
    }
    Ok(estimate)
}

/// Which limits an estimate is over.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Over {
    /// Too many events.
    pub events: bool,
    /// Too much memory.
    pub memory: bool,
    /// More events pending at once than the event queue holds.
    pub pending: bool,
    /// Too much output.
    pub output: bool,
}

/// A scenario refused by [`check`].
#[derive(Debug, thiserror::Error)]
pub struct TooBig {
    /// The file it was read from.
    pub file: String,
    /// Its name.
    pub scenario: String,
    /// What it would cost.
    pub estimate: Estimate,
    /// What it may cost.
    pub limits: Limits,
    /// Runs of it at once (their memory is counted together).
    pub concurrent: usize,
    /// Which limits it is over.
    pub over: Over,
}

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.estimate;
        let runs = if self.concurrent > 1 {
            format!(" ({} runs at once)", self.concurrent)
        } else {
            String::new()
        };
        write!(
            f,
            "{}: scenario {} is too big to run: about {} requests and {} events ({} of computing at {} events/s), {} of memory{runs}, {} events pending at the peak and {} of output; ",
            self.file,
            self.scenario,
            count(e.requests),
            count(e.events),
            human_time(e.seconds()),
            count(EVENTS_PER_SECOND),
            bytes(e.memory_bytes),
            count(e.peak_pending),
            bytes(e.output_bytes),
        )?;
        let over = self.over;
        let mut limits = Vec::new();
        if over.events {
            let max = self.limits.max_events as f64;
            limits.push(format!(
                "the limit is {} event{} ({})",
                count(max),
                if max == 1.0 { "" } else { "s" },
                human_time(max / EVENTS_PER_SECOND)
            ));
        }
        if over.memory {
            limits.push(format!(
                "the memory limit is {}",
                bytes(self.limits.max_memory_bytes as f64)
            ));
        }
        if over.pending {
            limits.push(format!(
                "the event queue holds at most {} pending events (work waiting for a connection piles up, each waiter with its timers)",
                count(MAX_PENDING as f64)
            ));
        }
        if over.output {
            limits.push(format!(
                "the output limit is {}",
                bytes(self.limits.max_output_bytes as f64)
            ));
        }
        write!(f, "{}. ", limits.join(" and "))?;
        let mut advice = Vec::new();
        if over.events {
            advice.push(format!(
                "shorten the run (--duration), lower the rate or the fleet, or raise the limit with --max-events {}",
                round_up(e.events * 1.05)
            ));
        }
        if over.memory {
            advice.push("use fewer pods, workers or requests per second".to_owned());
        }
        if over.pending {
            advice.push(
                "lower traffic.rate, the job's rate, pool.acquire_timeout or requests.deadline, or raise pool.max"
                    .to_owned(),
            );
        }
        if over.output {
            advice.push(format!(
                "raise meta.sample_interval, shorten the run, drop --trace or --openmetrics, or raise the limit with --max-output {}",
                bytes_flag(e.output_bytes * 1.05)
            ));
        }
        let mut advice = advice.join("; ");
        if let Some(first) = advice.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        write!(
            f,
            "{advice}; or skip these checks with --force (at your own risk"
        )?;
        if over.pending {
            write!(f, ": a run whose event queue fills up stops with an error")?;
        }
        write!(f, ")")
    }
}
