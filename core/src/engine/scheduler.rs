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
mod tests {
    use super::*;

    /// Knuth's MMIX linear congruential generator from `seed`: cheap,
    /// fixed numbers for the schedules below (its high bits are the good
    /// ones).
    fn lcg(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed;
        move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x
        }
    }

    #[test]
    fn likely_next_two_names_the_next_pops_of_the_near_lane() {
        let mut s = Scheduler::new();
        let mut lcg = lcg(7);
        let mut draw = move || lcg() >> 40;
        for i in 0..300 {
            s.at(SimTime(draw() % 1000), i);
        }
        let mut popped = 0;
        loop {
            // Exact while nothing is scheduled in between, whether or not
            // the last pop left its key on top of the heap.
            let [next, second] = s.likely_next_two().map(|e| e.copied());
            let Some((_, event)) = s.pop() else {
                assert_eq!(next, None);
                break;
            };
            assert_eq!(next, Some(event));
            assert_eq!(s.likely_next_two()[0].copied(), second);
            popped += 1;
            if popped % 3 == 0 && popped < 600 {
                s.after(SimTime(draw() % 1000), 1000 + popped);
            }
        }
        assert!(popped > 300);
    }

    #[test]
    fn likely_next_two_streams_names_the_next_pops_of_the_stream_lane() {
        // Streams alone, each rescheduled when it fires, as arrivals are.
        let mut s = Scheduler::new();
        let mut lcg = lcg(11);
        let mut draw = move || lcg() >> 40;
        for stream in 0..200u32 {
            s.stream_timer(SimTime(draw() % 1000), stream);
        }
        for _ in 0..2000 {
            let [next, second] = s.likely_next_two_streams().map(|e| e.copied());
            assert_eq!(s.likely_next_two(), [None, None], "nothing near");
            let (now, stream) = s.pop().expect("streams never end here");
            assert_eq!(next, Some(stream));
            assert_eq!(s.likely_next_two_streams()[0].copied(), second);
            s.stream_timer(now + SimTime(1 + draw() % 1000), stream);
        }
    }

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
        assert_ne!(t3, t1);
        let fired: Vec<i32> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(fired, vec![2, 3]);
        assert_eq!(s.live_timers(), 0);
        // The cancelled slot was freed when its key reached the top.
        let t4 = s.timer(SimTime(8), 4);
        assert_ne!(t4, t1, "a reused slot has a new generation");
    }

    #[test]
    fn past_the_pending_limit_events_are_dropped_flagged_and_nothing_more_handed_out() {
        assert_eq!(
            Scheduler::<i32>::new()
                .with_max_pending(usize::MAX)
                .max_pending(),
            MAX_PENDING
        );
        let mut s = Scheduler::new().with_max_pending(3);
        s.at(SimTime(1), 1);
        let t2 = s.timer(SimTime(2), 2);
        s.stream_timer(SimTime(3), 3);
        assert!(!s.overflowed());
        let dropped = s.timeout(SimTime(4), 4);
        s.after(SimTime(5), 5);
        assert!(s.overflowed());
        assert_eq!((s.pending(), s.live_timers()), (3, 2));
        s.cancel(dropped); // a handle that matches nothing
        s.cancel(t2);
        assert_eq!(s.pop(), None, "nothing is handed out after a dropped event");
        assert!(s.overflowed(), "the flag stays for the run to see");
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
    fn streams_and_events_interleave_in_scheduling_order() {
        let mut s = Scheduler::new();
        let a = s.stream_timer(SimTime(10), 'a');
        s.at(SimTime(10), 'b');
        s.stream_timer(SimTime(5), 'c');
        s.at(SimTime(7), 'd');
        let e = s.stream_timer(SimTime(8), 'e');
        s.cancel(e);
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            vec!['c', 'd', 'a', 'b'],
            "ties in scheduling order across heaps"
        );
        s.cancel(a); // already fired: no effect
        assert_eq!(s.live_timers(), 0);
    }

    /// Random schedules, timers, timeouts, stream re-arms, cancellations
    /// (one by one, and of every stream at once) and pops
    /// against a sorted map of (time, sequence): the same events come out in
    /// the same order, and none is lost or left over.
    #[test]
    fn agrees_with_a_sorted_map_under_random_operations() {
        use std::collections::BTreeMap;
        let mut lcg = lcg(2024);
        let mut next = |n: u64| (lcg() >> 33) % n;
        let mut s: Scheduler<u64> = Scheduler::new();
        let mut reference: BTreeMap<(SimTime, u64), u64> = BTreeMap::new();
        let mut timers: Vec<(TimerId, (SimTime, u64))> = Vec::new();
        let mut streams: Vec<(SimTime, u64)> = Vec::new();
        let mut seq = 0;
        for round in 0..200_000 {
            let now = s.now();
            // Every other stretch, timers are mostly cancelled: sweeps run.
            let cancels = if round / 25_000 % 2 == 1 { 4 } else { 1 };
            // Delays from none to well past FAR_AFTER.
            let delay = match next(4) {
                0 => SimTime::ZERO,
                1 => SimTime(next(1_000_000)),
                2 => SimTime(next(3 * FAR_AFTER.0)),
                _ => FAR_AFTER - SimTime::from_millis(100) + SimTime::from_millis(next(200)),
            };
            let at = now + delay;
            seq += 1;
            match next(9 + cancels) {
                0..=2 => s.at(at, seq),
                3 => timers.push((s.timer(at, seq), (at, seq))),
                4 => timers.push((s.timeout(at, seq), (at, seq))),
                5 if next(50) == 0 => {
                    // Every pending stream event goes at once.
                    s.clear_streams();
                    for k in streams.drain(..) {
                        reference.remove(&k);
                    }
                    continue;
                }
                5 => {
                    timers.push((s.stream_timer(at, seq), (at, seq)));
                    streams.push((at, seq));
                }
                c if c >= 9 && !timers.is_empty() => {
                    let (id, k) = timers.swap_remove(next(timers.len() as u64) as usize);
                    s.cancel(id);
                    reference.remove(&k);
                    continue;
                }
                _ => {
                    let got = s.pop();
                    let want = reference.pop_first().map(|((t, _), e)| (t, e));
                    assert_eq!(got, want);
                    continue;
                }
            }
            reference.insert((at, seq), seq);
            assert!(s.pending() >= reference.len());
        }
        let rest: Vec<(SimTime, u64)> = std::iter::from_fn(|| s.pop()).collect();
        let want: Vec<(SimTime, u64)> = reference.into_iter().map(|((t, _), e)| (t, e)).collect();
        assert_eq!(rest, want);
        assert_eq!(s.pending(), 0);
    }

    /// A popped event's slot is reused by a far timer that is cancelled, then
    /// the near lane is swept while its spent key is still on top.
    #[test]
    fn a_sweep_never_sees_a_spent_key() {
        let mut s: Scheduler<u32> = Scheduler::new();
        s.at(SimTime(1), 0);
        let near: Vec<TimerId> = (0..200).map(|i| s.timer(SimTime(10 + i), 1)).collect();
        assert_eq!(s.pop(), Some((SimTime(1), 0)));
        let far = s.timer(FAR_AFTER + SimTime::from_secs(5), 2); // takes the popped slot
        s.cancel(far);
        for &t in &near[50..] {
            s.cancel(t); // sweeps the near lane on the way
        }
        s.at(FAR_AFTER + SimTime::from_secs(6), 3);
        let fired: Vec<u32> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(fired, [vec![1; 50], vec![3]].concat());
        assert_eq!(s.live_timers(), 0);
    }

    /// Clearing the streams drops their pending events, and only theirs:
    /// the handles go stale and the slots are reused.
    #[test]
    fn clearing_the_streams_drops_their_events_only() {
        let mut s = Scheduler::new();
        let a = s.stream_timer(SimTime(5), 'a');
        s.stream_timer(SimTime(6), 'b');
        s.timer(SimTime(7), 'c');
        s.at(SimTime(8), 'd');
        assert_eq!(s.pop(), Some((SimTime(5), 'a'))); // its key is spent on top
        s.clear_streams();
        assert_eq!(s.live_timers(), 1);
        s.cancel(a); // stale: no effect
        s.stream_timer(SimTime(9), 'e');
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['c', 'd', 'e']);
        assert_eq!(s.live_timers(), 0);
        assert_eq!(s.pending(), 0);
    }

    /// A timeout due sooner than the near lane's events waits in the far
    /// lane and still comes out first; cancelled, it never does.
    #[test]
    fn timeouts_wait_far_and_keep_the_order() {
        let mut s = Scheduler::new();
        s.at(SimTime(20), 'b');
        let soon = s.timeout(SimTime(10), 'a');
        assert_eq!(s.slots[soon.slot as usize].lane, LaneId::Far);
        assert_eq!(s.lanes[LaneId::Near as usize].keys.len(), 1);
        let cancelled = s.timeout(SimTime(15), 'x');
        s.cancel(cancelled);
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b']);
        assert_eq!(s.live_timers(), 0);
    }

    #[test]
    fn near_and_far_lanes_keep_one_order() {
        let mut s = Scheduler::new();
        let far = FAR_AFTER + SimTime::from_secs(1);
        s.at(far, 'a'); // far lane
        s.at(SimTime::from_millis(1500), 'b'); // near lane
        let t = s.timer(far + SimTime(1), 'x'); // far, cancelled below
        assert_eq!(s.pop(), Some((SimTime::from_millis(1500), 'b')));
        s.at(far, 'c'); // near lane now, same time as 'a'
        s.at(SimTime::from_millis(1700), 'd');
        s.cancel(t);
        let order: Vec<char> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(
            order,
            vec!['d', 'a', 'c'],
            "ties in scheduling order across lanes"
        );
        assert_eq!(s.pending(), 0);
    }

    #[test]
    fn cancelled_keys_are_swept_and_order_is_kept() {
        let mut s = Scheduler::new();
        let mut kept = Vec::new();
        for round in 0..1000u64 {
            // A stream re-timed again and again, and one timer that stays.
            let t = s.stream_timer(SimTime(10_000 + round), round);
            if round % 100 == 0 {
                kept.push(round);
            } else {
                s.cancel(t);
            }
            let m = s.timer(SimTime(20_000 - round), 5000 + round);
            s.cancel(m);
            assert!(s.pending() <= 2 * (kept.len() + 1) + 130, "{}", s.pending());
        }
        let fired: Vec<u64> = std::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(fired, kept);
        assert_eq!(s.live_timers(), 0);
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
