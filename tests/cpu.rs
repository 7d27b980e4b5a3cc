//! The database CPU model (processor sharing, `database.cpu_cores`) against
//! closed forms: M/M/1-PS, the insensitivity of PS to the work distribution,
//! a pool that limits the active queries on a server with contention, and a
//! hold that is only partly CPU work.
//!
//! As in tests/theory.rs: each figure is a mean over independent
//! replications with distinct seeds, compared through a Student-t band at a
//! 99 % joint level over the file's comparisons (Bonferroni).

mod common;

use common::{assert_in_band, family_confidence, replicate, shipped, variant};
use pooldrill::metrics::Summary;
use pooldrill::theory::{self, ps_queue};

/// Comparisons in this file.
const COMPARISONS: usize = 6;
const REPLICATIONS: u64 = 20;

fn mean_latency(s: &Summary) -> f64 {
    s.requests.mean_latency_s.unwrap_or(f64::NAN)
}

fn p_queue(s: &Summary) -> f64 {
    s.acquire.found_full as f64 / s.acquire.count as f64
}

#[test]
fn mm1_processor_sharing_sojourn_and_busy_core() {
    let text = shipped("scenarios/theory/mm1ps.toml");
    let conf = family_confidence(COMPARISONS);
    let [t, active] = replicate(&text, 11_000..11_000 + REPLICATIONS, conf, |s| {
        let cpu = s.cpu.as_ref().expect("cpu section");
        [mean_latency(s), cpu.mean_active_queries]
    });
    let f = ps_queue(0.7, 1.0, 1, 0.0, None);
    assert_in_band("E[T], M/M/1-PS", &t, f.mean_sojourn);
    assert_in_band("E[N], M/M/1-PS", &active, f.mean_in_system);
}

#[test]
fn processor_sharing_is_insensitive_to_the_work_distribution() {
    // Four cores, deterministic work of 1 s, λ = 3: the same mean sojourn as
    // M/M/4 (1 + C(4, 3) / (4 − 3) = 1.509 s).
    let text = variant(
        &shipped("scenarios/theory/mm1ps.toml"),
        &[
            (
                "hold = { dist = \"exponential\", mean = \"1s\" }",
                "hold = { dist = \"deterministic\", value = \"1s\" }",
            ),
            ("rate = \"0.7/s\"", "rate = \"3/s\""),
            ("cpu_cores = 1", "cpu_cores = 4"),
            ("duration = \"20000s\"", "duration = \"8000s\""),
        ],
    );
    let conf = family_confidence(COMPARISONS);
    let [t] = replicate(&text, 12_000..12_000 + REPLICATIONS, conf, |s| {
        [mean_latency(s)]
    });
    let expected = 1.0 + theory::mmc_mean_wait(4, 3.0, 1.0);
    assert_in_band("E[T], M/D/4-PS", &t, expected);
}

#[test]
fn a_pool_in_front_of_a_contended_server() {
    // Two cores losing 20 % of their work per query beyond them, a pool of
    // 5: at most 5 active queries (capacity 2 / 1.6 = 1.25 cores), the rest
    // wait in pg-pool's queue. λ = 1, exponential work of mean 0.8 s.
    let text = variant(
        &shipped("scenarios/theory/mm1ps.toml"),
        &[
            (
                "hold = { dist = \"exponential\", mean = \"1s\" }",
                "hold = { dist = \"exponential\", mean = \"800ms\" }",
            ),
            ("rate = \"0.7/s\"", "rate = \"1/s\""),
            ("max = 1000", "max = 5"),
            ("cpu_cores = 1", "cpu_cores = 2\ncpu_contention = 0.2"),
        ],
    );
    let conf = family_confidence(COMPARISONS);
    let [t, q] = replicate(&text, 13_000..13_000 + REPLICATIONS, conf, |s| {
        [mean_latency(s), p_queue(s)]
    });
    let f = ps_queue(1.0, 1.25, 2, 0.2, Some(5));
    assert_in_band("E[T], limited PS with contention", &t, f.mean_sojourn);
    assert_in_band("P(queue), limited PS with contention", &q, f.p_queue);
}

#[test]
fn only_the_cpu_fraction_of_a_hold_is_shared() {
    // Deterministic holds of 2 s, half of them CPU work on 2 cores, λ = 1.2:
    // E[T] = 1 s (not CPU) + the M/M/2 sojourn of 1 s of work.
    let text = variant(
        &shipped("scenarios/theory/mm1ps.toml"),
        &[
            (
                "hold = { dist = \"exponential\", mean = \"1s\" }",
                "hold = { dist = \"deterministic\", value = \"2s\" }",
            ),
            ("cpu_fraction = 1.0", "cpu_fraction = 0.5"),
            ("rate = \"0.7/s\"", "rate = \"1.2/s\""),
            ("cpu_cores = 1", "cpu_cores = 2"),
            ("duration = \"20000s\"", "duration = \"10000s\""),
        ],
    );
    let conf = family_confidence(COMPARISONS);
    let [t] = replicate(&text, 14_000..14_000 + REPLICATIONS, conf, |s| {
        [mean_latency(s)]
    });
    let expected = 1.0 + 1.0 + theory::mmc_mean_wait(2, 1.2, 1.0);
    assert_in_band("E[T], half the hold on the CPU", &t, expected);
}

#[test]
fn without_cpu_cores_the_summary_has_no_cpu_section() {
    let text = shipped("scenarios/fixed.toml");
    let short = variant(
        &text,
        &[
            ("duration = \"30m\"", "duration = \"2m\""),
            ("warmup = \"5m\"", "warmup = \"1m\""),
        ],
    );
    let s = common::summary(&common::scenario(&short));
    assert!(s.cpu.is_none());
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("\"cpu\""), "{json}");
}

#[test]
fn the_shipped_sweep_base_runs_at_its_best_pool_size() {
    // scenarios/cpu-contention.toml at max = 2 (its measured optimum,
    // docs/models.md), shortened: every invariant holds, no request fails,
    // and the cores are shared (more than 8 queries active at peak).
    let text = variant(
        &shipped("scenarios/cpu-contention.toml"),
        &[
            ("max = 10                #", "max = 2                 #"),
            ("duration = \"20m\"", "duration = \"2m\""),
            ("warmup = \"5m\"", "warmup = \"30s\""),
        ],
    );
    let s = common::summary(&common::scenario(&text));
    let cpu = s.cpu.as_ref().expect("cpu section");
    assert_eq!(s.requests.acquire_timeouts + s.requests.refused, 0);
    assert!(cpu.peak_active_queries > 8, "{cpu:?}");
    assert!((0.6..0.95).contains(&cpu.utilisation), "{cpu:?}");
}
