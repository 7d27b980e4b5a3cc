//! A time panel of one run, and the run's columns read as plot data.

use super::data::RunSeries;
use super::events::{marker_lines, shade_regions};
use super::panel::{Chart, ValueAxis, time_chart};
use super::stack::Panel;
use crate::metrics::SeriesRow;
use anyhow::Result;
use plotters::prelude::*;

/// The end of every interval.
pub(crate) fn times(run: &RunSeries) -> Vec<f64> {
    run.rows.iter().map(|r| r.time_s).collect()
}

/// `count` of every row, per second.
pub(crate) fn rates(run: &RunSeries, count: impl Fn(&SeriesRow) -> u64) -> Vec<f64> {
    (0..run.rows.len())
        .map(|i| run.per_second(i, count(&run.rows[i])))
        .collect()
}

/// The largest finite value, at least 0.
pub(crate) fn max_of(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// `values` at `xs`, none missing.
pub(crate) fn present<'v>(
    xs: &'v [f64],
    values: &'v [f64],
) -> impl Iterator<Item = (f64, Option<f64>)> + 'v {
    xs.iter().copied().zip(values.iter().map(|&v| Some(v)))
}

/// A panel of `run` on `y`: its regions shaded, then what `draw` adds, then
/// its markers on top.
pub(crate) fn panel<DB: DrawingBackend>(
    run: &RunSeries,
    panel: &Panel<DB>,
    y: &ValueAxis,
    draw: impl FnOnce(&mut Chart<'_, DB>) -> Result<()>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let mut chart = time_chart(&panel.area, &panel.time, y, panel.margins)?;
    shade_regions(&mut chart, &run.regions)?;
    draw(&mut chart)?;
    marker_lines(&mut chart, &run.markers, false)
}
