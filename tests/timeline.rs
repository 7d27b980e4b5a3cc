//! The timeline: deploys and rollbacks under Kubernetes' bounds, pod
//! lifecycle, restarts, traffic, job and server events, and their validation.

mod common;

use common::scenario;
use pooldrill::metrics::{LogEntry, LogKind, MemorySink, PodRow, SeriesRow, Summary};
use pooldrill::model::{RunOptions, run};
use pooldrill::scenario::{Dispatch, Scenario};
use std::collections::BTreeMap;

const CHECKED: RunOptions = RunOptions {
    check_invariants: true,
    prefetch: None,
};

fn everything(s: &Scenario) -> (Summary, MemorySink) {
    let mut sink = MemorySink::default();
    let summary = run(s, &mut sink, CHECKED).unwrap_or_else(|e| panic!("{e}"));
    (summary, sink)
}

/// A small fleet (8 pods × 2 workers) with a leaky job in v2 and the given
/// events appended.
fn fleet(events: &str) -> Scenario {
    scenario(&format!(
        r#"
[meta]
name = "timeline"
duration = "20m"
seed = 11
version = "v1"
[fleet]
pods = 8
workers = 2
[traffic]
rate = "400/s"
[requests]
hold = {{ dist = "lognormal", mean = "20ms", p99 = "120ms" }}
[database]
max_connections = 500
[versions.v1]
[versions.v2.job]
period = "10s"
fan_out = 1
error_probability = 0.5
hold = {{ dist = "deterministic", value = "1s" }}
pool_mode = "own"
release = "leaky"
{events}
"#
    ))
}

/// Pods by state at each sample time.
fn states(pods: &[PodRow]) -> BTreeMap<u64, BTreeMap<String, (u32, u32)>> {
    // time (ms) → version → (live, ready)
    let mut out: BTreeMap<u64, BTreeMap<String, (u32, u32)>> = BTreeMap::new();
    for p in pods {
        let e = out
            .entry((p.time_s * 1000.0).round() as u64)
            .or_default()
            .entry(p.version.clone())
            .or_default();
        if p.state == "starting" || p.state == "ready" {
            e.0 += 1;
        }
        if p.state == "ready" {
            e.1 += 1;
        }
    }
    out
}

fn kinds(events: &[LogEntry], kind: LogKind) -> Vec<&LogEntry> {
    events.iter().filter(|e| e.kind == kind).collect()
}

/// A rolling deploy of v2 at 2 min: maxSurge 2, maxUnavailable 1, pods
/// ready 15 s after they are created.
const ROLLING_AT_2M: &str = r#"
[[events]]
at = "2m"
kind = "deploy"
version = "v2"
max_surge = 2
max_unavailable = 1
pod_startup = "15s"
"#;

#[test]
fn a_rolling_deploy_stays_within_max_surge_and_max_unavailable() {
    let s = fleet(ROLLING_AT_2M);
    let (_, sink) = everything(&s);
    let mut saw_both = false;
    for (t, by_version) in states(&sink.pods) {
        let live: u32 = by_version.values().map(|v| v.0).sum();
        let ready: u32 = by_version.values().map(|v| v.1).sum();
        assert!(
            live <= 8 + 2,
            "at {t} ms: {live} live pods > replicas + maxSurge"
        );
        if t > 1000 {
            assert!(
                ready >= 8 - 1,
                "at {t} ms: {ready} ready pods < replicas − maxUnavailable"
            );
        }
        saw_both |= by_version.len() == 2 && by_version.values().all(|v| v.0 > 0);
    }
    assert!(saw_both, "old and new pods overlapped");
    let last = states(&sink.pods).into_iter().next_back().unwrap().1;
    assert_eq!(last.get("v2"), Some(&(8, 8)), "{last:?}");
    assert_eq!(last.get("v1").map_or(0, |v| v.0), 0);
    assert_eq!(kinds(&sink.events, LogKind::RolloutComplete).len(), 1);
    // Three waves of 15 s: done in well under two minutes.
    let done = kinds(&sink.events, LogKind::RolloutComplete)[0].time_s;
    assert!(done > 120.0 + 15.0 && done < 240.0, "{done}");
}

