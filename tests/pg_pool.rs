//! pg-pool's behaviour, one rule per test (docs/semantics.md#pg-pool, and the
//! behaviours confirmed on a real pg-pool, docs/semantics.md#confirmed-on-a-real-pg-pool),
//! observed through the simulation's trace.

mod common;

use common::{scenario, series, traced};
use pooldrill::metrics::LogKind;
use pooldrill::model::trace::{TraceEvent, TraceKind};
use std::collections::HashMap;

/// One pod, one worker, and the given tables appended.
fn one_pool(tables: &str) -> String {
    format!(
        r#"
[meta]
name = "t"
duration = "{{DURATION}}"
seed = 3
[fleet]
pods = 1
workers = 1
[database]
max_connections = 100
other_clients = 0
{tables}
"#
    )
}

fn tiny(duration: &str, tables: &str) -> pooldrill::scenario::Scenario {
    scenario(&one_pool(tables).replace("{DURATION}", duration))
}

fn of(events: &[TraceEvent], kind: TraceKind) -> Vec<&TraceEvent> {
    events.iter().filter(|e| e.kind == kind).collect()
}

/// A busy pool with waiters, releases, idle eviction and new connections.
fn busy_pool() -> pooldrill::scenario::Scenario {
    tiny(
        "600s",
        r#"
[traffic]
rate = "40/s"
# Bursts: the rate swings between 10/s and 70/s every minute.
profile = [
  { at = "60s", rate = "70/s" }, { at = "120s", rate = "10/s" },
  { at = "180s", rate = "70/s" }, { at = "240s", rate = "10/s" },
  { at = "300s", rate = "70/s" }, { at = "360s", rate = "10/s" },
]
[requests]
hold = { dist = "exponential", mean = "100ms" }
[pool]
max = 5
idle_timeout = "2s"
[database.setup]
dist = "lognormal"
median = "5ms"
p99 = "20ms"
"#,
    )
}

#[test]
fn queued_waiters_are_served_first_in_first_out() {
    let (_, events) = traced(&busy_pool());
    let queued: Vec<u32> = of(&events, TraceKind::Queued)
        .iter()
        .map(|e| e.caller.unwrap())
        .collect();
    assert!(
        queued.len() > 1000,
        "the scenario must queue: {}",
        queued.len()
    );
    // Requests that queued, in the order they were served (a grant, or a new
    // client started for them by a pulse).
    let mut waiting: Vec<u32> = Vec::new();
    let mut served_order = Vec::new();
    let mut queue_order = Vec::new();
    for e in &events {
        let caller = e.caller.unwrap_or(u32::MAX);
        match e.kind {
            TraceKind::Queued => {
                waiting.push(caller);
                queue_order.push(caller);
            }
            TraceKind::Granted | TraceKind::ConnectStarted if waiting.contains(&caller) => {
                waiting.retain(|&c| c != caller);
                served_order.push(caller);
            }
            _ => {}
        }
    }
    queue_order.truncate(served_order.len());
    assert_eq!(
        served_order, queue_order,
        "waiters are served strictly in queue order"
    );
}

#[test]
fn idle_clients_are_reused_last_in_first_out() {
    let (_, events) = traced(&busy_pool());
    // Replay the idle stack from the trace and check every reuse takes its top.
    let mut stack: Vec<u32> = Vec::new();
    let mut reuses = 0;
    for e in &events {
        match e.kind {
            TraceKind::Released => stack.push(e.client.unwrap()),
            TraceKind::Evicted | TraceKind::Reaped => stack.retain(|&c| Some(c) != e.client),
            TraceKind::Granted if stack.contains(&e.client.unwrap()) => {
                assert_eq!(
                    stack.pop(),
                    e.client,
                    "at t = {}: reuse must take the most recently released client",
                    e.t_s
                );
                reuses += 1;
            }
            _ => {}
        }
    }
    assert!(reuses > 10_000, "{reuses} reuses");
}

