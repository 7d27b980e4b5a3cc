//! The key series of a comparison over time, each arm's mean with its
//! confidence band across replications: `series.csv` and one overlay chart
//! per series (`open-connections`, `error-rate`, `acquire-wait`).

use super::OutputDir;
use super::charts::{BandPoint, BandSeries, Overlay, Threshold, footer, overlay};
use super::number;
use crate::format::percent;
use crate::replicate::comparison::{ArmResult, Comparison};
use crate::replicate::series::{Binned, KeySeries, band};
use crate::stats::Estimate;
use anyhow::Result;
use std::fmt::Write;

/// Each arm's band of `series`, `(end of bin in s, estimate)`.
fn arm_band(c: &Comparison, arm: &ArmResult, series: KeySeries) -> Vec<(f64, Estimate)> {
    let runs: Vec<&Binned> = arm.runs.iter().filter_map(|r| r.series.as_ref()).collect();
    band(&runs, series, c.confidence)
}

/// `series.csv`: arm, series, end of bin, replications with a value, mean
/// and interval (stored units: connections, ratio, seconds).
pub fn series_csv(c: &Comparison) -> Vec<u8> {
    let mut out = String::from("arm,series,time_s,n,mean,lo,hi\n");
    for series in KeySeries::ALL {
        for arm in &c.arms {
            for (t, e) in arm_band(c, arm, series) {
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{}",
                    arm.name,
                    series.id(),
                    number(t),
                    e.n,
                    number(e.mean),
                    number(e.lo()),
                    number(e.hi())
                );
            }
        }
    }
    out.into_bytes()
}

/// Draw one overlay per key series into `dir`.
pub fn charts(c: &Comparison, dir: &mut OutputDir) -> Result<()> {
    let names: Vec<&str> = c.arms.iter().map(|a| a.name.as_str()).collect();
    let band_label = if c.replications > 1 {
        format!("{} CI of the mean", percent(c.confidence, 0))
    } else {
        "none (1 run)".to_owned()
    };
    for series in KeySeries::ALL {
        let k = series.display_factor();
        let arms = c
            .arms
            .iter()
            .map(|arm| BandSeries {
                name: arm.name.clone(),
                points: arm_band(c, arm, series)
                    .into_iter()
                    .map(|(t, e)| BandPoint {
                        x: t / 60.0,
                        mean: e.mean * k,
                        // Every key series is ≥ 0: so is its band.
                        low: e.lo().max(0.0) * k,
                        high: e.hi() * k,
                    })
                    .collect(),
            })
            .collect();
        let budget = c.arms[0].app_slots;
        let threshold = (series == KeySeries::OpenConnections
            && c.arms.iter().all(|a| a.app_slots == budget))
        .then(|| Threshold {
            value: f64::from(budget),
            label: format!("slots the app may hold: {budget}"),
        });
        let chart = Overlay {
            title: format!("{}: {}", series.title(), names.join(" vs ")),
            x_title: "time (min)".into(),
            y_title: series.y_title().into(),
            series: arms,
            band_label: band_label.clone(),
            threshold,
            footer: footer(&names.join(" vs "), c.seed, c.replications),
        };
        overlay(&chart, &dir.chart_stem(series.id()))?;
    }
    Ok(())
}
