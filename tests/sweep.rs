//! `sweep` and `merge`: grids in the file's units, per-point statistics,
//! the heatmap, shards that merge into exactly one run's files, identical
//! files on any number of threads, and errors that point at the problem.

mod common;

use assert_cmd::Command;
use pooldrill::commands::shared_flags::SharedFlags;
use pooldrill::commands::sweep::{SweepArgs, sweep};
use pooldrill::replicate::grid::{Grid, parse_set};
use pooldrill::scenario::validate::parse;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

const GRID: [&str; 6] = [
    "--set",
    "pool.max=2,4",
    "--set",
    "traffic.rate=100/s..300/s:100/s",
    "--replications",
    "2",
];

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn same_files(a: &Path, b: &Path) {
    assert_eq!(files(a), files(b));
    for name in files(a) {
        let (x, y) = (
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(b.join(&name)).unwrap(),
        );
        assert!(
            x == y,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn a_grid_writes_statistics_per_point_and_a_heatmap() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    pooldrill()
        .arg("sweep")
        .arg(common::tiny(tmp.path()))
        .args(GRID)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("6 points × 2 replications"))
        .stdout(predicate::str::contains("pool.max = 4, traffic.rate = 300"));
    assert_eq!(
        files(&out),
        [
            ".pooldrill-files.json",
            "heatmap.png",
            "heatmap.svg",
            "manifest.json",
            "replications.csv",
            "sweep.csv",
            "sweep.png",
            "sweep.svg"
        ]
    );
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[..7],
        [
            "point",
            "pool.max",
            "traffic.rate",
            "safe",
            "error_rate_mean",
            "error_rate_lo",
            "error_rate_hi"
        ]
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[5][..3], ["5", "4", "300"]);
    for row in &rows {
        let (mean, lo, hi) = (
            row[4].parse::<f64>().unwrap(),
            row[5].parse::<f64>().unwrap(),
            row[6].parse::<f64>().unwrap(),
        );
        assert!(lo <= mean && mean <= hi);
        assert_eq!(
            row[3],
            (hi < 0.01).to_string(),
            "safe: upper bound below 1 %"
        );
    }
    let replications = std::fs::read_to_string(out.join("replications.csv")).unwrap();
    assert_eq!(replications.lines().count(), 1 + 12);
}

#[test]
fn shards_merge_into_exactly_the_unsharded_files() {
    let tmp = tempfile::tempdir().unwrap();
    let file = common::tiny(tmp.path());
    let full = tmp.path().join("full");
    pooldrill()
        .arg("sweep")
        .arg(&file)
        .args(GRID)
        .arg("--out")
        .arg(&full)
        .assert()
        .success();
    // 12 runs over 5 shards; shards of more machines than runs are empty.
    let shards: Vec<PathBuf> = (0..5).map(|i| tmp.path().join(format!("s{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        pooldrill()
            .arg("sweep")
            .arg(&file)
            .args(GRID)
            .args(["--shard", &format!("{i}/5"), "--out"])
            .arg(dir)
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("shard {i}/5: ")));
        assert_eq!(
            files(dir),
            [".pooldrill-files.json", "manifest.json", "replications.csv"]
        );
    }
    let merged = tmp.path().join("merged");
    pooldrill()
        .arg("merge")
        .args(shards.iter().rev())
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    same_files(&full, &merged);

    pooldrill()
        .arg("merge")
        .args(&shards[..4])
        .arg("--out")
        .arg(tmp.path().join("partial"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "missing: run (or pass the folder of) shard 4/5",
        ));
    pooldrill()
        .arg("merge")
        .args([&shards[0], &shards[0]])
        .arg("--out")
        .arg(tmp.path().join("twice"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is also in"));
    let other = tmp.path().join("other");
    pooldrill()
        .arg("sweep")
        .arg(&file)
        .args(GRID)
        .args(["--seed", "12", "--shard", "4/5", "--out"])
        .arg(&other)
        .assert()
        .success();
    pooldrill()
        .arg("merge")
        .args(&shards[..4])
        .arg(&other)
        .arg("--out")
        .arg(tmp.path().join("mixed"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the sweeps differ in: seed"));
    assert!(!tmp.path().join("mixed").join("sweep.csv").exists());
}

#[test]
fn files_are_identical_on_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let file = common::tiny(tmp.path());
    let run = |threads: usize| {
        let out = tmp.path().join(format!("t{threads}"));
        let args = SweepArgs {
            file: file.clone(),
            sets: vec!["pool.max=2..4".into(), "traffic.rate=150/s,300/s".into()],
            replications: 2,
            shared: SharedFlags {
                out: Some(out.clone()),
                ..SharedFlags::default()
            },
            shard: None,
            metric: "refusal_rate".into(),
            safe_below: Some("0.5%".into()),
            check_invariants: false,
            emit: None,
            shards: None,
            cpus: 1,
            image: None,
            guard: Default::default(),
        };
        let code = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| sweep(&args, true).unwrap());
        assert_eq!(code, 0);
        out
    };
    same_files(&run(1), &run(2));
}

#[test]
fn values_are_set_in_the_units_of_the_file() {
    let grid = Grid::new(vec![
        parse_set("traffic.rate=2/ms").unwrap(),
        parse_set("pool.idle_timeout=1m30s").unwrap(),
        parse_set("pool.acquire_timeout=0.25s").unwrap(),
        parse_set("database.max_connections=40").unwrap(),
    ])
    .unwrap();
    let table: toml::Table = toml::from_str(common::TINY).unwrap();
    let s = parse("x.toml", &grid.source_at(&table, 0).unwrap()).unwrap();
    assert_eq!(s.traffic.rate_points[0].1, 2000.0);
    let pool = &s.app().pool;
    assert_eq!(pool.idle_timeout.unwrap().as_secs_f64(), 90.0);
    assert_eq!(pool.acquire_timeout.unwrap().as_secs_f64(), 0.25);
    assert_eq!(s.database.max_connections, 40);
}

#[test]
fn bad_sweeps_exit_2_and_say_where() {
    let tmp = tempfile::tempdir().unwrap();
    let file = common::tiny(tmp.path());
    let sweep = |args: &[&str]| {
        let mut cmd = pooldrill();
        cmd.arg("sweep").arg(&file).args(args);
        cmd.arg("--out").arg(tmp.path().join("never"));
        cmd.assert().code(2)
    };
    sweep(&["--set", "pool.max=0..2"]).stderr(predicate::str::contains(
        "tiny.toml:15:7: pool.max: expected an integer from 1 to 100000, found 0 (with pool.max = 0 from --set)",
    ));
    sweep(&["--set", "pool.mxa=1..2"])
        .stderr(predicate::str::contains("pool.mxa: expected one of"));
    sweep(&["--set", "pool.idle_timeout=10..20"]).stderr(predicate::str::contains(
        "pool.idle_timeout: expected a duration like",
    ));
    sweep(&["--set", "pool.max=4..x"]).stderr(predicate::str::contains(
        "--set pool.max=4..x: expected an integer, a number, a duration like \"10s\" or a rate like \"100/s\", found \"x\"",
    ));
    sweep(&["--set", "pool.max=2", "--metric", "nope"]).stderr(predicate::str::contains(
        "--metric: expected one of error_rate",
    ));
    sweep(&["--set", "pool.max=2", "--shard", "3/3"]).stderr(predicate::str::contains(
        "expected a shard index from 0 to 2",
    ));
    sweep(&["--set", "pool.max=2", "--safe-below", "lots"]).stderr(predicate::str::contains(
        "--safe-below: expected a fraction",
    ));
    assert!(!tmp.path().join("never").exists());
}
