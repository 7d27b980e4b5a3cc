//! The simulator against queueing theory (docs/semantics.md#queueing-theory).
//!
//! Each figure is estimated over independent replications (distinct seeds,
//! distinct per test point) and compared with its closed form through a
//! Student-t band. The bands are built at a 99 % joint level over the whole
//! file (Bonferroni over its 16 comparisons), never from the binomial
//! √(p(1−p)/n), which is far too narrow for correlated waits (docs/semantics.md#pitfalls).
//! Replications run on the shipped `scenarios/theory/` files, so those files
//! are checked too.

mod common;

use common::{assert_in_band, family_confidence, replicate, shipped, variant};
use pooldrill::metrics::Summary;
use pooldrill::theory;

/// Comparisons in this file.
const COMPARISONS: usize = 16;
const REPLICATIONS: u64 = 20;

fn p_wait(s: &Summary) -> f64 {
    s.acquire.waited as f64 / s.acquire.count as f64
}

fn p_timeout(s: &Summary) -> f64 {
    s.acquire.timed_out as f64 / s.acquire.count as f64
}

fn mean_wait(s: &Summary) -> f64 {
    s.acquire.mean_wait_s.unwrap_or(f64::NAN)
}

fn measured_seconds(s: &Summary) -> f64 {
    s.scenario.duration_s - s.scenario.warmup_s
}

#[test]
fn erlang_c_wait_probability_mean_wait_and_littles_law() {
    let text = shipped("scenarios/theory/mmc.toml");
    let conf = family_confidence(COMPARISONS);
    let [pw, wq, little] = replicate(&text, 1000..1000 + REPLICATIONS, conf, |s| {
        // Little's law on checked-out clients: L = (checkout rate) × E[hold].
        let rate = s.acquire.count as f64 / measured_seconds(s);
        [
            p_wait(s),
            mean_wait(s),
            s.connections.mean_checked_out - rate * 1.0,
        ]
    });
    assert_in_band("P(wait)", &pw, theory::erlang_c(10, 8.0));
    assert_in_band("E[Wq]", &wq, theory::mmc_mean_wait(10, 8.0, 1.0));
    assert_in_band("L − λW", &little, 0.0);
}

#[test]
fn erlang_c_at_the_write_ups_example_load() {
    // C(6, 3.125) = 0.116: six clients at 3.125 Erlangs.
    let text = variant(
        &shipped("scenarios/theory/mmc.toml"),
        &[
            ("max = 10", "max = 6"),
            ("rate = \"8/s\"", "rate = \"3.125/s\""),
        ],
    );
    let conf = family_confidence(COMPARISONS);
    let [pw, wq] = replicate(&text, 2000..2000 + REPLICATIONS, conf, |s| {
        [p_wait(s), mean_wait(s)]
    });
    assert_in_band("P(wait)", &pw, theory::erlang_c(6, 3.125));
    assert_in_band("E[Wq]", &wq, theory::mmc_mean_wait(6, 3.125, 1.0));
}

#[test]
fn erlang_b_refusals_at_the_database_cap() {
    let text = shipped("scenarios/theory/mmcc.toml");
    let conf = family_confidence(COMPARISONS);
    let [refused] = replicate(&text, 3000..3000 + REPLICATIONS, conf, |s| {
        [s.acquire.refused as f64 / s.acquire.count as f64]
    });
    assert_in_band("P(refused)", &refused, theory::erlang_b(20, 15.0));
}

#[test]
fn erlang_b_is_insensitive_to_the_hold_distribution() {
    let text = variant(
        &shipped("scenarios/theory/mmcc.toml"),
        &[(
            "hold = { dist = \"exponential\", mean = \"1s\" }",
            "hold = { dist = \"deterministic\", value = \"1s\" }",
        )],
    );
    let conf = family_confidence(COMPARISONS);
    let [refused] = replicate(&text, 4000..4000 + REPLICATIONS, conf, |s| {
        [s.acquire.refused as f64 / s.acquire.count as f64]
    });
    assert_in_band(
        "P(refused), deterministic holds",
        &refused,
        theory::erlang_b(20, 15.0),
    );
}

#[test]
fn erlang_a_exponential_patience() {
    let text = shipped("scenarios/theory/mmcm.toml");
    let conf = family_confidence(COMPARISONS);
    let [pw, pa, wq] = replicate(&text, 5000..5000 + REPLICATIONS, conf, |s| {
        [p_wait(s), p_timeout(s), mean_wait(s)]
    });
    let f = theory::erlang_a(10, 10.0, 1.0, 1.0);
    assert_in_band("P(wait)", &pw, f.p_wait);
    assert_in_band("P(abandon)", &pa, f.p_abandon);
    assert_in_band("E[Wq]", &wq, f.mean_wait);
}

#[test]
fn fixed_patience_below_saturation() {
    let text = shipped("scenarios/theory/mmcd.toml");
    let conf = family_confidence(COMPARISONS);
    let [pw, pt, wq] = replicate(&text, 6000..6000 + REPLICATIONS, conf, |s| {
        [p_wait(s), p_timeout(s), mean_wait(s)]
    });
    let f = theory::mmc_deterministic_patience(10, 9.0, 1.0, 0.3);
    assert_in_band("P(wait)", &pw, f.p_wait);
    assert_in_band("P(timeout)", &pt, f.p_abandon);
    assert_in_band("E[Wq]", &wq, f.mean_wait);
}

#[test]
fn fixed_patience_above_saturation_is_stable() {
    // ρ = 1.2: only reneging keeps the queue finite.
    let text = variant(
        &shipped("scenarios/theory/mmcd.toml"),
        &[
            ("rate = \"9/s\"", "rate = \"12/s\""),
            ("acquire_timeout = \"300ms\"", "acquire_timeout = \"500ms\""),
        ],
    );
    let conf = family_confidence(COMPARISONS);
    let [pw, pt, wq] = replicate(&text, 7000..7000 + REPLICATIONS, conf, |s| {
        [p_wait(s), p_timeout(s), mean_wait(s)]
    });
    let f = theory::mmc_deterministic_patience(10, 12.0, 1.0, 0.5);
    assert_in_band("P(wait)", &pw, f.p_wait);
    assert_in_band("P(timeout)", &pt, f.p_abandon);
    assert_in_band("E[Wq]", &wq, f.mean_wait);
}
