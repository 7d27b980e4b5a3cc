//! Safe outputs and signals: special files are written through or refused,
//! never replaced; `-` is standard output; SIGTERM and SIGHUP stop a run as
//! Ctrl-C does; staging leftovers of dead processes of this host are reaped;
//! a set of files is committed whole or not at all; files an earlier
//! command wrote are removed, a user's own files kept; `merge` never writes
//! into one of its inputs.
#![cfg(target_os = "linux")]

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `run` of a tiny scenario (`mmc.toml` for 300 s) into `out`, with `extra`.
fn run(out: &Path, extra: &[&str]) -> Command {
    let mut cmd = pooldrill();
    cmd.args([
        "run",
        "scenarios/theory/mmc.toml",
        "--duration",
        "300s",
        "-q",
        "--out",
    ])
    .arg(out)
    .args(extra);
    cmd
}

fn names(dir: &Path) -> Vec<String> {
    common::snapshot(dir).into_iter().map(|(n, _)| n).collect()
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn dev_null_a_fifo_and_a_symlink_as_openmetrics_stay_what_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let null = common::null_device(tmp.path());
    run(&tmp.path().join("a"), &["--openmetrics"])
        .arg(&null)
        .assert()
        .success();
    let meta = std::fs::symlink_metadata(&null).unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "{} replaced",
        null.display()
    );

    let fifo = tmp.path().join("fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    // The reader must be there before the run opens the FIFO.
    let started = Instant::now();
    loop {
        let out = run(&tmp.path().join("b"), &["--openmetrics"])
            .arg(&fifo)
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no reader"), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(20), "{stderr}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = reader.join().unwrap();
    assert!(
        text.ends_with("# EOF\n"),
        "the FIFO's reader got the export"
    );
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );

    let real = tmp.path().join("real.om");
    std::fs::write(&real, "old").unwrap();
    let link = tmp.path().join("link.om");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    run(&tmp.path().join("c"), &["--openmetrics"])
        .arg(&link)
        .assert()
        .success();
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().ends_with("# EOF\n"));
}

#[test]
fn a_fifo_without_reader_is_refused_at_once_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    mkfifo(&fifo);
    let out = tmp.path().join("out");
    let bin = assert_cmd::cargo::cargo_bin("pooldrill");
    let mut child = std::process::Command::new(bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "scenarios/theory/mmc.toml", "--duration", "300s"])
        .arg("--out")
        .arg(&out)
        .arg("--openmetrics")
        .arg(&fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("still waiting on a FIFO with no reader");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is a FIFO with no reader"), "{stderr}");
    assert!(!out.exists(), "nothing created");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn openmetrics_dash_goes_to_stdout_and_the_summary_to_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&tmp.path().join("out"), &["--openmetrics", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("# TYPE "), "{}", &stdout[..80]);
    assert!(stdout.ends_with("# EOF\n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("openmetrics: - "), "{stderr}");
    assert!(!tmp.path().join("-").exists());
}

#[test]
fn a_closed_stdout_ends_openmetrics_dash_with_141() {
    let tmp = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let bin = assert_cmd::cargo::cargo_bin("pooldrill");
    let status = std::process::Command::new(bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "scenarios/theory/mmc.toml", "--duration", "300s"])
        .arg("--out")
        .arg(tmp.path().join("out"))
        .args(["--openmetrics", "-"])
        .stdout(writer)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(141));
}

