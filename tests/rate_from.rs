//! `[traffic] rate_from`: a rate profile read from a telemetry file is
//! followed by the arrivals (Poisson bounds per interval), reads the same
//! from CSV and from Prometheus JSON, from counts and from rates, and its
//! bytes are part of the scenario's hash.

mod common;

use assert_cmd::Command;
use pooldrill::model::traffic::RateProfile;
use pooldrill::scenario::Scenario;
use pooldrill::scenario::validate::{Overrides, source_hash};
use pooldrill::scenario_file::load_file;
use std::path::Path;

/// A scenario whose `[traffic]` reads `file`, with `extra` lines after it.
fn scenario_text(file: &str, extra: &str) -> String {
    format!(
        "[meta]\nname = \"rate-from\"\nduration = \"30m\"\nsample_interval = \"10s\"\nseed = 7\n\
         start = \"14:00\"\ndate = \"2026-03-14\"\n\n[fleet]\npods = 4\nworkers = 2\n\n\
         [traffic]\nrate_from = \"{file}\"\n{extra}\n[pool]\nmax = 20\n"
    )
}

/// Write `files` into `dir` and load `scenario.toml` from it.
fn load(dir: &Path, files: &[(&str, &str)]) -> Scenario {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    load_file(&dir.join("scenario.toml"), Overrides::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Ramps, a step and a spike: `(seconds, rate)` every 30 s, joined by lines.
fn profile() -> Vec<(f64, f64)> {
    (0..=60)
        .map(|i| {
            let t = f64::from(i) * 30.0;
            let rate = match t {
                t if t < 300.0 => 50.0,
                t if t < 600.0 => 50.0 + (t - 300.0) / 3.0, // ramp to 150/s
                t if t < 900.0 => 150.0,
                t if t < 1200.0 => 80.0, // a step down
                1260.0 => 400.0,         // a spike
                t if t < 1500.0 => 80.0,
                _ => 80.0 - (t - 1500.0) / 10.0, // ramp down to 50/s
            };
            (t, rate)
        })
        .collect()
}

fn csv(points: &[(f64, f64)]) -> String {
    let rows: String = points.iter().map(|(t, r)| format!("{t},{r}\n")).collect();
    format!("time,rate\n{rows}")
}

/// The profile as a Prometheus `query_range` response split over two
/// series that sum to it, timestamps on 2026-03-14 from 14:00 UTC.
fn prometheus(points: &[(f64, f64)]) -> String {
    const START: f64 = 1_773_496_800.0; // 2026-03-14T14:00:00Z
    let values = |share: f64| {
        let samples: Vec<String> = points
            .iter()
            .map(|(t, r)| format!("[{},\"{}\"]", START + t, r * share))
            .collect();
        samples.join(",")
    };
    format!(
        "{{\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\"result\":[\
         {{\"metric\":{{\"pod\":\"a\"}},\"values\":[{}]}},\
         {{\"metric\":{{\"pod\":\"b\"}},\"values\":[{}]}}]}}}}",
        values(0.5),
        values(0.5)
    )
}

#[test]
fn a_profile_with_ramps_a_step_and_a_spike_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_text("traffic.csv", "interpolate = \"linear\"");
    let points = profile();
    let s = load(
        dir.path(),
        &[("scenario.toml", &text), ("traffic.csv", &csv(&points))],
    );
    assert_eq!(s.traffic.rate_points, points);
    let expected = RateProfile::new(points);
    let (_, rows) = common::series(&s);
    assert_eq!(rows.len(), 180);
    let mut worst: f64 = 0.0;
    for row in &rows {
        // Poisson: the count's standard deviation is the root of its mean.
        let mean = expected.cumulative(row.time_s) - expected.cumulative(row.time_s - 10.0);
        let z = (row.arrivals as f64 - mean) / mean.sqrt();
        worst = worst.max(z.abs());
        assert!(
            z.abs() < 5.0,
            "{}s: {} arrivals, {mean} expected",
            row.time_s,
            row.arrivals
        );
    }
    // Over each phase the relative error shrinks: within 4 deviations.
    for (from, to) in [
        (0.0, 300.0),
        (300.0, 600.0),
        (900.0, 1200.0),
        (1230.0, 1290.0),
    ] {
        let seen: u64 = rows
            .iter()
            .filter(|r| r.time_s > from && r.time_s <= to)
            .map(|r| r.arrivals)
            .sum();
        let mean = expected.cumulative(to) - expected.cumulative(from);
        let z = (seen as f64 - mean) / mean.sqrt();
        assert!(
            z.abs() < 4.0,
            "{from}..{to}: {seen} arrivals, {mean} expected"
        );
    }
    assert!(
        worst > 0.5,
        "arrivals are random, not the expected counts: {worst}"
    );
}

/// The files `pooldrill run` writes for the scenario in `dir`, with the
/// scenario's hash replaced.
fn run_outputs(dir: &Path, hash: &str) -> Vec<(String, Vec<u8>)> {
    let out = dir.join("out");
    Command::cargo_bin("pooldrill")
        .unwrap()
        .args(["-q", "run"])
        .arg(dir.join("scenario.toml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes).replace(hash, "HASH");
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                text.into_bytes(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_same_profile_as_csv_and_as_prometheus_json_gives_the_same_outputs() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let points = profile();
    let from_csv = load(
        a.path(),
        &[
            ("scenario.toml", &scenario_text("traffic.csv", "")),
            ("traffic.csv", &csv(&points)),
        ],
    );
    let from_json = load(
        b.path(),
        &[
            ("scenario.toml", &scenario_text("traffic.json", "")),
            ("traffic.json", &prometheus(&points)),
        ],
    );
    assert_eq!(from_csv.traffic.rate_points, from_json.traffic.rate_points);
    assert_ne!(from_csv.hash, from_json.hash);
    let (left, right) = (
        run_outputs(a.path(), &from_csv.hash),
        run_outputs(b.path(), &from_json.hash),
    );
    assert!(
        left.len() >= 4,
        "{:?}",
        left.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, l), (_, r)) in left.iter().zip(&right) {
        assert!(l == r, "{name} differs");
    }
}

#[test]
fn counts_read_as_the_rates_of_their_intervals() {
    let dir = tempfile::tempdir().unwrap();
    // 600 in the minute up to 60 s is 10/s from 0, then 20/s, then 5/s.
    let counts = "time,count\n60,600\n120,1200\n180,300\n1800,8100\n";
    let rates = "time,rate\n0,10\n60,20\n120,5\n180,5\n1800,5\n";
    let text = scenario_text("traffic.csv", "");
    let from_counts = load(
        dir.path(),
        &[("scenario.toml", &text), ("traffic.csv", counts)],
    );
    let from_rates = load(dir.path(), &[("traffic.csv", rates)]);
    assert_eq!(
        from_counts.traffic.rate_points,
        from_rates.traffic.rate_points
    );
    assert_eq!(
        from_rates.traffic.rate_points,
        vec![
            (0.0, 10.0),
            (60.0, 10.0),
            (60.0, 20.0),
            (120.0, 20.0),
            (120.0, 5.0)
        ]
    );
}

#[test]
fn times_of_day_and_timestamps_are_placed_on_the_runs_clock() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_text("traffic.csv", "");
    let seconds = load(
        dir.path(),
        &[
            ("scenario.toml", &text),
            ("traffic.csv", "time,rate\n-60,1\n90,2\n1800,2\n"),
        ],
    );
    let clock = "time,rate\n13:59,1\n14:01:30,2\n14:30,2\n";
    let of_day = load(dir.path(), &[("traffic.csv", clock)]);
    let stamps =
        "time,rate\n2026-03-14T14:59:00+01:00,1\n2026-03-14T14:01:30Z,2\n2026-03-14T14:30:00Z,2\n";
    let stamped = load(dir.path(), &[("traffic.csv", stamps)]);
    let expected = vec![(0.0, 1.0), (90.0, 1.0), (90.0, 2.0)];
    assert_eq!(seconds.traffic.rate_points, expected);
    assert_eq!(of_day.traffic.rate_points, expected);
    assert_eq!(stamped.traffic.rate_points, expected);
}

#[test]
fn scale_events_multiply_the_files_profile_from_their_time_on() {
    let dir = tempfile::tempdir().unwrap();
    let events = "\n[[events]]\nat = \"14:10\"\nkind = \"traffic\"\nscale = 1.5\n";
    let text = scenario_text("traffic.csv", events);
    let s = load(
        dir.path(),
        &[
            ("scenario.toml", &text),
            ("traffic.csv", "time,rate\n0,100\n1800,100\n"),
        ],
    );
    assert_eq!(
        s.traffic.rate_points,
        vec![(0.0, 100.0), (600.0, 100.0), (600.0, 150.0)]
    );
}

#[test]
fn the_hash_covers_the_data_files_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_text("traffic.csv", "");
    let first = load(
        dir.path(),
        &[
            ("scenario.toml", &text),
            ("traffic.csv", "time,rate\n0,100\n1800,100\n"),
        ],
    );
    let same = load(dir.path(), &[]);
    let changed = load(
        dir.path(),
        &[("traffic.csv", "time,rate\n0,100\n1800,101\n")],
    );
    assert_eq!(first.hash, same.hash);
    assert_ne!(first.hash, changed.hash);
    assert_ne!(first.hash, source_hash(&text));
    // Without a data file the hash is the source's, as before.
    let plain = common::scenario("[meta]\nname = \"p\"\nduration = \"1m\"\n");
    assert_eq!(
        plain.hash,
        source_hash("[meta]\nname = \"p\"\nduration = \"1m\"\n")
    );
}

#[test]
fn meta_date_is_the_default_of_date() {
    let dir = tempfile::tempdir().unwrap();
    let text = scenario_text("traffic.csv", "");
    load(
        dir.path(),
        &[
            ("scenario.toml", &text),
            ("traffic.csv", "time,rate\n0,100\n1800,100\n"),
        ],
    );
    let dashboard = |extra: &[&str]| {
        let out = Command::cargo_bin("pooldrill")
            .unwrap()
            .arg("grafana-dashboard")
            .arg(dir.path().join("scenario.toml"))
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(dashboard(&[]).contains("2026-03-14T14:00:00Z"));
    assert!(dashboard(&["--date", "2026-01-02"]).contains("2026-01-02T14:00:00Z"));
}
