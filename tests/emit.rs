//! `sweep --emit slurm|k8s`: the emitted script and manifest run every
//! flag through to the shards, whose merge is the unsharded sweep byte for
//! byte; the manifest is well-formed YAML consistent with `--shards`;
//! nothing is run or written; bad `--shards`/`--shard` are refused.
//! (scripts/slurm-check.sh submits the script to a real Slurm.)

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use yaml_serde::Value;

fn pooldrill(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(cwd);
    cmd
}

/// A small fleet; the comment carries characters a YAML writer must keep:
/// a tab, trailing spaces, a line separator, a next-line character.
const TINY: &str = "# tiny:\tthe emit tests' fleet  \n# odd: \u{2028} \u{85} ü\n
[meta]
name = \"tiny\"
duration = \"30s\"
warmup = \"10s\"
seed = 11
[fleet]
pods = 2
workers = 2
[traffic]
rate = \"200/s\"
[requests]
hold = { dist = \"exponential\", mean = \"30ms\" }
[pool]
max = 4
idle_timeout = \"10s\"
acquire_timeout = \"500ms\"
[database]
max_connections = 14
other_clients = 2
";

/// The sweep's flags: two keys, and every flag whose value the shards'
/// manifests must share for the merge to be accepted.
const SWEEP: [&str; 14] = [
    "--set",
    "pool.max=2,4",
    "--set",
    "traffic.rate=100/s..300/s:100/s",
    "--replications",
    "2",
    "--seed",
    "7",
    "--duration",
    "20s",
    "--metric",
    "refusal_rate",
    "--safe-below",
    "0.5 %",
];

/// A folder with the scenario in a subfolder whose name needs quoting.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("my sweeps");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("it's tiny.toml"), TINY).unwrap();
    (tmp, dir)
}