/// Send `signal` to a long `run` into `dir` once it has begun; returns the
/// exit code and standard error.
fn signal_mid_run(signal: &str, dir: &Path) -> (Option<i32>, String) {
    let bin = assert_cmd::cargo::cargo_bin("pooldrill");
    let mut child = std::process::Command::new(bin)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "scenarios/before.toml", "--duration", "8h", "--out"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    common::signal_once_started(dir, child.id(), signal);
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn sigterm_and_sighup_stop_a_run_like_ctrl_c_with_143_and_129() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    run(&dir, &[]).assert().success();
    let before = common::snapshot(&dir);
    for (signal, code) in [("-TERM", 143), ("-HUP", 129)] {
        let (status, stderr) = signal_mid_run(signal, &dir);
        assert_eq!(status, Some(code), "{signal}: {stderr}");
        assert!(stderr.contains("interrupted at"), "{stderr}");
        assert_eq!(
            common::snapshot(&dir),
            before,
            "{signal}: previous output changed"
        );
    }
    // A folder the interrupted run created is removed again.
    let fresh = tmp.path().join("fresh");
    let (status, _) = signal_mid_run("-TERM", &fresh);
    assert_eq!(status, Some(143));
    assert!(!fresh.exists());
}

#[test]
fn staging_leftovers_of_dead_processes_of_this_host_are_reaped_others_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    // The name pooldrill gives this host in staging folders.
    let host = pooldrill::report::staging::host();
    // PIDs above the kernel's limit (4194304) never live.
    let dead = format!(".pooldrill-staging-{host}-4194305-00000000deadbeef");
    let elsewhere = format!(".pooldrill-staging-{host}x-4194305-00000000deadbeef");
    for name in [&dead, &elsewhere] {
        std::fs::create_dir(dir.join(name)).unwrap();
        std::fs::write(dir.join(name).join("summary.json"), "half").unwrap();
    }
    run(&dir, &[]).assert().success();
    let left = names(&dir);
    assert!(!left.contains(&dead), "{left:?}");
    assert!(left.contains(&elsewhere), "{left:?}");
}

#[test]
fn a_folder_in_the_way_fails_the_commit_with_nothing_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    run(&dir, &[]).assert().success();
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    std::fs::create_dir(dir.join("summary.json")).unwrap();
    let before = common::snapshot(&dir);
    run(&dir, &["--seed", "9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("summary.json: it is a folder"))
        .stderr(predicate::str::contains("nothing was changed"));
    assert_eq!(common::snapshot(&dir), before);
}

#[test]
fn files_of_an_earlier_command_are_removed_and_a_users_own_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    run(&dir, &[]).assert().success();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    run(&dir, &["--replications", "2"]).assert().success();
    let left = names(&dir);
    for gone in ["summary.json", "timeseries.csv", "pods.csv", "events.csv"] {
        assert!(!left.iter().any(|n| n == gone), "{gone} left: {left:?}");
    }
    assert!(left.iter().any(|n| n == "kpis.csv"), "{left:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
    run(&dir, &[]).assert().success();
    let left = names(&dir);
    assert!(!left.iter().any(|n| n == "kpis.csv"), "{left:?}");
    assert!(left.iter().any(|n| n == "notes.txt"), "{left:?}");
}

/// A small sweep scenario.
const TINY: &str = r#"
[meta]
name = "tiny"
duration = "10s"
seed = 11
[traffic]
rate = "100/s"
[pool]
max = 4
"#;

fn tiny(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, TINY).unwrap();
    path
}

#[test]
fn a_one_key_sweep_after_a_two_key_sweep_leaves_no_old_heatmap() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tiny(tmp.path());
    let out = tmp.path().join("sweep");
    let sweep = |sets: &[&str]| {
        let mut cmd = pooldrill();
        cmd.arg("sweep")
            .arg(&file)
            .args(["--replications", "1", "-q"]);
        for s in sets {
            cmd.args(["--set", s]);
        }
        cmd.arg("--out").arg(&out).assert().success();
    };
    sweep(&["pool.max=2,4", "traffic.rate=50/s,100/s"]);
    assert!(out.join("heatmap.png").exists());
    sweep(&["pool.max=2,4"]);
    assert!(!out.join("heatmap.png").exists());
    assert!(!out.join("heatmap.svg").exists());
    assert!(out.join("sweep.png").exists());
}

