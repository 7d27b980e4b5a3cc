//! The clients' retries (docs/retries.md): the M/M/1 retrial queue against
//! its closed form, the retry budget's bound, conservation with requests in
//! backoff, and `attempts = 1` against no `[retry]` table, byte for byte.

mod common;

use assert_cmd::Command;
use common::{assert_in_band, family_confidence, replicate, shipped, summary, variant, with_seed};
use pooldrill::metrics::Summary;
use pooldrill::theory;
use std::path::Path;

/// Comparisons in this file's bands.
const COMPARISONS: usize = 6;
const REPLICATIONS: u64 = 12;

/// The shipped retrial scenario at λ = `lambda`/s, θ = `theta`/s (μ = 100/s).
fn retrial(lambda: u32, theta: f64) -> String {
    let mean_ms = 1000.0 / theta;
    variant(
        &shipped("scenarios/theory/mm1-retrial.toml"),
        &[
            ("rate = \"80/s\"", &format!("rate = \"{lambda}/s\"")),
            (
                "backoff = { dist = \"exponential\", mean = \"20ms\" }",
                &format!("backoff = {{ dist = \"exponential\", mean = \"{mean_ms}ms\" }}"),
            ),
        ],
    )
}

fn retries_per_request(s: &Summary) -> f64 {
    s.requests.retries.unwrap() as f64 / s.requests.arrived as f64
}

fn check_retrial_point(lambda: u32, theta: f64, seeds: u64) {
    let text = retrial(lambda, theta);
    let conf = family_confidence(COMPARISONS);
    let [retries, response] = replicate(&text, seeds..seeds + REPLICATIONS, conf, |s| {
        [retries_per_request(s), s.requests.mean_latency_s.unwrap()]
    });
    let f = theory::mm1_retrial(lambda as f64, 100.0, theta);
    let point = format!("ρ = {}, θ/μ = {}", lambda as f64 / 100.0, theta / 100.0);
    assert_in_band(
        &format!("retries per request, {point}"),
        &retries,
        f.retries,
    );
    assert_in_band(&format!("time to answer, {point}"), &response, f.response);
}

#[test]
fn retrial_queue_at_high_load_with_slow_retries() {
    check_retrial_point(80, 50.0, 28_000);
}

#[test]
fn retrial_queue_at_high_load_with_fast_retries() {
    check_retrial_point(80, 200.0, 28_100);
}

#[test]
fn retrial_queue_at_half_load() {
    check_retrial_point(50, 50.0, 28_200);
}

/// The storm with `[retry]` replaced by `table`, run for `duration`.
fn storm_with(table: &str, duration: &str) -> String {
    let text = shipped("scenarios/retry-storm.toml");
    let (head, tail) = text.split_once("[retry]").unwrap();
    let events = &tail[tail.find("[[events]]").unwrap()..];
    variant(
        &format!("{head}{table}\n\n{events}"),
        &[("duration = \"6m\"", &format!("duration = \"{duration}\""))],
    )
}

#[test]
fn a_budget_bounds_the_retries() {
    // 8 workers; every retry costs a token, every first attempt adds b.
    for (seed, budget) in [(1, 0.0), (2, 0.05), (3, 0.1), (4, 0.5)] {
        let table = format!(
            "[retry]\nattempts = 0\non = [\"refused\", \"acquire_timeout\", \"attempt_timeout\"]\nattempt_timeout = \"1s\"\nbackoff = {{ dist = \"deterministic\", value = \"10ms\" }}\nmultiplier = 1.0\njitter = \"none\"\nbudget = {budget}\n"
        );
        let s = summary(&with_seed(&storm_with(&table, "150s"), seed));
        let r = &s.requests;
        let (retries, arrived) = (r.retries.unwrap() as f64, r.arrived as f64);
        let bound = budget * arrived + 10.0 * 8.0;
        assert!(
            retries <= bound,
            "budget {budget}: {retries} retries > {bound}"
        );
        assert!(
            r.retries_dropped.unwrap() > 0,
            "budget {budget}: the bucket never ran dry"
        );
    }
}

#[test]
fn every_request_ends_once_with_backoffs_and_abandoned_attempts() {
    // Every invariant is checked after every event (`summary`), the two
    // partitions with the requests in backoff among them.
    for cancel in [false, true] {
        let text = storm_with(
            "[retry]\nattempts = 0\non = [\"refused\", \"acquire_timeout\", \"attempt_timeout\", \"unavailable\"]\nattempt_timeout = \"700ms\"\nbackoff = { dist = \"exponential\", mean = \"50ms\" }\nmultiplier = 1.5\ncap = \"2s\"\njitter = \"equal\"\n",
            "140s",
        )
        .replace("deadline = \"30s\"", &format!("deadline = \"20s\"\ncancel_on_abort = {cancel}"));
        let s = summary(&common::scenario(&text));
        let r = &s.requests;
        let handler = r.completed
            + r.acquire_timeouts
            + r.refused
            + r.app_errors
            + r.unavailable
            + r.cancelled
            + r.in_flight
            + r.in_backoff.unwrap();
        assert_eq!(handler, r.arrived, "cancel_on_abort = {cancel}");
        let client = r.goodput + r.errors + r.gave_up + r.clients_waiting + r.in_backoff.unwrap();
        assert_eq!(client, r.arrived, "cancel_on_abort = {cancel}");
        assert_eq!(r.attempts.unwrap(), r.arrived + r.retries.unwrap());
        let by = s.attempts_by_outcome.as_ref().unwrap();
        assert!(by.attempt_timeouts > 0 && r.retries.unwrap() > 0);
    }
}