#[test]
fn the_fleet_rate_holds_through_a_rolling_deploy() {
    // Each of the deploy's pods that becomes ready or leaves re-times the
    // arrival streams (one per ready pod with random dispatch, one for the
    // fleet with round robin): the fleet's arrivals stay Poisson at 400/s.
    for dispatch in [Dispatch::Random, Dispatch::RoundRobin] {
        let mut s = fleet(ROLLING_AT_2M);
        s.fleet.dispatch = dispatch;
        let (_, sink) = everything(&s);
        let done = kinds(&sink.events, LogKind::RolloutComplete)[0].time_s;
        assert!(done < 240.0, "{dispatch:?}: the rollout ended at {done} s");
        let arrived: u64 = sink
            .rows
            .iter()
            .filter(|r| r.time_s > 120.0 && r.time_s <= 240.0)
            .map(|r| r.arrivals)
            .sum();
        // Poisson: mean 400/s × 120 s, standard deviation its square root.
        let mean = 400.0 * 120.0;
        let z = (arrived as f64 - mean) / f64::sqrt(mean);
        assert!(
            z.abs() < 4.0,
            "{dispatch:?}: {arrived} arrivals, z = {z:.2}"
        );
    }
}

#[test]
fn surge_pods_count_against_the_database_while_they_overlap() {
    // All at once: 8 new pods warm up their pools while the 8 old ones
    // still hold theirs.
    let s = fleet(
        r#"
[[events]]
at = "5m"
kind = "deploy"
version = "v1"
strategy = "all_at_once"
pod_startup = "10s"
"#,
    );
    let (_, sink) = everything(&s);
    let open = |r: &SeriesRow| r.open_request_pools;
    let steady = sink
        .rows
        .iter()
        .filter(|r| r.time_s > 200.0 && r.time_s < 300.0)
        .map(open)
        .max()
        .unwrap();
    let overlap = sink
        .rows
        .iter()
        .filter(|r| r.time_s > 300.0 && r.time_s < 330.0)
        .map(open)
        .max()
        .unwrap();
    assert!(
        overlap as f64 > 1.3 * steady as f64,
        "steady {steady}, during the overlap {overlap}"
    );
    let st = states(&sink.pods);
    let peak_live = st
        .values()
        .map(|v| v.values().map(|x| x.0).sum::<u32>())
        .max()
        .unwrap();
    assert_eq!(peak_live, 16, "100 % surge");
}

