//! `[retry]`: the requests' clients retry failed attempts, with backoff,
//! jitter and an optional retry budget (docs/retries.md). The file's table
//! ([`RetryFile`]) and the validated policy ([`Retry`]).

use super::file::DistFile;
use super::units::Duration;
use crate::dist::Dist;
use crate::engine::SimTime;
use serde::Deserialize;

/// `[retry]` as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryFile {
    /// Total attempts per request, the first included; 0 = unlimited.
    pub attempts: Option<i64>,
    /// Which failures are retried.
    pub on: Option<Vec<RetryOn>>,
    /// The client gives up on one attempt after this (0 = never).
    pub attempt_timeout: Option<Duration>,
    /// Delay before the first retry.
    pub backoff: Option<DistFile>,
    /// Each further delay is multiplied by this.
    pub multiplier: Option<f64>,
    /// Ceiling on one delay, before jitter.
    pub cap: Option<Duration>,
    /// `"none"`, `"full"` or `"equal"`.
    pub jitter: Option<Jitter>,
    /// Retries may add at most this fraction of first attempts, per worker.
    pub budget: Option<f64>,
}

/// A failure of an attempt that a client may retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    /// The database refused the connection (SQLSTATE 53300).
    Refused,
    /// The pool's acquire timed out (either message), or the sidecar's
    /// `query_wait_timeout`.
    AcquireTimeout,
    /// The client's own `attempt_timeout` passed.
    AttemptTimeout,
    /// The application failed the request.
    AppError,
    /// No live worker took it, or its worker died.
    Unavailable,
}

/// How a delay is randomised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// The delay as computed.
    None,
    /// Uniform between zero and the delay.
    Full,
    /// Half the delay plus a uniform draw up to the other half.
    Equal,
}

/// The validated retry policy of the requests' clients.
#[derive(Clone, Debug, PartialEq)]
pub struct Retry {
    /// Total attempts per request, the first included; 0 = unlimited.
    pub attempts: u32,
    /// Which failures are retried.
    pub on: Vec<RetryOn>,
    /// The client gives up on one attempt after this, if set.
    pub attempt_timeout: Option<SimTime>,
    /// Delay before the first retry.
    pub backoff: Dist,
    /// Each further delay is multiplied by this (≥ 1).
    pub multiplier: f64,
    /// Ceiling on one delay, before jitter.
    pub cap: SimTime,
    /// How delays are randomised.
    pub jitter: Jitter,
    /// Tokens a first attempt adds to its worker's bucket, if budgeted.
    pub budget: Option<f64>,
    /// The end of the trigger (`meta.trigger_end`, else the last timeline
    /// event), from which `recovery_s` is measured.
    pub trigger_end: Option<SimTime>,
    /// The first timeline event: the error rate of the minute before it is
    /// the level recovery returns to.
    pub trigger_start: Option<SimTime>,
}

impl Retry {
    /// Whether failures of this kind are retried.
    pub fn retries(&self, on: RetryOn) -> bool {
        self.on.contains(&on)
    }
}
