//! `fit.csv`: the grid points of a fit ranked by their score, best first:
//! rank, point, the swept values (stored units), the score's mean and
//! confidence interval over replications, and its paired difference from
//! the best point (replication `i` of every point shares its random
//! numbers, so the difference is taken replication by replication).

use super::number;
use crate::replicate::sweep::Manifest;
use crate::stats::Estimate;
use anyhow::{Context, Result};

/// One point's place in the ranking.
#[derive(Clone, Debug)]
pub struct Ranked {
    /// The grid point.
    pub point: usize,
    /// Its score over replications (KPI 0 of a fit's manifest).
    pub score: Estimate,
    /// Its score minus the best point's, replication by replication.
    pub vs_best: Estimate,
}

/// The points of `manifest` ranked by mean score, lowest (best) first; a
/// point without a score (nothing compared) comes last. `values[k]` are
/// item `k`'s KPI values, every item of the fit in order.
pub fn rank(manifest: &Manifest, values: &[Vec<f64>]) -> Vec<Ranked> {
    let r = manifest.replications as usize;
    let scores: Vec<Vec<f64>> = values
        .chunks(r)
        .map(|point| point.iter().map(|v| v[0]).collect())
        .collect();
    let estimate = |xs: &[f64]| Estimate::from_replications(xs, manifest.confidence);
    let mut order: Vec<(usize, Estimate)> = scores
        .iter()
        .enumerate()
        .map(|(p, xs)| (p, estimate(xs)))
        .collect();
    order.sort_by(|(pa, a), (pb, b)| {
        let key = |e: &Estimate| {
            if e.mean.is_finite() {
                e.mean
            } else {
                f64::INFINITY
            }
        };
        key(a).total_cmp(&key(b)).then(pa.cmp(pb))
    });
    let best = order.first().map_or(0, |(p, _)| *p);
    order
        .into_iter()
        .map(|(point, score)| {
            let diffs: Vec<f64> = scores[point]
                .iter()
                .zip(&scores[best])
                .map(|(a, b)| a - b)
                .collect();
            Ranked {
                point,
                score,
                vs_best: estimate(&diffs),
            }
        })
        .collect()
}

/// The CSV text of a ranking.
pub fn csv(manifest: &Manifest, ranking: &[Ranked]) -> Result<Vec<u8>> {
    let grid = manifest.grid();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["rank".to_owned(), "point".to_owned()];
    header.extend(manifest.axes.iter().map(|a| a.path.clone()));
    header.extend(
        [
            "score",
            "ci_low",
            "ci_high",
            "vs_best",
            "vs_best_low",
            "vs_best_high",
        ]
        .map(String::from),
    );
    w.write_record(&header)?;
    for (i, r) in ranking.iter().enumerate() {
        let mut row = vec![(i + 1).to_string(), r.point.to_string()];
        row.extend(
            manifest
                .axes
                .iter()
                .zip(grid.point(r.point))
                .map(|(a, v)| number(a.values[v])),
        );
        row.extend([
            number(r.score.mean),
            number(r.score.lo()),
            number(r.score.hi()),
            number(r.vs_best.mean),
            number(r.vs_best.lo()),
            number(r.vs_best.hi()),
        ]);
        w.write_record(&row)?;
    }
    w.into_inner().context("writing fit.csv")
}
