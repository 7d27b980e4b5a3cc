//! `plan`: the write-up's arithmetic done right, the queueing view, the
//! checklist, and the exit codes a CI gate relies on (0 fits, 1
//! over-provisioned, 2 bad input).

use assert_cmd::Command;
use predicates::prelude::*;

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

const ISSUE_FLAGS: [&str; 14] = [
    "--max-connections",
    "500",
    "--reserved",
    "3",
    "--pods",
    "20",
    "--workers",
    "4",
    "--surge",
    "25%",
    "--other-clients",
    "5",
    "--job",
    "shared",
];

#[test]
fn the_write_ups_pool_of_six_is_over_provisioned_by_deploy_surge() {
    pooldrill()
        .arg("plan")
        .args(ISSUE_FLAGS)
        .args(["--pool-max", "6"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "20 × 4 × 6 = 480 possible; 840 during a deploy (at most 35 pods hold connections at once: ready pods, and terminated ones until termination_grace (30s) ends, in the replayed deploy)",
        ))
        .stdout(predicate::str::contains(
            "840 > 492 slots the app may hold (500 max_connections − 3 reserved − 5 other clients); largest safe pool max: 3",
        ))
        .stdout(predicate::str::contains(
            "In a deploy: at most 35 pods hold connections at once (first at 40.0 s)",
        ))
        .stdout(predicate::str::contains("The write-up's floor(500 / (20 × 4)) = 6"))
        .stdout(predicate::str::contains("OVER-PROVISIONED"));
}

