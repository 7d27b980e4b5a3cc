//! The pool's decisions, one rule at a time.

use super::*;
use crate::scenario::PatienceLaw;

fn config(max: u32) -> PoolConfig {
    PoolConfig {
        max,
        min: 0,
        idle_timeout: Some(SimTime::from_secs(10)),
        acquire_timeout: None,
        acquire_timeout_law: PatienceLaw::Fixed,
        max_lifetime: None,
        max_uses: None,
        error_listener: true,
        queue: crate::scenario::QueueDiscipline::Fifo,
        job_limit: None,
    }
}

/// A client opened for `caller` and handed to it.
fn open(p: &mut Pool, caller: Caller) -> Id {
    let Connect::NewClient(id) = p.connect(caller) else {
        panic!("expected a new client")
    };
    p.slot_claimed(id);
    assert_eq!(p.connected(id), caller);
    id
}

fn callers(n: usize) -> Vec<Caller> {
    let mut s = Slab::default();
    (0..n)
        .map(|i| Caller::request(s.insert(()), 0, i as u32))
        .collect()
}

const R: CallerClass = CallerClass::Request;

#[test]
fn lazy_growth_then_queue_when_full() {
    let mut p = Pool::new(config(2), PoolKind::Requests, 0);
    let c = callers(3);
    let Connect::NewClient(a) = p.connect(c[0]) else {
        panic!()
    };
    assert_eq!(
        (p.total(), p.connecting()),
        (1, 1),
        "a connecting client counts toward max"
    );
    assert!(matches!(p.connect(c[1]), Connect::NewClient(_)));
    assert_eq!(p.connect(c[2]), Connect::Queued);
    assert_eq!(p.waiting(), 1);
    assert_eq!(p.connected(a), c[0]);
    assert_eq!(p.checked_out(), 1);
}

#[test]
fn release_reuses_lifo_and_serves_fifo() {
    let mut p = Pool::new(config(3), PoolKind::Requests, 0);
    let c = callers(6);
    let ids: Vec<Id> = (0..3).map(|i| open(&mut p, c[i])).collect();
    for (i, &id) in ids.iter().enumerate() {
        assert!(p.release(id, SimTime(i as u64), false, R).is_none());
    }
    // LIFO: the most recently released first.
    assert_eq!(p.connect(c[3]), Connect::Reused(ids[2]));
    assert_eq!(p.connect(c[4]), Connect::Reused(ids[1]));
    assert_eq!(p.connect(c[5]), Connect::Reused(ids[0]));
    // FIFO among waiters.
    let w = callers(2);
    assert_eq!(p.connect(w[0]), Connect::Queued);
    assert_eq!(p.connect(w[1]), Connect::Queued);
    p.release(ids[0], SimTime(9), false, R);
    assert_eq!(p.pulse(|_| true), Pulse::Grant(w[0], ids[0]));
    p.release(ids[1], SimTime(9), true, R); // with error: destroyed
    assert_eq!(p.total(), 2);
    assert!(matches!(p.pulse(|_| true), Pulse::NewClient(x, _) if x == w[1]));
}

#[test]
fn idle_eviction_respects_min_and_server_reaping_wins_when_sooner() {
    let mut cfg = config(2);
    cfg.min = 1;
    let mut p = Pool::new(cfg, PoolKind::Requests, 0);
    let c = callers(2);
    let ids: Vec<Id> = c.iter().map(|&x| open(&mut p, x)).collect();
    p.release(ids[0], SimTime::from_secs(0), false, R); // total 2 > min: evictable
    p.release(ids[1], SimTime::from_secs(1), false, R);
    assert_eq!(p.next_idle_deadline(), Some(SimTime::from_secs(10)));
    let due = p.take_due_idle(SimTime::from_secs(10));
    assert_eq!(
        (due.len(), due[0].0, due[0].2),
        (1, ids[0], IdleExit::Evicted)
    );
    // The second is at min now: its timer expires without closing it.
    assert!(p.take_due_idle(SimTime::from_secs(11)).is_empty());
    assert_eq!(p.total(), 1);
    assert_eq!(p.next_idle_deadline(), None);
    p.server_idle_timeout = Some(SimTime::from_secs(2));
    assert_eq!(p.next_idle_deadline(), Some(SimTime::from_secs(3)));
    let due = p.take_due_idle(SimTime::from_secs(3));
    assert_eq!(
        (due.len(), due[0].0, due[0].2),
        (1, ids[1], IdleExit::Reaped)
    );
    assert_eq!(p.total(), 0);
}

