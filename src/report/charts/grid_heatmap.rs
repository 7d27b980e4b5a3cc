//! Grid heatmaps: one value per cell of a two-parameter sweep (pool size ×
//! load → error rate, say), with the region where the value is acceptable
//! outlined.

use super::axis::{short_number, ticks_between};
use super::canvas::{self, Area, Figure, Layout};
use super::heat::{self, ColourKey, colour, ink};
use super::legend::{Entry, Swatch};
use super::panel::{Margins, ValueAxis, chart};
use super::style;
use anyhow::{Context, Result, ensure};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// A value per cell of a grid of two parameters.
#[derive(Clone, Debug, Default)]
pub struct GridHeatmap {
    /// What the chart shows ("Error rate by pool size and load").
    pub title: String,
    /// The x axis title, with its unit ("load (req/s)").
    pub x_title: String,
    /// One label per column, left to right.
    pub x_labels: Vec<String>,
    /// The y axis title, with its unit ("pool max (connections)").
    pub y_title: String,
    /// One label per row, bottom to top.
    pub y_labels: Vec<String>,
    /// `values[row][column]`, row 0 at the bottom; `None`: blank.
    pub values: Vec<Vec<Option<f64>>>,
    /// The legend's text for blank cells ("white: not run").
    pub blank: String,
    /// The colour bar's title, with the unit ("error rate (%)").
    pub value_title: String,
    /// Appended to the number written in each cell (" %").
    pub unit: String,
    /// Cells whose value is below a bound, outlined as safe.
    pub safe: Option<SafeRegion>,
    /// The footer line (see [`footer`](super::footer)).
    pub footer: String,
}

/// The acceptable cells: those whose value is below `below`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SafeRegion {
    /// The bound, in value units.
    pub below: f64,
    /// The legend's text for the outline ("safe: error rate < 1 %").
    pub label: String,
}

/// Draw `grid` into `<stem>.png` and `<stem>.svg` (1200 × 800 pixels).
pub fn grid_heatmap(grid: &GridHeatmap, stem: &Path) -> Result<()> {
    let columns = grid.x_labels.len();
    ensure!(
        grid.values.len() == grid.y_labels.len() && grid.values.iter().all(|r| r.len() == columns),
        "grid heatmap: values must be {} rows of {} columns",
        grid.y_labels.len(),
        columns
    );
    canvas::write(grid, stem).context("drawing the grid heatmap")
}

/// Cells at the centre of each tick, one unit wide.
fn categories(labels: &[String], title: &str) -> ValueAxis {
    ValueAxis {
        range: 0.0..labels.len().max(1) as f64,
        ticks: (0..labels.len()).map(|i| i as f64 + 0.5).collect(),
        labels: labels.to_vec(),
        title: title.to_owned(),
    }
}

impl GridHeatmap {
    fn value(&self, row: usize, column: usize) -> Option<f64> {
        self.values.get(row)?.get(column).copied().flatten()
    }

    fn is_safe(&self, row: i64, column: i64) -> bool {
        let (Ok(row), Ok(column)) = (usize::try_from(row), usize::try_from(column)) else {
            return false;
        };
        match (&self.safe, self.value(row, column)) {
            (Some(safe), Some(v)) => v < safe.below,
            _ => false,
        }
    }
}

