//! The real Prometheus tools on pooldrill's output: promtool loads the
//! OpenMetrics export into TSDB blocks, evaluates the shipped alert rules on
//! the incident scenarios at the same times as pooldrill's own replay, and
//! finds data for every query of the Grafana dashboard.
//!
//! These tests need promtool (Debian's `prometheus` package). Without it
//! they fail under CI (`CI` set) and say they were skipped elsewhere.

use assert_cmd::Command;
use pooldrill::commands::alerts::{evaluate, find_promtool};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pooldrill() -> Command {
    let mut cmd = Command::cargo_bin("pooldrill").unwrap();
    cmd.current_dir(root());
    cmd
}

/// promtool, or `None` (and a notice) outside CI; a failure in CI.
fn promtool() -> Option<PathBuf> {
    let found = find_promtool();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is not installed: CI must install Debian's `prometheus` package (.ci/run does)"
        );
        eprintln!("SKIPPED: promtool is not installed (apt-get install prometheus)");
    }
    found
}

#[test]
fn promtool_turns_the_export_into_tsdb_blocks_with_every_sample() {
    let Some(promtool) = promtool() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let om = tmp.path().join("mini.om");
    pooldrill()
        .args(["-q", "run", "tests/mini-incident.toml", "--out"])
        .arg(tmp.path().join("out"))
        .arg("--openmetrics")
        .arg(&om)
        .assert()
        .success();
    let text = std::fs::read_to_string(&om).unwrap();
    let samples = text.lines().filter(|l| !l.starts_with('#')).count() as u64;
    let blocks = tmp.path().join("blocks");
    let out = std::process::Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&blocks)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool rejected the export:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // `promtool tsdb list`: ULID, min time, max time, duration, samples,
    // chunks, series, size.
    let list = std::process::Command::new(&promtool)
        .args(["tsdb", "list"])
        .arg(&blocks)
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    let stored: u64 = list
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(4).unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(list.lines().count() >= 2, "no block:\n{list}");
    assert_eq!(stored, samples, "every sample stored:\n{list}");
}

/// Every episode (pending, firing, resolved) of every shipped alert, under
/// promtool and under pooldrill's replay, within one evaluation interval of
/// each other; at least `min_fired` alerts fire.
fn assert_agreement(file: &str, promtool: &Path, min_fired: usize) {
    let scenario = pooldrill::scenario_file::load(&root().join(file)).unwrap();
    let step = scenario.alert_interval.as_secs_f64();
    let tmp = tempfile::tempdir().unwrap();
    let test = tmp.path().join("test.yml");
    let rules = root().join("alerts/pool-exhaustion.yml");
    let report = evaluate(&scenario, &rules, promtool, &test, true).unwrap();
    assert_eq!(report.alerts.len(), 4);
    let near = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= step,
        (a, b) => a == b,
    };
    let mut fired = 0;
    for a in &report.alerts {
        let own = a.pooldrill.as_ref().expect("the scenario has this rule");
        eprintln!(
            "{file}: {}: promtool {:?}, pooldrill {:?}",
            a.rule.name, a.promtool, own
        );
        assert_eq!(
            a.promtool.len(),
            own.len(),
            "{file}: {}: episodes",
            a.rule.name
        );
        for (theirs, ours) in a.promtool.iter().zip(own) {
            assert!(
                near(Some(theirs.pending_at_s), Some(ours.pending_at_s))
                    && near(theirs.firing_at_s, ours.firing_at_s)
                    && near(theirs.resolved_at_s, ours.resolved_at_s),
                "{file}: {}: promtool {theirs:?}, pooldrill {ours:?}",
                a.rule.name
            );
        }
        fired += usize::from(!own.is_empty());
    }
    assert!(fired >= min_fired, "{file}: only {fired} alerts fired");
}

#[test]
fn promtool_fires_the_shipped_rules_when_pooldrill_does_on_the_realistic_incident() {
    let Some(promtool) = promtool() else { return };
    assert_agreement("scenarios/incident.toml", &promtool, 2);
}

#[test]
fn promtool_fires_the_shipped_rules_when_pooldrill_does_on_the_incident_as_told() {
    let Some(promtool) = promtool() else { return };
    assert_agreement("scenarios/incident-as-told.toml", &promtool, 4);
}