fn run_into(scenario: &Path, out: &Path) {
    Command::cargo_bin("pooldrill")
        .unwrap()
        .args(["-q", "run"])
        .arg(scenario)
        .args(["--duration", "150s", "--out"])
        .arg(out)
        .assert()
        .success();
}

/// `text` without its lines holding any of `keys`.
fn without(text: &str, keys: &[&str]) -> String {
    text.lines()
        .filter(|l| !keys.iter().any(|k| l.contains(k)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The CSV `text` without its last `n` columns.
fn drop_columns(text: &str, n: usize) -> String {
    text.lines()
        .map(|l| {
            let cut = l.rmatch_indices(',').nth(n - 1).unwrap().0;
            l[..cut].to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn one_attempt_equals_no_retry_table() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = shipped("scenarios/retry-storm.toml");
    let (head, tail) = plain.split_once("[retry]").unwrap();
    let events = &tail[tail.find("[[events]]").unwrap()..];
    let none = format!("{head}{events}");
    let one = format!("{head}[retry]\nattempts = 1\n\n{events}");
    for (name, text) in [("none", &none), ("one", &one)] {
        std::fs::write(tmp.path().join(format!("{name}.toml")), text).unwrap();
        run_into(
            &tmp.path().join(format!("{name}.toml")),
            &tmp.path().join(name),
        );
    }
    let read =
        |run: &str, file: &str| std::fs::read_to_string(tmp.path().join(run).join(file)).unwrap();
    for file in ["events.csv", "pods.csv"] {
        assert_eq!(read("none", file), read("one", file), "{file}");
    }
    let retry_keys = [
        "\"hash\"",
        "\"in_backoff\"",
        "\"attempts\"",
        "\"retries\"",
        "\"retries_dropped\"",
        "\"amplification\"",
        "\"recovery_s\"",
    ];
    let summary_one = read("one", "summary.json");
    let (summary_one, _) = summary_one
        .split_once("\"attempts_by_outcome\"")
        .expect("the retry keys are written");
    let summary_none = read("none", "summary.json");
    let summary_none = summary_none.trim_end().trim_end_matches('}').trim_end();
    assert_eq!(
        without(summary_none, &retry_keys),
        without(summary_one.trim_end().trim_end_matches(','), &retry_keys)
    );
    assert!(read("one", "summary.json").contains("\"retries\": 0"));
    assert_eq!(
        read("none", "timeseries.csv").trim_end(),
        drop_columns(&read("one", "timeseries.csv"), 2)
    );
}

#[test]
fn a_lognormal_backoff_is_accepted() {
    // Its smallest value is zero: validation once asked the normal
    // quantile of 0 for it, and panicked.
    let s = common::scenario(
        "[meta]\nname = \"x\"\nduration = \"5s\"\n[retry]\nbackoff = { dist = \"lognormal\", median = \"1ms\", p99 = \"2ms\" }\ncap = \"1s\"\n",
    );
    assert!(s.retry.is_some());
}

#[test]
fn a_backoff_past_the_deadline_takes_no_token_and_fails_at_once() {
    // Every backoff (2 s) outlasts the deadline (1 s): no retry is made,
    // no token is spent, and each failure is its request's answer.
    let table = "[retry]\nattempts = 0\non = [\"acquire_timeout\"]\nbackoff = { dist = \"deterministic\", value = \"2s\" }\nmultiplier = 1.0\njitter = \"none\"\nbudget = 0\n";
    let text = variant(
        &storm_with(table, "150s"),
        &[
            ("deadline = \"30s\"", "deadline = \"1s\""),
            (
                "acquire_timeout = \"0s\"       # wait for ever: only the client gives up",
                "acquire_timeout = \"200ms\"",
            ),
        ],
    );
    let s = summary(&common::scenario(&text));
    let r = &s.requests;
    assert!(r.acquire_timeouts > 100, "{r:?}");
    assert_eq!(r.retries, Some(0));
    assert_eq!(r.retries_dropped, Some(0), "tokens spent on no retry");
    assert_eq!(r.in_backoff, Some(0));
    let by = s.attempts_by_outcome.as_ref().unwrap();
    assert_eq!(r.acquire_timeouts, by.queue_timeouts + by.connect_timeouts);
    assert!(r.errors >= r.acquire_timeouts, "{r:?}");
}

#[test]
fn a_retry_out_of_backoff_keeps_its_own_deadline() {
    // The first version's requests leave after 2 s; v2's have no deadline.
    // The only pod is killed at 20 s and not ready again before the end:
    // v2's requests in flight fail, and their retries find no worker, for
    // ever, as their clients never leave (traffic stops at 19 s, so no new
    // request is in backoff at the end).
    let text = r#"
[meta]
name = "x"
duration = "40s"
warmup = "0s"
version = "v1"
[fleet]
pods = 1
workers = 1
[traffic]
rate = "10/s"
[requests]
hold = { dist = "deterministic", value = "3s" }
deadline = "2s"
[pool]
max = 50
[database]
max_connections = 100
[versions.v2.requests]
deadline = "0s"
[retry]
attempts = 0
on = ["unavailable"]
backoff = { dist = "deterministic", value = "100ms" }
multiplier = 1.0
jitter = "none"
[[events]]
at = "5s"
kind = "deploy"
version = "v2"
strategy = "all_at_once"
pod_startup = "1s"
[[events]]
at = "19s"
kind = "traffic"
rate = "0/s"
[[events]]
at = "20s"
kind = "restart"
pod = 0
pod_startup = "1m"
"#;
    let s = summary(&common::scenario(text));
    let r = &s.requests;
    assert!(r.in_backoff.unwrap() >= 10, "{r:?}");
}