impl Figure for GridHeatmap {
    fn size(&self) -> (u32, u32) {
        (1200, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static,
    {
        let cells: Vec<(usize, usize, f64)> = (0..self.values.len())
            .flat_map(|r| (0..self.x_labels.len()).map(move |c| (r, c)))
            .filter_map(|(r, c)| {
                self.value(r, c)
                    .filter(|v| v.is_finite())
                    .map(|v| (r, c, v))
            })
            .collect();
        let lo = cells.iter().map(|c| c.2).fold(f64::INFINITY, f64::min);
        let hi = cells.iter().map(|c| c.2).fold(f64::NEG_INFINITY, f64::max);
        let h = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
        let mut entries = vec![Entry::new(Swatch::Fill(WHITE.mix(1.0)), self.blank.clone())];
        if let Some(safe) = &self.safe {
            entries.insert(
                0,
                Entry::new(Swatch::Line(style::BLACK, 4), safe.label.clone()),
            );
        }
        let ticks: Vec<(f64, String)> = if cells.is_empty() {
            Vec::new()
        } else if hi > lo {
            ticks_between(lo, hi, 4)
                .into_iter()
                .filter(|v| (lo..=hi).contains(v))
                .map(|v| (h(v), format!("{}{}", short_number(v), self.unit)))
                .collect()
        } else {
            vec![(0.5, format!("{}{}", short_number(lo), self.unit))]
        };
        let key = ColourKey {
            entries: &entries,
            title: &[self.value_title.as_str()],
            ticks,
        };
        heat::on_categories(root, &self.title, &self.footer, &key, |plot| {
            self.plot(plot, &cells, h)
        })
    }
}

impl GridHeatmap {
    /// `cells` (row, column, value) coloured by `h` of their value on
    /// `plot`, each with its value written if it fits; then the outline of
    /// the safe region.
    fn plot<DB: DrawingBackend>(
        &self,
        plot: &Area<DB>,
        cells: &[(usize, usize, f64)],
        h: impl Fn(f64) -> f64,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let x = categories(&self.x_labels, &self.x_title);
        let y = categories(&self.y_labels, &self.y_title);
        let margins = Margins {
            left: 120,
            right: 20,
            bottom: 64,
        };
        let mut chart = chart(plot, &x, &y, margins)?;
        let (plot_w, _) = chart.plotting_area().dim_in_pixel();
        let cell_w = f64::from(plot_w) / self.x_labels.len().max(1) as f64;
        for &(r, c, v) in cells {
            let (r0, c0) = (r as f64, c as f64);
            chart.draw_series([
                Rectangle::new([(c0, r0), (c0 + 1.0, r0 + 1.0)], colour(h(v)).filled()),
                Rectangle::new([(c0, r0), (c0 + 1.0, r0 + 1.0)], WHITE.stroke_width(1)),
            ])?;
            let text = format!("{}{}", short_number(v), self.unit);
            let style =
                style::text(style::LABEL, ink(h(v))).pos(Pos::new(HPos::Center, VPos::Center));
            let (tw, _) = plot.estimate_text_size(&text, &style)?;
            if f64::from(tw) + 8.0 < cell_w {
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (c0 + 0.5, r0 + 0.5),
                    style,
                )))?;
            }
        }

        // The outline of the safe region: every edge between a safe cell
        // and one that is not.
        let mut edges = Vec::new();
        for &(r, c, _) in cells {
            let (ri, ci) = (r as i64, c as i64);
            if !self.is_safe(ri, ci) {
                continue;
            }
            let (r0, c0) = (r as f64, c as f64);
            let sides = [
                ((ri - 1, ci), [(c0, r0), (c0 + 1.0, r0)]),
                ((ri + 1, ci), [(c0, r0 + 1.0), (c0 + 1.0, r0 + 1.0)]),
                ((ri, ci - 1), [(c0, r0), (c0, r0 + 1.0)]),
                ((ri, ci + 1), [(c0 + 1.0, r0), (c0 + 1.0, r0 + 1.0)]),
            ];
            edges.extend(
                sides
                    .into_iter()
                    .filter(|((nr, nc), _)| !self.is_safe(*nr, *nc))
                    .map(|(_, edge)| edge),
            );
        }
        for (colour, width) in [(WHITE, 8), (style::BLACK, 4)] {
            chart.draw_series(
                edges
                    .iter()
                    .map(|e| PathElement::new(e.to_vec(), colour.stroke_width(width))),
            )?;
        }
        Ok(())
    }
}
