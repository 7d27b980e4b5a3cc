//! Speed of the engine and of whole scenarios (`cargo bench`). Figures for
//! the README come from `bench/compare.sh`, which also runs the bare event
//! loop (the floor, docs/performance.md) in the same session.
//!
//! `cargo test` runs this file too, in divan's test mode (each benchmark
//! once), so that a benchmark that no longer runs fails the tests. There a
//! scenario runs only its first [`TEST_MODE_CUT`] of simulated time: the
//! whole runs take half a minute, and the tests replay whole scenarios
//! elsewhere (tests/golden.rs, tests/runs.rs).

use divan::{Bencher, black_box};
use pooldrill::engine::{Scheduler, SimTime};
use pooldrill::metrics::NullSink;
use pooldrill::model::{RunError, RunOptions, Simulation, run};
use pooldrill::scenario::Scenario;
use pooldrill::scenario::units::Duration;
use pooldrill::scenario::validate::Overrides;
use pooldrill::scenario_file::load_file;
use std::path::Path;
use std::sync::OnceLock;

/// How much simulated time a scenario runs in test mode (the run stops at
/// its first progress check past it, at most 65,536 events later).
const TEST_MODE_CUT: SimTime = SimTime::from_secs(10);

/// Whether divan runs each benchmark once (`cargo test`, or `--test`)
/// rather than measuring (`cargo bench` passes `--bench`): divan's own rule.
static TEST_MODE: OnceLock<bool> = OnceLock::new();

fn main() {
    let has = |flag: &str| std::env::args().any(|a| a == flag);
    TEST_MODE.get_or_init(|| has("--test") || !has("--bench"));
    divan::main();
}

/// Push and pop a million events through a queue holding ~80 pending.
#[divan::bench]
fn scheduler_million_events(bencher: Bencher) {
    bencher.bench_local(|| {
        let mut s: Scheduler<u32> = Scheduler::new();
        let mut x: u64 = 1;
        for i in 0..80 {
            s.at(SimTime(i), i as u32);
        }
        for i in 0..1_000_000u32 {
            let (t, e) = s.pop().expect("pending");
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.at(t + SimTime(1 + (x >> 44)), e ^ i);
        }
        black_box(s.pending())
    });
}

/// A cancellable timer per event, half of them cancelled.
#[divan::bench]
fn scheduler_timers(bencher: Bencher) {
    bencher.bench_local(|| {
        let mut s: Scheduler<u32> = Scheduler::new();
        for i in 0..200_000u64 {
            let t = s.timer(SimTime(i * 10 + 5), 0);
            if i % 2 == 0 {
                s.cancel(t);
            }
            s.at(SimTime(i * 10), 1);
            s.pop();
        }
        black_box(s.live_timers())
    });
}

fn scenario(path: &str, duration: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let overrides = Overrides {
        seed: None,
        duration: Some(duration.parse::<Duration>().expect("duration")),
    };
    load_file(&path, overrides).expect("valid scenario")
}

fn bench_scenario(bencher: Bencher, s: &Scenario) {
    if TEST_MODE.get() == Some(&true) {
        return bencher.bench_local(|| run_first_seconds(black_box(s)));
    }
    bencher.bench_local(|| run(black_box(s), &mut NullSink, RunOptions::default()).expect("run"));
}

/// Test mode: run `s` until [`TEST_MODE_CUT`], stopped there the way Ctrl-C
/// stops a run; a run shorter than that ends as usual.
fn run_first_seconds(s: &Scenario) {
    let within = |now: SimTime| now < TEST_MODE_CUT;
    match Simulation::new(s, RunOptions::default()).run(&mut NullSink, within) {
        Ok(_) | Err(RunError::Interrupted(_)) => {}
        Err(e) => panic!("{}: {e}", s.name),
    }
}

/// M/M/80 at 64/s for 100,000 arrivals' worth of time.
#[divan::bench(sample_count = 10)]
fn mm80_100k(bencher: Bencher) {
    bench_scenario(bencher, &scenario("scenarios/theory/mm80.toml", "1563s"));
}

/// The after scenario for six simulated minutes, its five-minute warm-up
/// and one more (720,000 requests).
#[divan::bench(sample_count = 10)]
fn after_six_minutes(bencher: Bencher) {
    bench_scenario(bencher, &scenario("scenarios/after.toml", "6m"));
}

/// The large fleet for 70 simulated seconds, its one-minute warm-up and ten
/// more (3.5 M requests).
#[divan::bench(sample_count = 5)]
fn large_fleet_seventy_seconds(bencher: Bencher) {
    bench_scenario(
        bencher,
        &scenario("scenarios/scale/large-fleet.toml", "70s"),
    );
}

/// A rolling deploy across 2000 pods, its first 30 s: 2500 times a pod
/// becomes ready or leaves the load balancer.
#[divan::bench(sample_count = 3)]
fn fleet_deploy_first_wave(bencher: Bencher) {
    bench_scenario(
        bencher,
        &scenario("scenarios/scale/fleet-deploy.toml", "90s"),
    );
}

/// A fleet of 1600 full pools for 70 simulated seconds, its one-minute
/// warm-up and ten more (2.8 M requests, thousands waiting at any moment).
#[divan::bench(sample_count = 3)]
fn saturated_fleet_seventy_seconds(bencher: Bencher) {
    bench_scenario(
        bencher,
        &scenario("scenarios/scale/saturated-fleet.toml", "70s"),
    );
}

/// 10,000 pods × 2 workers for a simulated minute and two seconds (6.2 M
/// requests): 20,000 pools and 10,000 arrival streams, far beyond the caches.
#[divan::bench(sample_count = 3)]
fn ten_thousand_pods_a_minute(bencher: Bencher) {
    bench_scenario(
        bencher,
        &scenario("scenarios/scale/ten-thousand-pods.toml", "62s"),
    );
}

/// The incident (70 min, deploy and rollback) with its alert rules.
#[divan::bench(sample_count = 3)]
fn incident(bencher: Bencher) {
    bench_scenario(bencher, &scenario("scenarios/incident.toml", "70m"));
}
