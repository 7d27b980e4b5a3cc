//! The OpenMetrics export: the text format's ordering rules, values that
//! agree with the CSV files, timestamps on the chosen date, determinism, and
//! the command line. (Loading it with the real promtool: tests/promtool.rs.)

use assert_cmd::Command;
use predicates::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// A small incident (tests/mini-incident.toml).
const MINI: &str = include_str!("mini-incident.toml");

/// Run MINI with `--openmetrics`; returns (exposition, output folder).
fn export(dir: &Path, extra: &[&str]) -> String {
    let file = dir.join("mini.toml");
    std::fs::write(&file, MINI).unwrap();
    let om = dir.join("mini.om");
    pooldrill()
        .args(["-q", "run"])
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .arg("--openmetrics")
        .arg(&om)
        .args(extra)
        .assert()
        .success()
        .stdout(predicate::str::contains("openmetrics:"));
    std::fs::read_to_string(om).unwrap()
}

/// One sample line: (name, labels, value, timestamp in ms).
fn parse_line(line: &str) -> (String, String, f64, i64) {
    let (series, rest) = match line.find('}') {
        Some(i) => (&line[..=i], &line[i + 1..]),
        None => line.split_at(line.find(' ').unwrap()),
    };
    let (name, labels) = match series.find('{') {
        Some(i) => (&series[..i], &series[i..]),
        None => (series, ""),
    };
    let mut parts = rest.split_whitespace();
    let value: f64 = parts.next().unwrap().parse().unwrap();
    let ts: f64 = parts.next().unwrap().parse().unwrap();
    assert!(parts.next().is_none(), "{line}");
    (
        name.to_owned(),
        labels.to_owned(),
        value,
        (ts * 1000.0).round() as i64,
    )
}

/// `labels` without the `le` label: the OpenMetrics Metric.
fn metric_key(name: &str, labels: &str) -> String {
    let base = ["_bucket", "_count", "_sum", "_total"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    let kept: Vec<&str> = labels
        .trim_matches(|c| c == '{' || c == '}')
        .split(',')
        .filter(|l| !l.starts_with("le=") && !l.is_empty())
        .collect();
    format!("{base}{{{}}}", kept.join(","))
}

#[test]
fn the_exposition_follows_the_openmetrics_ordering_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let text = export(tmp.path(), &["--date", "2026-01-15"]);
    assert!(text.ends_with("# EOF\n"), "ends with # EOF");
    assert_eq!(text.matches("# EOF").count(), 1);
    let mut families_done: HashSet<String> = HashSet::new();
    let mut family = String::new();
    let mut metrics_done: HashSet<String> = HashSet::new();
    let mut metric = String::new();
    let mut last_ts: HashMap<String, i64> = HashMap::new();
    let mut samples = 0;
    for line in text.lines() {
        if let Some(meta) = line.strip_prefix("# TYPE ") {
            let name = meta.split(' ').next().unwrap().to_owned();
            assert!(families_done.insert(name.clone()), "{name} twice");
            family = name;
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, labels, _, ts) = parse_line(line);
        assert!(
            name.starts_with(&family),
            "{name} outside its family {family}"
        );
        let key = metric_key(&name, &labels);
        if key != metric {
            assert!(
                metrics_done.insert(key.clone()),
                "{key}: points interleaved"
            );
            metric = key.clone();
        }
        // Within a Metric, timestamps never go back (a histogram point's
        // lines share one).
        let last = last_ts.entry(format!("{name}{labels}")).or_insert(i64::MIN);
        assert!(ts > *last, "{line}: timestamps must increase");
        *last = ts;
        samples += 1;
    }
    assert!(samples > 10_000, "{samples} samples");
    for family in [
        "pg_stat_activity_count",
        "pg_settings_max_connections",
        "pg_settings_superuser_reserved_connections",
        "pg_pool_size",
        "pg_pool_idle_connections",
        "pg_pool_waiting_connections",
        "pg_pool_max",
        "pg_pool_acquire_wait_seconds",
        "pg_pool_acquire_errors",
        "http_requests",
        "http_request_duration_seconds",
        "pooldrill_leaked_connections",
        "pooldrill_timeline_event",
    ] {
        assert!(families_done.contains(family), "{family} missing");
    }
    assert!(text.contains("# TYPE http_requests counter\n"));
    assert!(text.contains("# UNIT pg_pool_acquire_wait_seconds seconds\n"));
    assert!(text.contains("# TYPE http_request_duration_seconds histogram\n"));
}

/// The last value of each series.
fn last_values(text: &str) -> BTreeMap<String, (f64, i64)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (name, labels, v, ts) = parse_line(l);
            (format!("{name}{labels}"), (v, ts))
        })
        .collect()
}

