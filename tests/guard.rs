//! The resource guard of every command that simulates, and the limit a run
//! can still reach at run time (`tests/oversized/`: files that pass `check`
//! but not the guard).

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn pooldrill() -> Command {
    Command::cargo_bin("pooldrill").unwrap()
}

const PILE_UP: &str = "tests/oversized/pile-up.toml";
const HUGE_FLEET: &str = "tests/oversized/huge-fleet.toml";

#[test]
fn a_pile_up_of_waiters_is_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    pooldrill()
        .args(["run", PILE_UP, "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tests/oversized/pile-up.toml: scenario pile-up is too big to run",
        ))
        .stderr(predicate::str::contains(
            "72.0 M events pending at the peak",
        ))
        .stderr(predicate::str::contains("--force"));
    assert!(!out.exists());
}

#[test]
fn a_run_that_fills_the_event_queue_stops_with_an_error_and_writes_nothing() {
    // The queue's own limit (2^24 events) takes a minute and 2 GB to reach;
    // the hidden --max-pending lowers it, the way out is the same.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let pile_up = || {
        let mut cmd = pooldrill();
        cmd.args([
            "run",
            PILE_UP,
            "--force",
            "--max-pending",
            "100000",
            "--out",
        ])
        .arg(&out);
        cmd
    };
    pile_up()
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "error: tests/oversized/pile-up.toml: scenario pile-up: stopped at t = ",
        ))
        .stderr(predicate::str::contains(
            "more than 100000 events pending at once",
        ))
        .stderr(predicate::str::contains("lower traffic.rate"))
        .stderr(predicate::str::contains("panicked").not());
    assert!(!out.exists(), "nothing committed, the folder removed");
    // A folder that existed keeps what it had.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("summary.json"), "earlier").unwrap();
    pile_up().assert().code(2);
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["summary.json"]);
    assert_eq!(
        std::fs::read_to_string(out.join("summary.json")).unwrap(),
        "earlier"
    );
}

/// A folder of the five replayed scenarios, `before.toml` being `file`.
fn scenario_folder(file: &str, dir: &Path) {
    for name in ["before", "after", "fixed", "incident", "incident-as-told"] {
        let from = if name == "before" {
            file.to_owned()
        } else {
            format!("scenarios/{name}.toml")
        };
        std::fs::copy(from, dir.join(format!("{name}.toml"))).unwrap();
    }
}

#[test]
fn every_command_that_simulates_refuses_a_huge_fleet_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let scenarios = tmp.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    scenario_folder(HUGE_FLEET, &scenarios);
    let rules = tmp.path().join("rules.yml");
    std::fs::write(&rules, "groups: []\n").unwrap();
    let out_s = out.to_str().unwrap();
    let scenarios_s = scenarios.to_str().unwrap();
    let rules_s = rules.to_str().unwrap();
    let html = tmp.path().join("out/report.html");
    let commands: Vec<Vec<&str>> = vec![
        vec!["run", HUGE_FLEET, "--out", out_s],
        vec!["run", HUGE_FLEET, "--replications", "3", "--out", out_s],
        vec!["sweep", HUGE_FLEET, "--set", "pool.max=4,8", "--out", out_s],
        vec![
            "compare",
            "scenarios/before.toml",
            HUGE_FLEET,
            "--duration",
            "10m",
            "--out",
            out_s,
        ],
        vec!["dashboard", HUGE_FLEET, "--at", "5m"],
        vec!["dashboard", HUGE_FLEET, "--play"],
        vec![
            "alerts",
            HUGE_FLEET,
            "--rules",
            rules_s,
            "--write-test",
            out_s,
        ],
        vec!["replay", "--scenarios", scenarios_s, "--out", out_s],
        vec![
            "report",
            "--scenarios",
            scenarios_s,
            "--out",
            html.to_str().unwrap(),
        ],
    ];
    let before = format!("{scenarios_s}/before.toml");
    for args in commands {
        let shown = if args[0] == "replay" || args[0] == "report" {
            before.as_str()
        } else {
            HUGE_FLEET
        };
        pooldrill()
            .args(&args)
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "{shown}: scenario huge-fleet is too big to run"
            )))
            .stderr(predicate::str::contains("the memory limit is 4.0 GB"));
        assert!(!out.exists(), "{args:?} created {}", out.display());
    }
}

#[test]
fn force_lifts_the_guard_of_every_command_alike() {
    // --max-events 1 refuses any run; --force lets it through. Each
    // command's flags parse the same way.
    let tmp = tempfile::tempdir().unwrap();
    let file = "tests/mini-incident.toml";
    let out = tmp.path().join("out");
    let out_s = out.to_str().unwrap();
    for args in [
        vec!["run", file, "--out", out_s],
        vec![
            "sweep",
            file,
            "--set",
            "pool.max=4",
            "--replications",
            "1",
            "--out",
            out_s,
        ],
        vec!["compare", file, file, "--replications", "1", "--out", out_s],
        vec!["dashboard", file, "--at", "1m"],
    ] {
        pooldrill()
            .args(&args)
            .args(["--max-events", "1"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("the limit is 1 event ("));
        pooldrill()
            .args(&args)
            .args(["--max-events", "1", "--max-output", "1kB", "--force"])
            .assert()
            .success();
    }
}

#[test]
fn the_output_limit_counts_the_samples_and_the_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    pooldrill()
        .args(["run", "tests/oversized/sample-1us.toml", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("9.6 GB of output"))
        .stderr(predicate::str::contains("the output limit is 4.0 GB"))
        .stderr(predicate::str::contains("--max-output 11GB"));
    let run = |extra: &[&str]| {
        let mut cmd = pooldrill();
        cmd.args(["run", "tests/mini-incident.toml", "--out"])
            .arg(&out)
            .args(extra);
        cmd.assert()
    };
    run(&["--max-output", "20MB"]).success();
    run(&["--max-output", "20MB", "--trace"])
        .code(2)
        .stderr(predicate::str::contains("the output limit is 20 MB"))
        .stderr(predicate::str::contains("drop --trace"));
    run(&["--max-output", "lots"])
        .code(2)
        .stderr(predicate::str::contains(
            "expected a size like 500MB, 4GB or 4000000000 (bytes), found \"lots\"",
        ));
}

#[test]
fn a_long_hold_on_a_short_run_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    pooldrill()
        .args(["run", "tests/oversized/long-hold.toml", "--out"])
        .arg(tmp.path())
        .assert()
        .success();
}

#[test]
fn many_replications_say_how_long_they_will_take() {
    // The folder cannot be created (it is a file): the command fails at
    // once, after the announcement.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "").unwrap();
    pooldrill()
        .args([
            "run",
            "scenarios/incident.toml",
            "--replications",
            "10000",
            "--out",
        ])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(
            predicate::str::is_match(
                r"10000 runs of about [0-9.]+ M events each: about [0-9.]+ h on [0-9]+ threads?",
            )
            .unwrap(),
        );
}
