//! The charts of a sweep over one or two keys (keys given one value do not
//! count): the charted metric against
//! the last key with its confidence band (one line per value of the first
//! key when there are two), and for two keys a heatmap of the metric's
//! upper confidence bound with the safe region outlined.

use super::OutputDir;
use super::charts::{
    BandPoint, BandSeries, GridHeatmap, Overlay, SafeRegion, Threshold, footer, grid_heatmap,
    overlay,
};
use crate::format::percent;
use crate::replicate::grid::{Axis, Kind};
use crate::replicate::kpi::Unit;
use crate::replicate::sweep::Manifest;
use crate::stats::Estimate;
use anyhow::Result;

/// Draw the charts of a sweep of one or two keys into `dir` (none for more
/// keys); returns the stems written.
pub fn charts(
    manifest: &Manifest,
    estimates: &[Vec<Estimate>],
    dir: &mut OutputDir,
) -> Result<Vec<&'static str>> {
    let kpi = &manifest.kpis[manifest.metric_index()];
    let k = kpi.unit.display_factor();
    let unit = kpi.unit.title();
    let value_title = format!("{} ({unit})", kpi.label);

    let runs = if manifest.replications > 1 {
        format!("{} replications per point", manifest.replications)
    } else {
        "1 run per point".to_owned()
    };
    let foot = footer(&manifest.scenario, manifest.seed, manifest.replications);
    let bound = manifest.safe_below.map(|b| compact(b * k, unit));
    let threshold = manifest
        .safe_below
        .zip(bound.clone())
        .map(|(b, text)| Threshold {
            value: b * k,
            label: format!("safe below {text}"),
        });
    let label = capitalised(&kpi.label);
    let m = manifest.metric_index();
    // Keys set to one value are settings, not dimensions; with the grid
    // laid out last-key-fastest, point = row × columns + column still holds.
    let varying: Vec<&Axis> = manifest
        .axes
        .iter()
        .filter(|a| a.values.len() > 1)
        .collect();
    let (lines_axis, series_axis) = match varying.as_slice() {
        [x] => (*x, None),
        [y, x] => (*x, Some(*y)),
        _ => return Ok(Vec::new()),
    };
    let series_count = series_axis.map_or(1, |a| a.values.len());
    let series = (0..series_count)
        .map(|s| BandSeries {
            name: series_axis.map_or(kpi.label.clone(), |a| {
                format!("{} = {}", a.path, a.label(s))
            }),
            points: (0..lines_axis.values.len())
                .map(|x| {
                    let e = &estimates[s * lines_axis.values.len() + x][m];
                    BandPoint {
                        x: lines_axis.values[x],
                        mean: e.mean * k,
                        // Every KPI is ≥ 0: so is its band.
                        low: e.lo().max(0.0) * k,
                        high: e.hi() * k,
                    }
                })
                .collect(),
        })
        .collect();
    let lines = Overlay {
        title: format!("{label} by {}", lines_axis.path),
        x_title: numeric_title(lines_axis),
        y_title: value_title,
        series,
        band_label: if manifest.replications > 1 {
            format!("{} CI", percent(manifest.confidence, 0))
        } else {
            "none (1 run per point)".into()
        },
        threshold,
        footer: foot.clone(),
    };
    overlay(&lines, &dir.chart_stem("sweep"))?;
    let Some(rows_axis) = series_axis else {
        return Ok(vec!["sweep"]);
    };
    let upper = |p: usize| {
        let hi = estimates[p][m].hi() * k;
        hi.is_finite().then_some(hi)
    };
    let heat = GridHeatmap {
        title: format!(
            "{label}: upper end of the {} CI, {runs}",
            percent(manifest.confidence, 0)
        ),
        x_title: lines_axis.title(),
        x_labels: (0..lines_axis.values.len())
            .map(|i| lines_axis.label(i))
            .collect(),
        y_title: rows_axis.title(),
        y_labels: (0..rows_axis.values.len())
            .map(|i| rows_axis.label(i))
            .collect(),
        values: (0..rows_axis.values.len())
            .map(|r| {
                (0..lines_axis.values.len())
                    .map(|c| upper(r * lines_axis.values.len() + c))
                    .collect()
            })
            .collect(),
        // retry: a run that never recovered has no recovery_s.
        blank: if kpi.id == "recovery_s" {
            "white: never recovered".into()
        } else {
            "white: not run".into()
        },
        value_title: format!("upper bound ({unit})"),
        unit: match kpi.unit {
            Unit::Count => String::new(),
            u => format!(" {}", u.title()),
        },
        safe: manifest.safe_below.zip(bound).map(|(b, text)| SafeRegion {
            below: b * k,
            label: format!("safe: upper bound < {text}"),
        }),
        footer: foot,
    };
    grid_heatmap(&heat, &dir.chart_stem("heatmap"))?;
    Ok(vec!["sweep", "heatmap"])
}

/// `v` (display units) as briefly as it reads exactly: `1 %`, `100 ms`.
fn compact(v: f64, unit: &str) -> String {
    let digits = format!("{v:.6}");
    let digits = digits.trim_end_matches('0').trim_end_matches('.');
    if unit == "count" {
        digits.to_owned()
    } else {
        format!("{digits} {unit}")
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// An axis title for numeric positions (durations in seconds).
fn numeric_title(axis: &Axis) -> String {
    match axis.kind {
        Kind::Duration => format!("{} (s)", axis.path),
        _ => axis.title(),
    }
}