#[test]
fn pools_grow_lazily_only_when_nothing_is_idle() {
    let (_, events) = traced(&busy_pool());
    // It starts empty: the first event of all is an arrival, not a connection.
    assert_eq!(events[0].kind, TraceKind::Arrived);
    let mut idle: Vec<u32> = Vec::new();
    let mut starts = 0;
    for e in &events {
        match e.kind {
            TraceKind::Released => idle.push(e.client.unwrap()),
            TraceKind::Evicted | TraceKind::Reaped => idle.retain(|&c| Some(c) != e.client),
            TraceKind::Granted => idle.retain(|&c| Some(c) != e.client),
            TraceKind::ConnectStarted => {
                assert!(
                    idle.is_empty(),
                    "at t = {}: a new client while {idle:?} are idle",
                    e.t_s
                );
                starts += 1;
            }
            _ => {}
        }
    }
    assert!(starts > 5, "{starts} connections");
}

#[test]
fn idle_timeout_closes_clients_and_the_pool_empties_after_traffic_stops() {
    let s = tiny(
        "60s",
        r#"
[traffic]
rate = "50/s"
profile = [{ at = "10s", rate = "0/s" }]
[requests]
hold = { dist = "exponential", mean = "20ms" }
[pool]
max = 10
idle_timeout = "5s"
"#,
    );
    let (_, rows) = series(&s);
    let open_at = |t: f64| {
        rows.iter()
            .find(|r| r.time_s == t)
            .unwrap()
            .open_request_pools
    };
    assert!(open_at(10.0) > 0, "clients are open while traffic flows");
    assert!(open_at(14.0) > 0, "nothing is evicted before 5 s idle");
    assert_eq!(
        open_at(16.0),
        0,
        "every client evicted 5 s after its last release"
    );
    let (_, events) = traced(&s);
    let last_release: HashMap<u32, f64> = of(&events, TraceKind::Released)
        .iter()
        .map(|e| (e.client.unwrap(), e.t_s))
        .collect();
    for e in of(&events, TraceKind::Evicted) {
        let released = last_release[&e.client.unwrap()];
        assert!(
            (e.t_s - released - 5.0).abs() < 1e-6,
            "evicted at {} after release at {released}",
            e.t_s
        );
    }
}

#[test]
fn connecting_clients_count_toward_max() {
    // max 2, handshakes of 100 ms, arrivals at 1, 2 and 3 ms: the third finds
    // two clients still connecting and queues.
    let s = tiny(
        "1s",
        r#"
[traffic]
rate = "1000/s"
arrivals = "deterministic"
profile = [{ at = "3500us", rate = "0/s" }]
[requests]
hold = { dist = "deterministic", value = "10ms" }
[pool]
max = 2
"#,
    );
    let s = {
        let mut s = s;
        s.database.setup = pooldrill::dist::Dist::Deterministic(0.1);
        s
    };
    let (_, events) = traced(&s);
    let kinds: Vec<TraceKind> = events.iter().take(6).map(|e| e.kind).collect();
    use TraceKind::*;
    assert_eq!(
        kinds,
        vec![
            Arrived,
            ConnectStarted,
            Arrived,
            ConnectStarted,
            Arrived,
            Queued
        ]
    );
    assert!(
        events[5].t_s < 0.1,
        "queued while both handshakes were still running"
    );
}

#[test]
fn queued_callers_time_out_with_the_queue_message() {
    let s = tiny(
        "10s",
        r#"
[traffic]
rate = "20/s"
[requests]
hold = { dist = "deterministic", value = "1s" }
[pool]
max = 1
acquire_timeout = "100ms"
"#,
    );
    let (summary, events) = traced(&s);
    let queued: HashMap<u32, f64> = of(&events, TraceKind::Queued)
        .iter()
        .map(|e| (e.caller.unwrap(), e.t_s))
        .collect();
    let timeouts = of(&events, TraceKind::QueueTimeout);
    assert!(!timeouts.is_empty());
    for e in timeouts {
        let q = queued[&e.caller.unwrap()];
        assert!(
            (e.t_s - q - 0.1).abs() < 1e-6,
            "timed out {} s after queueing",
            e.t_s - q
        );
    }
    assert!(summary.requests.queue_timeouts > 0);
    assert_eq!(summary.requests.connect_timeouts, 0);
}

