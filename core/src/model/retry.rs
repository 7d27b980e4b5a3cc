//! The clients' retries (`[retry]`, docs/retries.md): which failures are
//! retried, the delay before each retry (backoff, multiplier, cap,
//! jitter), the per-worker token bucket of a retry budget, and the
//! requests waiting out a backoff.
//!
//! A retry is a new attempt of the same request: it keeps its first
//! arrival (the deadline covers all attempts, its latency runs from
//! there) and goes to a worker chosen by the fleet's dispatch rule. An
//! attempt the client abandons at its `attempt_timeout` and retries is
//! *detached*: its handler goes on (or is cancelled) and its end counts
//! only as an attempt's outcome.

use super::fleet::PodState;
use super::{Event, RetryEvent, Simulation};
use crate::engine::rng::{domain, stream};
use crate::engine::{SimRng, SimTime, TimerId};
use crate::metrics::HandlerEnd;
use crate::scenario::Dispatch;
use crate::scenario::retry::{Jitter, Retry, RetryOn};
use crate::slab::{Id, Slab};
use rand::{Rng, RngExt};

/// Tokens are counted in millionths, so that budgets add up exactly.
const MICRO: u64 = 1_000_000;

/// A worker's retry budget: a token bucket holding at most 10 tokens,
/// starting full; every first attempt adds the budget, every retry takes
/// one whole token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    micro: u64,
}

impl TokenBucket {
    /// Tokens a bucket starts with and holds at most.
    pub const CAPACITY: u64 = 10;

    /// A full bucket.
    pub fn full() -> TokenBucket {
        TokenBucket {
            micro: Self::CAPACITY * MICRO,
        }
    }

    /// A first attempt adds `budget` tokens (rounded down to a millionth).
    pub fn deposit(&mut self, budget: f64) {
        let add = (budget * MICRO as f64).floor() as u64;
        self.micro = (self.micro + add).min(Self::CAPACITY * MICRO);
    }

    /// Take a token for a retry, if there is a whole one.
    pub fn take(&mut self) -> bool {
        let ok = self.micro >= MICRO;
        if ok {
            self.micro -= MICRO;
        }
        ok
    }
}

/// The delay before retry number `k` (1 for the first retry): min(cap,
/// d × multiplier^(k−1)) for a fresh draw d of the backoff, then jitter.
pub fn delay(policy: &Retry, k: u32, rng: &mut SimRng) -> SimTime {
    let d = policy.backoff.sample_secs(rng);
    let grown = d * policy
        .multiplier
        .powi(k.saturating_sub(1).min(10_000) as i32);
    let base = grown.min(policy.cap.as_secs_f64());
    let secs = match policy.jitter {
        Jitter::None => base,
        Jitter::Full => base * rng.random::<f64>(),
        Jitter::Equal => base / 2.0 + base / 2.0 * rng.random::<f64>(),
    };
    SimTime::from_secs_f64(secs)
}

/// A request waiting out a backoff.
#[derive(Clone, Copy, Debug)]
struct Backoff {
    /// Its first arrival.
    first: SimTime,
    /// Attempts made so far.
    attempts: u32,
    /// Its client's deadline.
    due: SimTime,
}

/// What the model keeps of an attempt in flight.
#[derive(Clone, Copy, Debug, Default)]
struct Attempt {
    /// Its number (1 = the first).
    number: u32,
    /// Abandoned by its client and retried: not its request's any more.
    detached: bool,
    timer: Option<TimerId>,
}

/// The retry model's state.
pub struct RetryState {
    /// Token buckets by worker index (with a budget).
    buckets: Vec<TokenBucket>,
    /// Attempts in flight, by their request's slot.
    attempts: Vec<Attempt>,
    backoffs: Slab<Backoff>,
    rng: SimRng,
    /// Counted requests waiting out a backoff.
    pub in_backoff: u64,
}

impl RetryState {
    /// The state of a run with master seed `seed`.
    pub fn new(seed: u64) -> RetryState {
        RetryState {
            buckets: Vec::new(),
            attempts: Vec::new(),
            backoffs: Slab::default(),
            rng: stream(seed, domain("retries"), 0),
            in_backoff: 0,
        }
    }

    fn bucket(&mut self, worker: u32) -> &mut TokenBucket {
        let w = worker as usize;
        if self.buckets.len() <= w {
            self.buckets.resize(w + 1, TokenBucket::full());
        }
        &mut self.buckets[w]
    }

