//! What the summary reports, on small deterministic cases whose figures can
//! be derived by hand: exact means, the acquires that never got a
//! connection, the connection time of wasted work, and the sidecar's logins
//! by window.

mod common;

use common::{scenario, series, summary};
use pooldrill::metrics::summary::{AcquireSummary, UnfinishedSummary};

/// One pod, one worker, deterministic arrivals and holds, no setup time,
/// with `pool` and `requests` keys added and `extra` tables appended.
fn one_worker(rate: &str, hold: &str, pool: &str, requests: &str, extra: &str) -> String {
    format!(
        r#"
[meta]
name = "figures"
duration = "60s"
warmup = "0s"
seed = 1
sample_interval = "10s"
[fleet]
pods = 1
workers = 1
[traffic]
rate = "{rate}"
arrivals = "deterministic"
[requests]
hold = {{ dist = "deterministic", value = "{hold}" }}
{requests}
[pool]
{pool}
[database]
max_connections = 20
other_clients = 0
setup = {{ dist = "deterministic", value = "0s" }}
{extra}
"#
    )
}

fn unfinished(a: &AcquireSummary) -> &UnfinishedSummary {
    a.unfinished
        .as_ref()
        .expect("acquires report their unfinished waits")
}

/// Holds of exactly 0.1234567 s, never queued, no setup: every latency is
/// the hold, and the mean says so exactly (the histogram's buckets gave
/// 0.123488 s). The quantiles stay the histogram's, within 0.1 %.
#[test]
fn the_mean_latency_is_exact() {
    let s = summary(&scenario(&one_worker(
        "5/s",
        "123.4567ms",
        "max = 2",
        "",
        "",
    )));
    let r = &s.requests;
    assert!(r.completed > 250, "{}", r.completed);
    let mean = r.mean_latency_s.unwrap();
    assert!((mean - 0.1234567).abs() < 1e-12, "{mean}");
    let p50 = r.p50_latency_s.unwrap();
    assert!((0.1234567..0.1234567 * 1.001).contains(&p50), "{p50}");
}

/// `acquire_timeout = "0s"` (wait for ever), one connection held for longer
/// than the run: the first request takes it, every later one queues until
/// the end. They are all unfinished, still waiting; the completed-wait
/// figures keep counting only the acquire that ended.
#[test]
fn waits_that_never_end_are_reported_as_unfinished() {
    let s = summary(&scenario(&one_worker(
        "1/s",
        "1000s",
        "max = 1\nacquire_timeout = \"0s\"",
        "deadline = \"0s\"",
        "",
    )));
    let r = &s.requests;
    assert!(r.arrived >= 59, "{}", r.arrived);
    assert_eq!(r.in_flight, r.arrived);
    assert_eq!(s.acquire.count, 1, "only the first acquire ended");
    let u = unfinished(&s.acquire);
    assert_eq!(u.count, r.arrived - 1);
    assert_eq!(u.waiting_at_end, u.count);
    assert_eq!((u.abandoned, u.process_exit), (0, 0));
    // Arrivals one second apart: the ages are spread evenly below 60 s, the
    // oldest the second arrival's.
    let (mean, max) = (u.mean_age_s.unwrap(), u.max_age_s.unwrap());
    assert!(max > 57.0 && max < 60.0, "{max}");
    assert!(
        (mean - (max - (u.count - 1) as f64 / 2.0)).abs() < 1e-6,
        "{mean} {max}"
    );
    assert_eq!(unfinished(&s.acquire_by_class.request), u);
    assert_eq!(unfinished(&s.acquire_by_class.job).count, 0);
}

/// With `cancel_on_abort`, a queued request whose client leaves stops
/// waiting (abandoned); a restart kills the process with its queue
/// (process exit). Every acquire but the two that got the connection (one
/// per process) is unfinished.
#[test]
fn abandoned_waits_and_waits_lost_with_their_process_are_unfinished() {
    let s = summary(&scenario(&one_worker(
        "1/s",
        "1000s",
        "max = 1\nacquire_timeout = \"0s\"",
        "deadline = \"5s\"\ncancel_on_abort = true",
        "[[events]]\nat = \"30250ms\"\nkind = \"restart\"\npod = 0\npod_startup = \"2s\"",
    )));
    let r = &s.requests;
    let u = unfinished(&s.acquire);
    assert!(u.abandoned > 40, "{u:?}");
    // The first process's queue at the restart: the requests of the last
    // 5 s, whose clients had not left yet.
    assert_eq!(u.process_exit, 5, "{u:?}");
    // Every request acquired but those that found no live worker: the
    // unavailable ones less the six the restart killed (the holder and its
    // queue).
    let turned_away = r.unavailable - 1 - u.process_exit;
    assert_eq!(u.count, r.arrived - turned_away - 2, "{u:?} {r:?}");
    assert!(u.max_age_s.unwrap() <= 5.0 + 1e-9, "{u:?}");
    // Abandoned acquires keep their place among the acquires that ended.
    assert_eq!(s.acquire.count, 2 + u.abandoned);
}