#[test]
fn leaked_clients_keep_their_place_until_removed() {
    let mut p = Pool::new(config(1), PoolKind::Job, 0);
    let c = callers(2);
    let id = open(&mut p, c[0]);
    p.leak(id, SimTime(5));
    assert_eq!((p.total(), p.leaked(), p.checked_out()), (1, 1, 0));
    assert_eq!((p.sessions(), p.leaked_sessions()), (1, 1));
    p.slot_lost(id);
    assert_eq!((p.sessions(), p.leaked_sessions()), (0, 0));
    assert_eq!(
        p.connect(c[1]),
        Connect::Queued,
        "a reaped leak still counts toward max"
    );
    let left = p.into_clients();
    assert_eq!(left.len(), 1, "only the process exit removes it");
    assert!(left[0].state == ClientState::Leaked && !left[0].has_slot);
}

fn job_callers(n: usize) -> Vec<Caller> {
    let mut s = Slab::default();
    (0..n)
        .map(|i| Caller::job(s.insert(()), 0, i as u32))
        .collect()
}

const J: CallerClass = CallerClass::Job;

#[test]
fn a_job_at_its_limit_queues_although_clients_are_idle() {
    let mut cfg = config(4);
    cfg.job_limit = Some(1);
    let mut p = Pool::new(cfg, PoolKind::Requests, 0);
    let (r, j) = (callers(3), job_callers(2));
    let a = open(&mut p, r[0]);
    let b = open(&mut p, r[1]);
    p.release(a, SimTime(1), false, R);
    p.release(b, SimTime(2), false, R);
    assert_eq!(p.connect(j[0]), Connect::Reused(b));
    assert_eq!(p.connect(j[1]), Connect::Queued, "at its limit");
    assert_eq!(p.connect(r[2]), Connect::Reused(a), "requests still served");
    p.release(b, SimTime(3), false, J);
    assert_eq!(p.pulse(|_| true), Pulse::Grant(j[1], b));
    assert_eq!(p.job_held(), 1);
}

#[test]
fn connecting_and_leaked_clients_count_toward_the_job_limit() {
    let mut cfg = config(5);
    cfg.job_limit = Some(2);
    let mut p = Pool::new(cfg, PoolKind::Requests, 0);
    let j = job_callers(4);
    let Connect::NewClient(a) = p.connect(j[0]) else {
        panic!("a new client")
    };
    let Connect::NewClient(b) = p.connect(j[1]) else {
        panic!("a new client")
    };
    assert_eq!(p.connect(j[2]), Connect::Queued, "two still connecting");
    p.slot_claimed(a);
    assert_eq!(p.connected(a), j[0]);
    p.leak(a, SimTime(1));
    assert_eq!(p.job_held(), 2, "a leak is never given back");
    assert!(p.connect_failed(b).is_some());
    assert_eq!(p.job_held(), 1);
    let Pulse::NewClient(c, _) = p.pulse(|_| true) else {
        panic!("room for the waiter")
    };
    assert_eq!((c, p.job_held()), (j[2], 2));
    assert_eq!(p.connect(j[3]), Connect::Queued);
}

#[test]
fn requests_first_serves_a_later_request_before_an_earlier_job() {
    let mut cfg = config(1);
    cfg.queue = crate::scenario::QueueDiscipline::RequestsFirst;
    let mut p = Pool::new(cfg, PoolKind::Requests, 0);
    let (r, j) = (callers(2), job_callers(1));
    let a = open(&mut p, r[0]);
    assert_eq!(p.connect(j[0]), Connect::Queued);
    assert_eq!(p.connect(r[1]), Connect::Queued);
    p.release(a, SimTime(1), false, R);
    assert_eq!(p.pulse(|_| true), Pulse::Grant(r[1], a));
}

#[test]
fn max_uses_one_closes_every_client_on_release() {
    let mut cfg = config(5);
    cfg.max_uses = Some(1);
    let mut p = Pool::new(cfg, PoolKind::Requests, 0);
    let c = callers(1);
    let id = open(&mut p, c[0]);
    assert!(p.release(id, SimTime(1), false, R).is_some());
    assert_eq!(p.total(), 0);
}
