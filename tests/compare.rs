//! `compare` and `run --replications`: the shipped shared-vs-separate
//! comparison end to end, common random numbers, seeds, byte-identical
//! files on any number of threads, bad input.

use assert_cmd::Command;
use pooldrill::commands::compare::load_arms;
use pooldrill::model::RunOptions;
use pooldrill::report::replicated::replicate_to_folder;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// A small fleet with a job in the request pools and an alert: fast to
/// run, busy enough to wait and refuse now and then.
const TINY: &str = r#"
[meta]
name = "tiny"
duration = "40s"
warmup = "10s"
seed = 7
[fleet]
pods = 2
workers = 2
[traffic]
rate = "300/s"
[requests]
hold = { dist = "exponential", mean = "30ms" }
[pool]
max = 4
acquire_timeout = "500ms"
[database]
max_connections = 18
other_clients = 2
[job]
period = "5s"
fan_out = 2
hold = { dist = "exponential", mean = "2s" }
pool_mode = "shared"
release = "finally"
[[alerts]]
name = "Refusals"
metric = "refusals_per_s"
op = ">"
threshold = 0
window = "10s"
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&read(path)).unwrap()
}

#[test]
fn shared_versus_separate_pool_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cmp");
    pooldrill()
        .args([
            "compare",
            "scenarios/shared-pool.toml",
            "scenarios/separate-pool.toml",
            "--replications",
            "2",
            "--duration",
            "5m30s",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("separate-pool − shared-pool"))
        .stdout(predicate::str::contains("starved acquires, job"))
        .stdout(predicate::str::contains(
            "time to detect, PoolExhaustionFailures",
        ));
    let kpis = json(&out.join("kpis.json"));
    let arms = kpis["arms"].as_array().unwrap();
    assert_eq!(arms.len(), 2);
    assert_eq!(arms[0]["seeds"], arms[1]["seeds"], "common random numbers");
    assert_eq!(
        arms[0]["seeds"][0], 20260115,
        "replication 0 is the file's seed"
    );
    let ids: Vec<&str> = kpis["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    for id in [
        "error_rate",
        "acquire_timeout_rate",
        "refusal_rate",
        "gave_up_rate",
        "latency_p95_s",
        "latency_p99_s",
        "wait_p95_s",
        "wait_p99_s",
        "peak_open",
        "mean_open",
        "starved_requests",
        "starved_jobs",
        "job_runs_completed",
        "job_runs_late",
        "time_to_detect_s.HighErrorRate",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let csv = read(&out.join("kpis.csv"));
    assert_eq!(csv.lines().count(), 1 + 2 * ids.len());
    assert!(csv.starts_with("kpi,label,unit,arm,n,mean,half_width,lo,hi"));
    for stem in ["open-connections", "error-rate", "acquire-wait"] {
        for ext in ["png", "svg"] {
            let f = out.join(format!("{stem}.{ext}"));
            assert!(
                std::fs::metadata(&f).unwrap().len() > 1000,
                "{}",
                f.display()
            );
        }
    }
    let series = read(&out.join("series.csv"));
    assert!(
        series
            .lines()
            .any(|l| l.starts_with("separate-pool,open-connections,"))
    );
}

#[test]
fn an_arm_compared_with_itself_differs_by_exactly_nothing() {
    // Common random numbers: replication i of both arms uses one seed, so
    // two copies of one design (whatever their own seeds) agree run for run.
    let tmp = tempfile::tempdir().unwrap();
    let a = write(tmp.path(), "a.toml", &TINY.replace("\"tiny\"", "\"a\""));
    let b = write(
        tmp.path(),
        "b.toml",
        &TINY
            .replace("\"tiny\"", "\"b\"")
            .replace("seed = 7", "seed = 99"),
    );
    let out = tmp.path().join("out");
    pooldrill()
        .arg("compare")
        .args([&a, &b])
        .args(["--replications", "3", "--out"])
        .arg(&out)
        .assert()
        .success();
    let kpis = json(&out.join("kpis.json"));
    for kpi in kpis["kpis"].as_array().unwrap() {
        let (x, y) = (&kpi["arms"][0], &kpi["arms"][1]);
        assert_eq!(x["mean"], y["mean"], "{}", kpi["id"]);
        assert_eq!(x["half_width"], y["half_width"], "{}", kpi["id"]);
        let d = &kpi["differences"][0];
        if d["n"].as_u64().unwrap() > 0 {
            assert_eq!(d["mean"], 0.0, "{}", kpi["id"]);
            assert_eq!(d["half_width"], 0.0, "{}", kpi["id"]);
        }
    }
    assert_eq!(kpis["seed"], 7, "the first file's seed");
}

#[test]
fn files_are_identical_on_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write(tmp.path(), "a.toml", TINY);
    let b = write(
        tmp.path(),
        "b.toml",
        &TINY
            .replace("\"tiny\"", "\"bigger\"")
            .replace("max = 4", "max = 6"),
    );
    let arms = load_arms(&[a, b], None, None).unwrap();
    let run = |threads: usize| {
        let out = tmp.path().join(format!("t{threads}"));
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                replicate_to_folder(&arms, 7, 3, RunOptions::default(), &out, true).unwrap()
            });
        out
    };
    let (one, two) = (run(1), run(2));
    let mut names: Vec<_> = std::fs::read_dir(&one)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), 11, "{names:?}");
    for name in names {
        let (x, y) = (
            std::fs::read(one.join(&name)).unwrap(),
            std::fs::read(two.join(&name)).unwrap(),
        );
        assert!(x == y, "{name:?} differs between 1 and 2 threads");
    }
}

