//! The acquire-wait heatmap: how many `pool.connect()` calls waited how
//! long, over time. Pool waits are bimodal (nothing, or the whole timeout);
//! percentile lines hide that, a histogram over time shows it.

use super::axis::short_number;
use super::canvas::{self, Area, Figure, Layout};
use super::coarsen::coarsen;
use super::data::{RunSeries, WAIT_BUCKET_BOUNDS_S};
use super::events::marker_lines;
use super::heat::{self, ColourKey, colour};
use super::legend::{Entry, Swatch};
use super::observed::{self, Shown};
use super::panel::{ValueAxis, time_chart};
use super::style;
use anyhow::{Context, Result};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::path::Path;

/// Draw the acquire-wait heatmap of `run` into `<stem>.png` and
/// `<stem>.svg` (1400 × 860 pixels).
pub fn wait_heatmap(run: &RunSeries, stem: &Path) -> Result<()> {
    canvas::write(&WaitHeatmap(&coarsen(run, 320)), stem)
        .context("drawing the acquire-wait heatmap")
}

pub(super) struct WaitHeatmap<'r>(pub(super) &'r RunSeries);

/// "0", "2 ms", "1 s".
fn wait_label(s: f64) -> String {
    if s == 0.0 {
        "0".to_owned()
    } else if s < 1.0 {
        format!("{} ms", short_number(s * 1000.0))
    } else {
        format!("{} s", short_number(s))
    }
}

/// Bucket `i` spans y = i..i+1; ticks at the bucket edges, named by the
/// bound below them, and one in the middle of the zero bucket.
fn wait_axis() -> ValueAxis {
    let buckets = WAIT_BUCKET_BOUNDS_S.len() + 1;
    let mut ticks = vec![0.5];
    let mut labels = vec!["0 (none)".to_owned()];
    for (i, &bound) in WAIT_BUCKET_BOUNDS_S.iter().enumerate().skip(1) {
        ticks.push(i as f64 + 1.0);
        labels.push(wait_label(bound));
    }
    ValueAxis {
        range: 0.0..buckets as f64,
        ticks,
        labels,
        title: "acquire wait (log-spaced buckets)".to_owned(),
    }
}

/// Where a wait of `s` seconds sits on the bucket axis: the middle of the
/// zero bucket, else log-interpolated inside its bucket.
fn bucket_y(s: f64) -> f64 {
    let bounds = WAIT_BUCKET_BOUNDS_S;
    if s <= 0.0 {
        return 0.5;
    }
    let i = bounds.partition_point(|&b| b < s);
    if i >= bounds.len() {
        return bounds.len() as f64 + 0.5;
    }
    let low = if i == 1 {
        bounds[1] / 10.0
    } else {
        bounds[i - 1]
    };
    let within = ((s.max(low) / low).ln() / (bounds[i] / low).ln()).clamp(0.0, 1.0);
    i as f64 + within
}

impl Figure for WaitHeatmap<'_> {
    fn size(&self) -> (u32, u32) {
        (1400, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static,
    {
        let run = self.0;
        let rates: Vec<(f64, f64, Vec<f64>)> = run
            .wait_buckets
            .iter()
            .zip(&run.rows)
            .enumerate()
            .map(|(i, (counts, row))| {
                let length = run.interval_s(i);
                let rates = counts.iter().map(|&c| c as f64 / length).collect();
                (row.time_s - length, row.time_s, rates)
            })
            .collect();
        // Decades of the colour scale, from the smallest rate to the largest.
        let positive = rates
            .iter()
            .flat_map(|c| &c.2)
            .copied()
            .filter(|&v| v > 0.0);
        let (least, most) =
            positive.fold((f64::INFINITY, 0.0_f64), |(a, b), v| (a.min(v), b.max(v)));
        let (lo, hi) = if most > 0.0 {
            let lo = least.max(1e-3).log10().floor();
            (lo, most.log10().ceil().max(lo + 1.0))
        } else {
            (0.0, 1.0)
        };
        let h = |v: f64| (v.log10() - lo) / (hi - lo);
        let mut entries = vec![
            Entry::new(Swatch::Dashed(style::VERMILLION), "100 ms: starved above"),
            Entry::new(Swatch::Fill(WHITE.mix(1.0)), "white: no acquire"),
        ];
        entries.extend(observed::legend(run, Shown::Waits));
        let key = ColourKey {
            entries: &entries,
            title: &["acquires per second", "(log colour scale)"],
            ticks: (lo as i32..=hi as i32)
                .map(|e| (h(10f64.powi(e)), short_number(10f64.powi(e))))
                .collect(),
        };
        let title = "Acquire waits over time: how long each pool.connect() waited";
        heat::over_time(root, title, run, &key, |panel| {
            let mut chart = time_chart(&panel.area, &panel.time, &wait_axis(), panel.margins)?;
            chart.draw_series(rates.iter().flat_map(|(from, to, values)| {
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0.0)
                    .map(move |(b, &v)| {
                        Rectangle::new(
                            [(*from, b as f64), (*to, b as f64 + 1.0)],
                            colour(h(v)).filled(),
                        )
                    })
            }))?;

            let starved = 1.0 + WAIT_BUCKET_BOUNDS_S.partition_point(|&b| b < 0.1) as f64;
            let x = chart.x_range();
            chart.draw_series([PathElement::new(
                vec![(x.start, starved), (x.end, starved)],
                WHITE.stroke_width(5),
            )])?;
            chart.draw_series([DashedPathElement::new(
                vec![(x.start, starved), (x.end, starved)],
                10,
                6,
                style::VERMILLION.stroke_width(3),
            )])?;
            observed::draw(&mut chart, run, Shown::Waits, |w| Some(bucket_y(w)))?;
            marker_lines(&mut chart, &run.markers, true)
        })
    }
}
