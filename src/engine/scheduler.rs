//! The event queue: a min-heap of `(time, sequence, event)`.
//!
//! Events at the same instant run in the order they were scheduled (the
//! sequence number breaks ties), which is what makes runs reproducible.
//! Timers are ordinary events that can be cancelled: cancelling bumps a
//! generation counter in a small slot table, and a cancelled entry is dropped
//! when it reaches the top of the heap. Nothing is ever searched for.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Handle of a cancellable timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId {
    slot: u32,
    generation: u32,
}

const NO_TIMER: u32 = u32::MAX;

struct Entry<E> {
    /// `time << 64 | sequence`: one comparison orders by time, then by
    /// scheduling order.
    key: u128,
    timer_slot: u32,
    timer_generation: u32,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest entry.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// The clock and the pending events of one simulation run.
pub struct Scheduler<E> {
    now: SimTime,
    next_sequence: u64,
    heap: BinaryHeap<Entry<E>>,
    /// Current generation per timer slot; a heap entry whose generation no
    /// longer matches was cancelled.
    timer_generations: Vec<u32>,
    free_timer_slots: Vec<u32>,
    live_timers: usize,
}

impl<E: Copy> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Scheduler<E> {
    /// An empty queue with the clock at zero.
    pub fn new() -> Self {
        Scheduler {
            now: SimTime::ZERO,
            next_sequence: 0,
            heap: BinaryHeap::with_capacity(1024),
            timer_generations: Vec::new(),
            free_timer_slots: Vec::new(),
            live_timers: 0,
        }
    }

    /// The current simulated time: the time of the event being handled.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Entries in the heap, cancelled timers not yet dropped included.
    pub fn pending(&self) -> usize {
        self.heap.len()
    }

    /// Timers scheduled and neither fired nor cancelled.
    pub fn live_timers(&self) -> usize {
        self.live_timers
    }

    #[inline]
    fn push(&mut self, at: SimTime, timer_slot: u32, timer_generation: u32, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let key = ((at.0 as u128) << 64) | self.next_sequence as u128;
        self.next_sequence += 1;
        self.heap.push(Entry {
            key,
            timer_slot,
            timer_generation,
            event,
        });
    }

    /// Schedule `event` at `at` (clamped to now). It cannot be cancelled.
    #[inline]
    pub fn at(&mut self, at: SimTime, event: E) {
        let at = at.max(self.now);
        self.push(at, NO_TIMER, 0, event);
    }

    /// Schedule `event` after `delay`.
    #[inline]
    pub fn after(&mut self, delay: SimTime, event: E) {
        let at = self.now + delay;
        self.push(at, NO_TIMER, 0, event);
    }

    /// Schedule a cancellable `event` at `at` (clamped to now).
    pub fn timer(&mut self, at: SimTime, event: E) -> TimerId {
        let at = at.max(self.now);
        let slot = match self.free_timer_slots.pop() {
            Some(slot) => slot,
            None => {
                self.timer_generations.push(0);
                (self.timer_generations.len() - 1) as u32
            }
        };
        let generation = self.timer_generations[slot as usize];
        self.live_timers += 1;
        self.push(at, slot, generation, event);
        TimerId { slot, generation }
    }

    /// Cancel a timer. Cancelling one that already fired or was cancelled
    /// does nothing.
    pub fn cancel(&mut self, id: TimerId) {
        if self.timer_generations[id.slot as usize] == id.generation {
            self.retire_slot(id.slot);
        }
    }

    fn retire_slot(&mut self, slot: u32) {
        let generation = &mut self.timer_generations[slot as usize];
        *generation = generation.wrapping_add(1);
        self.free_timer_slots.push(slot);
        self.live_timers -= 1;
    }

    /// The time of the next live event, dropping cancelled timers on the way.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        while let Some(top) = self.heap.peek() {
            if top.timer_slot != NO_TIMER
                && self.timer_generations[top.timer_slot as usize] != top.timer_generation
            {
                self.heap.pop();
                continue;
            }
            return Some(SimTime((top.key >> 64) as u64));
        }
        None
    }

    /// Remove the next live event and advance the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        while let Some(entry) = self.heap.pop() {
            if entry.timer_slot != NO_TIMER {
                if self.timer_generations[entry.timer_slot as usize] != entry.timer_generation {
                    continue; // cancelled
                }
                self.retire_slot(entry.timer_slot);
            }
            let at = SimTime((entry.key >> 64) as u64);
            debug_assert!(at >= self.now, "clock went backwards");
            self.now = at;
            return Some((at, entry.event));
        }
        None
    }

    /// Move the clock forward to `at` without an event (used to stop a run at
    /// its end time). Never moves it backwards.
    pub fn advance_to(&mut self, at: SimTime) {
        self.now = self.now.max(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_ties_in_scheduling_order() {
        let mut s = Scheduler::new();
        s.at(SimTime(30), 'c');
        s.at(SimTime(10), 'a');
        s.at(SimTime(30), 'd');
        s.at(SimTime(20), 'b');
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd']);
        assert_eq!(s.now(), SimTime(30));
    }

    #[test]
    fn cancelled_timers_never_fire_and_slots_are_reused() {
        let mut s = Scheduler::new();
        let t1 = s.timer(SimTime(5), 1);
        let _t2 = s.timer(SimTime(6), 2);
        s.cancel(t1);
        s.cancel(t1); // twice is harmless
        assert_eq!(s.live_timers(), 1);
        let t3 = s.timer(SimTime(7), 3);
        assert_eq!(t3.slot, t1.slot, "freed slot is reused");
        assert_ne!(t3.generation, t1.generation);
        let fired: Vec<i32> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(fired, vec![2, 3]);
        assert_eq!(s.live_timers(), 0);
    }

    #[test]
    fn cancelling_a_fired_timer_does_not_touch_its_reused_slot() {
        let mut s = Scheduler::new();
        let t1 = s.timer(SimTime(1), 'x');
        assert_eq!(s.pop(), Some((SimTime(1), 'x')));
        let t2 = s.timer(SimTime(2), 'y');
        s.cancel(t1); // stale handle
        assert_eq!(s.pop(), Some((SimTime(2), 'y')));
        s.cancel(t2);
        assert_eq!(s.pop(), None);
    }

    #[test]
    fn peek_skips_cancelled_entries() {
        let mut s = Scheduler::new();
        let t = s.timer(SimTime(1), 0);
        s.at(SimTime(4), 1);
        s.cancel(t);
        assert_eq!(s.peek_time(), Some(SimTime(4)));
    }
}
