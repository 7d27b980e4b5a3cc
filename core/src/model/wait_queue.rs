//! The pool's queue of callers waiting for a client.
//!
//! pg-pool serves waiters strictly first in, first out. Waiters that time out
//! are not searched for and removed: the caller marks itself as no longer
//! waiting and its entry is skipped when it reaches the head (see
//! [`WaitQueue::pop_live`]). A queue that never moves (every client leaked)
//! would keep those entries for ever, so they are swept out once they
//! outnumber the live ones: memory stays bounded by the waiters.
//!
//! The queue also offers the priority discipline teams build in front of
//! pg-pool: requests before the job, FIFO within a class.

use crate::model::caller::{Caller, CallerClass};
pub use crate::scenario::QueueDiscipline as Discipline;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug)]
struct Entry {
    caller: Caller,
    /// Arrival order across both classes.
    order: u64,
}

/// Waiting callers of one pool.
#[derive(Debug)]
pub struct WaitQueue {
    discipline: Discipline,
    requests: VecDeque<Entry>,
    jobs: VecDeque<Entry>,
    next_order: u64,
    live: u32,
}

impl WaitQueue {
    /// An empty queue.
    pub fn new(discipline: Discipline) -> WaitQueue {
        WaitQueue {
            discipline,
            requests: VecDeque::new(),
            jobs: VecDeque::new(),
            next_order: 0,
            live: 0,
        }
    }

    /// Callers still waiting (timed-out entries not counted).
    #[inline]
    pub fn live(&self) -> u32 {
        self.live
    }

    /// Append a caller at the tail of its class.
    pub fn push(&mut self, caller: Caller) {
        let entry = Entry {
            caller,
            order: self.next_order,
        };
        self.next_order += 1;
        self.live += 1;
        match caller.class() {
            CallerClass::Request => self.requests.push_back(entry),
            CallerClass::Job => self.jobs.push_back(entry),
        }
    }

    /// `gone` stopped waiting (timed out or cancelled); its entry stays
    /// until it reaches the head, unless stale entries now outnumber the
    /// live ones: then every entry of a caller that is not `gone` and for
    /// which `is_waiting` holds is kept, the rest dropped. Either way the
    /// callers served, and their order, are the same.
    pub fn forget(&mut self, gone: Caller, mut is_waiting: impl FnMut(Caller) -> bool) {
        debug_assert!(self.live > 0);
        self.live -= 1;
        if self.entries() > 2 * self.live as usize + 64 {
            let mut keep = |e: &Entry| e.caller != gone && is_waiting(e.caller);
            self.requests.retain(&mut keep);
            self.jobs.retain(&mut keep);
            debug_assert_eq!(self.entries(), self.live as usize);
        }
    }

    /// Entries held, stale ones included.
    pub fn entries(&self) -> usize {
        self.requests.len() + self.jobs.len()
    }

    /// The next caller to serve for which `is_waiting` holds, skipping (and
    /// dropping) entries of callers that stopped waiting. `job_allowed` is
    /// false when the job may not take another client (a reservation).
    pub fn pop_live(
        &mut self,
        job_allowed: bool,
        mut is_waiting: impl FnMut(Caller) -> bool,
    ) -> Option<Caller> {
        loop {
            let take_job = match (self.requests.front(), self.jobs.front()) {
                (None, None) => return None,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(r), Some(j)) => match self.discipline {
                    Discipline::Fifo => j.order < r.order,
                    Discipline::RequestsFirst => false,
                },
            };
            if take_job && !job_allowed {
                // The job's head waits; a request behind it may still go.
                let entry = self.requests.pop_front()?;
                if is_waiting(entry.caller) {
                    self.live -= 1;
                    return Some(entry.caller);
                }
                continue;
            }
            let queue = if take_job {
                &mut self.jobs
            } else {
                &mut self.requests
            };
            let entry = queue.pop_front().expect("front checked");
            if is_waiting(entry.caller) {
                self.live -= 1;
                return Some(entry.caller);
            }
        }
    }

    /// Remove every entry, returning the callers still waiting.
    pub fn drain_live(&mut self, mut is_waiting: impl FnMut(Caller) -> bool) -> Vec<Caller> {
        let mut all: Vec<Entry> = self.requests.drain(..).chain(self.jobs.drain(..)).collect();
        all.sort_by_key(|e| e.order);
        self.live = 0;
        all.into_iter()
            .map(|e| e.caller)
            .filter(|c| is_waiting(*c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slab::Slab;

    fn callers() -> (Vec<Caller>, Vec<Caller>) {
        let mut slab = Slab::default();
        let reqs = (0..3)
            .map(|i| Caller::request(slab.insert(()), 0, i))
            .collect();
        let jobs = (0..2).map(|i| Caller::job(slab.insert(()), i, i)).collect();
        (reqs, jobs)
    }

    #[test]
    fn fifo_serves_in_arrival_order_across_classes() {
        let (r, j) = callers();
        let mut q = WaitQueue::new(Discipline::Fifo);
        for c in [r[0], j[0], r[1], j[1]] {
            q.push(c);
        }
        let order: Vec<Caller> = std::iter::from_fn(|| q.pop_live(true, |_| true)).collect();
        assert_eq!(order, vec![r[0], j[0], r[1], j[1]]);
    }

    #[test]
    fn requests_first_and_reservation() {
        let (r, j) = callers();
        let mut q = WaitQueue::new(Discipline::RequestsFirst);
        for c in [j[0], r[0], j[1], r[1]] {
            q.push(c);
        }
        assert_eq!(q.pop_live(true, |_| true), Some(r[0]));
        assert_eq!(q.pop_live(true, |_| true), Some(r[1]));
        assert_eq!(
            q.pop_live(false, |_| true),
            None,
            "job held back by its reservation"
        );
        assert_eq!(q.pop_live(true, |_| true), Some(j[0]));
    }

    #[test]
    fn timed_out_entries_are_skipped_and_not_counted() {
        let (r, _) = callers();
        let mut q = WaitQueue::new(Discipline::Fifo);
        for c in &r {
            q.push(*c);
        }
        q.forget(r[0], |_| true); // r[0] timed out
        assert_eq!(q.live(), 2);
        assert_eq!(q.pop_live(true, |c| c != r[0]), Some(r[1]));
        assert_eq!(q.live(), 1);
    }

    #[test]
    fn a_queue_that_never_moves_stays_small() {
        let mut slab = Slab::default();
        let mut q = WaitQueue::new(Discipline::Fifo);
        let first = Caller::job(slab.insert(()), 0, 0); // waits for ever
        q.push(first);
        for i in 1..10_000 {
            let c = Caller::job(slab.insert(()), 0, i);
            q.push(c);
            q.forget(c, |x| x == first); // every later one times out
        }
        assert_eq!(q.live(), 1);
        // One live waiter: at most 2 × 1 + 64 entries, plus the one just pushed.
        assert!(q.entries() <= 67, "{} entries kept", q.entries());
        assert_eq!(q.pop_live(true, |x| x == first), Some(first));
    }
}
