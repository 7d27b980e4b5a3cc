//! The queue-based job (`job.pool_mode = "queue"`): runs enqueue work, one
//! consumer per pod drains it on one connection of its own.

mod common;

use common::{scenario, series, summary};

fn fleet(pods: u32, period: &str, hold: &str, extra: &str) -> String {
    format!(
        r#"
[meta]
name = "queue-job"
duration = "1000s"
sample_interval = "1s"
[fleet]
pods = {pods}
workers = 4
[traffic]
rate = "{rate}/s"
[requests]
hold = {{ dist = "exponential", mean = "20ms" }}
deadline = "0s"
[pool]
max = 5
acquire_timeout = "5s"
[database]
max_connections = 200
other_clients = 0
[job]
period = "{period}"
runs_in = "every_worker"
fan_out = 1
hold = {hold}
error_probability = 0
pool_mode = "queue"
release = "finally"
{extra}
"#,
        rate = 20 * pods
    )
}

#[test]
fn a_busy_consumer_falls_behind_at_its_own_pace() {
    // One pod, four producers every 40 s (an item every 10 s on average),
    // items of exactly 15 s: the consumer works without a break from its
    // first item and takes one every 15 s; the rest piles up.
    let text = fleet(1, "40s", r#"{ dist = "deterministic", value = "15s" }"#, "");
    let s = summary(&scenario(&text));
    let q = s.job.queue.as_ref().expect("queue section");
    assert_eq!(s.job.runs_started, 100, "four producers, 25 ticks each");
    // The first item comes within the first 40 s; then one every 15 s up to
    // the end: 1000 s − 15 s × (taken − 1) is the first take, plus less than
    // one item's time.
    let first_plus_slack = 1000.0 - 15.0 * (q.taken - 1) as f64;
    assert!(
        (0.0..55.0).contains(&first_plus_slack),
        "{} items taken",
        q.taken
    );
    assert_eq!(q.backlog_at_end, s.job.runs_started - q.taken);
    assert_eq!(
        s.job.runs_completed,
        q.taken - 1,
        "one in progress at the end"
    );
    // Item k is taken 15 (k − 1) s after the first and enqueued about
    // 10 (k − 1) s after it, give or take the producers' phases (< 40 s):
    // the mean wait is 5 × (taken − 1) / 2 ± 20 s, and most items finish
    // more than a period (40 s) after they were enqueued.
    let expected = 5.0 * (q.taken - 1) as f64 / 2.0;
    let mean = q.mean_wait_s.unwrap();
    assert!((mean - expected).abs() < 20.0, "{mean} vs {expected}");
    assert!(
        s.job.runs_late > s.job.runs_completed * 3 / 4,
        "{:?}",
        s.job
    );
    assert_eq!(s.requests.acquire_timeouts, 0);
}

#[test]
fn one_connection_per_pod_whatever_the_producers() {
    // Five pods, 20 producers, items of 3 s every 2 s per pod: the
    // consumers are always busy, yet hold one server connection per pod.
    let text = fleet(5, "8s", r#"{ dist = "deterministic", value = "3s" }"#, "");
    let (s, rows) = series(&scenario(&text));
    assert!(rows.iter().all(|r| r.open_job_pools <= 5));
    assert!(rows.iter().any(|r| r.open_job_pools == 5));
    assert_eq!(s.connections.possible, 5 * 4 * 5 + 5);
    assert!(s.job.queue.as_ref().unwrap().backlog_at_end > 100);
}

#[test]
fn a_leaky_consumer_leaks_one_connection_and_stops() {
    // Every item fails and leaks the consumer's only client: one leak per
    // pod, then the consumers wait out their acquire timeout on a full pool
    // of one; the requests never notice.
    let text = fleet(
        3,
        "8s",
        r#"{ dist = "deterministic", value = "1s" }"#,
        "[job.pool]\nacquire_timeout = \"5s\"",
    )
    .replace("error_probability = 0\n", "error_probability = 1\n")
    .replace("release = \"finally\"", "release = \"leaky\"");
    let (s, rows) = series(&scenario(&text));
    assert_eq!(rows.last().map(|r| r.leaked_cumulative), Some(3));
    assert_eq!(s.job.runs_completed, 0);
    assert!(s.acquire_by_class.job.timed_out > 0);
    assert_eq!(s.requests.acquire_timeouts + s.requests.refused, 0);
}

#[test]
fn queue_mode_needs_one_connection() {
    let text = fleet(1, "8s", r#"{ dist = "deterministic", value = "1s" }"#, "");
    let e =
        pooldrill::scenario::Scenario::parse("q.toml", &text.replace("fan_out = 1", "fan_out = 2"))
            .unwrap_err()
            .to_string();
    assert!(
        e.contains("job.fan_out: expected fan_out = 1 with pool_mode = \"queue\""),
        "{e}"
    );
    let e = pooldrill::scenario::Scenario::parse("q.toml", &format!("{text}[job.pool]\nmax = 3\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("job.pool.max: expected max = 1"), "{e}");
}

#[test]
fn the_shipped_scenario_runs() {
    let text = common::shipped("scenarios/queue-based.toml")
        .replace("duration = \"30m\"", "duration = \"3m\"")
        .replace("warmup = \"5m\"", "warmup = \"1m\"");
    let s = summary(&scenario(&text));
    let q = s.job.queue.as_ref().expect("queue section");
    assert!(q.taken > 0);
    assert_eq!(s.connections.possible, 20 * 4 * 6 + 20);
}
