//! The database server's CPU as a processor-sharing server
//! (`database.cpu_cores`; docs/models.md, "DB CPU contention").
//!
//! Every active query gets an equal share of the cores: with `n` queries
//! active on `c` cores the server does `capacity(n) = min(n, c) / (1 + κ ·
//! max(0, n − c))` cores' worth of useful work, and each query's remaining
//! work drains at `capacity(n) / n` (so at `min(1, c / n)` when the
//! contention κ is zero). κ is the fraction of useful CPU lost per runnable
//! query beyond the cores (context switches, cache refills, lock holders
//! descheduled): a linear form of the contention term of Gunther's universal
//! scalability law.
//!
//! Since every active query is served at the same speed, the model keeps one
//! virtual clock — the service each active query has received since the CPU
//! was last empty — and a min-heap of the virtual times at which each query
//! finishes. A change in the number of active queries changes the speed of
//! the virtual clock, never the finish points, so it costs one heap
//! operation and one rescheduled completion event, not a pass over the
//! queries.
//!
//! Only the CPU part of a request's hold is CPU work (`requests.cpu_fraction`,
//! taken at the start of the hold); the job's holds (mostly the warehouse
//! call) and connection handshakes are not.

use super::caller::{Caller, CallerClass};
use super::{Event, Simulation};
use crate::engine::{SimTime, TimerId};
use crate::metrics::level::Level;
use crate::metrics::summary::CpuSummary;
use crate::scenario::Cpu as Settings;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Virtual work (s) below which a query counts as finished: absorbs the
/// rounding of completion times to whole nanoseconds.
const DONE_EPSILON: f64 = 1e-9;

/// One active query.
#[derive(Clone, Copy, Debug)]
struct Query {
    /// Virtual time at which it finishes.
    finish: f64,
    /// Submission order: breaks ties.
    seq: u64,
    /// Who waits for it.
    owner: Caller,
    /// When it started, and its work (s), for the stretch statistic.
    started: SimTime,
    work: f64,
    /// Whether it started after the warm-up.
    counted: bool,
}

impl PartialEq for Query {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Query {}
impl PartialOrd for Query {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Query {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest finish.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .finish
            .total_cmp(&self.finish)
            .then(other.seq.cmp(&self.seq))
    }
}

/// The server's cores and the queries running on them.
#[derive(Debug)]
pub struct Cpu {
    cores: u32,
    contention: f64,
    warmup: SimTime,
    /// Service received by each active query since the CPU was last empty (s).
    virtual_time: f64,
    /// The real time `virtual_time` was last brought up to date.
    updated: SimTime,
    queries: BinaryHeap<Query>,
    next_seq: u64,
    /// The pending completion event.
    timer: Option<TimerId>,
    /// Active queries over time.
    active: Level,
    /// Busy cores (`min(active, cores)`) over time.
    busy: Level,
    /// Counted queries that finished, their summed work and elapsed time (s).
    finished: u64,
    work_sum: f64,
    elapsed_sum: f64,
}

impl Cpu {
    /// An idle CPU; statistics count after `warmup`.
    pub fn new(settings: Settings, warmup: SimTime) -> Cpu {
        Cpu {
            cores: settings.cores,
            contention: settings.contention,
            warmup,
            virtual_time: 0.0,
            updated: SimTime::ZERO,
            queries: BinaryHeap::with_capacity(256),
            next_seq: 0,
            timer: None,
            active: Level::default(),
            busy: Level::default(),
            finished: 0,
            work_sum: 0.0,
            elapsed_sum: 0.0,
        }
    }

    /// Queries running.
    pub fn active(&self) -> u32 {
        self.queries.len() as u32
    }

    /// Useful work the server does per second with `n` queries active, in
    /// cores.
    pub fn capacity(&self, n: u32) -> f64 {
        let c = self.cores as f64;
        let n = n as f64;
        let excess = (n - c).max(0.0);
        n.min(c) / (1.0 + self.contention * excess)
    }

    /// Speed at which each of the active queries progresses (work per
    /// second).
    fn speed(&self) -> f64 {
        let n = self.active();
        if n == 0 {
            0.0
        } else {
            self.capacity(n) / n as f64
        }
    }

    /// Bring the virtual clock to `now`.
    fn advance(&mut self, now: SimTime) {
        let dt = (now - self.updated).as_secs_f64();
        self.virtual_time += self.speed() * dt;
        self.updated = now;
    }

    fn count_change(&mut self, now: SimTime, delta: i64) {
        let before = self.active() as i64 - delta;
        let c = self.cores as i64;
        self.active.add(now, delta, self.warmup);
        self.busy
            .add(now, (before + delta).min(c) - before.min(c), self.warmup);
    }

    /// A query of `work` seconds of CPU starts now for `owner`.
    pub fn submit(&mut self, now: SimTime, work: f64, owner: Caller) {
        self.advance(now);
        self.next_seq += 1;
        self.queries.push(Query {
            finish: self.virtual_time + work,
            seq: self.next_seq,
            owner,
            started: now,
            work,
            counted: now >= self.warmup,
        });
        self.count_change(now, 1);
    }

