//! A closed standard output (`pooldrill check … | head -1`): every printing
//! command finishes its work, commits its files and exits with its own code,
//! without a message; `grafana-dashboard`, whose output is the product, exits
//! 141. The pipe's reader is closed before the command starts, so the first
//! write fails every time (deterministic, unlike `| head`).

mod common;

use pooldrill::commands::replay::SCENARIOS;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Run pooldrill with `args`, its stdout a pipe nobody reads: (exit code,
/// stderr).
fn closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_pooldrill"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-q")
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Exits `code` with nothing on stderr.
fn exits_quietly(args: &[&str], code: i32) {
    let (status, stderr) = closed_stdout(args);
    assert_eq!(status, Some(code), "pooldrill {args:?}: {stderr}");
    assert_eq!(stderr, "", "pooldrill {args:?}");
}

/// The names in `dir` but the record of what pooldrill wrote there, sorted:
/// committed files, no staging folder.
fn committed(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".pooldrill-files.json")
        .collect();
    names.sort();
    assert!(
        !names.iter().any(|n| n.starts_with('.')),
        "{}: {names:?}",
        dir.display()
    );
    names
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn check_run_plan_and_dashboard_exit_with_their_own_code() {
    let tmp = tempfile::tempdir().unwrap();
    exits_quietly(
        &["check", "scenarios/before.toml", "scenarios/after.toml"],
        0,
    );
    let file = common::tiny(tmp.path());
    let out = tmp.path().join("run");
    exits_quietly(&["run", path(&file), "--out", path(&out)], 0);
    assert_eq!(
        committed(&out),
        ["events.csv", "pods.csv", "summary.json", "timeseries.csv"]
    );
    exits_quietly(&["plan", "scenarios/incident.toml"], 1);
    exits_quietly(&["plan", "scenarios/incident.toml", "--json"], 1);
    exits_quietly(
        &["plan", "--pods", "2", "--workers", "2", "--pool-max", "4"],
        0,
    );
    exits_quietly(&["dashboard", path(&file), "--at", "20s"], 0);
    exits_quietly(
        &[
            "dashboard",
            path(&file),
            "--play",
            "--speed",
            "1000x",
            "--every",
            "5s",
        ],
        0,
    );
}

#[test]
fn compare_sweep_and_merge_commit_their_files() {
    let tmp = tempfile::tempdir().unwrap();
    let file = common::tiny(tmp.path());
    let grid = ["--set", "pool.max=2,4", "--replications", "2"];
    let bigger = tmp.path().join("bigger.toml");
    std::fs::write(
        &bigger,
        common::TINY
            .replace("\"tiny\"", "\"bigger\"")
            .replace("max = 4", "max = 6"),
    )
    .unwrap();
    let compared = tmp.path().join("compare");
    exits_quietly(
        &[
            "compare",
            path(&file),
            path(&bigger),
            "--replications",
            "2",
            "--out",
            path(&compared),
        ],
        0,
    );
    assert!(committed(&compared).contains(&"kpis.csv".to_owned()));
    let replicated = tmp.path().join("replicated");
    exits_quietly(
        &[
            "run",
            path(&file),
            "--replications",
            "2",
            "--out",
            path(&replicated),
        ],
        0,
    );
    assert!(committed(&replicated).contains(&"kpis.csv".to_owned()));
    let swept = tmp.path().join("sweep");
    let mut args = vec!["sweep", path(&file)];
    args.extend(grid);
    exits_quietly(&[&args[..], &["--out", path(&swept)]].concat(), 0);
    assert!(committed(&swept).contains(&"sweep.csv".to_owned()));
    let shards: Vec<PathBuf> = (0..2).map(|i| tmp.path().join(format!("s{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        let shard = format!("{i}/2");
        exits_quietly(
            &[&args[..], &["--shard", &shard, "--out", path(dir)]].concat(),
            0,
        );
        assert_eq!(committed(dir), ["manifest.json", "replications.csv"]);
    }
    let merged = tmp.path().join("merged");
    exits_quietly(
        &[
            "merge",
            path(&shards[0]),
            path(&shards[1]),
            "--out",
            path(&merged),
        ],
        0,
    );
    assert_eq!(committed(&merged), committed(&swept));
}

#[test]
fn replay_and_report_commit_every_output() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tmp.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    // The replayed scenarios scaled down, as in tests/handout.rs.
    for name in SCENARIOS {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
        let mut doc: toml::Table = std::fs::read_to_string(shipped).unwrap().parse().unwrap();
        for (table, key, value) in [
            ("fleet", "pods", toml::Value::from(5)),
            ("traffic", "rate", "250/s".into()),
            ("database", "max_connections", 125.into()),
        ] {
            doc[table].as_table_mut().unwrap().insert(key.into(), value);
        }
        std::fs::write(scenarios.join(format!("{name}.toml")), doc.to_string()).unwrap();
    }
    let out = tmp.path().join("output");
    exits_quietly(
        &[
            "replay",
            "--scenarios",
            path(&scenarios),
            "--out",
            path(&out),
        ],
        0,
    );
    let files = committed(&out);
    assert!(files.contains(&"report.md".to_owned()), "{files:?}");
    for name in SCENARIOS {
        assert!(files.contains(&name.to_owned()), "{files:?}");
        assert!(committed(&out.join(name)).contains(&"summary.json".to_owned()));
    }
    let handout = tmp.path().join("handout.html");
    exits_quietly(
        &[
            "report",
            "--scenarios",
            path(&scenarios),
            "--out",
            path(&handout),
        ],
        0,
    );
    assert!(handout.is_file());
}

#[test]
fn grafana_dashboard_is_the_product_and_exits_141() {
    exits_quietly(&["grafana-dashboard"], 141);
    exits_quietly(&["grafana-dashboard", "scenarios/incident.toml"], 141);
}
