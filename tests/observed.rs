//! `[[observed]]`: a run scored against measured series. A series equal
//! to the simulated one scores exactly 0; known offsets give the known
//! errors; adding the series changes nothing the run simulated; bad data
//! files are refused with the data file's place and the scenario key.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

const SCENARIO: &str = "[meta]
name = \"obs\"
duration = \"40s\"
seed = 5
[fleet]
pods = 2
workers = 2
[traffic]
rate = \"300/s\"
[requests]
hold = { dist = \"exponential\", mean = \"30ms\" }
[pool]
max = 4
idle_timeout = \"2s\"
acquire_timeout = \"200ms\"
[database]
max_connections = 14
other_clients = 2
";

fn pooldrill() -> Command {
    Command::cargo_bin("pooldrill").unwrap()
}

/// Run `text` (written as `dir/s.toml`) into `dir/out`; the folder.
fn run(dir: &Path, text: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("s.toml"), text).unwrap();
    let out = dir.join("out");
    pooldrill()
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(dir.join("s.toml"))
        .assert()
        .success();
    out
}

/// The column `name` of a timeseries.csv: (time, value), empty cells left out.
fn column(csv: &str, name: &str) -> Vec<(String, String)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|cells| !cells[i].is_empty())
        .map(|cells| (cells[0].to_owned(), cells[i].to_owned()))
        .collect()
}

fn write_series(path: &Path, points: &[(String, String)]) {
    let mut text = "time,value\n".to_owned();
    for (t, v) in points {
        text.push_str(&format!("{t},{v}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn observed(summary: &Value) -> &Vec<Value> {
    summary["observed"].as_array().expect("an observed section")
}

#[test]
fn the_simulated_series_scores_zero_and_changes_nothing_simulated() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = run(tmp.path(), SCENARIO);
    let series = std::fs::read_to_string(plain.join("timeseries.csv")).unwrap();
    let summary = std::fs::read_to_string(plain.join("summary.json")).unwrap();
    assert!(
        !summary.contains("\"observed\""),
        "absent without [[observed]]"
    );
    let errors = column(&series, "error_rate");
    let open = column(&series, "db_occupied");
    // Counts are compared per second: with 1-s samples, the count itself.
    let arrivals = column(&series, "arrivals");
    assert!(
        errors.iter().any(|(_, v)| v != "0"),
        "some errors to compare"
    );
    write_series(&tmp.path().join("errors.csv"), &errors);
    write_series(&tmp.path().join("open.csv"), &open);
    write_series(&tmp.path().join("arrivals.csv"), &arrivals);
    let with = format!(
        "{SCENARIO}[[observed]]\nmetric = \"error_rate\"\nfile = \"errors.csv\"\n\
         [[observed]]\nmetric = \"db_occupied\"\nfile = \"open.csv\"\nlabel = \"connections\"\n\
         [[observed]]\nmetric = \"arrivals\"\nfile = \"arrivals.csv\"\n"
    );
    let scored = run(tmp.path(), &with);
    for file in ["timeseries.csv", "pods.csv", "events.csv"] {
        let again = std::fs::read(scored.join(file)).unwrap();
        let before = if file == "timeseries.csv" {
            series.clone().into_bytes()
        } else {
            std::fs::read(plain.join(file)).unwrap_or_default()
        };
        assert!(again == before, "{file} changed");
    }
    let mut a: Value = serde_json::from_str(&summary).unwrap();
    let mut b: Value =
        serde_json::from_slice(&std::fs::read(scored.join("summary.json")).unwrap()).unwrap();
    let scores = b.as_object_mut().unwrap().remove("observed").unwrap();
    for s in [&mut a, &mut b] {
        s["scenario"].as_object_mut().unwrap().remove("hash");
    }
    assert_eq!(a, b, "the rest of summary.json is the run's");
    let scores = scores.as_array().unwrap();
    assert_eq!(scores.len(), 3);
    for (s, n) in scores
        .iter()
        .zip([errors.len(), open.len(), arrivals.len()])
    {
        assert_eq!(s["n"], n, "{s}");
        for key in ["rmse", "mae", "max_abs_diff"] {
            assert_eq!(s[key], 0.0, "{key}: {s}");
        }
        assert!(
            (s["correlation"].as_f64().unwrap() - 1.0).abs() < 1e-9,
            "{s}"
        );
    }
    assert_eq!(scores[1]["label"], "connections");
    assert_eq!(scores[0]["label"], "error_rate", "the metric by default");
}

#[test]
fn known_offsets_give_the_known_errors_at_a_coarser_step() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = run(tmp.path(), SCENARIO);
    let series = std::fs::read_to_string(plain.join("timeseries.csv")).unwrap();
    let open: Vec<(f64, f64)> = column(&series, "db_occupied")
        .iter()
        .map(|(t, v)| (t.parse().unwrap(), v.parse().unwrap()))
        .collect();
    // Every 5 s, the 5-s mean of the gauge plus 2, or minus 2 at 20 s.
    let shifted: Vec<(String, String)> = open
        .chunks(5)
        .map(|w| {
            let t = w.last().unwrap().0;
            let mean = w.iter().map(|p| p.1).sum::<f64>() / 5.0;
            let offset = if t == 20.0 { -2.0 } else { 2.0 };
            (t.to_string(), (mean + offset).to_string())
        })
        .collect();
    write_series(&tmp.path().join("open.csv"), &shifted);
    let with = format!("{SCENARIO}[[observed]]\nmetric = \"db_occupied\"\nfile = \"open.csv\"\n");
    let out = run(tmp.path(), &with);
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let s = &observed(&summary)[0];
    assert_eq!(s["n"], 8, "{s}");
    let close = |key: &str, want: f64| {
        let got = s[key].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{key}: {got}, expected {want}");
    };
    close("rmse", 2.0);
    close("mae", 2.0);
    close("max_abs_diff", 2.0);
}

#[test]
fn bad_observed_data_names_the_data_line_and_the_scenario_key() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("e.csv"), "time,value\n0,0.1\n15,lots\n").unwrap();
    let text = format!("{SCENARIO}[[observed]]\nmetric = \"error_rate\"\nfile = \"e.csv\"\n");
    std::fs::write(tmp.path().join("s.toml"), text).unwrap();
    let out = pooldrill()
        .arg("check")
        .arg(tmp.path().join("s.toml"))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    // The data file is named as the user finds it: beside the scenario.
    let data = tmp.path().join("e.csv");
    assert!(
        err.contains(&format!(
            "s.toml:21:8: observed[0].file: in {}:3:4",
            data.display()
        )),
        "{err}"
    );
    assert!(err.contains("expected a number, found `lots`"), "{err}");
}

