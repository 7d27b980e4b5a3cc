//! `pooldrill realpg` on a real PostgreSQL with real Node.js workers: each
//! key the harness honours shows its effect in a small real run, a key it
//! cannot honour is refused at its line and column, a SIGTERM mid-run
//! leaves no server, no node process and no temporary folder behind, and
//! what a SIGKILL leaves is cleaned up by the next run.
//!
//! They need PostgreSQL's server, Node.js and `npm ci` in validation/: when
//! one is missing they fail under CI (`CI` set) and are skipped, saying
//! why, elsewhere.

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

/// The short validation (write) runs alone; the other real fleets (read)
/// may run together: its false-alarm rate assumes the load it was sized on.
static FLEETS: RwLock<()> = RwLock::new(());

/// [`FLEETS`] shared, for a test that runs real fleets.
fn fleet_slot() -> RwLockReadGuard<'static, ()> {
    FLEETS.read().unwrap_or_else(PoisonError::into_inner)
}

/// Why a real run cannot happen here, if it cannot.
fn missing() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("validation/node_modules/pg");
    if !harness.is_dir() {
        return Some("validation/node_modules is missing (run `npm ci` in validation/)".into());
    }
    let bindir = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .ok();
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.path().join("bin/initdb").is_file());
    if !debian && !bindir.is_some_and(|b| b.join("initdb").is_file()) {
        return Some("PostgreSQL's server (initdb) is not installed".into());
    }
    None
}

/// Whether to go on: false (skip, printing why) when a tool is missing,
/// a panic under CI.
fn can_run(test: &str) -> bool {
    match missing() {
        None => true,
        Some(why) if std::env::var_os("CI").is_some() => panic!("{test}: {why}"),
        Some(why) => {
            eprintln!("skipped {test}: {why}");
            false
        }
    }
}

/// A one-pod scenario with these sections.
fn scenario(workers: u32, rate: &str, hold: &str, pool: &str, extra: &str) -> String {
    format!(
        r#"[meta]
name = "t"
duration = "5s"
warmup = "1s"
[fleet]
pods = 1
workers = {workers}
[traffic]
rate = "{rate}"
arrivals = "deterministic"
[requests]
hold = {{ dist = "deterministic", value = "{hold}" }}
app_time = {{ dist = "deterministic", value = "0s" }}
deadline = "0s"
[pool]
{pool}
[database]
max_connections = 23
other_clients = 0
{extra}
"#
    )
}