#[test]
fn every_dashboard_query_returns_data() {
    if promtool().is_none() {
        return;
    }
    let out = pooldrill().arg("grafana-dashboard").assert().success();
    let dashboard: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let mut exprs: Vec<String> = Vec::new();
    for p in dashboard["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            exprs.push(t["expr"].as_str().unwrap().to_owned());
        }
    }
    for a in dashboard["annotations"]["list"].as_array().unwrap() {
        exprs.push(a["expr"].as_str().unwrap().to_owned());
    }
    assert!(exprs.len() >= 20, "{} queries", exprs.len());
    // One alert per query, firing whenever the query returns something.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        let e = e.replace("$__rate_interval", "1m").replace('\'', "''");
        rules.push_str(&format!("      - alert: Query{i}\n        expr: '{e}'\n"));
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("dashboard-rules.yml");
    std::fs::write(&file, rules).unwrap();
    let out = pooldrill()
        .args(["-q", "alerts", "tests/mini-incident.toml", "--rules"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (i, e) in exprs.iter().enumerate() {
        assert!(
            stdout.contains(&format!("`Query{i}` would have fired")),
            "no data for {e}:\n{stdout}"
        );
    }
}

#[test]
fn alerts_reports_times_relative_to_the_deploy() {
    if promtool().is_none() {
        return;
    }
    let out = pooldrill()
        .args([
            "-q",
            "alerts",
            "tests/mini-incident.toml",
            "--rules",
            "alerts/pool-exhaustion.yml",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.code() == Some(0), "{stdout}");
    assert!(stdout.contains("deploy at 14:01"), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("`PoolExhaustionFailures` would have fired"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains("after the deploy") && line.contains("the first refusal"),
        "{line}"
    );
}

#[test]
fn a_broken_rule_file_is_a_clear_error() {
    if promtool().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.yml");
    std::fs::write(
        &file,
        "groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: sum(rate(x[1m]) > \n",
    )
    .unwrap();
    pooldrill()
        .args(["-q", "alerts", "tests/mini-incident.toml", "--rules"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("promtool rejects"));
}

#[test]
fn a_rule_on_a_metric_pooldrill_does_not_export_is_warned_about_not_passed_as_quiet() {
    // Without promtool (an empty PATH): the check needs only the run.
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: g\n    rules:\n\
         \x20     - record: job:waiting:sum\n        expr: sum(pg_pool_waiting_connections)\n\
         \x20     - alert: Waiting\n        expr: sum by (pod) (pg_pool_waiting_connection) > 0 or job:waiting:sum > 5\n\
         \x20     - alert: Saturated\n        expr: node_cpu_seconds_total{mode=\"idle\"} < 1 and on (pod) pg_pool_size{pool=\"web\"} > 0\n\
         \x20     - alert: Fine\n        expr: max(pg_pool_waiting_connections{pool=\"requests\"}) > 0\n",
    )
    .unwrap();
    let out = pooldrill()
        .env("PATH", "")
        .env_remove("PROMTOOL")
        .args([
            "-q",
            "alerts",
            "tests/mini-incident.toml",
            "--duration",
            "5m",
        ])
        .arg("--rules")
        .arg(&rules)
        .arg("--write-test")
        .arg(tmp.path().join("test.yml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let warned: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("matches no series pooldrill exports"))
        .collect();
    assert_eq!(warned.len(), 3, "{stderr}");
    assert!(
        warned[0].contains("alert `Waiting`: `pg_pool_waiting_connection`"),
        "{stderr}"
    );
    assert!(
        warned[1].contains("alert `Saturated`: `node_cpu_seconds_total{mode=\"idle\"}`"),
        "{stderr}"
    );
    assert!(
        warned[2].contains("alert `Saturated`: `pg_pool_size{pool=\"web\"}`"),
        "a label value no series has: {stderr}"
    );
    let exports = stderr
        .lines()
        .find(|l| l.starts_with("warning: pooldrill exports: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    for name in [
        "pg_pool_waiting_connections",
        "pg_pool_acquire_errors_total",
        "http_request_duration_seconds_bucket",
    ] {
        assert!(exports.contains(name), "{exports}");
    }
}
