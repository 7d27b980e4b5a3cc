//! The queueing view of one worker's pool: Erlang C, and with an acquire
//! timeout Erlang A (exponential patience) or M/M/c+D (fixed patience).

use crate::theory::{
    AbandonmentFigures, erlang_a, erlang_c, mmc_deterministic_patience, mmc_mean_wait,
};
use serde::Serialize;

/// Erlang figures for one pool size and load, per worker.
#[derive(Clone, Debug, Serialize)]
pub struct Queueing {
    /// What this row is ("pool max 6", "2 × load").
    pub case: String,
    /// Pool size c.
    pub pool_max: u32,
    /// Offered load a = λ × mean hold (Erlangs), the job's included.
    pub offered: f64,
    /// P(an acquire waits): Erlang C (1 when a ≥ c).
    pub p_wait: f64,
    /// Mean wait per acquire (s), when the queue is stable.
    pub mean_wait_s: Option<f64>,
    /// P(an acquire times out), with an acquire timeout.
    pub p_timeout: Option<f64>,
}

/// Erlang figures for one worker's pool of size `c` at offered load
/// `offered` (Erlangs), mean hold `hold_s`.
pub(super) fn queueing(
    case: String,
    c: u32,
    offered: f64,
    hold_s: f64,
    timeout_s: Option<f64>,
    exponential: bool,
) -> Queueing {
    if offered <= 0.0 {
        // No load (no requests, or holds of zero): nobody ever waits.
        return Queueing {
            case,
            pool_max: c,
            offered: 0.0,
            p_wait: 0.0,
            mean_wait_s: Some(0.0),
            p_timeout: timeout_s.map(|_| 0.0),
        };
    }
    let mu = 1.0 / hold_s;
    let lambda = offered * mu;
    let stable = offered < f64::from(c);
    let abandonment = timeout_s.map(|tau| -> AbandonmentFigures {
        if exponential {
            erlang_a(c, lambda, mu, 1.0 / tau)
        } else {
            mmc_deterministic_patience(c, lambda, mu, tau)
        }
    });
    let (p_wait, mean_wait_s) = match abandonment {
        Some(f) => (f.p_wait, Some(f.mean_wait)),
        None if stable => (erlang_c(c, offered), Some(mmc_mean_wait(c, lambda, mu))),
        None => (1.0, None),
    };
    Queueing {
        case,
        pool_max: c,
        offered,
        p_wait,
        mean_wait_s,
        p_timeout: abandonment.map(|f| f.p_abandon),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queueing_matches_erlang_c_and_m_m_c_d() {
        let q = queueing("x".into(), 6, 3.125, 0.05, None, false);
        assert!((q.p_wait - 0.116).abs() < 5e-4, "{q:?}");
        let q = queueing("x".into(), 10, 9.0, 1.0, Some(0.3), false);
        assert!((q.p_timeout.unwrap() - 0.0894).abs() < 5e-4, "{q:?}");
        let q = queueing("x".into(), 4, 5.0, 0.05, None, false);
        assert_eq!((q.p_wait, q.mean_wait_s), (1.0, None));
    }

    #[test]
    fn no_load_never_times_out() {
        let q = queueing("x".into(), 4, 0.0, 0.0, Some(1.0), false);
        assert_eq!(q.p_timeout, Some(0.0));
    }
}
