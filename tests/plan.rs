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
            "20 × 4 × 6 = 480 possible; 600 during a deploy (20 + 5 surge pods)",
        ))
        .stdout(predicate::str::contains(
            "600 > 492 slots the app may hold (500 max_connections − 3 reserved − 5 other clients); largest safe pool max: 4",
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
            "4",
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
            "4",
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
    assert_eq!(plan["versions"][0]["pool_max"], 4);
    assert_eq!(plan["versions"][0]["possible_in_deploy"], 400);
    assert_eq!(plan["rate"], 2000.0);
    let p_wait = plan["versions"][0]["queueing"][0]["p_wait"]
        .as_f64()
        .unwrap();
    assert!(p_wait > 0.0 && p_wait < 0.01, "{p_wait}");
}

#[test]
fn bad_input_exits_2() {
    for args in [
        &["plan", "--surge", "lots"][..],
        &["plan", "--job", "own:x"],
        &["plan", "--pods", "0"],
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
