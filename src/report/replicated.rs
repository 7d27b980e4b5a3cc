//! The folder and the terminal summary of replicated runs: `compare`'s
//! arms, or the one arm of `run --replications N`.

use super::{OutputDir, bands, kpi_table, replications_csv};
use crate::model::RunOptions;
use crate::replicate::comparison::{Arm, Comparison, run_arms};
use crate::replicate::progress_bar;
use crate::stdout::{out, outln};
use anyhow::Result;
use std::path::Path;

/// Replicate `arms` and write the statistics into `out` (all or nothing):
/// `kpis.csv`, `kpis.json`, `replications.csv`, `series.csv` and an
/// overlay chart per key series.
pub fn replicate_to_folder(
    arms: &[Arm],
    seed: u64,
    replications: u32,
    options: RunOptions,
    out: &Path,
    quiet: bool,
) -> Result<Comparison> {
    let mut dir = OutputDir::create(out)?;
    let bar = progress_bar(arms.len() * replications as usize, "replications", quiet);
    let c = run_arms(arms, seed, replications, options, true, &bar)?;
    dir.write("kpis.csv", &kpi_table::csv(&c)?)?;
    dir.write("kpis.json", &kpi_table::json(&c))?;
    dir.write(
        "replications.csv",
        &replications_csv::comparison(&c).to_csv()?,
    )?;
    dir.write("series.csv", &bands::series_csv(&c))?;
    bands::charts(&c, &mut dir)?;
    dir.commit()?;
    Ok(c)
}

/// The table of `c` and the files written into `out`, on the terminal.
pub fn print(c: &Comparison, out: &Path) {
    out!("{}", kpi_table::terminal(c));
    outln!(
        "  files: {}/{{kpis.csv, kpis.json, replications.csv, series.csv, open-connections, error-rate, acquire-wait (.png, .svg)}}",
        out.display()
    );
}
