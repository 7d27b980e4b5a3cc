//! `pooldrill fit` on the shipped example, `scenarios/own-incident/`: its
//! three telemetry files are what a hidden run exported (this file makes
//! them, and checks that the shipped ones are exactly those), and the fit
//! over a grid that contains the hidden values finds them.

mod common;

use assert_cmd::Command;
use common::variant;
use pooldrill::metrics::{MemorySink, SeriesRow};
use pooldrill::model::{RunOptions, Simulation};
use pooldrill::scenario::validate::{Overrides, parse_with_files};
use pooldrill::scenario_file::ScenarioFolder;
use std::path::{Path, PathBuf};

const EXAMPLE: &str = "scenarios/own-incident";
const SCENARIO: &str = "own-incident.toml";
/// The hidden run: the job fails half its runs, every 20 s, the
/// incident's own luck is another seed than the scenario's, and the
/// traffic follows the curve its exported counts were drawn from.
const HIDDEN: [(&str, &str); 4] = [
    ("error_probability = 0.2", "error_probability = 0.5"),
    ("period = \"60s\"", "period = \"20s\""),
    ("seed = 1\n", "seed = 2026\n"),
    ("rate_from = \"traffic.csv\"\n", TRUE_TRAFFIC),
];
/// The hidden run's request rate: ramps, a dip and a spike.
const TRUE_TRAFFIC: &str = r#"rate = "150/s"
profile = [
  { at = "2m", rate = "300/s", ramp = "30s" },
  { at = "3m30s", rate = "60/s", ramp = "10s" },
  { at = "5m", rate = "320/s" },
  { at = "6m30s", rate = "150/s", ramp = "30s" },
  { at = "8m", rate = "300/s" },
  { at = "9m", rate = "200/s", ramp = "30s" },
]
"#;
/// The dashboard's resolution.
const STEP: usize = 15;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// `HH:MM:SS` of `t` seconds after 14:00, as a dashboard export shows it.
fn clock(t: usize) -> String {
    let s = 14 * 3600 + t;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The three exports of the hidden run: (file, text).
fn hidden_exports() -> Vec<(&'static str, String)> {
    let path = root().join(EXAMPLE).join(SCENARIO);
    let text = std::fs::read_to_string(&path).unwrap();
    // Its [[observed]] files are read (and not used) beside the example.
    let hidden = variant(&text, &HIDDEN);
    let folder = ScenarioFolder::of(&path);
    let scenario = parse_with_files("hidden.toml", &hidden, Overrides::default(), &folder).unwrap();
    let mut sink = MemorySink::default();
    Simulation::new(&scenario, RunOptions::default())
        .run(&mut sink, |_| true)
        .unwrap();
    let windows: Vec<&[SeriesRow]> = sink.rows.chunks(STEP).collect();
    let export = |header: &str, value: &dyn Fn(&[SeriesRow]) -> String| {
        let mut csv = format!("time,{header}\n");
        for (i, w) in windows.iter().enumerate() {
            csv.push_str(&format!("{},{}\n", clock((i + 1) * STEP), value(w)));
        }
        csv
    };
    let sum = |w: &[SeriesRow], f: fn(&SeriesRow) -> u64| w.iter().map(f).sum::<u64>();
    vec![
        (
            "traffic.csv",
            export("count", &|w| sum(w, |r| r.arrivals).to_string()),
        ),
        (
            "errors.csv",
            export("value", &|w| {
                let answered = sum(w, |r| r.answered).max(1);
                format!("{:.4}", sum(w, |r| r.failed) as f64 / answered as f64)
            }),
        ),
        (
            "connections.csv",
            export("value", &|w| w.last().unwrap().db_occupied.to_string()),
        ),
    ]
}

#[test]
fn the_shipped_telemetry_is_the_hidden_runs_export() {
    let fresh = tempfile::tempdir().unwrap();
    let mut stale = Vec::new();
    for (name, text) in hidden_exports() {
        let shipped = std::fs::read_to_string(root().join(EXAMPLE).join(name)).unwrap_or_default();
        if shipped != text {
            std::fs::write(fresh.path().join(name), &text).unwrap();
            stale.push(name);
        }
    }
    if !stale.is_empty() {
        let kept = fresh.keep();
        panic!(
            "{stale:?} differ from the hidden run's export: the fresh files are in {}; copy them into {EXAMPLE}/",
            kept.display()
        );
    }
}

#[test]
fn the_fit_recovers_the_hidden_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = example_copy(tmp.path());
    let out = tmp.path().join("fit");
    let assert = Command::cargo_bin("pooldrill")
        .unwrap()
        .arg("fit")
        .arg(&scenario)
        .args(["--set", "job.error_probability=0.2,0.5,0.8"])
        .args(["--set", "job.period=20s,60s"])
        .args(["--replications", "5", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("1. job.error_probability=0.5, job.period=20s  score"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(out.join("fit.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "rank,point,job.error_probability,job.period,score,ci_low,ci_high,vs_best,vs_best_low,vs_best_high"
        )
    );
    let best: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&best[..4], ["1", "2", "0.5", "20"], "{csv}");
    assert_eq!(csv.lines().count(), 1 + 6, "one row per grid point");
    // The runner-up is worse beyond the noise: its paired difference from
    // the best is above zero over its whole interval.
    let second: Vec<f64> = csv
        .lines()
        .nth(2)
        .unwrap()
        .split(',')
        .map(|c| c.parse().unwrap_or(f64::NAN))
        .collect();
    assert!(second[8] > 0.0, "{csv}");
    for chart in ["fit-best-timeline", "fit-best-waits"] {
        for ext in ["png", "svg"] {
            assert!(
                out.join(format!("{chart}.{ext}")).is_file(),
                "{chart}.{ext}"
            );
        }
    }
}

/// The example copied into a temporary folder: the scenario's path.
fn example_copy(tmp: &Path) -> PathBuf {
    let example = tmp.join("own-incident");
    std::fs::create_dir_all(&example).unwrap();
    for name in [SCENARIO, "traffic.csv", "errors.csv", "connections.csv"] {
        std::fs::copy(root().join(EXAMPLE).join(name), example.join(name)).unwrap();
    }
    example.join(SCENARIO)
}

#[test]
fn shards_of_a_fit_merge_into_the_unsharded_fit_on_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = example_copy(tmp.path());
    let fit = |out: &str, shard: Option<&str>| {
        let mut cmd = Command::cargo_bin("pooldrill").unwrap();
        cmd.current_dir(tmp.path())
            .arg("fit")
            .arg(&scenario)
            .args(["--set", "job.error_probability=0.5,0.8"])
            .args(["--replications", "2", "--quiet", "--out", out]);
        match shard {
            Some(s) => cmd.args(["--shard", s]),
            // The whole fit on one thread, the shards on the machine's.
            None => cmd.env("RAYON_NUM_THREADS", "1"),
        };
        cmd.assert().success();
    };
    fit("whole", None);
    fit("s0", Some("0/2"));
    fit("s1", Some("1/2"));
    Command::cargo_bin("pooldrill")
        .unwrap()
        .current_dir(tmp.path())
        .args(["merge", "s0", "s1", "--out", "merged"])
        .assert()
        .success();
    for file in [
        "fit.csv",
        "replications.csv",
        "manifest.json",
        "fit-best-timeline.svg",
    ] {
        let a = std::fs::read(tmp.path().join("whole").join(file)).unwrap();
        let b = std::fs::read(tmp.path().join("merged").join(file)).unwrap();
        assert!(a == b, "{file} differs");
    }
    let manifest = std::fs::read_to_string(tmp.path().join("whole/manifest.json")).unwrap();
    assert!(manifest.contains("\"fit\": true"), "{manifest}");
}

#[test]
fn a_fit_without_observed_series_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = example_copy(tmp.path());
    let text = std::fs::read_to_string(&scenario).unwrap();
    let cut = text.find("[[observed]]").unwrap();
    std::fs::write(&scenario, &text[..cut]).unwrap();
    Command::cargo_bin("pooldrill")
        .unwrap()
        .arg("fit")
        .arg(&scenario)
        .args(["--set", "job.period=20s,60s", "--out"])
        .arg(tmp.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "expected at least one [[observed]] series to fit to, found none",
        ));
    assert!(!tmp.path().join("out").exists());
}
