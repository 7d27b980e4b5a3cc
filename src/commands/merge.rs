//! `pooldrill merge DIR... --out DIR`: recombine the shards of a sweep
//! into exactly the files one unsharded run would have written.
//!
//! Every shard folder must describe the same sweep (same tool version,
//! scenario file, seed, grid, replications, KPIs); together they must hold
//! every run exactly once, each with the seed the sweep assigns it.

use super::sweep::{BestChart, write_folder};
use crate::replicate::sweep::Manifest;
use crate::report::OutputDir;
use crate::report::output::{Record, same_folder};
use crate::report::replications_csv::ReplicationTable;
use crate::stdout::outln;
use anyhow::{Context, Result, bail};
use clap::Args;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Folders written by `pooldrill sweep --shard i/n`, one per shard.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output folder: gets what the unsharded sweep would have written.
    #[arg(long)]
    pub out: PathBuf,
}

/// One run's row, with the folder it came from.
type Slot = Option<((Vec<String>, Vec<f64>), usize)>;

/// Merge the shards.
pub fn merge(args: &MergeArgs) -> Result<i32> {
    // A signal stops it before its commit, or waits for the commit to end.
    crate::interrupt::catch();
    if let Some(dir) = args.dirs.iter().find(|d| same_folder(d, &args.out)) {
        bail!(
            "--out {}: expected a folder of its own, found the input shard {}: merging into it \
             would overwrite it",
            args.out.display(),
            dir.display()
        );
    }
    let mut first: Option<Manifest> = None;
    let mut slots: Vec<Slot> = Vec::new();
    for (d, dir) in args.dirs.iter().enumerate() {
        let manifest = read_manifest(dir)?;
        let Some(shard) = manifest.shard else {
            bail!(
                "{}: expected a shard (written with --shard i/n), found a whole sweep",
                dir.display()
            );
        };
        let reference = first.get_or_insert_with(|| manifest.clone());
        if let Some(why) = reference.mismatch(&manifest) {
            bail!(
                "{}: expected a shard of the same sweep as {}, but {why}",
                dir.display(),
                args.dirs[0].display()
            );
        }
        let count = reference.shard.map_or(0, |s| s.count);
        if shard.count != count {
            bail!(
                "{}: expected a shard of {count}, found shard {shard}",
                dir.display()
            );
        }
        if slots.is_empty() {
            slots = vec![None; manifest.items()];
        }
        let name = dir.join("replications.csv");
        let bytes =
            std::fs::read(&name).with_context(|| format!("cannot read {}", name.display()))?;
        let kpis: Vec<String> = manifest.kpis.iter().map(|k| k.id.clone()).collect();
        let table = ReplicationTable::from_csv(
            &bytes,
            &name.display().to_string(),
            &manifest.id_columns(),
            &kpis,
        )?;
        let grid = manifest.grid();
        for (line, (ids, values)) in table.rows.into_iter().enumerate() {
            let here = || format!("{}:{}", name.display(), line + 2);
            let k = item_of(&ids, &manifest)
                .filter(|&k| manifest.holds(k) && ids == manifest.ids(k, &grid))
                .with_context(|| {
                    format!(
                        "{}: expected a run of shard {shard} with the sweep's seed and values, found {}",
                        here(),
                        ids.join(",")
                    )
                })?;
            if let Some((_, other)) = &slots[k] {
                bail!(
                    "{}: point {}, replication {} is also in {}",
                    here(),
                    ids[0],
                    ids[1],
                    args.dirs[*other].display()
                );
            }
            slots[k] = Some(((ids, values), d));
        }
    }
    let Some(mut manifest) = first else {
        bail!("expected at least one shard folder");
    };
    let count = manifest.shard.map_or(1, |s| s.count as usize);
    let missing: Vec<usize> = (0..slots.len()).filter(|&k| slots[k].is_none()).collect();
    if !missing.is_empty() {
        let shards: BTreeSet<usize> = missing.iter().map(|k| k % count).collect();
        let shards: Vec<String> = shards.iter().map(|s| format!("{s}/{count}")).collect();
        bail!(
            "expected all {} runs, found {} missing: run (or pass the folder of) shard {}",
            slots.len(),
            missing.len(),
            shards.join(", ")
        );
    }
    manifest.shard = None;
    let table = ReplicationTable {
        id_columns: manifest.id_columns(),
        kpis: manifest.kpis.iter().map(|k| k.id.clone()).collect(),
        rows: slots.into_iter().flatten().map(|(row, _)| row).collect(),
    };
    let best = |p: usize, dir: &mut OutputDir| super::fit::merged_best_charts(&manifest, p, dir);
    let fit = manifest.fit.then_some(&best as BestChart);
    write_folder(&manifest, &table, OutputDir::create(&args.out)?, fit)?;
    outln!(
        "merged {} shards of {}: {} runs\n  files: {}/{{manifest.json, replications.csv, {}}}",
        args.dirs.len(),
        manifest.scenario,
        table.rows.len(),
        args.out.display(),
        if manifest.fit {
            "fit.csv, charts of the best point"
        } else {
            "sweep.csv, charts"
        }
    );
    Ok(0)
}

/// A shard folder's manifest. The folder's record of what pooldrill wrote
/// there, if any, must list the shard's files: a later command of another
/// kind into the same folder replaced them.
fn read_manifest(dir: &Path) -> Result<Manifest> {
    let record = Record::read(dir);
    if !record.files.is_empty()
        && !["manifest.json", "replications.csv"]
            .iter()
            .all(|f| record.files.iter().any(|r| r == f))
    {
        bail!(
            "{}: expected a sweep shard, found the files of another pooldrill command ({})",
            dir.display(),
            record.files.join(", ")
        );
    }
    let name = dir.join("manifest.json");
    let bytes = std::fs::read(&name).with_context(|| format!("cannot read {}", name.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: expected a sweep manifest", name.display()))
}

/// The item a row names (point, replication), if in range.
fn item_of(ids: &[String], manifest: &Manifest) -> Option<usize> {
    let point: usize = ids.first()?.parse().ok()?;
    let rep: u32 = ids.get(1)?.parse().ok()?;
    (point < manifest.grid().size() && rep < manifest.replications)
        .then(|| point * manifest.replications as usize + rep as usize)
}
