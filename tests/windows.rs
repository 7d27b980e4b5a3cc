//! `run --window`: each window's figures from the per-request records, as
//! `summary.json` attributes them; the deploys' before / during / after
//! tables; bad windows refused.

use assert_cmd::Command;
use pooldrill::engine::SimTime;
use pooldrill::metrics::MemorySink;
use pooldrill::metrics::window_tally::{Span, Windows};
use pooldrill::model::{RunOptions, Simulation};
use pooldrill::scenario::Scenario;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A copy of the test scenario `name` in `dir`.
fn copy(name: &str, dir: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let to = dir.join(name);
    std::fs::copy(from, &to).unwrap();
    to
}

/// `run FILE --out DIR ARGS…`: the terminal text.
fn run(file: &Path, out: &Path, args: &[&str]) -> String {
    let output = Command::cargo_bin("pooldrill")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["-q", "run"])
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_whole_run_window_equals_summary_json_and_says_it_was_clipped() {
    let tmp = tempfile::tempdir().unwrap();
    let file = copy("tiny.toml", tmp.path());
    let out = tmp.path().join("o");
    // tiny.toml runs 30 s after a 10 s warm-up.
    let text = run(
        &file,
        &out,
        &["--window", "0s..30s", "--window", "12s..20s"],
    );
    let summary = json(&out.join("summary.json"));
    let windows = json(&out.join("windows.json"));
    let whole = &windows[0];
    assert_eq!(whole["from_s"], 10.0);
    assert_eq!(whole["to_s"], 30.0);
    assert_eq!(whole["clipped_from_s"], 0.0);
    for section in ["requests", "acquire", "connections"] {
        assert_eq!(whole[section], summary[section], "{section}");
    }
    assert!(windows[1].get("clipped_from_s").is_none());
    let part = windows[1]["requests"]["arrived"].as_u64().unwrap();
    assert!(0 < part && part < summary["requests"]["arrived"].as_u64().unwrap());
    assert!(text.contains("starts inside the warm-up"), "{text}");
    assert!(text.contains("whole run"), "{text}");
}

#[test]
fn windows_change_no_other_output() {
    let tmp = tempfile::tempdir().unwrap();
    let file = copy("mini-incident.toml", tmp.path());
    let (plain, windowed) = (tmp.path().join("plain"), tmp.path().join("windowed"));
    run(&file, &plain, &[]);
    run(&file, &windowed, &["--window", "14:02..14:03"]);
    for name in ["summary.json", "timeseries.csv", "events.csv", "pods.csv"] {
        let read = |dir: &Path| std::fs::read(dir.join(name)).unwrap();
        assert!(read(&plain) == read(&windowed), "{name} changed");
    }
    assert!(!plain.join("windows.json").exists());
}

#[test]
fn watching_windows_changes_nothing_the_run_writes() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mini-incident.toml"),
    )
    .unwrap();
    let scenario = Scenario::parse("mini-incident.toml", &text).unwrap();
    let options = RunOptions {
        check_invariants: true,
        prefetch: None,
    };
    let run = |windows: Option<Windows>| {
        let mut sink = MemorySink::default();
        let mut sim = Simulation::new(&scenario, options);
        if let Some(w) = windows {
            sim = sim.with_windows(w);
        }
        let summary = sim.run(&mut sink, |_| true).unwrap();
        (serde_json::to_value(&summary).unwrap(), sink)
    };
    let (plain, plain_sink) = run(None);
    let spans = vec![Span {
        from: SimTime::from_secs(30),
        to: SimTime::from_secs(200),
    }];
    let (watched, watched_sink) = run(Some(Windows {
        spans,
        rollouts: true,
    }));
    assert_eq!(plain, watched);
    assert!(plain_sink.rows == watched_sink.rows);
    assert!(plain_sink.events == watched_sink.events);
}

/// Per request of the trace: its arrival, when its client was answered or
/// gave up (the first), and whether it gave up.
#[derive(Default)]
struct Traced {
    arrived: Option<f64>,
    resolved: Option<f64>,
    gave_up: bool,
}