#[test]
fn the_largest_safe_pool_fits() {
    pooldrill()
        .arg("plan")
        .args(ISSUE_FLAGS)
        .args([
            "--pool-max",
            "3",
            "--rate",
            "2000/s",
            "--hold",
            "20ms",
            "--acquire-timeout",
            "5s",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("FITS"))
        .stdout(predicate::str::contains("P(timeout at 5.0 s) (M/M/c+D)"))
        .stdout(predicate::str::contains(
            "[x] Verify against DB max_connections",
        ));
}

#[test]
fn a_scenario_is_planned_version_by_version() {
    // incident.toml deploys v2.3.0, whose job has a pool of its own and leaks.
    pooldrill()
        .args(["plan", "scenarios/incident.toml"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("v2.2.0"))
        .stdout(predicate::str::contains("v2.3.0"))
        .stdout(predicate::str::contains("1 × own 10"))
        .stdout(predicate::str::contains(
            "[!] Add connection to existing pool (not new pool)",
        ))
        .stdout(predicate::str::contains(
            "[x] Add pool metrics to dashboard",
        ))
        .stdout(predicate::str::contains(
            "[!] Release connections in finally{} blocks",
        ));
}

#[test]
fn flags_override_the_file_and_json_is_machine_readable() {
    let out = pooldrill()
        .args([
            "plan",
            "scenarios/fixed.toml",
            "--pool-max",
            "3",
            "--surge",
            "5",
            "--json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let plan: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(plan["fits"], true);
    assert_eq!(plan["app_slots"], 492);
    assert_eq!(plan["versions"][0]["pool_max"], 3);
    // 20 pods, 5 surge, 5 unavailable, ready in 20 s, 30 s grace: 35 pods
    // may hold connections at once, 12 each.
    assert_eq!(plan["deploy_pods"], 35);
    assert_eq!(plan["versions"][0]["possible_in_deploy"], 35 * 12);
    assert_eq!(plan["rate"], 2000.0);
    let p_wait = plan["versions"][0]["queueing"][0]["p_wait"]
        .as_f64()
        .unwrap();
    // 2000/s over 80 workers × 20 ms = 0.5 Erlangs on a pool of 3: Erlang C
    // 0.01515 (a 5 s acquire timeout changes it by less than 1e-6).
    assert!((p_wait - 0.01515).abs() < 5e-5, "{p_wait}");
}

#[test]
fn bad_input_exits_2() {
    for args in [
        &["plan", "--surge", "lots"][..],
        &["plan", "--job", "own:x"],
        &["plan", "--pods", "0"],
        &["plan", "--workers", "70000"],
        &["plan", "--surge", "2.5%"],
        &["plan", "--max-connections", "500", "--reserved", "600"],
        &["plan", "no-such-file.toml"],
    ] {
        pooldrill().args(args).assert().code(2);
    }
    pooldrill()
        .args(["plan", "no-such-file.toml"])
        .assert()
        .stderr(predicate::str::contains(
            "no-such-file.toml: cannot read the file: no such file",
        ));
}

/// The issue's example: the plan said 39 connections in a deploy and FITS
/// (exit 0) for a file whose run is refused at 54.
#[test]
fn a_deploy_that_the_simulator_shows_refused_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deploy.toml");
    std::fs::write(
        &file,
        "[meta]\nname = \"i\"\nduration = \"3m\"\nversion = \"v1\"\n\
         [fleet]\npods = 10\nworkers = 1\ntermination_grace = \"30s\"\n\
         [pool]\nmax = 3\n[traffic]\nrate = \"200/s\"\n\
         [database]\nmax_connections = 45\nsuperuser_reserved_connections = 0\nother_clients = 0\n\
         [versions.v1]\n[versions.v2]\n\
         [[events]]\nat = \"30s\"\nkind = \"deploy\"\nversion = \"v2\"\n\
         max_surge = \"25%\"\nmax_unavailable = \"25%\"\npod_startup = \"20s\"\n",
    )
    .unwrap();
    pooldrill()
        .arg("plan")
        .arg(&file)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "10 × 1 × 3 = 30 possible; 54 during a deploy (at most 18 pods",
        ))
        .stdout(predicate::str::contains("OVER-PROVISIONED"));
}

/// Kubernetes rounds "7%" of 100 pods to 7 (the float arithmetic gave 8).
#[test]
fn surge_percentages_round_as_kubernetes_does() {
    pooldrill()
        .args(["plan", "--pods", "100", "--surge", "7%", "--json"])
        .assert()
        .stdout(predicate::str::contains("\"surge\": 7,"));
}

/// Zero load is legal: no wait, no panic.
#[test]
fn a_hold_of_zero_is_answered() {
    pooldrill()
        .args(["plan", "--hold", "0s"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("0.000"));
}

/// Kubernetes refuses maxSurge and maxUnavailable both zero only as
/// written: 3 pods with max_surge = 0 and max_unavailable = "10%" resolve
/// to zero and zero, and roll with one pod unavailable (`ResolveFenceposts`).
#[test]
fn percentages_that_resolve_to_zero_roll_one_pod_at_a_time() {
    use pooldrill::metrics::NullSink;
    use pooldrill::model::pod_timeline::{PodChange, PodEvent};
    use pooldrill::model::{RunOptions, Simulation};
    use pooldrill::scenario::{Action, validate::parse};
    let text = "[meta]\nname = \"f\"\nduration = \"5m\"\nversion = \"v1\"\n\
                [fleet]\npods = 3\nworkers = 1\n[traffic]\nrate = \"10/s\"\n\
                [versions.v1]\n[versions.v2]\n\
                [[events]]\nat = \"10s\"\nkind = \"deploy\"\nversion = \"v2\"\n\
                max_surge = 0\nmax_unavailable = \"10%\"\npod_startup = \"20s\"\n";
    let s = parse("f.toml", text).unwrap_or_else(|e| panic!("{e}"));
    let Action::Deploy { rollout, .. } = &s.events[0].action else {
        panic!("a deploy")
    };
    assert_eq!((rollout.max_surge, rollout.max_unavailable), (0, 1));
    let mut events: Vec<PodEvent> = Vec::new();
    Simulation::new_observed(&s, RunOptions::default(), Box::new(|e| events.push(e)))
        .run(&mut NullSink, |_| true)
        .unwrap();
    let created_v2 = events
        .iter()
        .filter(|e| e.change == PodChange::Created { version: 1 })
        .count();
    assert_eq!(created_v2, 3, "every pod replaced");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.toml");
    std::fs::write(&file, text).unwrap();
    pooldrill()
        .arg("plan")
        .arg(&file)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("at most 4 pods hold connections"));
}
