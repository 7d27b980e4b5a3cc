//! Pool priorities, which pg-pool does not have (docs/semantics.md#priorities):
//! a requests-first order of the waiters (`pool.queue`) and a reservation
//! that caps what the job may hold (`pool.job_limit`), with the job in the
//! worker's shared pool. Their rules through the trace, their cost to the
//! job as paired comparisons over replications (common random numbers:
//! the same seeds for both orders), and the job's starvation under
//! overload.

mod common;

use common::{family_confidence, scenario, summary, traced, with_seed};
use pooldrill::model::trace::TraceKind;
use pooldrill::stats::Estimate;
use rayon::prelude::*;
use std::collections::HashMap;

/// One pod, two workers, pools of 5; requests at 3.5 Erlangs and the job
/// (every 4 s in every worker, one client for ~1 s) at 0.25 per pool.
fn busy(queue: &str, extra: &str) -> String {
    format!(
        r#"
[meta]
name = "prio"
duration = "3000s"
warmup = "100s"
sample_interval = "10s"
[fleet]
pods = 1
workers = 2
[traffic]
rate = "14/s"
[requests]
hold = {{ dist = "exponential", mean = "500ms" }}
deadline = "0s"
[pool]
max = 5
idle_timeout = "0s"
acquire_timeout = "0s"
queue = "{queue}"
{extra}
[database]
max_connections = 100
other_clients = 0
setup = {{ dist = "deterministic", value = "0s" }}
[job]
period = "4s"
runs_in = "every_worker"
fan_out = 1
hold = {{ dist = "exponential", mean = "1s" }}
error_probability = 0
pool_mode = "shared"
release = "finally"
"#
    )
}

#[test]
fn requests_first_never_serves_the_job_while_a_request_waits() {
    let s = scenario(&busy("requests_first", "").replace("3000s", "600s"));
    let (_, events) = traced(&s);
    // Callers waiting in each pool: (class, caller, part).
    let mut waiting: HashMap<u32, Vec<(&str, u32, u32)>> = HashMap::new();
    let mut job_served_after_waiting = 0;
    for e in &events {
        let (Some(pool), Some(class), Some(caller), Some(part)) =
            (e.pool, e.class, e.caller, e.part)
        else {
            continue;
        };
        let key = (class, caller, part);
        let queue = waiting.entry(pool).or_default();
        match e.kind {
            TraceKind::Queued => queue.push(key),
            TraceKind::Granted | TraceKind::ConnectStarted | TraceKind::QueueTimeout => {
                let Some(i) = queue.iter().position(|k| *k == key) else {
                    continue;
                };
                queue.remove(i);
                if class == "job" && e.kind != TraceKind::QueueTimeout {
                    job_served_after_waiting += 1;
                    assert!(
                        queue.iter().all(|k| k.0 == "job"),
                        "t = {}: a job waiter was served while a request waited",
                        e.t_s
                    );
                }
            }
            _ => {}
        }
    }
    assert!(
        job_served_after_waiting > 10,
        "the job must queue: {job_served_after_waiting}"
    );
}

#[test]
fn requests_first_shortens_request_waits_and_lengthens_the_jobs() {
    // Paired over the same 20 seeds: FIFO minus requests-first for the
    // requests' mean wait, and the other way round for the job's.
    let (fifo, first) = (busy("fifo", ""), busy("requests_first", ""));
    let pairs: Vec<[f64; 2]> = (21_000..21_020u64)
        .into_par_iter()
        .map(|seed| {
            let a = summary(&with_seed(&fifo, seed));
            let b = summary(&with_seed(&first, seed));
            let wait = |s: &pooldrill::metrics::Summary, job: bool| {
                let c = if job {
                    &s.acquire_by_class.job
                } else {
                    &s.acquire_by_class.request
                };
                c.mean_wait_s.unwrap_or(f64::NAN)
            };
            [
                wait(&a, false) - wait(&b, false),
                wait(&b, true) - wait(&a, true),
            ]
        })
        .collect();
    let conf = family_confidence(2);
    for (k, what) in ["request wait saved", "job wait added"].iter().enumerate() {
        let values: Vec<f64> = pairs.iter().map(|p| p[k]).collect();
        let e = Estimate::from_replications(&values, conf);
        eprintln!("{what}: {:.4} ± {:.4} s", e.mean, e.half_width);
        assert!(
            e.lo() > 0.0,
            "{what}: {:.4} ± {:.4} s",
            e.mean,
            e.half_width
        );
    }
}

#[test]
fn under_overload_requests_first_starves_the_job() {
    // Requests alone need 5.5 clients of 5: their queue never empties, so
    // with requests first the job is never served after the first moments;
    // FIFO still gives it its turn.
    let overload = |queue: &str| {
        busy(queue, "")
            .replace("rate = \"14/s\"", "rate = \"22/s\"")
            .replace("acquire_timeout = \"0s\"", "acquire_timeout = \"10s\"")
            .replace("3000s", "400s")
    };
    let first = summary(&scenario(&overload("requests_first")));
    let fifo = summary(&scenario(&overload("fifo")));
    assert_eq!(first.job.runs_completed, 0, "{:?}", first.job);
    assert_eq!(first.job.runs_failed, first.acquire_by_class.job.timed_out);
    assert!(fifo.job.runs_completed > 0, "{:?}", fifo.job);
}

#[test]
fn a_reservation_bounds_what_a_leaky_job_takes_from_requests() {
    // Every run fails and leaks its client: without a limit the job ends up
    // holding the whole pool; with job_limit = 2 it holds 2 at most (an
    // invariant checked after every event) and requests keep 3.
    let leaky = |extra: &str| {
        busy("fifo", extra)
            .replace("error_probability = 0", "error_probability = 1")
            .replace("release = \"finally\"", "release = \"leaky\"")
            .replace("acquire_timeout = \"0s\"", "acquire_timeout = \"2s\"")
            .replace("rate = \"14/s\"", "rate = \"4/s\"")
            .replace("3000s", "600s")
    };
    let capped = summary(&scenario(&leaky("job_limit = 2")));
    let open = summary(&scenario(&leaky("")));
    assert!(
        capped.connections.leaked <= 2 * 2,
        "{}",
        capped.connections.leaked
    );
    assert_eq!(capped.requests.acquire_timeouts, 0);
    assert!(
        open.requests.acquire_timeouts > 0,
        "without the limit, leaks starve requests"
    );
}

#[test]
fn the_shipped_scenario_runs() {
    let text = common::shipped("scenarios/priorities.toml")
        .replace("duration = \"30m\"", "duration = \"3m\"")
        .replace("warmup = \"5m\"", "warmup = \"1m\"");
    let s = summary(&scenario(&text));
    assert!(s.job.runs_started > 0);
    assert!(
        s.acquire_by_class.request.found_full > 0,
        "the slow day queues"
    );
}