#[test]
fn a_window_equals_its_recount_from_the_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let file = copy("mini-incident.toml", tmp.path());
    let out = tmp.path().join("o");
    // mini-incident starts at 14:00; its deploy at 14:01 leaks.
    run(&file, &out, &["--trace", "--window", "14:01:30..14:03:10"]);
    let (from, to) = (90.0, 190.0);
    let w = &json(&out.join("windows.json"))[0];
    let trace = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
    let mut requests: HashMap<u64, Traced> = HashMap::new();
    let mut leaked = 0;
    for line in trace.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let t = e["t_s"].as_f64().unwrap();
        let kind = e["kind"].as_str().unwrap();
        if kind == "leaked" && (from..to).contains(&t) {
            leaked += 1;
        }
        if e["class"] != "request" {
            continue;
        }
        let r = requests.entry(e["caller"].as_u64().unwrap()).or_default();
        match kind {
            "arrived" => r.arrived = Some(t),
            "gave_up" | "finished" if r.resolved.is_none() => {
                r.resolved = Some(t);
                r.gave_up = kind == "gave_up";
            }
            _ => {}
        }
    }
    let ours: Vec<&Traced> = requests
        .values()
        .filter(|r| r.arrived.is_some_and(|t| (from..to).contains(&t)))
        .collect();
    let latencies: Vec<f64> = ours
        .iter()
        .filter_map(|r| Some(r.resolved? - r.arrived?))
        .collect();
    let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
    let r = &w["requests"];
    assert_eq!(r["arrived"].as_u64().unwrap(), ours.len() as u64);
    let gave_up = ours.iter().filter(|r| r.gave_up).count() as u64;
    assert_eq!(r["gave_up"].as_u64().unwrap(), gave_up);
    let answered = latencies.len() as u64;
    let waiting = r["clients_waiting"].as_u64().unwrap();
    assert_eq!(ours.len() as u64 - answered, waiting);
    let simulated = r["mean_latency_s"].as_f64().unwrap();
    assert!((simulated - mean).abs() < 1e-9, "{simulated} vs {mean}");
    assert_eq!(w["connections"]["leaked"].as_u64().unwrap(), leaked);
    assert!(leaked > 0, "the window should see the job's leaks");
}

#[test]
fn windows_on_the_sample_grid_equal_the_sums_of_timeseries_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let file = copy("mini-incident.toml", tmp.path());
    let out = tmp.path().join("o");
    run(
        &file,
        &out,
        &["--window", "1m..3m", "--window", "14:03..14:05"],
    );
    let windows = json(&out.join("windows.json"));
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap_or(0.0)).collect())
        .collect();
    for w in windows.as_array().unwrap() {
        let (from, to) = (w["from_s"].as_f64().unwrap(), w["to_s"].as_f64().unwrap());
        // A row covers the interval that ends at its time.
        let sum = |name: &str| -> u64 {
            rows.iter()
                .filter(|r| from < r[col("time_s")] && r[col("time_s")] <= to)
                .map(|r| r[col(name)] as u64)
                .sum()
        };
        assert_eq!(w["requests"]["arrived"].as_u64().unwrap(), sum("arrivals"));
        assert_eq!(w["connections"]["leaked"].as_u64().unwrap(), sum("leaked"));
    }
}

#[test]
fn each_deploy_and_rollback_gets_a_before_during_after_table() {
    let tmp = tempfile::tempdir().unwrap();
    let file = copy("mini-incident.toml", tmp.path());
    let text = run(&file, &tmp.path().join("o"), &[]);
    let deploy = text.find("deploy v2").expect("a deploy table");
    let rollback = text.find("rollback back to v1").expect("a rollback table");
    assert!(deploy < rollback, "{text}");
    for heading in ["before 14:00–14:01", "during 14:01–", "after "] {
        assert!(
            text[deploy..rollback].contains(heading),
            "{heading}: {text}"
        );
    }
    assert!(text[rollback..].contains("during 14:04–"), "{text}");
    // A deploy's "after" ends at the next rollout: it is the rollback's
    // "before", the same span (the same figures).
    let span = |part: &str, heading: &str| {
        let at = part.find(heading).unwrap() + heading.len();
        part[at..].split_whitespace().next().unwrap().to_owned()
    };
    let after = span(&text[deploy..rollback], "after ");
    assert!(after.ends_with("–14:04"), "{text}");
    assert_eq!(after, span(&text[rollback..], "before "), "{text}");
}

#[test]
fn bad_windows_are_refused_with_what_was_expected() {
    let tmp = tempfile::tempdir().unwrap();
    let mini = copy("mini-incident.toml", tmp.path());
    let tiny = copy("tiny.toml", tmp.path());
    let warm = tmp.path().join("warm.toml");
    let text = std::fs::read_to_string(&mini).unwrap();
    std::fs::write(
        &warm,
        text.replace(
            "duration = \"6m\"\n",
            "duration = \"6m\"\nwarmup = \"1m\"\n",
        ),
    )
    .unwrap();
    let cases: [(&Path, &str, &str); 6] = [
        (&mini, "14:02-14:03", "expected a window like"),
        (
            &mini,
            "3m..2m",
            "expected a start before the end, found 14:03 to 14:02",
        ),
        (&mini, "14:02..14:02", "expected a start before the end"),
        (
            &mini,
            "5m..7m",
            "expected a window within the run (14:00 to 14:06)",
        ),
        (&tiny, "14:02..14:03", "the scenario has no meta.start"),
        (
            &warm,
            "0s..30s",
            "expected a window ending after the warm-up (which ends at 14:01",
        ),
    ];
    for (file, window, message) in cases {
        let output = Command::cargo_bin("pooldrill")
            .unwrap()
            .args(["-q", "run"])
            .arg(file)
            .arg("--out")
            .arg(tmp.path().join("never"))
            .args(["--window", window])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{window}: {stderr}");
        assert!(stderr.contains(message), "{window}: {stderr}");
        assert!(!tmp.path().join("never").exists());
    }
}
