//! Helpers shared by the integration tests.
#![allow(dead_code)]

use pooldrill::metrics::{MemorySink, NullSink, SeriesRow, Summary};
use pooldrill::model::trace::TraceEvent;
use pooldrill::model::{RunOptions, Simulation};
use pooldrill::scenario::Scenario;
use pooldrill::scenario::validate::{Overrides, parse_with};
use pooldrill::stats::Estimate;
use rayon::prelude::*;

/// Parse scenario text (panics with the located error if it is invalid).
pub fn scenario(toml: &str) -> Scenario {
    Scenario::parse("test.toml", toml).unwrap_or_else(|e| panic!("{e}"))
}

/// Scenario text run with another seed.
pub fn with_seed(toml: &str, seed: u64) -> Scenario {
    let overrides = Overrides {
        seed: Some(seed),
        duration: None,
    };
    parse_with("test.toml", toml, overrides).unwrap_or_else(|e| panic!("{e}"))
}

/// A shipped scenario's text.
pub fn shipped(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// `text` with each `(from, to)` replaced; every `from` must occur once.
pub fn variant(text: &str, edits: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in edits {
        assert_eq!(
            out.matches(from).count(),
            1,
            "`{from}` must occur exactly once"
        );
        out = out.replace(from, to);
    }
    out
}

const CHECKED: RunOptions = RunOptions {
    check_invariants: true,
    prefetch: None,
};

/// Run to the end with every invariant checked after every event.
pub fn summary(s: &Scenario) -> Summary {
    pooldrill::model::run(s, &mut NullSink, CHECKED).unwrap_or_else(|e| panic!("{e}"))
}

/// Run and keep the time series.
pub fn series(s: &Scenario) -> (Summary, Vec<SeriesRow>) {
    let mut sink = MemorySink::default();
    let summary = pooldrill::model::run(s, &mut sink, CHECKED).unwrap_or_else(|e| panic!("{e}"));
    (summary, sink.rows)
}

/// Run and keep the trace.
pub fn traced(s: &Scenario) -> (Summary, Vec<TraceEvent>) {
    let mut events = Vec::new();
    let summary = {
        let sim = Simulation::new(s, CHECKED).with_tracer(Box::new(|e| events.push(e.clone())));
        sim.run(&mut NullSink, |_| true)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    (summary, events)
}

/// Run the scenario text once per seed (in parallel) and estimate each
/// metric over the replications.
pub fn replicate<const K: usize>(
    toml: &str,
    seeds: std::ops::Range<u64>,
    confidence: f64,
    metrics: impl Fn(&Summary) -> [f64; K] + Sync,
) -> [Estimate; K] {
    let per_run: Vec<[f64; K]> = seeds
        .into_par_iter()
        .map(|seed| metrics(&summary(&with_seed(toml, seed))))
        .collect();
    std::array::from_fn(|k| {
        let values: Vec<f64> = per_run.iter().map(|r| r[k]).collect();
        Estimate::from_replications(&values, confidence)
    })
}

/// Per-comparison confidence that keeps a family of `comparisons` at a 99 %
/// joint level (Bonferroni).
pub fn family_confidence(comparisons: usize) -> f64 {
    1.0 - 0.01 / comparisons as f64
}

/// Assert that `expected` lies in the interval, with a readable message.
pub fn assert_in_band(what: &str, e: &pooldrill::stats::Estimate, expected: f64) {
    eprintln!(
        "BAND {what}: expected {expected:.6} got {:.6} ± {:.6} (rel {:.2}%)",
        e.mean,
        e.half_width,
        100.0 * e.half_width / expected.abs().max(1e-9)
    );
    assert!(
        e.contains(expected),
        "{what}: closed form {expected:.6} outside the band {:.6} ± {:.6} (n = {}, sd = {:.6})",
        e.mean,
        e.half_width,
        e.n,
        e.std_dev
    );
}

/// A null device of the test's own when it may make one (as root), so that
/// a pooldrill that replaces devices cannot damage the machine's
/// `/dev/null`; else `/dev/null`, which only root could replace.
pub fn null_device(dir: &std::path::Path) -> std::path::PathBuf {
    let own = dir.join("null");
    let made = std::process::Command::new("mknod")
        .arg(&own)
        .args(["c", "1", "3"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if made {
        own
    } else {
        std::path::PathBuf::from("/dev/null")
    }
}

/// A small fleet: fast to run, near its database cap at the higher rates
/// (`tests/tiny.toml`, which `scripts/slurm-check.sh` sweeps too).
pub const TINY: &str = include_str!("../tiny.toml");

pub fn tiny(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, TINY).unwrap();
    path
}

/// Every entry of `dir` with its bytes (folders and staging folders as
/// empty), sorted.
pub fn snapshot(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap_or_default())
        })
        .collect();
    files.sort();
    files
}

/// Send `signal` (`-TERM`, `-INT` …) to the process `pid` once its staging
/// folder appears in `dir`: its signal handler is installed and its run has
/// begun.
pub fn signal_once_started(dir: &std::path::Path, pid: u32, signal: &str) {
    let started = std::time::Instant::now();
    while !std::fs::read_dir(dir).is_ok_and(|mut entries| {
        entries.any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".pooldrill-staging")
        })
    }) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}
