//! What the clients' retries do (only with `[retry]`): attempts and
//! retries per interval and for the run, attempts by outcome, and the
//! answers per second of completion from which `recovery_s` is measured.

use super::recorder::HandlerEnd;
use crate::engine::SimTime;
use serde::Serialize;

/// Attempts by how they ended (after the warm-up, by their request's first
/// arrival). `attempt_timeouts` counts attempts the client abandoned; their
/// handlers end later, and are counted by that end too.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct AttemptOutcomes {
    /// Handlers that finished their work.
    pub completed: u64,
    /// Failed: acquire timeout in the queue.
    pub queue_timeouts: u64,
    /// Failed: connection timeout during the handshake.
    pub connect_timeouts: u64,
    /// Failed: refused by the database.
    pub refused: u64,
    /// Failed for reasons unrelated to the pool.
    pub app_errors: u64,
    /// No live worker took it, or its worker died.
    pub unavailable: u64,
    /// Stopped because its client left.
    pub cancelled: u64,
    /// Failed by the sidecar's `query_wait_timeout`.
    pub pooler_timeouts: u64,
    /// Abandoned by the client at its `attempt_timeout`.
    pub attempt_timeouts: u64,
}

impl AttemptOutcomes {
    fn add(&mut self, end: HandlerEnd) {
        let n = match end {
            HandlerEnd::Completed => &mut self.completed,
            HandlerEnd::QueueTimeout => &mut self.queue_timeouts,
            HandlerEnd::ConnectTimeout => &mut self.connect_timeouts,
            HandlerEnd::Refused => &mut self.refused,
            HandlerEnd::AppError => &mut self.app_errors,
            HandlerEnd::Unavailable => &mut self.unavailable,
            HandlerEnd::Cancelled => &mut self.cancelled,
            HandlerEnd::PoolerTimeout => &mut self.pooler_timeouts,
        };
        *n += 1;
    }
}

/// Answers and error answers (errors and give-ups) completed in one second.
#[derive(Clone, Copy, Debug, Default)]
struct Second {
    answers: u32,
    errors: u32,
}

/// The retry counters the model writes to.
#[derive(Clone, Debug, Default)]
pub struct RetryCounters {
    /// Attempts started in the current interval, first attempts included.
    pub interval_attempts: u64,
    /// Retries started in the current interval.
    pub interval_retries: u64,
    /// Attempts of counted requests.
    pub attempts: u64,
    /// Retries of counted requests.
    pub retries: u64,
    /// Retries wanted but refused by the budget or the attempt limit.
    pub retries_dropped: u64,
    /// Counted attempts by outcome.
    pub outcomes: AttemptOutcomes,
    /// Answers by the second of their completion (whole run).
    seconds: Vec<Second>,
}

impl RetryCounters {
    /// An attempt starts (`retry`: not the first); `counted`: its request
    /// counts in the summary.
    pub fn attempt(&mut self, retry: bool, counted: bool) {
        self.interval_attempts += 1;
        self.interval_retries += u64::from(retry);
        if counted {
            self.attempts += 1;
            self.retries += u64::from(retry);
        }
    }

    /// A retry was wanted and refused.
    pub fn dropped(&mut self, counted: bool) {
        self.retries_dropped += u64::from(counted);
    }

    /// An attempt's handler ended with `end`.
    pub fn ended(&mut self, end: HandlerEnd, counted: bool) {
        if counted {
            self.outcomes.add(end);
        }
    }

    /// The client abandoned an attempt at its `attempt_timeout`.
    pub fn attempt_timed_out(&mut self, counted: bool) {
        if counted {
            self.outcomes.attempt_timeouts += 1;
        }
    }

    /// A request was answered at `at`, with an error or not.
    pub fn answered(&mut self, at: SimTime, error: bool) {
        let s = (at.0 / 1_000_000_000) as usize;
        if self.seconds.len() <= s {
            self.seconds.resize(s + 1, Second::default());
        }
        self.seconds[s].answers += 1;
        self.seconds[s].errors += u32::from(error);
    }

