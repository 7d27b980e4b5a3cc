//! Whole runs: the shipped scenarios, conservation, determinism.

mod common;

use common::{series, shipped};
use pooldrill::scenario::Scenario;

fn load(name: &str) -> Scenario {
    Scenario::parse(name, &shipped(name)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn before_holds_about_380_connections_with_the_baseline_error_rate() {
    let (s, rows) = series(&load("scenarios/before.toml"));
    assert!(
        (360.0..400.0).contains(&s.connections.mean_open),
        "{}",
        s.connections.mean_open
    );
    assert!(s.connections.peak_open < 420);
    // 0.05 % app errors on ~3 million requests: 1500 ± 3σ.
    let errors = s.requests.app_errors as f64;
    let expected = 0.0005 * s.requests.arrived as f64;
    assert!(
        (errors - expected).abs() < 3.0 * expected.sqrt(),
        "{errors} vs {expected}"
    );
    assert_eq!((s.requests.refused, s.requests.acquire_timeouts), (0, 0));
    assert_eq!(rows.len(), 1800, "one row per second");
}

#[test]
fn after_drives_the_fleet_into_the_usable_slots() {
    let (s, rows) = series(&load("scenarios/after.toml"));
    let usable = s.connections.usable_slots as u64 - s.connections.other_clients as u64;
    assert!(
        s.connections.peak_open >= usable - 3,
        "peak {} of {usable}",
        s.connections.peak_open
    );
    assert!(s.connections.peak_db_occupied <= s.connections.max_connections);
    assert!(s.requests.refused > 0, "requests refused with 53300");
    assert!(
        s.acquire_by_class.job.timed_out > 0,
        "the job's leaked pool times out"
    );
    assert!(s.connections.leaked > 0);
    // Leaks only grow: no restart in this scenario.
    assert!(
        rows.windows(2)
            .all(|w| w[1].leaked_cumulative >= w[0].leaked_cumulative)
    );
}

#[test]
fn fixed_stays_clear_of_the_cap_and_leaks_nothing() {
    let (s, _) = series(&load("scenarios/fixed.toml"));
    assert!(s.connections.peak_open < 450, "{}", s.connections.peak_open);
    assert_eq!((s.connections.leaked, s.requests.refused), (0, 0));
    assert!(s.possible_fits());
}

trait Fits {
    fn possible_fits(&self) -> bool;
}

impl Fits for pooldrill::metrics::Summary {
    fn possible_fits(&self) -> bool {
        self.connections.possible
            <= (self.connections.usable_slots - self.connections.other_clients) as u64
    }
}

#[test]
fn every_outcome_is_accounted_for() {
    for name in [
        "scenarios/before.toml",
        "scenarios/after.toml",
        "scenarios/fixed.toml",
    ] {
        let (s, _) = series(&load(name));
        let r = &s.requests;
        let ended = r.completed
            + r.acquire_timeouts
            + r.refused
            + r.app_errors
            + r.unavailable
            + r.cancelled;
        assert_eq!(r.arrived, ended + r.in_flight, "{name}: handler view");
        assert_eq!(
            r.arrived,
            r.goodput + r.errors + r.gave_up + r.clients_waiting,
            "{name}: client view"
        );
    }
}

#[test]
fn loading_ahead_changes_no_result() {
    // A fleet of 2000 workers: the size from which the run loop prefetches
    // the data of coming request steps. Forced on and off (forced on, it
    // also prefetches the data of coming arrivals, which it does by itself
    // only from 6000 pods), every row and every figure must be the same.
    let text = common::variant(
        &shipped("scenarios/scale/large-fleet.toml"),
        &[
            ("duration = \"10m\"", "duration = \"8s\""),
            ("warmup = \"1m\"", "warmup = \"2s\""),
            ("sample_interval = \"5s\"", "sample_interval = \"1s\""),
            ("pods = 500", "pods = 250"),
            ("rate = \"50000/s\"", "rate = \"3000/s\""),
        ],
    );
    let s = common::scenario(&text);
    assert!(u64::from(s.fleet.pods * s.fleet.workers) >= pooldrill::model::PREFETCH_FROM_WORKERS);
    let run = |prefetch| {
        let options = pooldrill::model::RunOptions {
            check_invariants: true,
            prefetch: Some(prefetch),
        };
        let mut sink = pooldrill::metrics::MemorySink::default();
        let summary = pooldrill::model::run(&s, &mut sink, options).unwrap();
        (summary, sink.rows)
    };
    let (with, rows_with) = run(true);
    let (without, rows_without) = run(false);
    assert!(with.requests.arrived > 15_000, "{}", with.requests.arrived);
    assert_eq!(with, without);
    assert_eq!(rows_with, rows_without);
}
