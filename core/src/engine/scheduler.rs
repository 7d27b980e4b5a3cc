//! The event queue: a min-heap of `(time, sequence, event)`.
//!
//! Events at the same instant run in the order they were scheduled (the
//! sequence number breaks ties), which is what makes runs reproducible.
//!
//! The heaps hold only 16-byte keys, `time << 64 | sequence << 24 | slot`;
//! the events themselves wait in a slot table until they are popped. A
//! timer is an event whose slot can be marked cancelled: the key stays in
//! its heap and is dropped, with its slot, when it reaches the top. Nothing
//! is ever searched for; but when cancelled keys come to outnumber the live
//! ones in a heap, that heap is swept in one pass, so memory stays bounded
//! by the live events.
//!
//! Keys wait in one of three heaps ("lanes"), so that the one touched by
//! almost every event stays small:
//! - *near*: events due within [`FAR_AFTER`] of the moment they are
//!   scheduled — the work in progress (app work, holds, handshakes);
//! - *far*: events due later — idle checks, job ticks — and timeouts
//!   whatever their delay (acquire timeouts, deadlines), most of which are
//!   cancelled or superseded long before they are due;
//! - *streams*: events that re-arm themselves each time they fire, such as
//!   arrival processes.
//!
//! The next event is the smallest of the three tops; keys come from one
//! sequence, so the order is exactly that of a single queue, whichever lane
//! a key waits in.
//!
//! Handling an event usually schedules the next one of the same kind (an
//! arrival the next arrival, a step the next step). So a popped key stays on
//! top of its heap, *spent*, until the next push to that heap replaces it —
//! one sift instead of two — or until anything else looks at the heaps.

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Handle of a cancellable timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId {
    slot: u32,
    generation: u32,
}

const SLOT_BITS: u32 = 24;
const SLOT_MASK: u128 = (1 << SLOT_BITS) - 1;
/// Most events pending at once (the slot field's range).
pub const MAX_PENDING: usize = 1 << SLOT_BITS;
/// The slot of an event that was dropped because too many were pending:
/// no slot has it, so its handle matches nothing.
const NO_SLOT: u32 = u32::MAX;
/// Events due more than this after they are scheduled wait in the far lane:
/// long enough that the steps of a request (milliseconds to seconds) stay
/// near, short enough that deadlines, idle checks and job ticks go far.
pub const FAR_AFTER: SimTime = SimTime::from_secs(10);

/// The heap a key waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LaneId {
    Near = 0,
    Far = 1,
    Streams = 2,
}

struct Slot<E> {
    event: E,
    /// Bumped whenever the slot is freed: stale timer handles no longer
    /// match, so a handle that matches is that of the pending occupant.
    generation: u32,
    /// A cancellable timer (counted in `live_timers` until it fires).
    timer: bool,
    /// The heap its key waits in.
    lane: LaneId,
    cancelled: bool,
}

/// A heap of keys and how many of them belong to cancelled timers.
#[derive(Default)]
struct Lane {
    keys: BinaryHeap<Reverse<u128>>,
    cancelled: usize,
}