/// A temporary folder the `postgres` user can enter (the server runs as
/// that user when the tests run as root).
fn open_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `pooldrill realpg` on `toml` with 2 short runs: its output and each real
/// run's measurements.
fn realpg(toml: &str) -> (Output, Vec<Value>) {
    let dir = open_tempdir();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, toml).unwrap();
    let out = dir.path().join("out");
    let output = Command::cargo_bin("pooldrill")
        .unwrap()
        .args(["-q", "realpg"])
        .arg(&file)
        .args(["--runs", "2", "--replications", "2", "--out"])
        .arg(&out)
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = (0..2)
        .map(|i| {
            let text = std::fs::read_to_string(out.join(format!("real/real-{i}.json"))).unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect();
    (output, runs)
}

/// [`realpg`] on two scenarios at once (each on its own server): the
/// per-key tests contrast two settings, and a real run mostly waits.
fn realpg_both(a: &str, b: &str) -> (Vec<Value>, Vec<Value>) {
    std::thread::scope(|s| {
        let a = s.spawn(|| realpg(a).1);
        let b = s.spawn(|| realpg(b).1);
        (a.join().unwrap(), b.join().unwrap())
    })
}

fn num(v: &Value, path: &str) -> f64 {
    v.pointer(path).and_then(Value::as_f64).unwrap()
}

#[test]
fn pool_max_caps_the_connections_a_worker_opens() {
    if !can_run("pool_max") {
        return;
    }
    let _fleets = fleet_slot();
    // 25/s of 60 ms holds need 1.5 clients: a pool of 1 queues.
    let (one, four) = realpg_both(
        &scenario(1, "25/s", "60ms", "max = 1", ""),
        &scenario(1, "25/s", "60ms", "max = 4", ""),
    );
    for r in &one {
        assert_eq!(num(r, "/connections/peak_open"), 1.0, "{r}");
        assert!(num(r, "/acquire/found_full") > 10.0, "{r}");
    }
    assert!(four.iter().any(|r| num(r, "/connections/peak_open") > 1.0));
}

#[test]
fn idle_timeout_closes_idle_clients() {
    if !can_run("idle_timeout") {
        return;
    }
    let _fleets = fleet_slot();
    // A request every 500 ms; idle clients close after 200 ms: each
    // request opens a new connection. With 10 s, one connection serves all.
    let short = "max = 2\nidle_timeout = \"200ms\"";
    let long = "max = 2\nidle_timeout = \"10s\"";
    let (short, long) = realpg_both(
        &scenario(1, "2/s", "10ms", short, ""),
        &scenario(1, "2/s", "10ms", long, ""),
    );
    for r in &short {
        let setups = r["setup_s"].as_array().unwrap().len();
        assert!(setups >= 5, "{setups} setups: {r}");
    }
    for r in &long {
        assert_eq!(r["setup_s"].as_array().unwrap().len(), 1, "{r}");
    }
}

#[test]
fn acquire_timeout_fails_queued_requests_with_pg_pools_message() {
    if !can_run("acquire_timeout") {
        return;
    }
    let _fleets = fleet_slot();
    // One client held 1 s, a request every 250 ms, 200 ms of patience.
    let (_, runs) = realpg(&scenario(
        1,
        "4/s",
        "1s",
        "max = 1\nacquire_timeout = \"200ms\"",
        "",
    ));
    for r in &runs {
        assert!(num(r, "/requests/queue_timeouts") > 5.0, "{r}");
        let texts = r["error_texts"].as_object().unwrap();
        assert!(
            texts
                .keys()
                .any(|t| t.contains("timeout exceeded when trying to connect")),
            "{texts:?}"
        );
    }
}

fn job(release: &str) -> String {
    format!(
        "[job]\nperiod = \"500ms\"\nruns_in = \"one_worker\"\nfan_out = 1\n\
         hold = {{ dist = \"deterministic\", value = \"100ms\" }}\nerror_probability = 1.0\n\
         pool_mode = \"own\"\nrelease = \"{release}\"\n[job.pool]\nmax = 20\n"
    )
}

#[test]
fn a_leaky_job_leaks_what_a_finally_job_releases() {
    if !can_run("job_release") {
        return;
    }
    let _fleets = fleet_slot();
    let (leaky, finally) = realpg_both(
        &scenario(1, "2/s", "10ms", "max = 2", &job("leaky")),
        &scenario(1, "2/s", "10ms", "max = 2", &job("finally")),
    );
    for r in &leaky {
        let failed = num(r, "/job/runs_failed");
        assert!(failed >= 5.0, "{r}");
        assert_eq!(num(r, "/connections/leaked"), failed, "{r}");
        assert!(num(r, "/connections/peak_open") >= 7.0, "{r}");
    }
    for r in &finally {
        assert!(num(r, "/job/runs_failed") >= 5.0, "{r}");
        assert_eq!(num(r, "/connections/leaked"), 0.0, "{r}");
        assert!(num(r, "/connections/peak_open") <= 3.0, "{r}");
    }
}

/// `pooldrill realpg` on a shipped arm, 2 runs of 40 s and 6 replications,
/// at a false-alarm rate of 0.5 % (two arms: at most 1 % per CI run):
/// its exit code and comparison.md.
fn short_validation(arm: &str) -> (Option<i32>, String) {
    let dir = open_tempdir();
    let out = dir.path().join("out");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/validation")
        .join(format!("{arm}.toml"));
    let output = Command::cargo_bin("pooldrill")
        .unwrap()
        .args(["-q", "realpg"])
        .arg(&scenario)
        .args([
            "--runs",
            "2",
            "--duration",
            "40s",
            "--replications",
            "6",
            "--out",
        ])
        .arg(&out)
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    let md = std::fs::read_to_string(out.join("comparison.md"))
        .unwrap_or_else(|_| String::from_utf8_lossy(&output.stderr).into_owned());
    (output.status.code(), md)
}

/// CI's short validation (docs/validation.md#in-ci): both arms at once,
/// each on its own server; exit 1 (they disagree) fails it. It runs with
/// no other real fleet ([`FLEETS`]). The longest test, named to sort near
/// the top: libtest starts tests by name, so it starts early.
#[test]
fn a_short_run_of_both_arms_agrees() {
    if !can_run("short validation") {
        return;
    }
    let _alone = FLEETS.write().unwrap_or_else(PoisonError::into_inner);
    let (before, after) = std::thread::scope(|s| {
        let before = s.spawn(|| short_validation("before"));
        let after = s.spawn(|| short_validation("after"));
        (before.join().unwrap(), after.join().unwrap())
    });
    assert_eq!(before.0, Some(0), "before:\n{}", before.1);
    assert_eq!(after.0, Some(0), "after:\n{}", after.1);
}

#[test]
fn a_key_the_real_fleet_cannot_honour_is_refused_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    let toml = scenario(1, "2/s", "10ms", "max = 2\nmax_uses = 100", "");
    std::fs::write(&file, &toml).unwrap();
    let output = Command::cargo_bin("pooldrill")
        .unwrap()
        .args(["realpg"])
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let line = toml
        .lines()
        .position(|l| l.starts_with("max_uses"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!("s.toml:{line}:12: pool.max_uses")),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing ran");
}

/// Live processes: (pid, parent pid, command line).
fn processes() -> Vec<(u32, u32, String)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": comm may hold spaces.
            let mut after = stat[stat.rfind(')')? + 1..].split_whitespace();
            let state = after.next()?;
            let ppid = after.next()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            (state != "Z").then(|| {
                (
                    pid,
                    ppid,
                    String::from_utf8_lossy(&cmdline).replace('\0', " "),
                )
            })
        })
        .collect()
}

