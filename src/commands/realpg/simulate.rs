//! The second stage: pooldrill's replications of the calibrated scenario,
//! each kept as its summary.json (for the dotted metric names) and its
//! binned key series (for the chart).

use crate::model::{RunOptions, Simulation};
use crate::replicate::series::{BinSink, Binned};
use crate::replicate::{par_map, progress_bar, replication_seed};
use crate::scenario::Scenario;
use anyhow::{Context, Result};
use serde_json::Value;

/// One replication.
pub struct SimRun {
    /// Its summary.json.
    pub summary: Value,
    /// Its open connections and error rate over time.
    pub series: Binned,
}

/// `replications` runs of `scenario`, replication `i` with
/// [`replication_seed`]`(seed, i)`, in index order.
pub fn simulate(scenario: &Scenario, replications: u32, quiet: bool) -> Result<Vec<SimRun>> {
    let bar = progress_bar(replications as usize, "pooldrill", quiet);
    par_map(replications as usize, &bar, |i| {
        let mut s = scenario.clone();
        s.seed = replication_seed(scenario.seed, i as u32);
        let mut sink = BinSink::new(&s);
        let summary = Simulation::new(&s, RunOptions::default())
            .run(&mut sink, |_| !crate::interrupt::requested())
            .with_context(|| format!("replication {i} of {}", s.name))?;
        Ok(SimRun {
            summary: serde_json::to_value(&summary)?,
            series: sink.finish(),
        })
    })
}