#[test]
fn a_rollback_closes_leaked_connections_as_the_pods_exit() {
    let s = fleet(
        r#"
[[events]]
at = "1m"
kind = "deploy"
version = "v2"
[[events]]
at = "10m"
kind = "rollback"
"#,
    );
    let (summary, sink) = everything(&s);
    let leaked_at = |t: f64| {
        sink.rows
            .iter()
            .find(|r| r.time_s == t)
            .unwrap()
            .open_leaked
    };
    assert!(
        leaked_at(599.0) > 10,
        "leaks built up: {}",
        leaked_at(599.0)
    );
    assert_eq!(leaked_at(720.0), 0, "every v2 pod exited, leaks closed");
    let exits = kinds(&sink.events, LogKind::PodExited);
    let leaked_closed: u32 = exits
        .iter()
        .filter_map(|e| {
            e.detail
                .split(", ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse::<u32>()
                .ok()
        })
        .sum();
    assert!(leaked_closed > 10, "{exits:?}");
    assert_eq!(kinds(&sink.events, LogKind::Rollback).len(), 1);
    assert!(summary.connections.leaked > 10);
    let last = states(&sink.pods).into_iter().next_back().unwrap().1;
    assert_eq!(last.get("v1"), Some(&(8, 8)));
}

#[test]
fn a_canary_moves_some_pods_pauses_then_moves_the_rest() {
    let s = fleet(
        r#"
[[events]]
at = "1m"
kind = "deploy"
version = "v2"
strategy = "canary"
canary_pods = 2
canary_pause = "5m"
pod_startup = "10s"
"#,
    );
    let (_, sink) = everything(&s);
    let st = states(&sink.pods);
    let at = |t: u64| {
        st.get(&(t * 1000))
            .unwrap()
            .get("v2")
            .copied()
            .unwrap_or_default()
    };
    assert_eq!(at(200), (2, 2), "two canaries during the pause");
    assert_eq!(at(900), (8, 8), "everyone after it");
    assert_eq!(kinds(&sink.events, LogKind::CanaryReady).len(), 1);
}

#[test]
fn a_restarted_pod_loses_its_connections_and_comes_back_empty() {
    let s = fleet(
        r#"
[[events]]
at = "5m"
kind = "restart"
pod = 3
pod_startup = "30s"
"#,
    );
    let (_, sink) = everything(&s);
    let pod3 = |t: f64| {
        sink.pods
            .iter()
            .find(|p| p.pod == 3 && p.time_s == t)
            .cloned()
            .unwrap()
    };
    assert!(pod3(299.0).open > 0);
    assert_eq!(
        (pod3(310.0).state.as_str(), pod3(310.0).open),
        ("starting", 0)
    );
    assert_eq!(pod3(340.0).state, "ready");
    assert_eq!(kinds(&sink.events, LogKind::PodRestarted).len(), 1);
}

#[test]
fn traffic_job_and_server_events_take_effect() {
    let s = fleet(
        r#"
[[events]]
at = "1m"
kind = "deploy"
version = "v2"
[[events]]
at = "5m"
kind = "traffic"
rate = "800/s"
[[events]]
at = "8m"
kind = "server"
idle_session_timeout = "30s"
[[events]]
at = "12m"
kind = "job"
enabled = false
"#,
    );
    let mut s = s;
    s.versions[1].app.job.as_mut().unwrap().error_listener = true;
    let (_, sink) = everything(&s);
    let mean_arrivals = |from: f64, to: f64| {
        let rows: Vec<&SeriesRow> = sink
            .rows
            .iter()
            .filter(|r| r.time_s > from && r.time_s <= to)
            .collect();
        rows.iter().map(|r| r.arrivals).sum::<u64>() as f64 / rows.len() as f64
    };
    assert!((mean_arrivals(120.0, 300.0) - 400.0).abs() < 20.0);
    assert!((mean_arrivals(300.0, 480.0) - 800.0).abs() < 30.0);
    let leaked = |t: f64| {
        sink.rows
            .iter()
            .find(|r| r.time_s == t)
            .unwrap()
            .open_leaked
    };
    assert!(leaked(479.0) > 5);
    assert_eq!(
        leaked(480.0 + 31.0),
        0,
        "idle_session_timeout reaped every leaked session"
    );
    let runs_after: u64 = sink
        .rows
        .iter()
        .filter(|r| r.time_s > 721.0)
        .map(|r| r.job_runs)
        .sum();
    assert_eq!(runs_after, 0, "the job was switched off");
    for kind in [LogKind::Traffic, LogKind::ServerSetting, LogKind::Job] {
        assert_eq!(kinds(&sink.events, kind).len(), 1, "{kind}");
    }
}

#[test]
fn clock_times_alerts_and_targets_in_the_summary() {
    let s = scenario(
        r#"
[meta]
name = "clock"
start = "14:00"
duration = "10m"
[traffic]
rate = "400/s"
[[events]]
at = "14:02"
kind = "traffic"
rate = "10000/s"
[[alerts]]
name = "Refusals"
metric = "refusals_per_s"
op = ">"
threshold = 1
window = "30s"
for = "30s"
[[targets]]
label = "rate before"
metric = "requests_per_s"
from = "14:00"
to = "14:02"
expected = 400
[[targets]]
label = "alert"
alert = "Refusals"
expected_at = "14:03"
"#,
    );
    let (summary, sink) = everything(&s);
    assert!(
        sink.events
            .iter()
            .any(|e| e.kind == LogKind::Traffic && e.clock == "14:02")
    );
    let alert = &summary.alerts[0];
    let episode = &alert.episodes[0];
    assert!(episode.firing_at.as_deref().unwrap().starts_with("14:0"));
    assert_eq!(episode.firing_at_s.unwrap() - episode.pending_at_s, 30.0);
    assert!(alert.caused_by.as_deref().unwrap().contains("traffic"));
    assert!(alert.time_to_detect_s.unwrap() > 0.0);
    let rate = summary.targets[0].simulated_value.unwrap();
    assert!((rate - 400.0).abs() < 10.0, "{rate}");
    assert!(summary.targets[1].simulated.starts_with("14:0"));
}

#[test]
fn timeline_errors_are_located() {
    let base = "[meta]\nname = \"x\"\nduration = \"1h\"\n[versions.v1]\n[versions.v2]\n";
    let err = |extra: &str| {
        pooldrill::scenario::Scenario::parse("t.toml", &format!("{base}{extra}"))
            .unwrap_err()
            .to_string()
    };
    let e = err("[[events]]\nat = \"1m\"\nkind = \"deploy\"\nversion = \"v3\"\n");
    assert!(
        e.contains("events[0].version: expected one of the versions"),
        "{e}"
    );
    let e = err("[[events]]\nat = \"1m\"\nkind = \"rollback\"\n");
    assert!(e.contains("expected a deploy before this rollback"), "{e}");
    let e = err("[[events]]\nat = \"14:15\"\nkind = \"rollback\"\n");
    assert!(
        e.contains("events[0].at") && e.contains("meta.start"),
        "{e}"
    );
    let e = err("[[events]]\nat = \"2h\"\nkind = \"job\"\nenabled = true\n");
    assert!(e.contains("expected a time within the run"), "{e}");
    let e = err("[[events]]\nat = \"1m\"\nkind = \"job\"\nrate = \"5/s\"\nenabled = true\n");
    assert!(
        e.contains("events[0].rate: expected only `enabled` for a job event"),
        "{e}"
    );
    let e = err("[[events]]\nat = \"1m\"\nkind = \"deplyo\"\n");
    assert!(e.contains("did you mean \"deploy\"?"), "{e}");
    // The initial version need not be declared: it runs the base tables.
    let s = pooldrill::scenario::Scenario::parse(
        "t.toml",
        "[meta]\nname = \"x\"\nduration = \"1h\"\nversion = \"v1\"\n[versions.v2.pool]\nmax = 3\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = s.versions.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["v1", "v2"]);
    assert_eq!(
        (s.versions[0].app.pool.max, s.versions[1].app.pool.max),
        (10, 3)
    );
    let e = err("[versions.v2.pool]\nmax = 0\n");
    assert!(
        e.contains("versions.\"v2\".pool.max: expected an integer"),
        "{e}"
    );
}

/// The deploy's version travels as a field of its log line: a version whose
/// name holds a comma keeps its whole name in the alert's cause (reading it
/// back out of the detail, up to the first comma, gave `deploy v2`).
#[test]
fn a_deploy_carries_its_version_to_the_alert_it_causes() {
    let s = scenario(
        r#"
[meta]
name = "deploy-version"
start = "14:00"
duration = "6m"
version = "v1"
[traffic]
rate = "400/s"
[versions.v1]
[versions."v2, hotfix"]
[[events]]
at = "14:02"
kind = "traffic"
rate = "10000/s"
[[events]]
at = "14:02:05"
kind = "deploy"
version = "v2, hotfix"
[[alerts]]
name = "Refusals"
metric = "refusals_per_s"
op = ">"
threshold = 1
window = "30s"
for = "30s"
"#,
    );
    let (summary, sink) = everything(&s);
    let deploy = kinds(&sink.events, LogKind::Deploy)[0];
    assert_eq!(deploy.version.as_deref(), Some("v2, hotfix"));
    let alert = &summary.alerts[0];
    assert!(
        alert
            .caused_by
            .as_deref()
            .unwrap()
            .starts_with("deploy v2, hotfix, "),
        "{:?}",
        alert.caused_by
    );
    assert_eq!(alert.cause_label.as_deref(), Some("deploy v2, hotfix"));
}
