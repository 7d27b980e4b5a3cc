//! Markers and regions: shaded bands and vertical lines in every panel, and
//! the strip above the panels that names them (region bars like a state
//! timeline, marker labels on as many rows as they need not to overlap).

use super::canvas::Area;
use super::data::{Marker, Region};
use super::panel::{Chart, Margins, ValueAxis, time_axis};
use super::{axis::TimeAxis, style};
use anyhow::Result;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// Height of one strip row in pixels.
const ROW_HEIGHT: u32 = 26;
/// Space between a marker line and its label.
const GAP: i32 = 5;

/// The regions cut to `x`, those outside it left out.
fn clipped(regions: &[Region], x: &Range<f64>) -> Vec<Region> {
    regions
        .iter()
        .filter(|r| r.from_s < x.end && r.to_s > x.start && r.from_s < r.to_s)
        .map(|r| Region {
            from_s: r.from_s.max(x.start),
            to_s: r.to_s.min(x.end),
            ..r.clone()
        })
        .collect()
}

/// The markers within `x`.
fn within<'m>(markers: &'m [Marker], x: &Range<f64>) -> impl Iterator<Item = &'m Marker> {
    let x = x.clone();
    markers
        .iter()
        .filter(move |m| x.contains(&m.t_s) || m.t_s == x.end)
}

/// Shade each region over the whole height of a panel.
pub(crate) fn shade_regions<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    regions: &[Region],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let y = chart.y_range();
    let regions = clipped(regions, &chart.x_range());
    chart.draw_series(regions.iter().map(|r| {
        Rectangle::new(
            [(r.from_s, y.start), (r.to_s, y.end)],
            style::region_color(r.kind, false).filled(),
        )
    }))?;
    Ok(())
}

/// A dashed vertical line at each marker over the whole height of a
/// panel; `halo` puts a white line under it (for heatmaps).
pub(crate) fn marker_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    markers: &[Marker],
    halo: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let y = chart.y_range();
    for m in within(markers, &chart.x_range()) {
        let points = vec![(m.t_s, y.start), (m.t_s, y.end)];
        if halo {
            chart.draw_series(std::iter::once(PathElement::new(
                points.clone(),
                WHITE.stroke_width(5),
            )))?;
        }
        let color = style::marker_color(m.kind);
        chart.draw_series(std::iter::once(DashedPathElement::new(
            points,
            8,
            5,
            color.stroke_width(2),
        )))?;
    }
    Ok(())
}

/// Where each label of the strip goes.
pub(crate) struct Strip {
    markers: Vec<(Marker, usize, HPos)>,
    regions: Vec<(Region, usize)>,
    region_rows: usize,
    rows: usize,
}

impl Strip {
    /// Lay out the labels of `markers` and `regions` for a plot spanning
    /// pixels `x0..x1` for times `0..time.end_s`; `width` measures a label.
    pub(crate) fn layout(
        markers: &[Marker],
        regions: &[Region],
        time: &TimeAxis,
        (x0, x1): (i32, i32),
        width: impl Fn(&str) -> i32,
    ) -> Strip {
        let span = 0.0..time.end_s;
        let px = |t: f64| x0 + ((t / time.end_s).clamp(0.0, 1.0) * f64::from(x1 - x0)) as i32;
        let mut sorted: Vec<&Marker> = within(markers, &span).collect();
        sorted.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        let mut ends: Vec<i32> = Vec::new();
        let mut placed = Vec::new();
        for m in sorted {
            let (x, w) = (px(m.t_s), width(&m.label) + GAP + 4);
            let (from, to, side) = if x + w <= x1 + 40 {
                (x, x + w, HPos::Left)
            } else {
                (x - w, x, HPos::Right)
            };
            placed.push((m.clone(), take_row(&mut ends, from - GAP, to), side));
        }
        let marker_rows = ends.len();
        let mut sorted = clipped(regions, &span);
        sorted.sort_by(|a, b| a.from_s.total_cmp(&b.from_s));
        ends.clear();
        let mut bars = Vec::new();
        for r in sorted {
            let from = px(r.from_s);
            let to = px(r.to_s).max(from + width(&r.label) + 2 * GAP);
            bars.push((r, take_row(&mut ends, from, to)));
        }
        Strip {
            markers: placed,
            regions: bars,
            region_rows: ends.len(),
            rows: marker_rows + ends.len(),
        }
    }

    /// Height of the strip in pixels (0 when there is nothing to name).
    pub(crate) fn height(&self) -> u32 {
        self.rows as u32 * ROW_HEIGHT
    }

    /// Draw the strip on `area`, aligned with panels of the same margins.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &Area<DB>,
        time: &TimeAxis,
        margins: Margins,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        if self.rows == 0 {
            return Ok(());
        }
        let (_, h) = area.dim_in_pixel();
        let (_, area) = area.split_vertically(h.saturating_sub(self.height()));
        let rows = self.rows as f64;
        let y = ValueAxis {
            range: 0.0..rows,
            ticks: vec![0.0, rows],
            labels: vec![String::new(); 2],
            title: String::new(),
        };
        let mut chart = ChartBuilder::on(&area)
            .y_label_area_size(margins.left)
            .margin_right(margins.right)
            .build_cartesian_2d(time_axis(time), y.clone())?;
        // Row 0 is the top row: region bars first, then marker labels,
        // whose lines rise from the panels to them.
        let centre = |row: usize| rows - row as f64 - 0.5;
        let marker_row = |row: usize| self.region_rows + row;
        for (m, row, _) in &self.markers {
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(m.t_s, 0.0), (m.t_s, centre(marker_row(*row)))],
                8,
                5,
                style::marker_color(m.kind).stroke_width(2),
            )))?;
        }
        let black = style::text(style::LABEL, style::BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        for (r, row) in &self.regions {
            let row = *row;
            let (lo, hi) = (centre(row) - 0.42, centre(row) + 0.42);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(r.from_s, lo), (r.to_s, hi)],
                style::region_color(r.kind, true).filled(),
            )))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((r.from_s, centre(row)))
                    + Text::new(r.label.clone(), (GAP, 0), black.clone()),
            ))?;
        }
        for (m, row, side) in &self.markers {
            let (row, side) = (*row, *side);
            let style = style::text(style::LABEL, style::marker_color(m.kind))
                .pos(Pos::new(side, VPos::Center));
            let (w, h) = area.estimate_text_size(&m.label, &style)?;
            let (w, h) = (w as i32 + 4, h as i32 / 2 + 2);
            let (dx, box_x) = match side {
                HPos::Left => (GAP, (GAP - 2, GAP + w)),
                _ => (-GAP, (-GAP - w, -GAP + 2)),
            };
            chart.draw_series(std::iter::once(
                EmptyElement::at((m.t_s, centre(marker_row(row))))
                    + Rectangle::new([(box_x.0, -h), (box_x.1, h)], WHITE.filled())
                    + Text::new(m.label.clone(), (dx, 0), style),
            ))?;
        }
        Ok(())
    }
}

/// The first row whose last label ends at or before `from` (a new row if
/// none), which then ends at `to`.
fn take_row(ends: &mut Vec<i32>, from: i32, to: i32) -> usize {
    match ends.iter().position(|&end| end <= from) {
        Some(row) => {
            ends[row] = to;
            row
        }
        None => {
            ends.push(to);
            ends.len() - 1
        }
    }
}