/// Command lines of the live processes that mention `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    processes()
        .into_iter()
        .filter(|(_, _, c)| c.contains(needle))
        .map(|(_, _, c)| c)
        .collect()
}

/// A command killed if the test fails before it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let _ = self.0.wait();
        }
    }
}

/// The folder `name` in `dir`, which the `postgres` user can enter (the
/// server runs as that user when the tests run as root).
fn open_subdir(dir: &Path, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let sub = dir.join(name);
    std::fs::create_dir(&sub).unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o755)).unwrap();
    sub
}

/// `pooldrill realpg file --out out` with its server in `tmp`, once it is
/// mid-run: the harness has its settings and its workers are running.
fn realpg_mid_run(file: &Path, out: &Path, tmp: &Path) -> KillOnDrop {
    let child = Command::cargo_bin("pooldrill")
        .unwrap()
        .args(["-q", "realpg"])
        .arg(file)
        .arg("--out")
        .arg(out)
        .env("TMPDIR", tmp)
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    let start = Instant::now();
    while !out.join("real-new/run-0.json").exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no run started");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[test]
fn sigterm_mid_run_leaves_no_server_no_node_and_no_folder() {
    if !can_run("sigterm") {
        return;
    }
    let _fleets = fleet_slot();
    let dir = open_tempdir();
    let tmp = open_subdir(dir.path(), "tmp");
    let file = dir.path().join("s.toml");
    let toml = scenario(2, "20/s", "20ms", "max = 2", "").replace("\"5s\"", "\"60s\"");
    std::fs::write(&file, toml).unwrap();
    let out = dir.path().join("out");
    let mut child = realpg_mid_run(&file, &out, &tmp);
    std::thread::sleep(Duration::from_secs(4));
    let tmp_name = tmp.to_string_lossy().into_owned();
    let out_name = out.to_string_lossy().into_owned();
    assert!(
        !processes_mentioning(&tmp_name).is_empty(),
        "the server runs"
    );
    let harness: Vec<u32> = processes()
        .into_iter()
        .filter(|(_, _, c)| c.contains(&out_name) && c.contains("harness.js"))
        .map(|(pid, _, _)| pid)
        .collect();
    assert_eq!(harness.len(), 1, "the harness runs");
    let workers: Vec<u32> = processes()
        .into_iter()
        .filter(|(_, ppid, c)| *ppid == harness[0] && c.contains("worker.js"))
        .map(|(pid, _, _)| pid)
        .collect();
    assert_eq!(workers.len(), 2, "its two workers run");
    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(143));
    // The workers exit when their harness's channel closes: give them a moment.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(processes_mentioning(&tmp_name), Vec::<String>::new());
    assert_eq!(processes_mentioning(&out_name), Vec::<String>::new());
    let alive: Vec<u32> = processes()
        .into_iter()
        .map(|(pid, _, _)| pid)
        .filter(|pid| workers.contains(pid))
        .collect();
    assert!(alive.is_empty(), "workers left: {alive:?}");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!out.join("comparison.json").exists());
}

