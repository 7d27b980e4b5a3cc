//! A sweep: every point of a [`Grid`] replicated, each (point,
//! replication) pair one work item. The [`Manifest`] describes a sweep
//! completely — scenario, grid, seeds, KPIs, shard — so that shards run on
//! different machines can be checked against each other and recombined into
//! exactly the files one machine would have written.
//!
//! Seeds: point `p` runs under `derive(seed, "sweep-point", p)` and its
//! replication `i` under [`replication_seed`] of that, so points are
//! independent of each other (no shared luck across cells of a heatmap) and
//! nothing depends on the thread or the shard that runs an item. A fit
//! ([`Manifest::fit`]) instead runs replication `i` of every point under
//! [`replication_seed`] of the master seed: the points share their luck, so
//! their scores are compared paired.

use super::grid::{Axis, Grid};
use super::kpi::Kpi;
use super::replication_seed;
use crate::engine::rng::{derive_seed, domain};
use crate::stats::Estimate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One slice of a sweep: the items `k` with `k mod count = index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 0-based, below `count` (a Kubernetes `JOB_COMPLETION_INDEX`).
    pub index: u32,
    /// How many shards the sweep is cut into.
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let parsed = s
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if count > 0 && index < count => Ok(Shard { index, count }),
            Some((index, 0)) => Err(format!(
                "expected at least one shard (i/n with n ≥ 1), found {index}/0"
            )),
            Some((index, count)) => Err(format!(
                "expected a shard index from 0 to {}, found {index}/{count}",
                count - 1
            )),
            None => Err(format!(
                "expected i/n with 0 ≤ i < n, as in 3/10, found \"{s}\""
            )),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Everything that defines a sweep's numbers (and the shard run).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `"pooldrill"`.
    pub tool: String,
    /// The tool's version: shards of different versions do not merge.
    pub version: String,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file, as given on the command line.
    pub file: String,
    /// Hex digest of the scenario file.
    pub hash: String,
    /// The master seed.
    pub seed: u64,
    /// Simulated time per run (s).
    pub duration_s: f64,
    /// Replications per point.
    pub replications: u32,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// The swept keys; the grid is every combination of their values.
    pub axes: Vec<Axis>,
    /// The KPIs of every run.
    pub kpis: Vec<Kpi>,
    /// The KPI the charts show.
    pub metric: String,
    /// A point is safe when the upper end of the metric's interval is
    /// below this (stored units).
    pub safe_below: Option<f64>,
    /// The slice this folder holds; `None`: the whole sweep.
    pub shard: Option<Shard>,
    /// A fit (`pooldrill fit`): the KPIs are fit scores, every point's
    /// replication `i` shares its seed (common random numbers across
    /// points, so that scores are compared paired), and the folder gets
    /// `fit.csv` instead of `sweep.csv`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fit: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Manifest {
    /// The grid.
    pub fn grid(&self) -> Grid {
        Grid {
            axes: self.axes.clone(),
        }
    }

    /// Work items: points × replications; item `k` is replication
    /// `k mod replications` of point `k div replications`.
    pub fn items(&self) -> usize {
        self.grid().size() * self.replications as usize
    }

    /// Whether item `k` belongs to this folder's shard.
    pub fn holds(&self, k: usize) -> bool {
        self.shard
            .is_none_or(|s| k % s.count as usize == s.index as usize)
    }

    /// (point, replication) of item `k`.
    pub fn item(&self, k: usize) -> (usize, u32) {
        let r = self.replications as usize;
        (k / r, (k % r) as u32)
    }

    /// The seed of item `k`.
    pub fn seed_of(&self, k: usize) -> u64 {
        let (point, rep) = self.item(k);
        if self.fit {
            return replication_seed(self.seed, rep);
        }
        let point_seed = derive_seed(self.seed, domain("sweep-point"), point as u64);
        replication_seed(point_seed, rep)
    }

    /// Identifying columns of `replications.csv`.
    pub fn id_columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = ["point", "replication", "seed"].map(String::from).to_vec();
        columns.extend(self.axes.iter().map(|a| a.path.clone()));
        columns
    }

    /// The identifiers of item `k`: point, replication, seed, then each
    /// axis's value (stored units).
    pub fn ids(&self, k: usize, grid: &Grid) -> Vec<String> {
        let (point, rep) = self.item(k);
        let mut ids = vec![
            point.to_string(),
            rep.to_string(),
            self.seed_of(k).to_string(),
        ];
        ids.extend(
            self.axes
                .iter()
                .zip(grid.point(point))
                .map(|(a, i)| a.values[i].to_string()),
        );
        ids
    }

    /// Why `other` is not a shard of the same sweep, if it is not (the
    /// file's path and the shard may differ).
    pub fn mismatch(&self, other: &Manifest) -> Option<String> {
        let same = |m: &Manifest| Manifest {
            file: String::new(),
            shard: None,
            ..m.clone()
        };
        if same(self) == same(other) {
            return None;
        }
        let (a, b) = (same(self), same(other));
        let differs = [
            ("tool version", a.version != b.version),
            ("scenario file (hash)", a.hash != b.hash),
            ("seed", a.seed != b.seed),
            ("duration", a.duration_s != b.duration_s),
            ("replications", a.replications != b.replications),
            ("--set keys and values", a.axes != b.axes),
            ("KPIs", a.kpis != b.kpis),
            ("command (sweep or fit)", a.fit != b.fit),
            (
                "--metric or --safe-below",
                a.metric != b.metric || a.safe_below != b.safe_below,
            ),
        ];
        let what: Vec<&str> = differs.iter().filter(|d| d.1).map(|d| d.0).collect();
        Some(if what.is_empty() {
            "the sweeps differ".into()
        } else {
            format!("the sweeps differ in: {}", what.join(", "))
        })
    }

    /// The index of the charted KPI.
    pub fn metric_index(&self) -> usize {
        self.kpis
            .iter()
            .position(|k| k.id == self.metric)
            .unwrap_or(0)
    }
}

/// Each point's estimates, `[point][kpi]`, from every item's KPI values
/// (`values[k]`, all items of the sweep in order).
pub fn estimates(manifest: &Manifest, values: &[Vec<f64>]) -> Vec<Vec<Estimate>> {
    let r = manifest.replications as usize;
    values
        .chunks(r)
        .map(|point| {
            (0..manifest.kpis.len())
                .map(|k| {
                    let xs: Vec<f64> = point.iter().map(|v| v[k]).collect();
                    Estimate::from_replications(&xs, manifest.confidence)
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_zero_based() {
        assert_eq!(
            "3/10".parse(),
            Ok(Shard {
                index: 3,
                count: 10
            })
        );
        assert_eq!(
            "10/10".parse::<Shard>().unwrap_err(),
            "expected a shard index from 0 to 9, found 10/10"
        );
        assert!("1/0".parse::<Shard>().is_err());
        assert!("a/b".parse::<Shard>().unwrap_err().contains("i/n"));
    }
}
