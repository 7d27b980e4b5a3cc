//! `sweep.csv`: one row per grid point, its swept values (stored units:
//! seconds, per second) and every KPI's mean, confidence interval and
//! number of replications with a value; `safe` says whether the charted
//! metric's upper bound is below the safe threshold.

use super::number;
use crate::replicate::sweep::Manifest;
use crate::stats::Estimate;
use anyhow::{Context, Result};

/// Whether a point is safe: the metric's upper bound below the threshold
/// (`None` without a threshold or without data).
pub fn is_safe(manifest: &Manifest, point: &[Estimate]) -> Option<bool> {
    let below = manifest.safe_below?;
    let e = &point[manifest.metric_index()];
    e.hi().is_finite().then(|| e.hi() < below)
}

/// The CSV text.
pub fn csv(manifest: &Manifest, estimates: &[Vec<Estimate>]) -> Result<Vec<u8>> {
    let grid = manifest.grid();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_owned()];
    header.extend(manifest.axes.iter().map(|a| a.path.clone()));
    header.push("safe".into());
    for kpi in &manifest.kpis {
        for part in ["mean", "lo", "hi", "n"] {
            header.push(format!("{}_{part}", kpi.id));
        }
    }
    w.write_record(&header)?;
    for (p, point) in estimates.iter().enumerate() {
        let mut row = vec![p.to_string()];
        row.extend(
            manifest
                .axes
                .iter()
                .zip(grid.point(p))
                .map(|(a, i)| number(a.values[i])),
        );
        row.push(is_safe(manifest, point).map_or(String::new(), |s| s.to_string()));
        for e in point {
            row.extend([
                number(e.mean),
                number(e.lo()),
                number(e.hi()),
                e.n.to_string(),
            ]);
        }
        w.write_record(&row)?;
    }
    w.into_inner().context("writing sweep.csv")
}