    /// Error rate of the answers completed in `[from, to)` whole seconds
    /// (`None` without answers).
    fn error_rate(&self, from: u64, to: u64) -> Option<f64> {
        let (mut answers, mut errors) = (0u64, 0u64);
        for s in from..to {
            if let Some(sec) = self.seconds.get(s as usize) {
                answers += u64::from(sec.answers);
                errors += u64::from(sec.errors);
            }
        }
        (answers > 0).then(|| errors as f64 / answers as f64)
    }

    /// Seconds from `trigger_end` until the error rate over the last 10 s
    /// is back under max(2 × its level in the minute before
    /// `trigger_start`, 0.5 %) and stays there for 30 s, evaluated at whole
    /// seconds up to `end`; `None` if that never happens. A window without
    /// answers is not calm (a stalled fleet answers nobody); a minute
    /// before without answers counts as error-free.
    pub fn recovery_s(
        &self,
        trigger_start: SimTime,
        trigger_end: SimTime,
        end: SimTime,
    ) -> Option<f64> {
        let start = trigger_start.0 / 1_000_000_000;
        let before = self
            .error_rate(start.saturating_sub(60), start)
            .unwrap_or(0.0);
        let threshold = (2.0 * before).max(0.005);
        let first = trigger_end.0.div_ceil(1_000_000_000);
        let last = end.0 / 1_000_000_000;
        let mut calm_since: Option<u64> = None;
        for t in first..=last {
            let rate = self.error_rate(t.saturating_sub(10), t);
            if rate.is_some_and(|r| r < threshold) {
                let since = *calm_since.get_or_insert(t);
                if t - since >= 30 {
                    return Some(since as f64 - trigger_end.as_secs_f64());
                }
            } else {
                calm_since = None;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(c: &mut RetryCounters, from: u64, to: u64, every: u64, error: bool) {
        for s in from..to {
            for i in 0..10 {
                let at = SimTime(s * 1_000_000_000 + i * 100_000_000);
                c.answered(at, error && (i % every == 0));
            }
        }
    }

    #[test]
    fn recovery_counts_from_the_trigger_end_to_a_calm_that_lasts() {
        let mut c = RetryCounters::default();
        answers(&mut c, 0, 100, 1, false);
        answers(&mut c, 100, 150, 1, true); // all errors until 150 s
        answers(&mut c, 150, 300, 1, false);
        let r = c.recovery_s(
            SimTime::from_secs(90),
            SimTime::from_secs(120),
            SimTime::from_secs(300),
        );
        // The 10 s window is clean from t = 160 s on.
        assert_eq!(r, Some(40.0));
    }

    #[test]
    fn no_recovery_when_errors_last_to_the_end() {
        let mut c = RetryCounters::default();
        answers(&mut c, 0, 100, 1, false);
        answers(&mut c, 100, 300, 2, true);
        let r = c.recovery_s(
            SimTime::from_secs(90),
            SimTime::from_secs(120),
            SimTime::from_secs(300),
        );
        assert_eq!(r, None);
    }

    #[test]
    fn a_fleet_that_answers_nobody_has_not_recovered() {
        let mut c = RetryCounters::default();
        answers(&mut c, 0, 100, 1, false);
        answers(&mut c, 100, 150, 1, true);
        // Stalled from 150 s on: no answer at all, no error either.
        let r = c.recovery_s(
            SimTime::from_secs(90),
            SimTime::from_secs(120),
            SimTime::from_secs(300),
        );
        assert_eq!(r, None);
    }

    #[test]
    fn a_calm_shorter_than_30_s_is_not_recovery() {
        let mut c = RetryCounters::default();
        answers(&mut c, 0, 100, 1, false);
        answers(&mut c, 100, 150, 1, true);
        answers(&mut c, 150, 185, 1, false); // clean windows 160..185 only
        answers(&mut c, 185, 300, 1, true);
        let r = c.recovery_s(
            SimTime::from_secs(90),
            SimTime::from_secs(120),
            SimTime::from_secs(300),
        );
        assert_eq!(r, None);
    }
}
