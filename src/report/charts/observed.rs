//! Observed series (`[[observed]]`) drawn over the simulated ones: black
//! dots on the timeline panel that shows their metric, in its unit, and
//! observed acquire-wait percentiles on the wait heatmap, with a legend
//! entry each. Metrics no panel shows are not drawn (their scores are in
//! `summary.json`).

use super::data::RunSeries;
use super::legend::{Entry, Swatch};
use super::panel::Chart;
use super::style;
use anyhow::Result;
use plotters::prelude::*;

/// A measured series to draw over a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedLine {
    /// The `timeseries.csv` column it measures.
    pub metric: String,
    /// Its legend text.
    pub label: String,
    /// `(seconds from the start, value)` in the column's compared unit (a
    /// count per second).
    pub points: Vec<(f64, f64)>,
}

/// The timeline panels that carry observed series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shown {
    /// Requests per second.
    Requests,
    /// The error rate (%).
    Errors,
    /// Acquire waits (log ms).
    Waits,
    /// Server connections.
    Connections,
    /// Failures per second.
    Failures,
}

/// The panel that shows `metric`, if one does.
fn panel_of(metric: &str) -> Option<Shown> {
    Some(match metric {
        "arrivals" | "completed" | "goodput" | "answered" => Shown::Requests,
        "error_rate" => Shown::Errors,
        "wait_p50_s" | "wait_p95_s" | "wait_p99_s" => Shown::Waits,
        "db_occupied" | "open_request_pools" | "open_job_pools" | "open_leaked" => {
            Shown::Connections
        }
        "acquire_timeouts" | "refusals" => Shown::Failures,
        _ => return None,
    })
}

/// The observed values of `run` that `panel` shows, in the panel's unit
/// (`unit` turns a compared value into it).
pub(crate) fn values(
    run: &RunSeries,
    panel: Shown,
    unit: impl Fn(f64) -> Option<f64>,
) -> impl Iterator<Item = f64> {
    shown(run, panel)
        .flat_map(|o| o.points.iter().filter_map(|&(_, v)| unit(v)))
        .collect::<Vec<f64>>()
        .into_iter()
}

/// The observed series of `run` that `panel` shows.
fn shown(run: &RunSeries, panel: Shown) -> impl Iterator<Item = &ObservedLine> {
    run.observed
        .iter()
        .filter(move |o| panel_of(&o.metric) == Some(panel))
}

/// The legend entries of the observed series `panel` shows.
pub(crate) fn legend(run: &RunSeries, panel: Shown) -> Vec<Entry> {
    shown(run, panel)
        .map(|o| Entry::new(Swatch::Dots(style::BLACK), format!("observed: {}", o.label)))
        .collect()
}

/// Draw the observed series `panel` shows as dots; their legend entries.
pub(crate) fn draw<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    run: &RunSeries,
    panel: Shown,
    unit: impl Fn(f64) -> Option<f64>,
) -> Result<Vec<Entry>>
where
    DB::ErrorType: 'static,
{
    for o in shown(run, panel) {
        let dots = o
            .points
            .iter()
            .filter_map(|&(t, v)| Some((t, unit(v)?)))
            .map(|p| Circle::new(p, 3, style::BLACK.filled()));
        chart.draw_series(dots)?;
    }
    Ok(legend(run, panel))
}
