//! The `[retry]` table: defaults and range checks.

use super::{Checker, Result};
use crate::dist::Dist;
use crate::engine::SimTime;
use crate::scenario::TimelineEvent;
use crate::scenario::retry::{Jitter, Retry, RetryFile, RetryOn};
use crate::scenario::units::Duration;

impl Checker<'_> {
    /// `[retry]`, with `trigger_end` (`meta.trigger_end`) and the timeline.
    pub(super) fn retry(
        &self,
        f: &RetryFile,
        trigger_end: Option<Duration>,
        events: &[TimelineEvent],
    ) -> Result<Retry> {
        let backoff = self.dist(
            "retry.backoff",
            f.backoff.as_ref(),
            Dist::Exponential { mean: 0.1 },
        )?;
        let multiplier = f.multiplier.unwrap_or(2.0);
        if !(1.0..=1e6).contains(&multiplier) {
            return Err(self.err(
                "retry.multiplier",
                format!("expected a multiplier from 1 to 1000000, found {multiplier}"),
            ));
        }
        let cap = f.cap.map_or(SimTime::from_secs(10), |d| d.0);
        let floor = smallest(&backoff);
        if cap.as_secs_f64() < floor {
            return Err(self.err(
                "retry.cap",
                format!("expected a cap of at least the backoff's minimum ({floor}s), found {cap}"),
            ));
        }
        let budget = match f.budget {
            Some(b) if !(0.0..=10.0).contains(&b) => {
                return Err(self.err(
                    "retry.budget",
                    format!("expected a budget from 0 to 10 (tokens per first attempt), found {b}"),
                ));
            }
            b => b,
        };
        let attempts = self.int("retry.attempts", f.attempts, 3, 0, 1000)?;
        if attempts == 0 && (backoff.mean() <= 0.0 || cap == SimTime::ZERO) {
            return Err(self.err(
                "retry.attempts",
                "expected a limit (1 to 1000) with a backoff or cap of zero: unlimited retries without a delay never let the clock move, found 0 (unlimited)",
            ));
        }
        Ok(Retry {
            attempts,
            on: f
                .on
                .clone()
                .unwrap_or_else(|| vec![RetryOn::Refused, RetryOn::AcquireTimeout]),
            attempt_timeout: self.optional_duration(f.attempt_timeout, SimTime::ZERO),
            backoff,
            multiplier,
            cap,
            jitter: f.jitter.unwrap_or(Jitter::Full),
            budget,
            trigger_end: trigger_end
                .map(|d| d.0)
                .or_else(|| events.last().map(|e| e.at)),
            trigger_start: events.first().map(|e| e.at),
        })
    }
}

/// The smallest value `d` can draw (seconds).
fn smallest(d: &Dist) -> f64 {
    match *d {
        Dist::Deterministic(v) => v,
        Dist::Uniform { lo, .. } => lo,
        Dist::Exponential { .. } | Dist::LogNormal { .. } => 0.0,
    }
}
