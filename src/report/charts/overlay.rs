//! Overlays: several named series of one metric on one chart, each a mean
//! line inside its band (a confidence interval over replications, say), for
//! comparisons and sweeps.

use super::canvas::{self, Area, Figure, Layout};
use super::frame::frame;
use super::legend::{self, Entry, Swatch};
use super::panel::{Margins, ValueAxis, chart, gapped_line, threshold};
use super::run_panel::max_of;
use super::style;
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::path::Path;

/// Several series of one metric against one x, each with a band.
#[derive(Clone, Debug, Default)]
pub struct Overlay {
    /// What the chart shows ("Error rate by pool size, 20 replications").
    pub title: String,
    /// The x axis title, with its unit ("pool size (connections)").
    pub x_title: String,
    /// The y axis title, with its unit ("error rate (%)").
    pub y_title: String,
    /// The series, drawn in this order and colour.
    pub series: Vec<BandSeries>,
    /// What the bands are ("95 % confidence interval of the mean").
    pub band_label: String,
    /// A horizontal reference line, if any.
    pub threshold: Option<Threshold>,
    /// The footer line (see [`footer`](super::footer)).
    pub footer: String,
}

/// One named series: a mean and a band at each x.
#[derive(Clone, Debug, Default)]
pub struct BandSeries {
    /// The legend's name for it ("pool max 10").
    pub name: String,
    /// Its points, in increasing x; a non-finite mean breaks the line.
    pub points: Vec<BandPoint>,
}

/// A mean and its band at one x.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BandPoint {
    /// Position on the x axis.
    pub x: f64,
    /// The mean (the line).
    pub mean: f64,
    /// Bottom of the band.
    pub low: f64,
    /// Top of the band.
    pub high: f64,
}

/// A horizontal reference line (an SLO, a capacity).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Threshold {
    /// Where, in y units.
    pub value: f64,
    /// The legend's text for it ("SLO: 1 % errors").
    pub label: String,
}

/// Draw `overlay` into `<stem>.png` and `<stem>.svg` (1400 × 860 pixels).
pub fn overlay(overlay: &Overlay, stem: &Path) -> Result<()> {
    canvas::write(overlay, stem).context("drawing the overlay chart")
}

impl Figure for Overlay {
    fn size(&self) -> (u32, u32) {
        (1400, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static,
    {
        let framed = frame(root, &self.title, &self.footer)?;
        let body = framed.margin(16, 0, 14, 0);
        let (w, _) = body.dim_in_pixel();
        let (plot, legend_area) = body.split_horizontally(w - 320);
        let points = || self.series.iter().flat_map(|s| &s.points);
        let finite = |v: &f64| v.is_finite();
        let xs = || points().map(|p| p.x).filter(finite);
        let x_lo = xs().fold(f64::INFINITY, f64::min);
        let x = ValueAxis::spanning(x_lo.min(max_of(xs())), max_of(xs()), 6, &self.x_title);
        let ys = || {
            points()
                .flat_map(|p| [p.low, p.mean, p.high])
                .filter(finite)
        };
        let y_lo = ys().fold(0.0, f64::min);
        let y_hi = max_of(ys().chain(self.threshold.as_ref().map(|t| t.value)));
        let y = ValueAxis::spanning(y_lo, y_hi * 1.05, 5, &self.y_title);
        let margins = Margins {
            left: 104,
            right: 40,
            bottom: 64,
        };
        let mut chart = chart(&plot, &x, &y, margins)?;

        let mut entries = Vec::new();
        for (s, colour) in self.series.iter().zip(style::SERIES.iter().cycle()) {
            let band: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| p.low.is_finite() && p.high.is_finite())
                .map(|p| (p.x, p.high))
                .chain(
                    s.points
                        .iter()
                        .rev()
                        .filter(|p| p.low.is_finite() && p.high.is_finite())
                        .map(|p| (p.x, p.low)),
                )
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                colour.mix(0.18).filled(),
            )))?;
            entries.push(Entry::new(Swatch::Line(*colour, 3), s.name.clone()));
        }
        for (s, colour) in self.series.iter().zip(style::SERIES.iter().cycle()) {
            let line = s.points.iter().map(|p| (p.x, Some(p.mean)));
            gapped_line(&mut chart, line, colour.stroke_width(3))?;
        }
        entries.push(Entry::new(
            Swatch::Fill(style::MUTED.mix(0.25)),
            format!("band: {}", self.band_label),
        ));
        if let Some(t) = &self.threshold {
            threshold(
                &mut chart,
                t.value,
                style::BLACK.stroke_width(2),
                true,
                false,
            )?;
            entries.push(Entry::new(Swatch::Dashed(style::BLACK), t.label.clone()));
        }
        legend::draw(&legend_area, &entries)?;
        Ok(Layout::of(&framed, [&plot]))
    }
}
