//! The per-request accumulators behind `summary.json`'s `requests` and
//! `acquire` sections: counters and histograms, fed by the [`Recorder`]
//! for the whole run after the warm-up and, with windows, once more for each
//! window (see [`super::window_tally`]).
//!
//! [`Recorder`]: super::recorder::Recorder

use super::histogram::DurationHistogram;
use super::recorder::{AcquireEnd, ClientEnd, HandlerEnd};
use crate::engine::SimTime;

/// Whole-run totals after the warm-up.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Requests that arrived after the warm-up.
    pub arrived: u64,
    /// Handlers that finished their work.
    pub completed: u64,
    /// Answers before the deadline.
    pub goodput: u64,
    /// Handlers failed by an acquire timeout in the queue.
    pub queue_timeouts: u64,
    /// Handlers failed by a connection timeout during their handshake.
    pub connect_timeouts: u64,
    /// Handlers failed by a database refusal.
    pub refused: u64,
    /// Handlers failed for other reasons.
    pub app_errors: u64,
    /// Handlers lost: no live worker, or their worker died.
    pub unavailable: u64,
    /// Handlers stopped because their client left.
    pub cancelled: u64,
    /// Handlers failed by the sidecar's `query_wait_timeout`.
    pub pooler_timeouts: u64,
    /// Clients that left at the deadline.
    pub gave_up: u64,
    /// Clients that got an error before the deadline.
    pub client_errors: u64,
    /// Handlers that completed after their client left: wasted work.
    pub wasted: u64,
    /// Connection time (checkout to release, every checkout) of those
    /// handlers, in nanoseconds.
    pub wasted_held_ns: u64,
    /// Acquires by class: [requests, job].
    pub acquires: [AcquireTotals; 2],
    /// Acquires that never got a connection, by class: [requests, job].
    pub unfinished: [UnfinishedTotals; 2],
    /// Connections leaked.
    pub leaked: u64,
}

impl Totals {
    /// Handlers that ended, by any outcome.
    pub fn handlers_ended(&self) -> u64 {
        self.completed
            + self.queue_timeouts
            + self.connect_timeouts
            + self.refused
            + self.app_errors
            + self.unavailable
            + self.cancelled
            + self.pooler_timeouts
    }

    /// Clients that got an answer or gave up.
    pub fn clients_resolved(&self) -> u64 {
        self.goodput + self.client_errors + self.gave_up
    }
}

/// Acquire totals of one class.
#[derive(Clone, Debug, Default)]
pub struct AcquireTotals {
    /// Acquires that ended.
    pub count: u64,
    /// Of which waited at all (queue or handshake).
    pub waited: u64,
    /// Of which found the pool full and queued.
    pub found_full: u64,
    /// Timed out (either message).
    pub timed_out: u64,
    /// Refused by the database.
    pub refused: u64,
    /// Waited over 100 ms or failed.
    pub starved: u64,
}

/// Acquires of one class that never got a connection: their caller
/// stopped waiting, its process exited, or it still waited at the end.
#[derive(Clone, Debug, Default)]
pub struct UnfinishedTotals {
    /// Ended by a give-up with `cancel_on_abort` (also counted, with their
    /// waits, among the acquires that ended).
    pub abandoned: u64,
    /// Ended by the exit of their worker process (pod exit or crash).
    pub process_exit: u64,
    /// Still waiting when the run stopped.
    pub waiting_at_end: u64,
    /// Sum of their ages (start of the acquire to its end, or to the end
    /// of the run), in nanoseconds.
    pub age_sum_ns: u128,
    /// The oldest.
    pub max_age: SimTime,
}

/// Why an acquire never got a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unfinished {
    /// Its caller gave up and was cancelled.
    Abandoned,
    /// Its worker process exited.
    ProcessExit,
    /// The run stopped while it waited.
    WaitingAtEnd,
}

impl UnfinishedTotals {
    /// Every unfinished acquire.
    pub fn count(&self) -> u64 {
        self.abandoned + self.process_exit + self.waiting_at_end
    }