#[test]
fn merge_refuses_to_write_into_one_of_its_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tiny(tmp.path());
    let shard = |i: u32| {
        let out = tmp.path().join(format!("shard{i}"));
        pooldrill()
            .arg("sweep")
            .arg(&file)
            .args(["--set", "pool.max=2,4", "--replications", "1", "-q"])
            .args(["--shard", &format!("{i}/2"), "--out"])
            .arg(&out)
            .assert()
            .success();
        out
    };
    let (a, b) = (shard(0), shard(1));
    let before = common::snapshot(&a);
    pooldrill()
        .arg("merge")
        .arg(&a)
        .arg(&b)
        .arg("--out")
        .arg(a.join("."))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("would overwrite it"));
    assert_eq!(common::snapshot(&a), before);
}

/// The five replayed scenarios, tiny, in `dir`.
fn tiny_replay(dir: &Path) -> PathBuf {
    let scenarios = dir.join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    for name in ["before", "after", "fixed", "incident", "incident-as-told"] {
        std::fs::write(
            scenarios.join(format!("{name}.toml")),
            format!("[meta]\nname = \"{name}\"\nduration = \"20s\"\n[traffic]\nrate = \"50/s\"\n"),
        )
        .unwrap();
    }
    scenarios
}

#[test]
fn a_replay_commits_its_folders_and_its_root_as_one_set() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tiny_replay(tmp.path());
    let out = tmp.path().join("out");
    let replay = || {
        let mut cmd = pooldrill();
        cmd.args(["replay", "--scenarios"])
            .arg(&scenarios)
            .arg("--out")
            .arg(&out);
        cmd
    };
    // The export folder may be the output folder itself.
    replay().arg("--openmetrics").arg(&out).assert().success();
    assert!(out.join("before.om").is_file());
    replay().assert().success();
    assert!(
        !out.join("before.om").exists(),
        "an earlier export is stale"
    );
    let before_dir = common::snapshot(&out.join("before"));
    std::fs::remove_file(out.join("report.md")).unwrap();
    std::fs::create_dir(out.join("report.md")).unwrap();
    replay()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("report.md: it is a folder"));
    assert_eq!(common::snapshot(&out.join("before")), before_dir);
    assert!(
        !names(&out)
            .iter()
            .any(|n| n.starts_with(".pooldrill-staging")),
        "{:?}",
        names(&out)
    );
}

#[test]
fn two_replayed_scenarios_with_one_name_are_refused_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tiny_replay(tmp.path());
    std::fs::write(
        scenarios.join("fixed.toml"),
        "[meta]\nname = \"after\"\nduration = \"20s\"\n",
    )
    .unwrap();
    pooldrill()
        .args(["replay", "--scenarios"])
        .arg(&scenarios)
        .arg("--out")
        .arg(tmp.path().join("out"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("are both named \"after\""));
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn report_out_through_a_symlink_keeps_the_link() {
    let tmp = tempfile::tempdir().unwrap();
    let scenarios = tiny_replay(tmp.path());
    let real = tmp.path().join("real.html");
    std::fs::write(&real, "old").unwrap();
    let link = tmp.path().join("handout.html");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    pooldrill()
        .args(["report", "--scenarios"])
        .arg(&scenarios)
        .arg("--out")
        .arg(&link)
        .assert()
        .success();
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains("<html"));
    // Nothing else is written beside it.
    assert_eq!(
        names(tmp.path()),
        ["handout.html", "real.html", "scenarios"]
    );
}

#[test]
fn alerts_write_test_refuses_a_fifo_without_reader_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    mkfifo(&fifo);
    let started = Instant::now();
    pooldrill()
        .args([
            "alerts",
            "scenarios/theory/mmc.toml",
            "--duration",
            "300s",
            "--rules",
            "alerts/pool-exhaustion.yml",
            "--write-test",
        ])
        .arg(&fifo)
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a FIFO with no reader"));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}