#[test]
fn run_with_replications_starts_from_the_plain_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    let plain = tmp.path().join("plain");
    pooldrill()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&plain)
        .assert()
        .success();
    let reps = tmp.path().join("reps");
    pooldrill()
        .arg("run")
        .arg(&file)
        .args(["--replications", "4", "--out"])
        .arg(&reps)
        .assert()
        .success()
        .stdout(predicate::str::contains("tiny: 4 replications, seed 7"))
        .stdout(predicate::str::contains("±"));
    let summary = json(&plain.join("summary.json"));
    let table = read(&reps.join("replications.csv"));
    let header: Vec<&str> = table.lines().next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 4);
    let cell = |row: usize, column: &str| -> f64 {
        let i = header.iter().position(|h| *h == column).unwrap();
        rows[row][i].parse().unwrap()
    };
    assert_eq!(
        rows[0][2], "7",
        "replication 0 runs with the scenario's seed"
    );
    assert_eq!(
        cell(0, "mean_open"),
        summary["connections"]["mean_open"].as_f64().unwrap()
    );
    assert_eq!(
        cell(0, "error_rate"),
        summary["requests"]["error_rate"].as_f64().unwrap()
    );
    assert!(
        (1..4).any(|r| cell(r, "mean_open") != cell(0, "mean_open")),
        "other replications have other seeds"
    );
}

#[test]
fn bad_input_exits_2_with_the_place_of_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = write(tmp.path(), "bad.toml", &TINY.replace("max = 4", "max = 0"));
    pooldrill()
        .arg("compare")
        .arg("scenarios/shared-pool.toml")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad.toml:15:7: pool.max: expected an integer from 1 to 100000, found 0",
        ));
    pooldrill()
        .args(["compare", "scenarios/shared-pool.toml"])
        .assert()
        .code(2);
    pooldrill()
        .args([
            "compare",
            "scenarios/shared-pool.toml",
            "scenarios/separate-pool.toml",
            "--replications",
            "0",
        ])
        .assert()
        .code(2);
    pooldrill()
        .args([
            "run",
            "scenarios/fixed.toml",
            "--replications",
            "2",
            "--trace",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--trace needs a single run"));
}