/// A shared-pool job with `fan_out` > `pool.max` deadlocks: its run holds
/// the whole pool and waits for one more client for ever, and every request
/// after it queues behind. The summary shows the stuck work.
#[test]
fn a_nested_acquire_deadlock_shows_as_unfinished_work() {
    let s = summary(&scenario(&one_worker(
        "1/s",
        "10ms",
        "max = 2\nacquire_timeout = \"0s\"",
        "deadline = \"0s\"",
        "[job]\nperiod = \"20s\"\nfan_out = 3\nhold = { dist = \"deterministic\", value = \"1s\" }\npool_mode = \"shared\"\nrelease = \"finally\"\noverlap = false",
    )));
    let job = unfinished(&s.acquire_by_class.job);
    assert_eq!((job.count, job.waiting_at_end), (1, 1), "{job:?}");
    let requests = unfinished(&s.acquire_by_class.request);
    assert!(requests.waiting_at_end > 10, "{requests:?}");
    assert_eq!(s.requests.in_flight, requests.waiting_at_end);
    assert_eq!(s.job.runs_completed, 0);
}

/// Holds of 0.8 s, a deadline of 0.5 s, arrivals a second apart: no
/// request ever queues, every client leaves at its deadline while its
/// handler holds the connection, and every completed handler's 0.8 s is
/// wasted.
#[test]
fn wasted_work_reports_the_connection_time_it_held() {
    let (s, rows) = series(&scenario(&one_worker(
        "1/s",
        "800ms",
        "max = 1",
        "deadline = \"500ms\"",
        "",
    )));
    let r = &s.requests;
    assert!(r.completed >= 58, "{r:?}");
    assert_eq!(r.wasted, r.completed, "{r:?}");
    assert_eq!(r.gave_up, r.arrived - r.clients_waiting);
    assert!(
        (r.wasted_connection_s - 0.8 * r.completed as f64).abs() < 1e-9,
        "{r:?}"
    );
    let column: f64 = rows.iter().map(|row| row.wasted_connection_s).sum();
    assert!((column - r.wasted_connection_s).abs() < 1e-9, "{column}");
}

/// Holds of 1.5 s, arrivals a second apart, one connection: request k
/// (from 0) queues 0.5 k s, so its answer comes 0.5 k + 1.5 s after its
/// arrival. With a 2.2 s deadline requests 0 and 1 are answered in time
/// and waste nothing; every later one is still holding when its client
/// leaves, and its whole 1.5 s hold is wasted.
#[test]
fn only_handlers_whose_client_left_count_as_wasted() {
    let s = summary(&scenario(&one_worker(
        "1/s",
        "1500ms",
        "max = 1\nacquire_timeout = \"0s\"",
        "deadline = \"2200ms\"",
        "",
    )));
    let r = &s.requests;
    assert_eq!(r.goodput, 2, "{r:?}");
    assert_eq!(r.wasted, r.completed - 2, "{r:?}");
    assert!(r.wasted > 30, "{r:?}");
    assert!(
        (r.wasted_connection_s - 1.5 * r.wasted as f64).abs() < 1e-9,
        "{r:?}"
    );
}

/// Sidecars log in when they first get work: here all in the warm-up. The
/// after-warm-up counters read 0 like every other summary counter, and the
/// warm-up's logins are reported beside them.
#[test]
fn sidecar_logins_in_the_warm_up_are_reported_apart() {
    let text = one_worker(
        "5/s",
        "10ms",
        "max = 2",
        "",
        "[pooler]\npool_size = 2\nserver_idle_timeout = \"0s\"",
    )
    .replace("warmup = \"0s\"", "warmup = \"30s\"");
    let s = summary(&scenario(&text));
    let p = s.pooler.as_ref().expect("a sidecar");
    assert_eq!(p.logins, 0, "{p:?}");
    assert!(p.warmup_logins >= 1, "{p:?}");
    assert_eq!(p.warmup_refused_logins, 0);
}

/// `job.runs_starved` counts the runs that never got their connections: a
/// job whose own pool of 1 cannot give a run its 2 clients starves every
/// run (the second acquire times out); a job that gets its clients and
/// fails by its own error is failed, not starved.
#[test]
fn job_runs_starved_counts_the_runs_whose_acquires_failed() {
    let job = |pool_max: u32, error_probability: f64| {
        format!(
            "[job]\nperiod = \"10s\"\nruns_in = \"every_worker\"\nfan_out = 2\n\
             hold = {{ dist = \"deterministic\", value = \"1s\" }}\n\
             error_probability = {error_probability}\npool_mode = \"own\"\nrelease = \"finally\"\n\
             [job.pool]\nmax = {pool_max}\nacquire_timeout = \"100ms\"\n"
        )
    };
    let starved = summary(&scenario(&one_worker(
        "1/s",
        "10ms",
        "max = 2",
        "",
        &job(1, 0.0),
    )));
    assert!(starved.job.runs_started >= 5, "{:?}", starved.job);
    assert_eq!(starved.job.runs_starved, starved.job.runs_started);
    assert_eq!(starved.job.runs_failed, starved.job.runs_started);
    let failing = summary(&scenario(&one_worker(
        "1/s",
        "10ms",
        "max = 2",
        "",
        &job(2, 1.0),
    )));
    assert!(failing.job.runs_failed >= 5, "{:?}", failing.job);
    assert_eq!(failing.job.runs_starved, 0);
}