#[test]
fn a_slow_handshake_times_out_with_the_connection_message() {
    let mut s = tiny(
        "5s",
        r#"
[traffic]
rate = "10/s"
[requests]
hold = { dist = "deterministic", value = "10ms" }
[pool]
max = 10
acquire_timeout = "100ms"
"#,
    );
    s.database.setup = pooldrill::dist::Dist::Deterministic(0.5);
    let (summary, events) = traced(&s);
    let started: HashMap<u32, f64> = of(&events, TraceKind::ConnectStarted)
        .iter()
        .map(|e| (e.client.unwrap(), e.t_s))
        .collect();
    let kills = of(&events, TraceKind::ConnectTimeout);
    assert!(!kills.is_empty());
    for e in kills {
        assert!((e.t_s - started[&e.client.unwrap()] - 0.1).abs() < 1e-6);
    }
    assert_eq!(summary.requests.queue_timeouts, 0);
    assert_eq!(
        summary.requests.connect_timeouts,
        summary.requests.arrived - summary.requests.in_flight
    );
}

#[test]
fn a_promoted_waiter_keeps_its_queue_timer_and_its_connection_joins_the_pool() {
    // The promoted-waiter probe (docs/semantics.md#confirmed-on-a-real-pg-pool):
    // max 1, timeout 300 ms, handshake 170 ms.
    // A arrives at 5 ms, connects, holds 50 ms and releases with an error
    // (the client is destroyed) at 225 ms. B arrived at 10 ms and queued; it
    // is promoted to a new connection at 225 ms, but its queue timer still
    // fires at 310 ms, mid-handshake. The orphan connection completes at
    // 395 ms and joins the pool as idle.
    let mut s = tiny(
        "2s",
        r#"
[traffic]
rate = "200/s"
arrivals = "deterministic"
profile = [{ at = "11ms", rate = "0/s" }]
[requests]
hold = { dist = "deterministic", value = "50ms" }
error_probability = 1.0
error_destroys_client = true
[pool]
max = 1
acquire_timeout = "300ms"
"#,
    );
    s.database.setup = pooldrill::dist::Dist::Deterministic(0.17);
    let (_, events) = traced(&s);
    let t = |kind: TraceKind, n: usize| of(&events, kind)[n].t_s;
    assert!((t(TraceKind::Queued, 0) - 0.010).abs() < 1e-9);
    assert!(
        (t(TraceKind::Closed, 0) - 0.225).abs() < 1e-9,
        "A's client destroyed"
    );
    assert!(
        (t(TraceKind::ConnectStarted, 1) - 0.225).abs() < 1e-9,
        "B promoted"
    );
    assert!(
        (t(TraceKind::QueueTimeout, 0) - 0.310).abs() < 1e-9,
        "B's queue timer kept running"
    );
    assert!(
        (t(TraceKind::Released, 0) - 0.395).abs() < 1e-9,
        "orphan joins the pool idle"
    );
}

#[test]
fn each_refusal_goes_to_the_caller_whose_connect_it_was_and_starts_the_next() {
    // The refusal-routing probe (docs/semantics.md#confirmed-on-a-real-pg-pool):
    // 16 other clients on a 20-slot server with
    // 3 reserved: one usable slot. Pool max 4, six requests 1 ms apart.
    let mut s = tiny(
        "1s",
        r#"
[traffic]
rate = "1000/s"
arrivals = "deterministic"
profile = [{ at = "6500us", rate = "0/s" }]
[requests]
hold = { dist = "deterministic", value = "500ms" }
[pool]
max = 4
"#,
    );
    s.database.max_connections = 20;
    s.database.other_clients = 16;
    s.database.setup = pooldrill::dist::Dist::Deterministic(0.01);
    let (summary, events) = traced(&s);
    let mut bound: HashMap<u32, u32> = HashMap::new(); // client → caller
    let mut attempts: HashMap<u32, u32> = HashMap::new(); // caller → connects
    let mut queue: Vec<u32> = Vec::new();
    let mut refusals = 0;
    for (i, e) in events.iter().enumerate() {
        match e.kind {
            TraceKind::Queued => queue.push(e.caller.unwrap()),
            TraceKind::ConnectStarted => {
                bound.insert(e.client.unwrap(), e.caller.unwrap());
                *attempts.entry(e.caller.unwrap()).or_default() += 1;
                queue.retain(|&c| Some(c) != e.caller);
            }
            TraceKind::RefusedReserved | TraceKind::RefusedTooManyClients => {
                refusals += 1;
                assert_eq!(
                    Some(bound[&e.client.unwrap()]),
                    e.caller,
                    "the refusal goes to the caller the connect was for"
                );
                if let Some(&head) = queue.first() {
                    // The pulse that follows starts the head waiter's connect
                    // at once (refusals cascade, one setup time each).
                    let next = events[i + 1..]
                        .iter()
                        .find(|f| f.kind == TraceKind::ConnectStarted)
                        .unwrap();
                    assert_eq!((next.t_s, next.caller), (e.t_s, Some(head)));
                }
            }
            _ => {}
        }
    }
    assert!(
        attempts.values().all(|&n| n == 1),
        "one attempt per caller, no retry: {attempts:?}"
    );
    assert_eq!(attempts.len(), 6);
    assert_eq!(summary.requests.arrived, 6);
    assert_eq!(summary.requests.refused, refusals);
    // Each handshake claims a slot before authenticating, so the ones in
    // flight crowd each other out: only the last one through connects.
    assert_eq!(
        (summary.requests.refused, summary.requests.completed),
        (5, 1)
    );
}

