//! Scenario input on the command line: warnings for valid files that can
//! deadlock, and the texts of flag errors (`--seed`, `--shard`,
//! `--duration`, `--set`, `--max-events`, `--safe-below`), a damaged shard
//! refused by `merge`, and arms of different durations refused by
//! `compare`.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// A small fleet without a job: fast to run.
const TINY: &str = r#"[meta]
name = "tiny"
duration = "5s"
seed = 3
[fleet]
pods = 2
workers = 1
[traffic]
rate = "50/s"
[requests]
hold = { dist = "exponential", mean = "20ms" }
[pool]
max = 2
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// TINY with a job in the worker's pool that checks out 3 of its 2 clients.
fn nested(dir: &Path) -> PathBuf {
    let job =
        "[job]\npool_mode = \"shared\"\nrelease = \"finally\"\nperiod = \"1s\"\nfan_out = 3\n";
    write(dir, "nested.toml", &format!("{TINY}{job}"))
}

#[test]
fn check_and_run_warn_that_a_job_wider_than_its_pool_can_deadlock() {
    let tmp = tempfile::tempdir().unwrap();
    let file = nested(tmp.path());
    let warning = format!(
        "warning: {}:18:11: job.fan_out: a run checks out 3 clients one after the other from the worker's pool (pool.max = 2)",
        file.display()
    );
    pooldrill()
        .arg("check")
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(": ok ("))
        .stderr(predicate::str::contains(&warning).and(predicate::str::contains("deadlock")));
    pooldrill()
        .args(["run", "-q", "--out"])
        .arg(tmp.path().join("out"))
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains(&warning));
    // The job's own pool deadlocks the same way.
    let own = "[job]\npool_mode = \"own\"\nrelease = \"finally\"\nfan_out = 4\n[job.pool]\nmax = 3\nacquire_timeout = \"2s\"\n";
    let own = write(tmp.path(), "own.toml", &format!("{TINY}{own}"));
    pooldrill()
        .arg("check")
        .arg(&own)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "job.fan_out: a run checks out 4 clients one after the other from the job's pool (job.pool.max = 3)",
        ).and(predicate::str::contains("until its acquire times out after 2s")));
    // Within the pool: no warning.
    let fits = write(
        tmp.path(),
        "fits.toml",
        &format!("{TINY}[job]\npool_mode = \"shared\"\nrelease = \"finally\"\nfan_out = 2\n"),
    );
    pooldrill()
        .arg("check")
        .arg(&fits)
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
}

#[test]
fn a_negative_seed_is_refused_in_plain_words() {
    for command in [
        &["run", "x.toml"][..],
        &["sweep", "x.toml"],
        &["compare", "x.toml", "y.toml"],
        &["alerts", "x.toml"],
    ] {
        pooldrill()
            .args(command)
            .args(["--seed", "-1"])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains(
                    "'--seed <SEED>': expected a whole number from 0 to 18446744073709551615, found \"-1\"",
                )
                .and(predicate::str::contains("-- -1").not()),
            );
    }
}

#[test]
fn zero_shards_are_refused_without_a_negative_index() {
    pooldrill()
        .args(["sweep", "x.toml", "--set", "pool.max=2", "--shard", "0/0"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("expected at least one shard (i/n with n ≥ 1), found 0/0")
                .and(predicate::str::contains("-1").not()),
        );
    pooldrill()
        .args(["sweep", "x.toml", "--set", "pool.max=2", "--shard", "-1/3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "expected i/n with 0 ≤ i < n, as in 3/10, found \"-1/3\"",
        ));
}

#[test]
fn a_bad_duration_flag_says_it_comes_from_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    pooldrill()
        .args(["run", "--duration", "0s"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "meta.duration: expected a duration above zero, found 0 (from --duration)",
        ));
    pooldrill()
        .args(["run", "--duration", "1M"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "months have no fixed length (did you mean \"1m\" for minutes?",
        ));
    assert!(!tmp.path().join("output").exists());
}

