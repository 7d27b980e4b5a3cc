//! The command line under bad input and bad luck: every bad scenario exits 2
//! without a panic, oversized runs are refused with their estimate, Ctrl-C
//! stops a run cleanly, and a failed or interrupted run leaves the previous
//! output exactly as it was.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/bad-scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// A finished run of `mmc.toml` in `dir`: the "previous output".
fn previous_output(dir: &Path) -> Vec<(String, Vec<u8>)> {
    pooldrill()
        .args([
            "run",
            "scenarios/theory/mmc.toml",
            "--duration",
            "300s",
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
    let files = common::snapshot(dir);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            ".pooldrill-files.json",
            "events.csv",
            "pods.csv",
            "summary.json",
            "timeseries.csv"
        ]
    );
    files
}

#[test]
fn check_refuses_every_bad_scenario_with_exit_2_and_no_panic() {
    let files = corpus();
    let out = pooldrill().arg("check").args(&files).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for f in &files {
        let name = f.display().to_string();
        assert_eq!(
            stderr.matches(&format!("error: {name}:")).count(),
            1,
            "{name} in {stderr}"
        );
    }
}

#[test]
fn run_refuses_bad_scenarios_without_touching_the_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    for f in corpus() {
        let out = tmp.path().join(f.file_stem().unwrap());
        pooldrill()
            .args(["run", "--out"])
            .arg(&out)
            .arg(&f)
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with(format!(
                "error: {}",
                f.display()
            )))
            .stderr(predicate::str::contains("panicked").not());
        assert!(
            !out.exists(),
            "{} created for {}",
            out.display(),
            f.display()
        );
    }
}

#[test]
fn oversized_runs_are_refused_up_front_with_the_estimate_and_the_overrides() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("decade.toml");
    std::fs::write(
        &file,
        "[meta]\nname = \"decade\"\nduration = \"3650days\"\n[traffic]\nrate = \"2000/s\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    pooldrill()
        .args(["run", "--out"])
        .arg(&out)
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "scenario decade is too big to run: about 6.3e11 requests",
        ))
        .stderr(predicate::str::contains("days of computing"))
        .stderr(predicate::str::contains("of memory"))
        .stderr(predicate::str::contains("--max-events 2e12"))
        .stderr(predicate::str::contains("--force"));
    assert!(!out.exists());
    let fleet = tmp.path().join("fleet.toml");
    std::fs::write(
        &fleet,
        "[meta]\nname = \"fleet\"\nduration = \"10m\"\n[fleet]\npods = 1000000\nworkers = 1000\n",
    )
    .unwrap();
    pooldrill()
        .args(["run", "--out"])
        .arg(&out)
        .arg(&fleet)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("1.0 TB of memory"))
        .stderr(predicate::str::contains("the memory limit is 4.0 GB"));
}

#[test]
fn max_events_lowers_or_raises_the_limit_and_force_skips_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut cmd = pooldrill();
        cmd.args([
            "run",
            "scenarios/theory/mmc.toml",
            "--duration",
            "300s",
            "--out",
        ])
        .arg(tmp.path())
        .args(extra);
        cmd.assert()
    };
    run(&["--max-events", "1000"])
        .code(2)
        .stderr(predicate::str::contains("the limit is 1000 events"));
    run(&["--max-events", "1_000_000"]).success();
    run(&["--max-events", "1000", "--force"]).success();
    run(&["--max-events", "many"])
        .code(2)
        .stderr(predicate::str::contains(
            "expected a whole number of events like 5000000000 or 5e9, found \"many\"",
        ));
}

#[test]
fn an_output_path_that_is_a_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("taken");
    std::fs::write(&file, "keep me").unwrap();
    pooldrill()
        .args([
            "run",
            "scenarios/theory/mmc.toml",
            "--duration",
            "300s",
            "--out",
        ])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a file, not a folder"));
    pooldrill()
        .args([
            "run",
            "scenarios/theory/mmc.toml",
            "--duration",
            "300s",
            "--out",
        ])
        .arg(file.join("below"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot create the output folder"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[cfg(unix)]
#[test]
fn an_unwritable_output_folder_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("locked");
    let before = previous_output(&dir);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.join("probe"), "").is_ok() {
        // Root ignores permissions: nothing to observe here.
        std::fs::remove_file(dir.join("probe")).unwrap();
        eprintln!("skipped: running as root, permissions are not enforced");
        return;
    }
    pooldrill()
        .args([
            "run",
            "scenarios/theory/mmc.toml",
            "--duration",
            "400s",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot write in the output folder",
        ));
    assert_eq!(common::snapshot(&dir), before);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A write that fails halfway (here the file-size limit, `ulimit -f`, which
/// fails writes as a full disk does, with no root needed) is reported with
/// the folder, and the previous output stays.
#[cfg(target_os = "linux")]
#[test]
fn a_write_failure_midway_leaves_the_previous_output_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let before = previous_output(&dir);
    let limited_run = |dir: &Path| {
        std::process::Command::new("sh")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("-c")
            .arg("trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\"")
            .arg(assert_cmd::cargo::cargo_bin("pooldrill"))
            .args(["run", "scenarios/before.toml", "--duration", "10m", "--out"])
            .arg(dir)
            .output()
            .unwrap()
    };
    let fresh = tmp.path().join("fresh");
    assert_eq!(limited_run(&fresh).status.code(), Some(2));
    assert!(!fresh.exists(), "a failed run leaves no folder it created");
    let out = limited_run(&dir);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "error: cannot write the output files in {} (the previous ones are left as they were): File too large",
            dir.display()
        )),
        "{stderr}"
    );
    assert_eq!(common::snapshot(&dir), before, "previous output changed");
}

/// Ctrl-C (SIGINT) stops the run at its next progress report: exit 130, one
/// line saying how far it got, nothing written, the previous output intact.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_run_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let before = previous_output(&dir);
    let bin = assert_cmd::cargo::cargo_bin("pooldrill");
    // Hours of simulated traffic: far longer than it takes to interrupt.
    let mut child = std::process::Command::new(bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "scenarios/before.toml", "--duration", "8h", "--out"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    common::signal_once_started(&dir, child.id(), "-INT");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: before: interrupted at ")
            && stderr.contains(" of 8h00m0s simulated (")
            && stderr.contains(&format!(
                "nothing written, {} left as it was",
                dir.display()
            )),
        "{stderr}"
    );
    assert_eq!(common::snapshot(&dir), before, "previous output changed");
}