/// The files of `dir`, name and bytes, sorted.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// The unsharded sweep of `scenario`, in `out`.
fn whole(cwd: &Path, scenario: &str, out: &Path) {
    pooldrill(cwd)
        .args(["-q", "sweep", scenario])
        .args(SWEEP)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    assert!(out.join("sweep.csv").exists());
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn the_slurm_script_runs_shards_that_merge_into_the_unsharded_sweep() {
    let (tmp, dir) = setup();
    let output = pooldrill(&dir)
        .args(["sweep", "it's tiny.toml"])
        .args(SWEEP)
        .args(["--emit", "slurm", "--shards", "3", "--cpus", "2"])
        .args(["--out", "out dir"])
        .output()
        .unwrap();
    let script = stdout(&output);
    let bin = assert_cmd::cargo::cargo_bin("pooldrill");
    for line in [
        "#!/bin/bash",
        "#SBATCH --array=0-2",
        "#SBATCH --cpus-per-task=2",
        "export RAYON_NUM_THREADS=$SLURM_CPUS_PER_TASK",
        "    --shard \"${SLURM_ARRAY_TASK_ID}/3\" \\",
    ] {
        assert!(script.lines().any(|l| l == line), "{line}\n{script}");
    }
    let command = format!(
        "{} -q sweep '{}/it'\\''s tiny.toml' \\",
        bin.display(),
        dir.display()
    );
    assert!(script.contains(&command), "{command}\n{script}");
    let out = dir.join("out dir");
    assert!(!out.exists(), "--emit wrote {}", out.display());

    // Each array task as Slurm would start it: the script under bash with
    // the task's variables, from another folder.
    let elsewhere = tmp.path();
    for task in 0..3 {
        let status = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(elsewhere)
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_CPUS_PER_TASK", "2")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "task {task}");
    }
    let merged = out.join("merged");
    pooldrill(elsewhere)
        .arg("merge")
        .args((0..3).map(|i| out.join(format!("shard-{i}"))))
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    // The manifest records the scenario by the absolute path the shards
    // were given: the unsharded sweep is run with the same.
    let unsharded = tmp.path().join("whole");
    whole(
        elsewhere,
        &dir.join("it's tiny.toml").display().to_string(),
        &unsharded,
    );
    assert!(files(&merged) == files(&unsharded), "the merge differs");
}

/// The documents of a multi-document YAML text.
fn documents(text: &str) -> Vec<Value> {
    yaml_serde::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut at = v;
    for key in path {
        at = match key.parse::<usize>() {
            Ok(i) => &at[i],
            Err(_) => &at[*key],
        };
    }
    at.as_str()
        .unwrap_or_else(|| panic!("{} is not a string: {at:?}", path.join(".")))
}

#[test]
fn the_k8s_manifest_is_an_indexed_job_of_n_shards_with_the_scenario_and_the_merge() {
    let (tmp, dir) = setup();
    let results = tmp.path().join("results");
    let output = pooldrill(&dir)
        .args(["sweep", "it's tiny.toml"])
        .args(SWEEP)
        .args(["--emit", "k8s", "--shards", "4", "--cpus", "3"])
        .args(["--image", "registry.example/pooldrill:test"])
        .arg("--out")
        .arg(&results)
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(!results.exists());
    let docs = documents(&text);
    let kinds: Vec<&str> = docs.iter().map(|d| str_at(d, &["kind"])).collect();
    assert_eq!(kinds, ["ConfigMap", "Job", "Job"]);
    let (config, job, merge) = (&docs[0], &docs[1], &docs[2]);
    for doc in [job, merge] {
        assert_eq!(str_at(doc, &["apiVersion"]), "batch/v1");
    }
    // The scenario, byte for byte, under the one key the pods read.
    let data = config["data"].as_mapping().unwrap();
    assert_eq!(data.len(), 1);
    let (key, source) = data.iter().next().unwrap();
    assert_eq!(source.as_str(), Some(TINY));

    let spec = &job["spec"];
    assert_eq!(str_at(spec, &["completionMode"]), "Indexed");
    assert_eq!(spec["completions"].as_u64(), Some(4));
    let parallelism = spec["parallelism"].as_u64().unwrap();
    assert!((1..=4).contains(&parallelism));
    let pod = &spec["template"]["spec"];
    assert_eq!(str_at(pod, &["restartPolicy"]), "Never");
    let container = &pod["containers"][0];
    assert_eq!(
        str_at(container, &["image"]),
        "registry.example/pooldrill:test"
    );
    assert_eq!(str_at(container, &["resources", "requests", "cpu"]), "3");
    assert_eq!(
        str_at(container, &["env", "0", "name"]),
        "RAYON_NUM_THREADS"
    );
    assert_eq!(str_at(container, &["env", "0", "value"]), "3");
    let task = str_at(container, &["args", "0"]);
    assert!(
        task.contains("--shard \"${JOB_COMPLETION_INDEX}/4\""),
        "{task}"
    );
    // The ConfigMap volume is the one named, mounted where the task reads.
    let volume = |pod: &Value, name: &str| -> Value {
        let list = pod["volumes"].as_sequence().unwrap();
        list.iter().find(|v| v["name"] == name).unwrap().clone()
    };
    let mount = |container: &Value, name: &str| -> String {
        let list = container["volumeMounts"].as_sequence().unwrap();
        let m = list.iter().find(|m| m["name"] == name).unwrap();
        str_at(m, &["mountPath"]).to_owned()
    };
    assert_eq!(
        str_at(&volume(pod, "scenario"), &["configMap", "name"]),
        str_at(config, &["metadata", "name"])
    );
    let scenario_path = format!("{}/{}", mount(container, "scenario"), key.as_str().unwrap());
    assert!(task.contains(&format!(" {scenario_path} ")), "{task}");
    assert_eq!(mount(container, "results"), results.display().to_string());

    let merge_pod = &merge["spec"]["template"]["spec"];
    assert_eq!(merge["spec"]["suspend"].as_bool(), Some(true));
    let merge_container = &merge_pod["containers"][0];
    assert_eq!(
        mount(merge_container, "results"),
        results.display().to_string()
    );
    assert_eq!(
        volume(merge_pod, "results"),
        volume(pod, "results"),
        "the merge reads the shards' volume"
    );
    let merge_command = str_at(merge_container, &["args", "0"]);

    // Run the pods' commands here: the ConfigMap's file at a local path,
    // `pooldrill` on the PATH, each index in turn, then the merge.
    let local = tmp.path().join("scenario.toml");
    std::fs::write(&local, source.as_str().unwrap()).unwrap();
    let local = local.display().to_string();
    let bin_dir = assert_cmd::cargo::cargo_bin("pooldrill")
        .parent()
        .unwrap()
        .to_owned();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let sh = |command: &str, index: Option<u32>| {
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", command])
            .env("PATH", &path)
            .stdout(Stdio::null());
        if let Some(i) = index {
            cmd.env("JOB_COMPLETION_INDEX", i.to_string());
        }
        assert!(cmd.status().unwrap().success(), "{command}");
    };
    let task = task.replace(&scenario_path, &local);
    for i in 0..4 {
        sh(&task, Some(i));
    }
    sh(merge_command, None);
    let unsharded = tmp.path().join("whole");
    whole(tmp.path(), &local, &unsharded);
    assert!(
        files(&results.join("merged")) == files(&unsharded),
        "the merge differs"
    );
}

#[test]
fn emit_writes_nothing() {
    for target in ["slurm", "k8s"] {
        let (_tmp, dir) = setup();
        let out = if target == "k8s" { "/results" } else { "out" };
        let output = pooldrill(&dir)
            .args(["sweep", "it's tiny.toml"])
            .args(SWEEP)
            .args(["--emit", target, "--shards", "2", "--out", out])
            .output()
            .unwrap();
        assert!(!stdout(&output).is_empty());
        let names: Vec<String> = files(&dir).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["it's tiny.toml"], "--emit {target}");
    }
}