#[test]
fn the_charts_draw_the_observed_series_over_the_simulated_ones() {
    use pooldrill::metrics::Tee;
    use pooldrill::model::{RunOptions, Simulation};
    use pooldrill::report::charts::{self, ChartSink, ObservedLine};
    let scenario = pooldrill::scenario::validate::parse("s.toml", SCENARIO).unwrap();
    let mut sink = ChartSink::default();
    Simulation::new(&scenario, RunOptions::default())
        .run(&mut Tee(vec![&mut sink]), |_| true)
        .unwrap();
    let plain = sink.into_run();
    let seen = |metric: &str, label: &str, v: f64| ObservedLine {
        metric: metric.into(),
        label: label.into(),
        points: (1..=8).map(|i| (f64::from(i) * 5.0, v)).collect(),
    };
    let with = pooldrill::report::charts::RunSeries {
        observed: vec![
            seen("db_occupied", "connections (dashboard)", 6.0),
            seen("wait_p99_s", "p99 wait (dashboard)", 0.05),
        ],
        ..plain.clone()
    };
    let tmp = tempfile::tempdir().unwrap();
    let draw = |run: &charts::RunSeries, name: &str| {
        let stem = tmp.path().join(name);
        charts::incident_timeline(run, &stem.with_extension("timeline")).unwrap();
        charts::wait_heatmap(run, &stem.with_extension("waits")).unwrap();
        ["timeline", "waits"].map(|chart| {
            std::fs::read_to_string(stem.with_extension(format!("{chart}.svg"))).unwrap()
        })
    };
    let before = draw(&plain, "plain");
    let after = draw(&with, "with");
    let dots = |svg: &str| svg.matches("<circle").count();
    // The timeline: 8 dots on the connections panel, 8 on the waits panel,
    // and 3 in each legend entry; the heatmap: the waits only.
    assert_eq!(dots(&after[0]) - dots(&before[0]), 2 * (8 + 3));
    assert_eq!(dots(&after[1]) - dots(&before[1]), 8 + 3);
    assert!(after[0].contains("observed: connections (dashboard)"));
    assert!(after[1].contains("observed: p99 wait (dashboard)"));
    assert!(!after[1].contains("observed: connections"));
}