#[test]
fn a_sweep_of_a_job_the_file_lacks_says_there_is_no_job() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    pooldrill()
        .args(["sweep", "--set", "job.fan_out=1,2", "--out"])
        .arg(tmp.path().join("out"))
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--set job.fan_out=1,2: expected a table the file has, found no [job]",
        ));
    pooldrill()
        .args(["sweep", "--set", "pooler.pool_size=5,10", "--out"])
        .arg(tmp.path().join("out"))
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("found no [pooler]"));
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn a_limit_of_one_event_is_one_event() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    pooldrill()
        .args(["run", "--max-events", "1"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("the limit is 1 event (")
                .and(predicate::str::contains("1 events").not()),
        );
}

#[test]
fn a_bound_below_zero_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    for bound in ["--safe-below=-1", "--safe-below=0"] {
        pooldrill()
            .args(["sweep", "--set", "pool.max=2", bound])
            .arg(&file)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "--safe-below: expected a bound above zero for error_rate",
            ));
    }
    pooldrill()
        .args(["sweep", "--set", "pool.max=2", "--safe-below", "-1%"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected a bound above zero"));
}

#[test]
fn merge_refuses_a_nan_in_a_shard() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "tiny.toml", TINY);
    let shards: Vec<PathBuf> = (0..2).map(|i| tmp.path().join(format!("s{i}"))).collect();
    for (i, dir) in shards.iter().enumerate() {
        pooldrill()
            .args([
                "sweep",
                "-q",
                "--set",
                "pool.max=2,3",
                "--replications",
                "1",
            ])
            .args(["--shard", &format!("{i}/2"), "--out"])
            .arg(dir)
            .arg(&file)
            .assert()
            .success();
    }
    let csv = shards[1].join("replications.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let (header, row) = text.split_once('\n').unwrap();
    let cells: Vec<&str> = row.trim_end().split(',').collect();
    let column = header.split(',').position(|c| c == "error_rate").unwrap();
    let mut damaged: Vec<&str> = cells.clone();
    damaged[column] = "NaN";
    std::fs::write(&csv, format!("{header}\n{}\n", damaged.join(","))).unwrap();
    pooldrill()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(tmp.path().join("merged"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:2: error_rate: expected a finite number (or an empty cell for no value), found \"NaN\"",
            csv.display()
        )));
    assert!(!tmp.path().join("merged").join("sweep.csv").exists());
}

#[test]
fn compare_refuses_arms_of_different_durations() {
    let tmp = tempfile::tempdir().unwrap();
    let short = write(tmp.path(), "short.toml", TINY);
    let long = write(
        tmp.path(),
        "long.toml",
        &TINY
            .replace("name = \"tiny\"", "name = \"long\"")
            .replace("\"5s\"", "\"7s\""),
    );
    pooldrill()
        .args(["compare", "--replications", "2", "--out"])
        .arg(tmp.path().join("out"))
        .args([&short, &long])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}: expected every arm to last as long as {} (5s), found 7s: pass --duration",
            long.display(),
            short.display()
        )));
    assert!(!tmp.path().join("out").exists());
    pooldrill()
        .args([
            "compare",
            "-q",
            "--replications",
            "2",
            "--duration",
            "5s",
            "--out",
        ])
        .arg(tmp.path().join("out"))
        .args([&short, &long])
        .assert()
        .success();
}

#[test]
fn a_nanosecond_is_shown_as_a_nanosecond() {
    pooldrill().args(["plan", "--hold", "1ns"]).assert().stdout(
        predicate::str::contains("holds of mean 1ns")
            .and(predicate::str::contains("mean 0.00 ms").not()),
    );
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "ns.toml",
        &format!(
            "{TINY}[[alerts]]\nname = \"a\"\nmetric = \"waiters\"\nop = \">\"\nthreshold = 1\nwindow = \"1ns\"\n"
        ),
    );
    pooldrill()
        .arg("check")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "expected a window of at least one sample interval (1s), found 1ns",
        ));
}