#[test]
fn emit_refuses_a_shard_no_shards_and_more_shards_than_runs() {
    let (_tmp, dir) = setup();
    let refused = |flags: &[&str], message: &str| {
        let output = pooldrill(&dir)
            .args(["sweep", "it's tiny.toml"])
            .args(SWEEP)
            .args(flags)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
        assert!(output.stdout.is_empty());
    };
    // 6 points × 2 replications.
    let too_many = "--shards: expected a number of shards from 1 to 12 (the sweep's runs: 6 points × 2 replications)";
    for target in ["slurm", "k8s"] {
        refused(
            &["--emit", target, "--shards", "3", "--shard", "1/3"],
            "--shard: not with --emit (the emitted script gives each task its shard)",
        );
        refused(
            &["--emit", target, "--shards", "0"],
            &format!("{too_many}, found 0"),
        );
        refused(
            &["--emit", target, "--shards", "13"],
            &format!("{too_many}, found 13"),
        );
        refused(&["--emit", target], "--shards <N>");
    }
    refused(&["--shards", "3"], "--emit <EMIT>");
    refused(
        &["--emit", "k8s", "--shards", "3", "--out", "results"],
        "--out: expected the absolute folder the results volume is mounted at in the pods (e.g. /results), found results",
    );
    refused(
        &["--emit", "slurm", "--shards", "3", "--image", "x"],
        "--image: only used by --emit k8s",
    );
    let names: Vec<String> = files(&dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["it's tiny.toml"]);
}

#[test]
fn a_reader_that_has_gone_is_exit_141() {
    let (_tmp, dir) = setup();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("pooldrill"))
        .current_dir(&dir)
        .args(["sweep", "it's tiny.toml"])
        .args(SWEEP)
        .args(["--emit", "slurm", "--shards", "2"])
        .stdout(writer)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(141));
}

/// A sweep the resource guard refuses is not emitted either: a cluster
/// would queue shards that all fail.
#[test]
fn emit_refuses_a_sweep_the_guard_refuses() {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oversized/huge-fleet.toml");
    for target in ["slurm", "k8s"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pooldrill"))
            .arg("sweep")
            .arg(&file)
            .args(["--set", "pool.max=4,8", "--emit", target, "--shards", "2"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{target}: {stderr}");
        assert!(stderr.contains("is too big to run"), "{target}: {stderr}");
        assert!(output.stdout.is_empty(), "{target}");
    }
}