#[test]
fn values_agree_with_the_csv_files_and_timestamps_sit_on_the_date() {
    let tmp = tempfile::tempdir().unwrap();
    let text = export(tmp.path(), &["--date", "2025-03-02"]);
    let last = last_values(&text);
    let mut csv = csv::Reader::from_path(tmp.path().join("out/timeseries.csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut sums: HashMap<&str, f64> = HashMap::new();
    let mut final_row = None;
    for r in csv.records() {
        let r = r.unwrap();
        for c in [
            "goodput",
            "failed",
            "gave_up",
            "refusals",
            "acquire_timeouts",
            "acquires",
        ] {
            *sums.entry(c).or_default() += r[col(c)].parse::<f64>().unwrap();
        }
        final_row = Some(r);
    }
    let final_row = final_row.unwrap();
    let at = |c: &str| final_row[col(c)].parse::<f64>().unwrap();
    // 2025-03-02T14:06:00Z = 1740924360 s: start 14:00 plus the 6 minutes.
    let end_ms = 1_740_924_360_000;
    let value = |series: &str| {
        let (v, ts) = last[series];
        assert_eq!(ts, end_ms, "{series} ends at the run's end");
        v
    };
    assert_eq!(value("http_requests_total{code=\"200\"}"), sums["goodput"]);
    assert_eq!(
        value("http_requests_total{code=\"500\"}") + value("http_requests_total{code=\"504\"}"),
        sums["failed"]
    );
    assert_eq!(
        value("pg_pool_acquire_errors_total{reason=\"too_many_connections\"}"),
        sums["refusals"]
    );
    assert!(
        sums["refusals"] > 0.0,
        "the mini incident refuses connections"
    );
    assert_eq!(
        value("pg_pool_acquire_errors_total{reason=\"timeout\"}"),
        sums["acquire_timeouts"]
    );
    assert_eq!(
        value("pg_pool_acquire_wait_seconds_count"),
        sums["acquires"]
    );
    assert_eq!(
        value("pg_pool_acquire_wait_seconds_bucket{le=\"+Inf\"}"),
        sums["acquires"]
    );
    assert_eq!(value("pg_settings_max_connections"), 60.0);
    assert_eq!(value("pooldrill_leaked_connections"), at("open_leaked"));
    // pg_stat_activity: every backend but those in their handshake.
    let activity: f64 = last
        .iter()
        .filter(|(k, _)| k.starts_with("pg_stat_activity_count{"))
        .map(|(_, (v, _))| v)
        .sum();
    assert_eq!(activity, at("db_occupied") - at("connecting"));
    // The pool gauges add up to the fleet's, job pools included.
    let sum = |prefix: &str| -> f64 {
        last.iter()
            .filter(|(k, (_, ts))| k.starts_with(prefix) && *ts == end_ms)
            .map(|(_, (v, _))| v)
            .sum()
    };
    assert_eq!(sum("pg_pool_idle_connections{"), at("idle"));
    assert_eq!(sum("pg_pool_waiting_connections{"), at("waiters"));
    assert_eq!(
        sum("pg_pool_size{"),
        at("connecting") + at("checked_out") + at("idle") + at("open_leaked")
    );
    // Counters start at zero at 14:00 on the date.
    assert!(text.contains("http_requests_total{code=\"200\"} 0 1740924000\n"));
    // The deploy is on the timeline at 14:01.
    assert!(
        text.lines().any(
            |l| l.starts_with("pooldrill_timeline_event{kind=\"deploy\",detail=\"v2")
                && l.ends_with(" 1 1740924060")
        ),
        "{}",
        text.lines()
            .filter(|l| l.contains("deploy"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// One point of a histogram: (`le`, cumulative count) in file order,
/// `_count` and `_sum`.
#[derive(Debug, Default)]
struct HistogramPoint {
    buckets: Vec<(f64, f64)>,
    count: f64,
    sum: f64,
}

/// The points of histogram `family`, by timestamp.
fn histogram_points(text: &str, family: &str) -> BTreeMap<i64, HistogramPoint> {
    let mut points: BTreeMap<i64, HistogramPoint> = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with(family)) {
        let (name, labels, v, ts) = parse_line(line);
        let point = points.entry(ts).or_default();
        match &name[family.len()..] {
            "_bucket" => {
                let le = labels
                    .strip_prefix("{le=\"")
                    .and_then(|l| l.strip_suffix("\"}"))
                    .unwrap();
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                point.buckets.push((le, v));
            }
            "_count" => point.count = v,
            "_sum" => point.sum = v,
            other => panic!("{line}: unexpected suffix {other:?}"),
        }
    }
    points
}

/// The latency histogram counts every answer (and give-up) of the run and
/// sums their latencies: its last point against timeseries.csv's `answered`
/// and summary.json's requests (the mini incident has no warm-up, so both
/// cover the same requests).
#[test]
fn the_latency_histogram_counts_every_answer_and_sums_its_latency() {
    let tmp = tempfile::tempdir().unwrap();
    let text = export(tmp.path(), &[]);
    let points = histogram_points(&text, "http_request_duration_seconds");
    let (_, last) = points.last_key_value().unwrap();
    let mut csv = csv::Reader::from_path(tmp.path().join("out/timeseries.csv")).unwrap();
    let col = csv
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "answered")
        .unwrap();
    let answered: f64 = csv
        .records()
        .map(|r| r.unwrap()[col].parse::<f64>().unwrap())
        .sum();
    assert!(answered > 10_000.0, "{answered} answers");
    assert_eq!(last.count, answered);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out/summary.json")).unwrap())
            .unwrap();
    let requests = &summary["requests"];
    let n = |k: &str| requests[k].as_f64().unwrap();
    assert_eq!(n("goodput") + n("errors") + n("gave_up"), answered);
    // Both the export's sum and summary.json's mean are exact.
    let mean = last.sum / last.count;
    let expected = n("mean_latency_s");
    assert!(
        (mean - expected).abs() < 1e-9 * expected,
        "_sum / _count = {mean}, summary mean {expected}"
    );
}

#[test]
fn a_pool_that_goes_away_ends_on_zeros_and_histograms_are_cumulative() {
    let tmp = tempfile::tempdir().unwrap();
    let text = export(tmp.path(), &[]);
    for histogram in [
        "pg_pool_acquire_wait_seconds",
        "http_request_duration_seconds",
    ] {
        let points = histogram_points(&text, histogram);
        assert_eq!(points.len(), 361, "{histogram}: 0 s to 6 min");
        let mut previous: Option<&HistogramPoint> = None;
        for point in points.values() {
            let b = &point.buckets;
            assert_eq!(b.len(), 27, "{histogram}");
            assert!(
                b.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{histogram}: cumulative over le"
            );
            assert_eq!(b.last().unwrap(), &(f64::INFINITY, point.count));
            if let Some(p) = previous {
                assert!(
                    p.buckets.iter().zip(b).all(|(a, b)| a.1 <= b.1) && p.sum <= point.sum,
                    "{histogram}: counters only grow"
                );
            }
            previous = Some(point);
        }
    }
    let mut sizes: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("pg_pool_size")) {
        let (_, labels, v, ts) = parse_line(line);
        sizes.entry(labels).or_default().push((ts, v));
    }
    // The rollout replaced pods: the old pods' pools stop, on a zero.
    let end = sizes.values().map(|v| v.last().unwrap().0).max().unwrap();
    let stopped: Vec<_> = sizes
        .iter()
        .filter(|(_, v)| v.last().unwrap().0 < end)
        .collect();
    assert!(stopped.len() >= 8, "{} pools stopped early", stopped.len());
    for (labels, points) in stopped {
        assert_eq!(points.last().unwrap().1, 0.0, "{labels} ends on 0");
    }
    assert!(
        sizes.keys().any(|k| k.contains("pool=\"job\"")),
        "job pools exported"
    );
}

#[test]
fn the_same_run_gives_the_same_bytes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(
        export(a.path(), &[]) == export(b.path(), &[]),
        "byte-identical"
    );
}

#[test]
fn bad_dates_and_unwritable_paths_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("mini.toml");
    std::fs::write(&file, MINI).unwrap();
    pooldrill()
        .args(["run", "--openmetrics", "x.om", "--date", "2026-02-30"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected a date like 2026-01-15"));
    pooldrill()
        .args(["-q", "run", "--out"])
        .arg(tmp.path().join("out"))
        .arg("--openmetrics")
        .arg(tmp.path().join("no/such/folder/x.om"))
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot write"));
}

/// Every metric the dashboard and the shipped rules query is exported.
#[test]
fn the_dashboard_and_the_rules_only_use_exported_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let text = export(tmp.path(), &[]);
    let exported: HashSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| &l[..l.find(['{', ' ']).unwrap()])
        .collect();
    let out = pooldrill().arg("grafana-dashboard").assert().success();
    let dashboard = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let rules = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("alerts/pool-exhaustion.yml"),
    )
    .unwrap();
    for text in [dashboard, rules] {
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            let metric_like = ["pg_", "http_", "pooldrill_"]
                .iter()
                .any(|p| word.starts_with(p));
            if metric_like && word.len() > 8 {
                assert!(exported.contains(word), "{word} is not exported");
            }
        }
    }
}
