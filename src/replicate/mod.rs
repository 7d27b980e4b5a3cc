//! Independent replications of scenarios, run in parallel.
//!
//! Replication `i` of a scenario runs with a seed derived from the master
//! seed and `i` alone ([`replication_seed`]), never from the thread that
//! runs it, and results come back in index order: the same inputs give the
//! same numbers on any number of threads. Because the simulator draws every
//! arrival and hold time from streams keyed by the seed, replication `i` of
//! two designs sees the same requests (common random numbers), so their
//! paired differences carry far less noise than either alone.
//!
//! Each replication is reduced to its [`kpi`]s and, when charts want them,
//! its binned key [`series`]; confidence intervals are Student-t intervals
//! over replications ([`crate::stats::Estimate`]).

pub mod comparison;
pub mod grid;
pub mod kpi;
pub mod series;
pub mod sweep;

use crate::engine::rng::{derive_seed, domain};
use crate::model::{RunOptions, Simulation};
use crate::scenario::Scenario;
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kpi::{Kpi, kpis};
use rayon::prelude::*;
use series::{BinSink, Binned};

/// The confidence level of every interval pooldrill reports.
pub const CONFIDENCE: f64 = 0.95;

/// The seed of replication `index` under `master`: `master` itself for
/// replication 0 (so a single replication is the plain run of the
/// scenario), an independent derived seed for the others. Adding
/// replications never changes the earlier ones.
pub fn replication_seed(master: u64, index: u32) -> u64 {
    if index == 0 {
        master
    } else {
        derive_seed(master, domain("replication"), u64::from(index))
    }
}

/// What one replication leaves for the statistics.
#[derive(Clone, Debug)]
pub struct Replication {
    /// The seed it ran with.
    pub seed: u64,
    /// Its KPIs, in [`kpis`] order.
    pub kpis: Vec<(Kpi, f64)>,
    /// Its binned key series (when asked for).
    pub series: Option<Binned>,
}

/// Run `scenario` once with `seed`, keeping its KPIs and, if `series`, its
/// binned key series.
pub fn replicate(
    scenario: &Scenario,
    seed: u64,
    options: RunOptions,
    series: bool,
) -> Result<Replication> {
    let mut scenario = scenario.clone();
    scenario.seed = seed;
    let mut sink = BinSink::new(&scenario);
    let summary = Simulation::new(&scenario, options)
        .run(&mut sink, |_| !crate::interrupt::requested())
        .with_context(|| format!("scenario {} with seed {seed}", scenario.name))?;
    Ok(Replication {
        seed,
        kpis: kpis(&summary),
        series: series.then(|| sink.finish()),
    })
}

/// `f(0)`, …, `f(count − 1)` in parallel on the current rayon pool, in
/// index order, ticking `bar` as each finishes. The first error (in index
/// order among those that failed) is returned.
pub fn par_map<T, F>(count: usize, bar: &ProgressBar, f: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(usize) -> Result<T> + Sync + Send,
{
    let results: Vec<Result<T>> = (0..count)
        .into_par_iter()
        .map(|i| {
            let r = f(i);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    results.into_iter().collect()
}

/// A progress bar over `total` runs on stderr, drawn only on a terminal
/// and never with `quiet`.
pub fn progress_bar(total: usize, prefix: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} runs, eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_owned());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_zero_is_the_master_seed_and_the_others_differ() {
        assert_eq!(replication_seed(42, 0), 42);
        let seeds: Vec<u64> = (0..50).map(|i| replication_seed(42, i)).collect();
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seeds.len());
        assert_ne!(replication_seed(42, 1), replication_seed(43, 1));
    }

    #[test]
    fn par_map_keeps_index_order_on_any_pool() {
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| par_map(100, &ProgressBar::hidden(), |i| Ok(i * i)).unwrap())
        };
        assert_eq!(run(1), run(3));
        assert_eq!(run(3)[7], 49);
    }

    #[test]
    fn par_map_returns_the_first_error_by_index() {
        let r = par_map(10, &ProgressBar::hidden(), |i| {
            if i >= 4 {
                anyhow::bail!("failed at {i}")
            }
            Ok(i)
        });
        assert_eq!(r.unwrap_err().to_string(), "failed at 4");
    }
}
