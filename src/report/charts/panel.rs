//! A plot panel on a shared time axis, and what is drawn in one: lines
//! with gaps, stacked areas, threshold lines.

use super::axis::{TimeAxis, tick_label, ticks_between};
use super::canvas::Area;
use super::style;
use anyhow::Result;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::ops::Range;

/// Coordinates of every panel: f64 on both axes, with chosen ticks.
pub(crate) type Coord = Cartesian2d<ValueAxis, ValueAxis>;
/// A panel being drawn.
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Coord>;

/// A value axis: its bounds, ticks, tick labels and title with the unit.
#[derive(Clone, Debug)]
pub(crate) struct ValueAxis {
    /// Lowest and highest value shown.
    pub range: Range<f64>,
    /// Tick positions, increasing.
    pub ticks: Vec<f64>,
    /// One label per tick.
    pub labels: Vec<String>,
    /// Title with the unit.
    pub title: String,
}

impl ValueAxis {
    /// From 0 to a round number at or above `max`, about `n` ticks.
    pub(crate) fn linear(max: f64, n: usize, title: impl Into<String>) -> ValueAxis {
        ValueAxis::spanning(0.0, max, n, title)
    }

    /// From a round number at or below `lo` to one at or above `hi`, about
    /// `n` ticks.
    pub(crate) fn spanning(lo: f64, hi: f64, n: usize, title: impl Into<String>) -> ValueAxis {
        let ticks = ticks_between(lo, hi, n);
        let labels = ticks.iter().map(|&v| tick_label(v, &ticks)).collect();
        ValueAxis {
            range: ticks[0]..ticks[ticks.len() - 1],
            ticks,
            labels,
            title: title.into(),
        }
    }

    /// The label of the tick at (or nearest to) `v`.
    fn label(&self, v: f64) -> String {
        let nearest = self
            .ticks
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - v).abs().total_cmp(&(b.1 - v).abs()))
            .map_or(0, |(i, _)| i);
        self.labels[nearest].clone()
    }
}

/// Linear from the first tick to the last; grid lines at the ticks only.
impl Ranged for ValueAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (from, to): (i32, i32)) -> i32 {
        let r = &self.range;
        let share = (value - r.start) / (r.end - r.start);
        from + (share * f64::from(to - from)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// Pixels reserved around a panel's plot area.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Margins {
    /// Left: tick labels and title of the value axis.
    pub left: u32,
    /// Right: room for the end of the last time label.
    pub right: u32,
    /// Below: time labels (0 hides them).
    pub bottom: u32,
}

/// A panel on `area`: time on x, `y` on the left, grid lines at the ticks.
pub(crate) fn time_chart<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    time: &TimeAxis,
    y: &ValueAxis,
    margins: Margins,
) -> Result<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    chart(area, &time_axis(time), y, margins)
}

/// A chart on `area` with `x` below (labels and title only if
/// `margins.bottom` leaves room), `y` on the left, grid lines at the ticks.
pub(crate) fn chart<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    x: &ValueAxis,
    y: &ValueAxis,
    margins: Margins,
) -> Result<Chart<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .y_label_area_size(margins.left)
        .margin_right(margins.right)
        .x_label_area_size(margins.bottom)
        .build_cartesian_2d(x.clone(), y.clone())?;
    let x_label = |v: &f64| x.label(*v);
    let y_label = |v: &f64| y.label(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .y_desc(y.title.as_str())
        .label_style(style::text(style::TICK, style::BLACK))
        .axis_desc_style(style::text(style::AXIS, style::BLACK))
        .bold_line_style(style::GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(style::MUTED);
    if margins.bottom > 0 {
        mesh.x_desc(x.title.as_str());
    }
    mesh.draw()?;
    Ok(chart)
}

/// The time axis as a value axis (ticks at whole minutes or clock times).
pub(crate) fn time_axis(time: &TimeAxis) -> ValueAxis {
    let ticks = time.ticks();
    ValueAxis {
        range: 0.0..time.end_s,
        labels: ticks.iter().map(|&t| time.label(t)).collect(),
        ticks,
        title: time.title(),
    }
}

/// The runs of `points` between missing values.
fn segments(points: impl IntoIterator<Item = (f64, Option<f64>)>) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (x, y) in points {
        match y {
            Some(y) if y.is_finite() => runs.last_mut().expect("non-empty").push((x, y)),
            _ if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
            _ => {}
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// A line through `points`, broken where the value is missing.
pub(crate) fn gapped_line<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    points: impl IntoIterator<Item = (f64, Option<f64>)>,
    style: ShapeStyle,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut paths = Vec::new();
    for run in segments(points) {
        let pixels: Vec<(i32, i32)> = run.iter().map(|p| chart.backend_coord(p)).collect();
        paths.extend(unfold(&run, &pixels));
    }
    chart.draw_series(paths.into_iter().map(|p| PathElement::new(p, style)))?;
    Ok(())
}

/// `points` (at `pixels`) as paths without a repeated pixel and without a
/// turn sharper than a right angle. Plotters draws a wide line as one
/// polygon, and a sharp turn (a one-sample spike) makes that polygon fold
/// over itself and spill out of the plot.
fn unfold(points: &[(f64, f64)], pixels: &[(i32, i32)]) -> Vec<Vec<(f64, f64)>> {
    let mut kept: Vec<usize> = Vec::with_capacity(points.len());
    for i in 0..points.len() {
        if kept.last().is_none_or(|&k| pixels[k] != pixels[i]) {
            kept.push(i);
        }
    }
    let mut paths = vec![Vec::new()];
    for (w, &i) in kept.iter().enumerate() {
        paths.last_mut().expect("non-empty").push(points[i]);
        let sharp = w > 0 && w + 1 < kept.len() && {
            let (h, j) = (kept[w - 1], kept[w + 1]);
            let a = (pixels[i].0 - pixels[h].0, pixels[i].1 - pixels[h].1);
            let b = (pixels[j].0 - pixels[i].0, pixels[j].1 - pixels[i].1);
            a.0 * b.0 + a.1 * b.1 < 0
        };
        if sharp {
            paths.push(vec![points[i]]);
        }
    }
    paths
}

/// Areas stacked bottom-up: `layers[k]` holds each x's value of layer k.
pub(crate) fn stacked_areas<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    xs: &[f64],
    layers: &[(Vec<f64>, RGBColor)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut base = vec![0.0; xs.len()];
    for (values, color) in layers {
        let top: Vec<f64> = base.iter().zip(values).map(|(b, v)| b + v).collect();
        let outline: Vec<(f64, f64)> = xs
            .iter()
            .copied()
            .zip(top.iter().copied())
            .chain(xs.iter().copied().zip(base.iter().copied()).rev())
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(outline, color.filled())))?;
        base = top;
    }
    Ok(())
}

/// A horizontal line at `y`; with `shade_above`, the side above it (the
/// alerting side) is lightly shaded.
pub(crate) fn threshold<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    y: f64,
    style: ShapeStyle,
    dashed: bool,
    shade_above: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let x = chart.x_range();
    let top = chart.y_range().end;
    if shade_above && y < top {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x.start, y), (x.end, top)],
            style::alerting_side().filled(),
        )))?;
    }
    let points = vec![(x.start, y), (x.end, y)];
    if dashed {
        chart.draw_series(std::iter::once(DashedPathElement::new(points, 9, 6, style)))?;
    } else {
        chart.draw_series(std::iter::once(PathElement::new(points, style)))?;
    }
    Ok(())
}