/// The clock and the pending events of one simulation run.
pub struct Scheduler<E> {
    now: SimTime,
    next_sequence: u64,
    /// Indexed by [`LaneId`].
    lanes: [Lane; 3],
    /// The lane whose top key was popped but is still in its heap.
    spent: Option<LaneId>,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    live_timers: usize,
    /// Most events pending at once, at most [`MAX_PENDING`].
    max_pending: usize,
    /// Whether an event was dropped because `max_pending` were pending.
    overflowed: bool,
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
            lanes: Default::default(),
            spent: None,
            slots: Vec::with_capacity(1024),
            free: Vec::new(),
            live_timers: 0,
            max_pending: MAX_PENDING,
            overflowed: false,
        }
    }

    /// Hold at most `limit` events pending at once (at most
    /// [`MAX_PENDING`], which is also the default). Past it, events are
    /// dropped and [`overflowed`](Self::overflowed) says so: the run that
    /// owns the queue must then stop, its results are meaningless.
    pub fn with_max_pending(mut self, limit: usize) -> Self {
        self.max_pending = limit.min(MAX_PENDING);
        self
    }

    /// The most events pending at once (see
    /// [`with_max_pending`](Self::with_max_pending)).
    pub fn max_pending(&self) -> usize {
        self.max_pending
    }

    /// Whether an event was dropped because the pending-event limit was
    /// reached: the run must stop and report it.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The current simulated time: the time of the event being handled.
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Entries waiting, cancelled timers not yet dropped included.
    pub fn pending(&self) -> usize {
        self.lanes.iter().map(|l| l.keys.len()).sum::<usize>() - usize::from(self.spent.is_some())
    }

    /// Timers scheduled and neither fired nor cancelled.
    pub fn live_timers(&self) -> usize {
        self.live_timers
    }

    /// The near or far lane, by how far ahead `at` is.
    #[inline(always)]
    fn lane_by_delay(&self, at: SimTime) -> LaneId {
        if at > self.now.saturating_add(FAR_AFTER) {
            LaneId::Far
        } else {
            LaneId::Near
        }
    }

    /// Schedule a one-off event in the near or far lane, by its delay.
    #[inline]
    fn push(&mut self, at: SimTime, event: E) {
        self.push_to(self.lane_by_delay(at), at, event, false);
    }

    /// Schedule a cancellable event in `lane`.
    #[inline(always)]
    fn push_timer(&mut self, lane: LaneId, at: SimTime, event: E) -> TimerId {
        let slot = self.push_to(lane, at, event, true);
        let Some(s) = self.slots.get(slot as usize) else {
            return TimerId {
                slot,
                generation: 0,
            };
        };
        self.live_timers += 1;
        TimerId {
            slot,
            generation: s.generation,
        }
    }

    /// Store `event` in a slot and its key in `lane`'s heap, in place of the
    /// spent key if that heap has one. With every slot up to the limit
    /// taken, the event is dropped and [`NO_SLOT`] returned instead.
    #[inline(always)]
    fn push_to(&mut self, lane: LaneId, at: SimTime, event: E, timer: bool) -> u32 {
        let at = at.max(self.now);
        let slot = match self.free.pop() {
            Some(slot) => {
                let s = &mut self.slots[slot as usize];
                s.event = event;
                s.timer = timer;
                s.lane = lane;
                s.cancelled = false;
                slot
            }
            None if self.slots.len() >= self.max_pending => {
                self.overflowed = true;
                return NO_SLOT;
            }
            None => {
                self.slots.push(Slot {
                    event,
                    generation: 0,
                    timer,
                    lane,
                    cancelled: false,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let key =
            ((at.0 as u128) << 64) | ((self.next_sequence as u128) << SLOT_BITS) | slot as u128;
        self.next_sequence += 1;
        let keys = &mut self.lanes[lane as usize].keys;
        if self.spent == Some(lane) {
            *keys.peek_mut().expect("the spent key") = Reverse(key);
            self.spent = None;
        } else {
            keys.push(Reverse(key));
        }
        slot
    }

    /// Drop the spent key, if any, from its heap.
    #[inline]
    fn settle(&mut self) {
        if let Some(lane) = self.spent.take() {
            self.lanes[lane as usize].keys.pop();
        }
    }

    /// Schedule `event` at `at` (clamped to now). It cannot be cancelled.
    #[inline]
    pub fn at(&mut self, at: SimTime, event: E) {
        self.push(at, event);
    }

    /// Schedule `event` after `delay`.
    #[inline]
    pub fn after(&mut self, delay: SimTime, event: E) {
        let at = self.now + delay;
        self.push(at, event);
    }

    /// Schedule a cancellable `event` at `at` (clamped to now).
    #[inline]
    pub fn timer(&mut self, at: SimTime, event: E) -> TimerId {
        self.push_timer(self.lane_by_delay(at), at, event)
    }

    /// Schedule a timeout: a cancellable `event` at `at` that is most likely
    /// cancelled before it is due (an acquire timeout, a client's deadline).
    /// It waits in the far lane whatever its delay, so that when thousands of
    /// callers wait, their timeouts stay out of the heap every step of a
    /// request goes through.
    #[inline]
    pub fn timeout(&mut self, at: SimTime, event: E) -> TimerId {
        self.push_timer(LaneId::Far, at, event)
    }

    /// Schedule the next, cancellable event of a stream (an arrival process)
    /// at `at`: it waits in the stream lane.
    #[inline]
    pub fn stream_timer(&mut self, at: SimTime, event: E) -> TimerId {
        self.push_timer(LaneId::Streams, at, event)
    }

    /// The smallest live key of the three heaps, with the lane holding it;
    /// cancelled keys on top are dropped.
    #[inline]
    fn next_key(&mut self) -> Option<(u128, LaneId)> {
        self.settle();
        loop {
            // An empty heap fronts u128::MAX, which no key reaches (it
            // would take 2^40 events).
            let front = |lane: &Lane| lane.keys.peek().map_or(u128::MAX, |r| r.0);
            let [near, far, streams] = &self.lanes;
            if near.keys.is_empty() && far.keys.is_empty() && streams.keys.is_empty() {
                return None;
            }
            let (mut key, mut lane) = (front(near), LaneId::Near);
            if front(far) < key {
                (key, lane) = (front(far), LaneId::Far);
            }
            if front(streams) < key {
                (key, lane) = (front(streams), LaneId::Streams);
            }
            let slot = (key & SLOT_MASK) as u32;
            if !self.slots[slot as usize].cancelled {
                return Some((key, lane));
            }
            let lane = &mut self.lanes[lane as usize];
            lane.keys.pop();
            lane.cancelled -= 1;
            self.take(slot);
        }
    }

    /// Cancel a timer. Cancelling one that already fired or was cancelled
    /// does nothing.
    #[inline]
    pub fn cancel(&mut self, id: TimerId) {
        let Some(s) = self.slots.get_mut(id.slot as usize) else {
            return; // a dropped timer (see `overflowed`)
        };
        if s.generation == id.generation && !s.cancelled {
            s.cancelled = true;
            self.live_timers -= 1;
            let id = s.lane;
            let lane = &mut self.lanes[id as usize];
            lane.cancelled += 1;
            if lane.cancelled > lane.keys.len() - lane.cancelled + 64 {
                self.sweep(id);
            }
        }
    }

    /// Cancel every pending stream event at once, for a re-timing of all
    /// the streams: one pass over the stream lane, where cancelling them
    /// one by one would leave a cancelled key per stream for a sweep.
    /// Handles to them go stale, as if each had been cancelled.
    pub fn clear_streams(&mut self) {
        self.settle();
        let lane = &mut self.lanes[LaneId::Streams as usize];
        let mut keys = std::mem::take(&mut lane.keys).into_vec();
        lane.cancelled = 0;
        for &Reverse(key) in &keys {
            self.take((key & SLOT_MASK) as u32);
        }
        keys.clear();
        self.lanes[LaneId::Streams as usize].keys = BinaryHeap::from(keys);
    }

    /// Drop every cancelled key of one heap, freeing their slots. Keys keep
    /// their order, so what runs next does not change.
    fn sweep(&mut self, id: LaneId) {
        self.settle();
        let lane = &mut self.lanes[id as usize];
        let mut keys = std::mem::take(&mut lane.keys).into_vec();
        lane.cancelled = 0;
        let slots = &self.slots;
        let mut dropped = Vec::new();
        keys.retain(|&Reverse(key)| {
            let slot = (key & SLOT_MASK) as u32;
            let keep = !slots[slot as usize].cancelled;
            if !keep {
                dropped.push(slot);
            }
            keep
        });
        lane.keys = BinaryHeap::from(keys);
        for slot in dropped {
            self.take(slot);
        }
    }

    /// Free a popped slot, returning its event unless it was cancelled.
    #[inline]
    fn take(&mut self, slot: u32) -> Option<E> {
        let s = &mut self.slots[slot as usize];
        let fired = !s.cancelled;
        if fired && s.timer {
            self.live_timers -= 1;
        }
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        fired.then_some(s.event)
    }

    /// The time of the next live event, dropping cancelled timers on the way.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.next_key().map(|(key, _)| SimTime((key >> 64) as u64))
    }

    /// Remove the next live event and advance the clock to it.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_until(SimTime::NEVER)
    }

    /// Remove the next live event if it is due by `limit`, advancing the
    /// clock to it; `None` when nothing is due by then (the event stays),
    /// and from the moment an event was dropped ([`overflowed`]
    /// (Self::overflowed)): what follows a dropped event is meaningless.
    #[inline]
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, E)> {
        let (key, lane) = self.next_key()?;
        let at = SimTime((key >> 64) as u64);
        if at > limit || self.overflowed {
            return None;
        }
        self.spent = Some(lane);
        let event = self.take((key & SLOT_MASK) as u32).expect("a live key");
        debug_assert!(at >= self.now, "clock went backwards");
        self.now = at;
        Some((at, event))
    }

    /// The two events the near lane (events due within [`FAR_AFTER`]) will
    /// most likely hand out next, in order: a hint for fetching their data
    /// ahead, read from the top of the heap without changing it. It may be
    /// wrong: events of the other lanes, cancelled timers and events
    /// scheduled in between are not taken into account.
    #[inline]
    pub fn likely_next_two(&self) -> [Option<&E>; 2] {
        self.likely_next_two_in(LaneId::Near)
    }

    /// The two stream events ([`stream_timer`](Self::stream_timer)) due
    /// next, in order, as [`likely_next_two`](Self::likely_next_two) names
    /// those of the near lane: a hint, which scheduling in between may
    /// make wrong.
    #[inline]
    pub fn likely_next_two_streams(&self) -> [Option<&E>; 2] {
        self.likely_next_two_in(LaneId::Streams)
    }

    /// The two events of `lane` most likely handed out next, in order.
    #[inline(always)]
    fn likely_next_two_in(&self, lane: LaneId) -> [Option<&E>; 2] {
        let keys = self.lanes[lane as usize].keys.as_slice();
        let key = |i: usize| keys.get(i).map_or(u128::MAX, |k| k.0);
        // Heap order: the two children of entry i are 2i + 1 and 2i + 2.
        // After a pop the spent key is still the root.
        let (next, second) = if self.spent == Some(lane) {
            let (left, right) = (key(1), key(2));
            if left < right {
                (left, right.min(key(3)).min(key(4)))
            } else {
                (right, left.min(key(5)).min(key(6)))
            }
        } else {
            (key(0), key(1).min(key(2)))
        };
        let event = |key: u128| {
            let slot = self.slots.get((key & SLOT_MASK) as usize);
            slot.filter(|_| key != u128::MAX).map(|s| &s.event)
        };
        [event(next), event(second)]
    }

    /// Move the clock forward to `at` without an event (used to stop a run at
    /// its end time). Never moves it backwards.
    pub fn advance_to(&mut self, at: SimTime) {
        self.now = self.now.max(at);
    }
}

#[cfg(test)]
mod tests;