#[test]
fn the_server_of_a_killed_run_is_stopped_and_removed_by_the_next_run() {
    if !can_run("sigkill") {
        return;
    }
    let _fleets = fleet_slot();
    let dir = open_tempdir();
    let tmp = open_subdir(dir.path(), "tmp");
    let long = dir.path().join("long.toml");
    let toml = scenario(1, "20/s", "20ms", "max = 2", "");
    std::fs::write(&long, toml.replace("\"5s\"", "\"60s\"")).unwrap();
    let short = dir.path().join("short.toml");
    std::fs::write(&short, &toml).unwrap();
    let mut child = realpg_mid_run(&long, &dir.path().join("killed"), &tmp);
    Command::new("kill")
        .args(["-KILL", &child.0.id().to_string()])
        .status()
        .unwrap();
    child.0.wait().unwrap();
    let tmp_name = tmp.to_string_lossy().into_owned();
    assert!(
        !processes_mentioning(&tmp_name).is_empty(),
        "a killed run leaves its server running"
    );
    let output = Command::cargo_bin("pooldrill")
        .unwrap()
        .args(["-q", "realpg"])
        .arg(&short)
        .args(["--runs", "2", "--replications", "2", "--out"])
        .arg(dir.path().join("next"))
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{stderr}");
    assert!(stderr.contains("left by a run that was killed"), "{stderr}");
    assert_eq!(processes_mentioning(&tmp_name), Vec::<String>::new());
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_harness_that_fails_leaves_no_server_no_node_and_no_folder() {
    if !can_run("failing harness") {
        return;
    }
    let _fleets = fleet_slot();
    let dir = open_tempdir();
    let tmp = open_subdir(dir.path(), "tmp");
    let harness = dir.path().join("harness");
    std::fs::create_dir_all(harness.join("node_modules/pg")).unwrap();
    // It starts a child of its own (as the real one forks its workers),
    // then fails: the child must go with it.
    let marker = dir.path().join("left-behind");
    std::fs::write(
        harness.join("harness.js"),
        format!(
            "require('child_process').spawn(process.execPath, \
             ['-e', 'setTimeout(() => {{}}, 60000)', {:?}], {{ stdio: 'ignore' }})\n\
             setTimeout(() => process.exit(1), 500)\n",
            marker.to_string_lossy()
        ),
    )
    .unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, scenario(1, "2/s", "10ms", "max = 2", "")).unwrap();
    let output = Command::cargo_bin("pooldrill")
        .unwrap()
        .args(["-q", "realpg"])
        .arg(&file)
        .arg("--harness")
        .arg(&harness)
        .arg("--out")
        .arg(dir.path().join("out"))
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("the harness failed"), "{stderr}");
    let marker = marker.to_string_lossy().into_owned();
    assert_eq!(processes_mentioning(&marker), Vec::<String>::new());
    let tmp_name = tmp.to_string_lossy().into_owned();
    assert_eq!(processes_mentioning(&tmp_name), Vec::<String>::new());
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn rejudge_judges_the_saved_real_runs_again_without_a_server() {
    if !can_run("rejudge") {
        return;
    }
    let _fleets = fleet_slot();
    let dir = open_tempdir();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, scenario(1, "10/s", "20ms", "max = 2", "")).unwrap();
    let out = dir.path().join("out");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = |extra: &[&str]| {
        let output = Command::cargo_bin("pooldrill")
            .unwrap()
            .args(["-q", "realpg"])
            .arg(&file)
            .args(["--runs", "2", "--replications", "2"])
            .args(extra)
            .arg("--out")
            .arg(&out)
            .env("TMPDIR", &tmp)
            .output()
            .unwrap();
        let code = output.status.code();
        assert!(matches!(code, Some(0 | 1)), "{code:?}: {output:?}");
        let text = std::fs::read_to_string(out.join("comparison.json")).unwrap();
        serde_json::from_str::<Value>(&text).unwrap()
    };
    // A stale run of an earlier session of 3 runs: a new session replaces
    // real/ whole, so --rejudge never mixes the two.
    std::fs::create_dir_all(out.join("real")).unwrap();
    std::fs::write(out.join("real/real-2.json"), "{}").unwrap();
    let first = run(&[]);
    assert!(!out.join("real/real-2.json").exists());
    let real = |c: &Value| -> Vec<Value> {
        let metrics = c["metrics"].as_array().unwrap();
        metrics.iter().map(|m| m["real"].clone()).collect()
    };
    // The real side is read back, not run again: two real runs never
    // measure the same latencies to the last digit.
    let again = run(&["--rejudge"]);
    assert_eq!(real(&again), real(&first));
    assert_eq!(again["runs"], 2);
    assert_eq!(again["duration_s"], first["duration_s"]);
    assert_eq!(again["server"], first["server"]);
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}