    /// Count one of age `age`.
    fn add(&mut self, why: Unfinished, age: SimTime) {
        match why {
            Unfinished::Abandoned => self.abandoned += 1,
            Unfinished::ProcessExit => self.process_exit += 1,
            Unfinished::WaitingAtEnd => self.waiting_at_end += 1,
        }
        self.age_sum_ns += u128::from(age.0);
        self.max_age = self.max_age.max(age);
    }

    /// Add `other`'s counts to these.
    pub fn merge(&mut self, other: &UnfinishedTotals) {
        self.abandoned += other.abandoned;
        self.process_exit += other.process_exit;
        self.waiting_at_end += other.waiting_at_end;
        self.age_sum_ns += other.age_sum_ns;
        self.max_age = self.max_age.max(other.max_age);
    }
}

impl AcquireTotals {
    /// Add `other`'s counts to these.
    pub fn merge(&mut self, other: &AcquireTotals) {
        self.count += other.count;
        self.waited += other.waited;
        self.found_full += other.found_full;
        self.timed_out += other.timed_out;
        self.refused += other.refused;
        self.starved += other.starved;
    }
}

/// The accumulators of one set of requests and acquires: the whole run
/// after the warm-up, or one window.
#[derive(Clone, Debug)]
pub struct Tally {
    /// The counters.
    pub totals: Totals,
    /// Client-observed latency of every resolved request.
    pub latency: DurationHistogram,
    /// Acquire waits, by class: [requests, job].
    pub waits: [DurationHistogram; 2],
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            totals: Totals::default(),
            latency: DurationHistogram::new(3),
            waits: [DurationHistogram::new(3), DurationHistogram::new(3)],
        }
    }
}

impl Tally {
    /// A request arrived.
    #[inline(always)]
    pub fn arrival(&mut self) {
        self.totals.arrived += 1;
    }

    /// An acquire of class `k` (0 requests, 1 job) ended after `wait`.
    #[inline(always)]
    pub fn acquire(
        &mut self,
        k: usize,
        wait: SimTime,
        found_full: bool,
        starved: bool,
        end: AcquireEnd,
    ) {
        self.waits[k].record(wait);
        let t = &mut self.totals.acquires[k];
        t.count += 1;
        t.waited += u64::from(wait > SimTime::ZERO);
        t.found_full += u64::from(found_full);
        t.starved += u64::from(starved);
        match end {
            AcquireEnd::QueueTimeout | AcquireEnd::ConnectTimeout => t.timed_out += 1,
            AcquireEnd::Refused => t.refused += 1,
            AcquireEnd::Abandoned => self.totals.unfinished[k].add(Unfinished::Abandoned, wait),
            AcquireEnd::Served => {}
        }
    }

    /// An acquire of class `k` never got a connection.
    pub fn unfinished(&mut self, k: usize, why: Unfinished, age: SimTime) {
        self.totals.unfinished[k].add(why, age);
    }

    /// A handler ended; `held` is the connection time of its checkouts.
    #[inline(always)]
    pub fn handler(&mut self, end: HandlerEnd, client_gone: bool, held: SimTime) {
        let t = &mut self.totals;
        match end {
            HandlerEnd::Completed if client_gone => {
                t.completed += 1;
                t.wasted += 1;
                t.wasted_held_ns += held.0;
            }
            HandlerEnd::Completed => t.completed += 1,
            HandlerEnd::QueueTimeout => t.queue_timeouts += 1,
            HandlerEnd::ConnectTimeout => t.connect_timeouts += 1,
            HandlerEnd::Refused => t.refused += 1,
            HandlerEnd::AppError => t.app_errors += 1,
            HandlerEnd::Unavailable => t.unavailable += 1,
            HandlerEnd::Cancelled => t.cancelled += 1,
            HandlerEnd::PoolerTimeout => t.pooler_timeouts += 1,
        }
    }

    /// A client saw `end` after `latency`.
    #[inline(always)]
    pub fn client(&mut self, latency: SimTime, end: ClientEnd) {
        self.latency.record(latency);
        match end {
            ClientEnd::Ok => self.totals.goodput += 1,
            ClientEnd::Error => self.totals.client_errors += 1,
            ClientEnd::GaveUp => self.totals.gave_up += 1,
        }
    }
}
