//! The event queue's tests: order, ties, cancellation, the pending limit.

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