fn leaky_job(extra: &str) -> pooldrill::scenario::Scenario {
    tiny(
        "300s",
        &format!(
            r#"
[traffic]
rate = "0/s"
[job]
period = "10s"
fan_out = 1
hold = {{ dist = "deterministic", value = "1s" }}
error_probability = 1.0
pool_mode = "own"
release = "leaky"
[job.pool]
max = 3
{extra}
"#
        ),
    )
}

#[test]
fn a_leaked_client_holds_its_pool_slot_and_its_server_slot() {
    let (summary, rows) = series(&leaky_job(""));
    // Three runs fill the job's pool with leaks; later runs wait for ever.
    assert_eq!(summary.connections.leaked, 3);
    let last = rows.last().unwrap();
    assert_eq!(
        (last.open_leaked, last.db_occupied),
        (3, 3),
        "three server slots held to the end"
    );
    let peak = rows.iter().map(|r| r.open_leaked).max().unwrap();
    assert_eq!(peak, 3);
    assert!(
        rows.windows(2)
            .all(|w| w[1].open_leaked >= w[0].open_leaked),
        "never released"
    );
}

#[test]
fn server_reaping_frees_the_server_slot_but_not_the_pool_slot() {
    // The job listens for its clients' 'error' events (else: see below).
    let mut s = leaky_job("");
    s.versions[0].app.job.as_mut().unwrap().error_listener = true;
    s.database.idle_session_timeout = Some(pooldrill::engine::SimTime::from_secs(20));
    let mut sink = pooldrill::metrics::MemorySink::default();
    let options = pooldrill::model::RunOptions {
        check_invariants: true,
        prefetch: None,
    };
    let summary = pooldrill::model::run(&s, &mut sink, options).unwrap();
    assert_eq!(
        summary.connections.leaked, 3,
        "the pool still counts its three leaks: no more runs get a client"
    );
    let last = sink.rows.last().unwrap();
    assert_eq!(
        (last.open_leaked, last.db_occupied),
        (0, 0),
        "the server reaped all three sessions"
    );
    let pod_open = sink.pods.last().unwrap().open;
    assert_eq!(pod_open, 3, "pg-pool's totalCount still includes them");
}

#[test]
fn without_an_error_listener_a_reaped_leak_crashes_the_worker() {
    // docs/semantics.md#reaping-leaked-sessions: a leaked client with no 'error' listener
    // takes the Node process down when the server kills its session. The
    // worker comes back with empty pools, and the job leaks again.
    let mut s = leaky_job("");
    s.database.idle_session_timeout = Some(pooldrill::engine::SimTime::from_secs(20));
    let mut sink = pooldrill::metrics::MemorySink::default();
    let options = pooldrill::model::RunOptions {
        check_invariants: true,
        prefetch: None,
    };
    let summary = pooldrill::model::run(&s, &mut sink, options).unwrap();
    let crashes = sink
        .events
        .iter()
        .filter(|e| e.kind == LogKind::WorkerCrashed)
        .count();
    let restarts = sink
        .events
        .iter()
        .filter(|e| e.kind == LogKind::WorkerRestarted)
        .count();
    assert!(crashes >= 2, "{crashes} crashes");
    assert!(restarts >= crashes - 1);
    assert!(
        summary.connections.leaked > 3,
        "a restarted worker's job leaks again"
    );
}
