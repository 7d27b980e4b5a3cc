//! The command line: exit codes, messages, files, determinism.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

#[test]
fn check_accepts_every_shipped_scenario() {
    let mut files: Vec<String> = Vec::new();
    for dir in ["scenarios", "scenarios/theory", "scenarios/scale"] {
        for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p.display().to_string());
            }
        }
    }
    assert!(files.len() >= 8, "{files:?}");
    pooldrill().arg("check").args(&files).assert().success();
}

#[test]
fn a_bad_scenario_exits_2_with_file_line_column_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.toml");
    std::fs::write(
        &f,
        "[meta]\nname = \"x\"\nduration = \"1m\"\n[pool]\nmax = -3\n",
    )
    .unwrap();
    pooldrill()
        .arg("check")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad.toml:5:7: pool.max: expected an integer from 1 to 100000, found -3",
        ));
    pooldrill()
        .args(["run", "--out"])
        .arg(tmp.path().join("out"))
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pool.max"));
    assert!(
        !tmp.path().join("out").exists(),
        "nothing written for a bad scenario"
    );
}

#[test]
fn usage_errors_exit_2() {
    pooldrill().args(["run"]).assert().code(2);
    pooldrill().args(["frobnicate"]).assert().code(2);
    pooldrill()
        .args(["run", "x.toml", "--duration", "ten"])
        .assert()
        .code(2);
}

#[test]
fn run_writes_the_three_files_and_same_seed_gives_identical_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |dir: &str, seed: &str| {
        pooldrill()
            .args([
                "run",
                "scenarios/after.toml",
                "--duration",
                "7m",
                "--seed",
                seed,
                "--out",
            ])
            .arg(tmp.path().join(dir))
            .assert()
            .success()
            .stdout(predicate::str::contains("error rate"));
    };
    run("a", "7");
    run("b", "7");
    run("c", "8");
    for f in ["summary.json", "timeseries.csv", "pods.csv"] {
        let a = std::fs::read(tmp.path().join("a").join(f)).unwrap();
        let b = std::fs::read(tmp.path().join("b").join(f)).unwrap();
        let c = std::fs::read(tmp.path().join("c").join(f)).unwrap();
        assert!(!a.is_empty());
        assert!(a == b, "{f} differs between two runs with the same seed");
        assert!(a != c, "{f} is the same for another seed");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("a/summary.json")).unwrap()).unwrap();
    for key in [
        "arrived",
        "completed",
        "goodput",
        "acquire_timeouts",
        "refused",
        "gave_up",
        "error_rate",
        "p50_latency_s",
        "p95_latency_s",
        "p99_latency_s",
    ] {
        assert!(summary["requests"].get(key).is_some(), "requests.{key}");
    }
    for key in [
        "count",
        "waited",
        "timed_out",
        "refused",
        "mean_wait_s",
        "p50_wait_s",
        "p95_wait_s",
        "p99_wait_s",
    ] {
        assert!(summary["acquire"].get(key).is_some(), "acquire.{key}");
    }
    for key in [
        "peak_open",
        "mean_open",
        "mean_checked_out",
        "leaked",
        "usable_slots",
        "possible",
    ] {
        assert!(
            summary["connections"].get(key).is_some(),
            "connections.{key}"
        );
    }
    assert_eq!(summary["scenario"]["seed"], 7);
    assert!(summary["scenario"]["hash"].is_string() && summary["version"].is_string());
}

#[test]
fn progress_goes_nowhere_on_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    pooldrill()
        .args([
            "run",
            "scenarios/theory/mmc.toml",
            "--duration",
            "300s",
            "--out",
        ])
        .arg(tmp.path())
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

#[test]
fn a_run_without_trace_removes_an_earlier_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = |trace: bool| {
        let mut cmd = pooldrill();
        cmd.args(["run", "scenarios/before.toml", "--duration", "6m", "--out"])
            .arg(&out);
        if trace {
            cmd.arg("--trace");
        }
        cmd.assert().success();
    };
    run(true);
    assert!(out.join("trace.jsonl").is_file());
    run(false);
    assert!(
        !out.join("trace.jsonl").exists(),
        "a trace of the earlier run was left beside the new files"
    );
    assert!(out.join("summary.json").is_file());
}