    fn attempt(&mut self, id: Id) -> &mut Attempt {
        let i = id.index();
        if self.attempts.len() <= i {
            self.attempts.resize(i + 1, Attempt::default());
        }
        &mut self.attempts[i]
    }
}

/// Which retriable failure a handler's end is, if any.
fn failure(end: HandlerEnd) -> Option<RetryOn> {
    match end {
        HandlerEnd::QueueTimeout | HandlerEnd::ConnectTimeout | HandlerEnd::PoolerTimeout => {
            Some(RetryOn::AcquireTimeout)
        }
        HandlerEnd::Refused => Some(RetryOn::Refused),
        HandlerEnd::AppError => Some(RetryOn::AppError),
        HandlerEnd::Unavailable => Some(RetryOn::Unavailable),
        HandlerEnd::Completed | HandlerEnd::Cancelled => None,
    }
}

impl Simulation<'_> {
    fn policy(&self) -> &Retry {
        self.scenario.retry.as_ref().expect("[retry] is set")
    }

    fn retry_state(&mut self) -> &mut RetryState {
        self.retry.as_mut().expect("[retry] is set")
    }

    /// Dispatch `event`.
    pub(crate) fn retry_event(&mut self, event: RetryEvent) {
        match event {
            RetryEvent::Arrive { backoff } => self.retry_arrive(backoff),
            RetryEvent::AttemptTimeout { req } => self.attempt_timed_out(req),
        }
    }

    /// Attempt `number` of the request `id` started: count it, fill its
    /// worker's bucket (a first attempt), arm its timeout.
    #[cold]
    #[inline(never)]
    pub(crate) fn retry_started(&mut self, id: Id, number: u32) {
        let req = self.traffic.requests.get(id).expect("live request");
        let (arrived, worker) = (req.arrived, req.worker);
        let counted = self.rec.counts(arrived);
        if let Some(r) = self.rec.retry.as_mut() {
            r.attempt(number > 1, counted);
        }
        let (budget, timeout) = (self.policy().budget, self.policy().attempt_timeout);
        if let (Some(b), true) = (budget, number == 1) {
            self.retry_state().bucket(worker).deposit(b);
        }
        let timer = timeout.map(|t| {
            let at = self.sched.now().saturating_add(t);
            let event = Event::Retry(RetryEvent::AttemptTimeout { req: id });
            self.sched.timeout(at, event)
        });
        *self.retry_state().attempt(id) = Attempt {
            number,
            detached: false,
            timer,
        };
    }

    /// Whether a retry of a request that made `attempts` attempts, the
    /// last failing by `on` at `worker`, goes ahead before its client's
    /// deadline `due`: `Some(delay)`. A retry past the attempt limit, or
    /// without a token in the bucket, is dropped. A retry whose backoff
    /// would not end before `due` is not made, and takes no token: the
    /// request fails with its last attempt's outcome.
    fn retry_decision(
        &mut self,
        on: RetryOn,
        worker: Option<u32>,
        attempts: u32,
        counted: bool,
        due: SimTime,
    ) -> Option<SimTime> {
        let now = self.sched.now();
        let policy = self.scenario.retry.as_ref().expect("[retry] is set");
        if !policy.retries(on) {
            return None;
        }
        let state = self.retry.as_mut().expect("[retry] is set");
        if policy.attempts == 0 || attempts < policy.attempts {
            let delay = delay(policy, attempts, &mut state.rng);
            if now.saturating_add(delay) >= due {
                return None;
            }
            if policy.budget.is_none() || worker.is_some_and(|w| state.bucket(w).take()) {
                return Some(delay);
            }
        }
        if let Some(r) = self.rec.retry.as_mut() {
            r.dropped(counted);
        }
        None
    }

    /// Put a request in backoff for `delay` (it ends before its deadline).
    fn back_off(&mut self, b: Backoff, delay: SimTime, counted: bool) {
        let at = self.sched.now().saturating_add(delay);
        let state = self.retry_state();
        state.in_backoff += u64::from(counted);
        let backoff = state.backoffs.insert(b);
        self.sched
            .at(at, Event::Retry(RetryEvent::Arrive { backoff }));
    }

    /// An attempt in flight fails and its request backs off for `delay`:
    /// it leaves the in-flight counts the invariants check.
    fn leave_for_backoff(
        &mut self,
        first: SimTime,
        attempts: u32,
        due: SimTime,
        delay: SimTime,
        counted: bool,
    ) {
        self.books.counted_in_flight -= u64::from(counted);
        self.books.counted_clients_waiting -= u64::from(counted);
        let b = Backoff {
            first,
            attempts,
            due,
        };
        self.back_off(b, delay, counted);
    }

    /// The handler of attempt `id` ended with `end`: true if the retry
    /// model took it (retried, or a detached attempt), false if it is its
    /// request's answer.
    #[cold]
    #[inline(never)]
    pub(crate) fn retry_takes(&mut self, id: Id, end: HandlerEnd) -> bool {
        let now = self.sched.now();
        let req = self
            .traffic
            .requests
            .get(id)
            .expect("finishing a live request");
        let (arrived, worker, client_gone) = (req.arrived, req.worker, req.client_gone);
        let deadline = self.scenario.versions[req.version].app.requests.deadline;
        let attempt = std::mem::take(self.retry_state().attempt(id));
        if let Some(t) = attempt.timer {
            self.sched.cancel(t);
        }
        let counted = self.rec.counts(arrived);
        if let Some(r) = self.rec.retry.as_mut() {
            r.ended(end, counted);
        }
        if attempt.detached {
            self.retire_attempt(id);
            return true;
        }
        let due = arrived.saturating_add(deadline);
        let wanted = failure(end).filter(|_| !client_gone && now < due);
        if let Some(delay) = wanted
            .and_then(|on| self.retry_decision(on, Some(worker), attempt.number, counted, due))
        {
            self.leave_for_backoff(arrived, attempt.number, due, delay, counted);
            self.retire_attempt(id);
            return true;
        }
        // Its request's answer, recorded by `finish_request`: an error
        // unless completed, a give-up at the deadline if it ran past it.
        if !client_gone && let Some(r) = self.rec.retry.as_mut() {
            if now > due {
                r.answered(due, true);
            } else {
                r.answered(now, end != HandlerEnd::Completed);
            }
        }
        false
    }

    /// Attempt `attempts` of a request first arrived at `first`, whose
    /// client leaves at `due`, found no live worker: true if it is
    /// retried, false if it is its request's (error) answer, for the
    /// caller to record.
    #[cold]
    #[inline(never)]
    pub(crate) fn retry_unavailable(
        &mut self,
        first: SimTime,
        attempts: u32,
        due: SimTime,
    ) -> bool {
        let now = self.sched.now();
        let counted = self.rec.counts(first);
        if let Some(r) = self.rec.retry.as_mut() {
            r.attempt(attempts > 1, counted);
            r.ended(HandlerEnd::Unavailable, counted);
        }
        if now < due
            && let Some(delay) =
                self.retry_decision(RetryOn::Unavailable, None, attempts, counted, due)
        {
            let b = Backoff {
                first,
                attempts,
                due,
            };
            self.back_off(b, delay, counted);
            return true;
        }
        if let Some(r) = self.rec.retry.as_mut() {
            r.answered(now, true);
        }
        false
    }

    /// The client abandons attempt `id` at its `attempt_timeout`: it
    /// retries (the handler goes on detached), or gives up.
    fn attempt_timed_out(&mut self, id: Id) {
        let now = self.sched.now();
        let Some(req) = self.traffic.requests.get(id) else {
            return;
        };
        let (arrived, worker, client_gone) = (req.arrived, req.worker, req.client_gone);
        let deadline = self.scenario.versions[req.version].app.requests.deadline;
        let attempt = *self.retry_state().attempt(id);
        if attempt.detached || client_gone {
            return;
        }
        self.retry_state().attempt(id).timer = None;
        let counted = self.rec.counts(arrived);
        if let Some(r) = self.rec.retry.as_mut() {
            r.attempt_timed_out(counted);
        }
        let due = arrived.saturating_add(deadline);
        let delay = (now < due)
            .then(|| {
                self.retry_decision(
                    RetryOn::AttemptTimeout,
                    Some(worker),
                    attempt.number,
                    counted,
                    due,
                )
            })
            .flatten();
        let Some(delay) = delay else {
            self.give_up_early(id);
            return;
        };
        self.retry_state().attempt(id).detached = true;
        self.leave_for_backoff(arrived, attempt.number, due, delay, counted);
        self.client_left(id);
    }

    /// A backoff ended (before the client's deadline): the next attempt
    /// arrives at a worker chosen by the fleet's dispatch rule.
    fn retry_arrive(&mut self, backoff: Id) {
        let now = self.sched.now();
        let state = self.retry_state();
        let b = state.backoffs.remove(backoff).expect("a live backoff");
        let counted = self.rec.counts(b.first);
        self.retry_state().in_backoff -= u64::from(counted);
        debug_assert!(now < b.due, "a backoff ends before its deadline");
        self.traffic.arrivals_seen = self.traffic.arrivals_seen.wrapping_add(1);
        let serial = self.traffic.arrivals_seen;
        let attempts = b.attempts + 1;
        let Some(worker) = self.route_retry() else {
            if !self.retry_unavailable(b.first, attempts, b.due) {
                self.rec
                    .handler(b.first, HandlerEnd::Unavailable, false, SimTime::ZERO);
                self.rec
                    .client(now, b.first, crate::metrics::ClientEnd::Error);
            }
            return;
        };
        let rng = &mut self.retry_state().rng;
        let seed = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
        self.admit(worker, SimRng::new(seed), b.first, serial, attempts);
    }

    /// The worker a retry goes to: a random live worker of a random ready
    /// pod (random dispatch), or the next ready worker in turn.
    fn route_retry(&mut self) -> Option<u32> {
        match self.scenario.fleet.dispatch {
            Dispatch::RoundRobin => {
                let n = self.traffic.ready_workers.len();
                (n > 0).then(|| {
                    let w = self.traffic.ready_workers[self.traffic.round_robin_next as usize % n];
                    self.traffic.round_robin_next = self.traffic.round_robin_next.wrapping_add(1);
                    w
                })
            }
            Dispatch::Random => {
                let ready: Vec<u32> = (0..self.fleet.pods.len() as u32)
                    .filter(|&p| self.fleet.pods[p as usize].state == PodState::Ready)
                    .collect();
                if ready.is_empty() {
                    return None;
                }
                let state = self.retry.as_mut().expect("[retry] is set");
                // u32 draws: a third call site of the usize draw of every
                // arrival's routing would stop it being inlined there.
                let pod = ready[state.rng.random_range(0..ready.len() as u32) as usize];
                let live = &self.fleet.pods[pod as usize].live_workers;
                (!live.is_empty())
                    .then(|| live[state.rng.random_range(0..live.len() as u32) as usize])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;

    fn policy(jitter: Jitter) -> Retry {
        Retry {
            attempts: 0,
            on: vec![RetryOn::Refused],
            attempt_timeout: None,
            backoff: Dist::Deterministic(0.1),
            multiplier: 2.0,
            cap: SimTime::from_secs(1),
            jitter,
            budget: None,
            trigger_end: None,
            trigger_start: None,
        }
    }

    #[test]
    fn delays_grow_by_the_multiplier_up_to_the_cap() {
        let p = policy(Jitter::None);
        let mut rng = stream(1, domain("test"), 0);
        let d: Vec<f64> = (1..=6)
            .map(|k| delay(&p, k, &mut rng).as_secs_f64())
            .collect();
        let want = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0];
        for (got, want) in d.iter().zip(want) {
            assert!((got - want).abs() < 1e-9, "{d:?}");
        }
    }

    #[test]
    fn full_and_equal_jitter_stay_in_their_ranges() {
        let mut rng = stream(1, domain("test"), 0);
        for (jitter, lo) in [(Jitter::Full, 0.0), (Jitter::Equal, 0.2)] {
            let p = policy(jitter);
            let d: Vec<f64> = (0..2000)
                .map(|_| delay(&p, 3, &mut rng).as_secs_f64())
                .collect();
            assert!(d.iter().all(|&x| (lo..=0.4).contains(&x)), "{jitter:?}");
            let mean = d.iter().sum::<f64>() / d.len() as f64;
            assert!((mean - (lo + 0.4) / 2.0).abs() < 0.01, "{jitter:?}: {mean}");
        }
    }

    #[test]
    fn a_bucket_starts_full_caps_at_ten_and_pays_whole_tokens() {
        let mut b = TokenBucket::full();
        b.deposit(5.0);
        assert_eq!(b, TokenBucket::full());
        assert!((0..10).all(|_| b.take()));
        assert!(!b.take());
        for _ in 0..9 {
            b.deposit(0.1);
        }
        assert!(!b.take(), "0.9 tokens are not a whole one");
        b.deposit(0.1);
        assert!(b.take());
        assert!(!b.take());
    }
}