    /// When the next query finishes, if one runs.
    pub fn next_finish(&self, now: SimTime) -> Option<SimTime> {
        let head = self.queries.peek()?;
        let left = (head.finish - self.virtual_time).max(0.0) / self.speed();
        Some(now + SimTime((left * 1e9).ceil() as u64))
    }

    /// Remove one query finished by `now`, if any, and return its owner.
    pub fn pop_finished(&mut self, now: SimTime) -> Option<Caller> {
        self.advance(now);
        let head = self.queries.peek()?;
        if head.finish > self.virtual_time + DONE_EPSILON {
            return None;
        }
        let q = self.queries.pop().expect("peeked");
        self.count_change(now, -1);
        if q.counted {
            self.finished += 1;
            self.work_sum += q.work;
            self.elapsed_sum += (now - q.started).as_secs_f64();
        }
        if self.queries.is_empty() {
            self.virtual_time = 0.0;
        }
        Some(q.owner)
    }

    /// The summary figures at `end`.
    pub fn summary(&self, end: SimTime) -> CpuSummary {
        CpuSummary {
            cores: self.cores,
            contention: self.contention,
            queries: self.finished,
            mean_active_queries: self.active.mean(end, self.warmup),
            peak_active_queries: self.active.peak().max(0) as u64,
            utilisation: self.busy.mean(end, self.warmup) / self.cores as f64,
            mean_stretch: (self.work_sum > 0.0).then(|| self.elapsed_sum / self.work_sum),
        }
    }
}

impl Simulation<'_> {
    /// Start `work` of CPU for `owner` (a request's query).
    pub(crate) fn run_query(&mut self, owner: Caller, work: SimTime) {
        let now = self.sched.now();
        let cpu = self.server.cpu.as_mut().expect("CPU modelled");
        cpu.submit(now, work.as_secs_f64(), owner);
        self.reschedule_cpu();
    }

    /// Move the completion event to the head query's new finish time.
    fn reschedule_cpu(&mut self) {
        let now = self.sched.now();
        let cpu = self.server.cpu.as_mut().expect("CPU modelled");
        if let Some(timer) = cpu.timer.take() {
            self.sched.cancel(timer);
        }
        if let Some(at) = cpu.next_finish(now) {
            let timer = self.sched.timer(at, Event::CpuDone);
            self.server.cpu.as_mut().expect("CPU modelled").timer = Some(timer);
        }
    }

    /// The head query finished: hand every query finished by now back to its
    /// owner, then reschedule.
    pub(crate) fn cpu_done(&mut self) {
        let now = self.sched.now();
        self.server.cpu.as_mut().expect("CPU modelled").timer = None;
        while let Some(owner) = self
            .server
            .cpu
            .as_mut()
            .expect("CPU modelled")
            .pop_finished(now)
        {
            match owner.class {
                CallerClass::Request => self.request_query_done(owner),
                CallerClass::Job => unreachable!("the job's holds are not CPU work"),
            }
        }
        self.reschedule_cpu();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slab::Slab;

    fn owner() -> Caller {
        let mut s = Slab::default();
        Caller::request(s.insert(()), 0, 0)
    }

    #[test]
    fn capacity_is_min_n_c_then_falls_with_contention() {
        let cpu = Cpu::new(
            Settings {
                cores: 4,
                contention: 0.1,
            },
            SimTime::ZERO,
        );
        assert_eq!(cpu.capacity(2), 2.0);
        assert_eq!(cpu.capacity(4), 4.0);
        assert!((cpu.capacity(6) - 4.0 / 1.2).abs() < 1e-12);
    }

    #[test]
    fn two_queries_on_one_core_share_it() {
        // Work 1 s and 3 s on one core, submitted together: the first ends at
        // 2 s (half speed), the second at 4 s (1 s at half speed, then alone).
        let mut cpu = Cpu::new(
            Settings {
                cores: 1,
                contention: 0.0,
            },
            SimTime::ZERO,
        );
        let o = owner();
        cpu.submit(SimTime::ZERO, 1.0, o);
        cpu.submit(SimTime::ZERO, 3.0, o);
        let t1 = cpu.next_finish(SimTime::ZERO).unwrap();
        assert_eq!(t1, SimTime::from_secs(2));
        assert!(cpu.pop_finished(t1).is_some());
        assert!(cpu.pop_finished(t1).is_none());
        let t2 = cpu.next_finish(t1).unwrap();
        assert_eq!(t2, SimTime::from_secs(4));
        assert!(cpu.pop_finished(t2).is_some());
        assert_eq!(cpu.active(), 0);
        let s = cpu.summary(SimTime::from_secs(4));
        // Stretch: (2 + 4) / (1 + 3); busy the whole time.
        assert!((s.mean_stretch.unwrap() - 1.5).abs() < 1e-9);
        assert!((s.utilisation - 1.0).abs() < 1e-12);
        assert!((s.mean_active_queries - 1.5).abs() < 1e-9);
    }

    #[test]
    fn below_the_cores_queries_run_at_full_speed() {
        let mut cpu = Cpu::new(
            Settings {
                cores: 8,
                contention: 0.5,
            },
            SimTime::ZERO,
        );
        let o = owner();
        for _ in 0..8 {
            cpu.submit(SimTime::ZERO, 0.25, o);
        }
        assert_eq!(
            cpu.next_finish(SimTime::ZERO),
            Some(SimTime::from_millis(250))
        );
    }
}
