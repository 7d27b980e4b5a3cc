//! The incident timeline: the whole story on one time axis, for someone who
//! never read the write-up. Requests; errors against the alert; pool waits;
//! database connections against the cap; failures — with deploys,
//! rollbacks and alerts marked across every panel.
//!
//! The panels are also drawn, on scales shared by several runs, by the
//! small multiples: each comes as an axis over runs and a drawing of one.

use super::axis::short_number;
use super::canvas::{self, Area, Figure, Layout};
use super::coarsen::coarsen;
use super::data::RunSeries;
use super::frame::frame;
use super::legend::{self, Entry, Swatch};
use super::observed::{self, Shown};
use super::panel::{ValueAxis, gapped_line, stacked_areas, threshold};
use super::run_panel::{max_of, panel, present, rates, times};
use super::stack::{Panel, stack};
use super::style;
use crate::metrics::SeriesRow;
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::path::Path;

/// Acquire waits above this are starved (and the wait panel's alert line).
const STARVED_MS: f64 = 100.0;
/// Waits below this (zero included) sit on the floor of the log axis.
const WAIT_FLOOR_MS: f64 = 0.1;

/// Draw the incident timeline of `run` into `<stem>.png` and `<stem>.svg`
/// (1600 × 1000 pixels).
pub fn incident_timeline(run: &RunSeries, stem: &Path) -> Result<()> {
    canvas::write(&Timeline(&coarsen(run, 300)), stem).context("drawing the incident timeline")
}

pub(super) struct Timeline<'r>(pub(super) &'r RunSeries);

impl Figure for Timeline<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 1000)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static,
    {
        let run = self.0;
        let runs = [run];
        let body = frame(
            root,
            "Incident timeline: requests, pool waits, database connections, failures",
            &run.footer(),
        )?;
        let grid = stack(&body, &runs, &[6, 9, 9, 13, 9], 330)?;
        let (panels, legends) = (&grid.panels[0], &grid.legends);
        let entries = [
            requests(run, &panels[0], &requests_axis(&runs))?,
            errors(run, &panels[1], &errors_axis(&runs))?,
            waits(run, &panels[2], &waits_axis(&runs))?,
            connections(run, &panels[3], &connections_axis(&runs))?,
            failures(run, &panels[4], &failures_axis(&runs))?,
        ];
        for (legend, entries) in legends.iter().zip(&entries) {
            legend::draw(legend, entries)?;
        }
        Ok(grid.layout)
    }
}

fn requests_axis(runs: &[&RunSeries]) -> ValueAxis {
    let max = max_of(runs.iter().flat_map(|r| {
        let seen = observed::values(r, Shown::Requests, Some);
        rates(r, |row| row.arrivals).into_iter().chain(seen)
    }));
    ValueAxis::linear(max * 1.1, 3, "requests/s")
}

/// Requests arriving and answered in time, per second.
fn requests<DB: DrawingBackend>(run: &RunSeries, p: &Panel<DB>, y: &ValueAxis) -> Result<Vec<Entry>>
where
    DB::ErrorType: 'static,
{
    let xs = times(run);
    let arrivals = rates(run, |r| r.arrivals);
    let goodput = rates(run, |r| r.goodput);
    let mut seen = Vec::new();
    panel(run, p, y, |chart| {
        gapped_line(chart, present(&xs, &arrivals), style::BLUE.stroke_width(2))?;
        gapped_line(chart, present(&xs, &goodput), style::GREEN.stroke_width(2))?;
        seen = observed::draw(chart, run, Shown::Requests, Some)?;
        Ok(())
    })?;
    let mut entries = vec![
        Entry::new(Swatch::Line(style::BLUE, 3), "requests arriving"),
        Entry::new(Swatch::Line(style::GREEN, 3), "answered in time"),
    ];
    entries.extend(seen);
    Ok(entries)
}

pub(crate) fn errors_axis(runs: &[&RunSeries]) -> ValueAxis {
    let max = max_of(runs.iter().flat_map(|r| {
        let errors = r.rows.iter().filter_map(|row| row.error_rate);
        errors
            .chain(r.error_alert.map(|a| a * 2.0))
            .map(|e| e * 100.0)
            .chain(observed::values(r, Shown::Errors, percent))
    }));
    ValueAxis::linear(max * 1.1, 4, "errors (%)")
}

/// Client-visible error rate, with the alert threshold.
pub(crate) fn errors<DB: DrawingBackend>(
    run: &RunSeries,
    p: &Panel<DB>,
    y: &ValueAxis,
) -> Result<Vec<Entry>>
where
    DB::ErrorType: 'static,
{
    let xs = times(run);
    let errors = run.rows.iter().map(|r| r.error_rate.map(|e| e * 100.0));
    let alert = run.error_alert.map(|a| a * 100.0);
    let mut seen = Vec::new();
    panel(run, p, y, |chart| {
        if let Some(alert) = alert {
            threshold(chart, alert, style::BLACK.stroke_width(2), true, false)?;
        }
        gapped_line(
            chart,
            xs.iter().copied().zip(errors),
            style::VERMILLION.stroke_width(2),
        )?;
        seen = observed::draw(chart, run, Shown::Errors, percent)?;
        Ok(())
    })?;
    let mut entries = vec![Entry::new(
        Swatch::Line(style::VERMILLION, 3),
        "requests failed or given up",
    )];
    if let Some(alert) = alert {
        entries.push(Entry::new(
            Swatch::Dashed(style::BLACK),
            format!("alert threshold: {} %", short_number(alert)),
        ));
    }
    entries.extend(seen);
    Ok(entries)
}

/// A fraction as a percentage.
fn percent(v: f64) -> Option<f64> {
    Some(v * 100.0)
}

/// log10 of a wait in milliseconds, floored.
fn log_ms(wait_s: Option<f64>) -> Option<f64> {
    wait_s.map(|s| (s * 1000.0).max(WAIT_FLOOR_MS).log10())
}

/// A log scale from 0 (the floor) to 10 s, or further if a wait is longer.
pub(crate) fn waits_axis(runs: &[&RunSeries]) -> ValueAxis {
    let max = max_of(runs.iter().flat_map(|r| {
        let seen = observed::values(r, Shown::Waits, |v| log_ms(Some(v)));
        r.rows
            .iter()
            .filter_map(|row| log_ms(row.wait_p99_s))
            .chain(seen)
    }));
    let top = (max.ceil() as i32).max(4);
    let ticks: Vec<f64> = (-1..=top).map(f64::from).collect();
    let labels = (-1..=top)
        .map(|e| match e {
            -1 => "0".to_owned(),
            0..=2 => format!("{} ms", 10i64.pow(e as u32)),
            _ => format!("{} s", 10i64.pow(e as u32 - 3)),
        })
        .collect();
    ValueAxis {
        range: -1.0..f64::from(top),
        ticks,
        labels,
        title: "wait (log)".to_owned(),
    }
}

/// Acquire wait p50 and p99 on a log scale, with the starvation line.
pub(crate) fn waits<DB: DrawingBackend>(
    run: &RunSeries,
    p: &Panel<DB>,
    y: &ValueAxis,
) -> Result<Vec<Entry>>
where
    DB::ErrorType: 'static,
{
    let xs = times(run);
    let mut seen = Vec::new();
    panel(run, p, y, |chart| {
        let starved = STARVED_MS.log10();
        threshold(
            chart,
            starved,
            style::VERMILLION.stroke_width(2),
            true,
            true,
        )?;
        let p50 = run.rows.iter().map(|r| log_ms(r.wait_p50_s));
        gapped_line(
            chart,
            xs.iter().copied().zip(p50),
            style::GREEN.stroke_width(2),
        )?;
        let p99 = run.rows.iter().map(|r| log_ms(r.wait_p99_s));
        gapped_line(
            chart,
            xs.iter().copied().zip(p99),
            style::BLUE.stroke_width(2),
        )?;
        seen = observed::draw(chart, run, Shown::Waits, |v| log_ms(Some(v)))?;
        Ok(())
    })?;
    let mut entries = vec![
        Entry::new(Swatch::Line(style::BLUE, 3), "p99 wait for a connection"),
        Entry::new(Swatch::Line(style::GREEN, 3), "median (p50) wait"),
        Entry::new(Swatch::Dashed(style::VERMILLION), "starved: wait > 100 ms"),
    ];
    entries.extend(seen);
    Ok(entries)
}

pub(crate) fn connections_axis(runs: &[&RunSeries]) -> ValueAxis {
    let max = max_of(runs.iter().flat_map(|r| {
        r.rows
            .iter()
            .map(|row| {
                (row.open_request_pools + row.open_job_pools + row.open_leaked).max(row.db_occupied)
                    as f64
            })
            .chain([f64::from(r.max_connections)])
            .chain(observed::values(r, Shown::Connections, Some))
    }));
    ValueAxis::linear(max * 1.08, 5, "connections")
}

/// Server connections stacked by holder, against the cap.
pub(crate) fn connections<DB: DrawingBackend>(
    run: &RunSeries,
    p: &Panel<DB>,
    y: &ValueAxis,
) -> Result<Vec<Entry>>
where
    DB::ErrorType: 'static,
{
    // Gauges are read at the end of each interval; the first reading also
    // stands for its interval, so that the areas start at the axis.
    let mut xs = times(run);
    if let Some(first) = xs.first_mut() {
        *first -= run.interval_s(0);
    }
    let layer =
        |f: fn(&SeriesRow) -> u64| -> Vec<f64> { run.rows.iter().map(|r| f(r) as f64).collect() };
    let layers = [
        (layer(|r| r.open_request_pools), style::SKY_BLUE),
        (layer(|r| r.open_job_pools), style::ORANGE),
        (layer(|r| r.open_leaked), style::PURPLE),
    ];
    let occupied = layer(|r| r.db_occupied);
    let mut seen = Vec::new();
    panel(run, p, y, |chart| {
        stacked_areas(chart, &xs, &layers)?;
        gapped_line(chart, present(&xs, &occupied), style::BLACK.stroke_width(1))?;
        if run.max_connections > 0 {
            let usable = f64::from(run.usable_slots);
            threshold(
                chart,
                usable,
                style::VERMILLION.stroke_width(2),
                false,
                true,
            )?;
            let max = f64::from(run.max_connections);
            threshold(chart, max, style::BLACK.stroke_width(2), true, false)?;
        }
        seen = observed::draw(chart, run, Shown::Connections, Some)?;
        Ok(())
    })?;
    let mut entries = vec![
        Entry::new(
            Swatch::Fill(style::PURPLE.mix(1.0)),
            "leaked by the job (never released)",
        ),
        Entry::new(
            Swatch::Fill(style::ORANGE.mix(1.0)),
            "held by the job's pools",
        ),
        Entry::new(
            Swatch::Fill(style::SKY_BLUE.mix(1.0)),
            "held by request pools",
        ),
        Entry::new(Swatch::Line(style::BLACK, 1), "all server slots in use"),
    ];
    if run.max_connections > 0 {
        entries.push(Entry::new(
            Swatch::Line(style::VERMILLION, 2),
            format!("usable by the app: {}", run.usable_slots),
        ));
        entries.push(Entry::new(
            Swatch::Dashed(style::BLACK),
            format!("max_connections: {}", run.max_connections),
        ));
    }
    entries.extend(seen);
    Ok(entries)
}

fn failures_axis(runs: &[&RunSeries]) -> ValueAxis {
    let max = max_of(runs.iter().flat_map(|r| {
        let timeouts = rates(r, |row| row.acquire_timeouts);
        let seen = observed::values(r, Shown::Failures, Some);
        timeouts
            .into_iter()
            .chain(rates(r, |row| row.refusals))
            .chain(seen)
    }));
    ValueAxis::linear(max * 1.1, 4, "failures/s")
}

/// Acquire timeouts and refusals per second.
fn failures<DB: DrawingBackend>(run: &RunSeries, p: &Panel<DB>, y: &ValueAxis) -> Result<Vec<Entry>>
where
    DB::ErrorType: 'static,
{
    let xs = times(run);
    let timeouts = rates(run, |r| r.acquire_timeouts);
    let refusals = rates(run, |r| r.refusals);
    let mut seen = Vec::new();
    panel(run, p, y, |chart| {
        gapped_line(chart, present(&xs, &timeouts), style::BLUE.stroke_width(2))?;
        gapped_line(
            chart,
            present(&xs, &refusals),
            style::VERMILLION.stroke_width(2),
        )?;
        seen = observed::draw(chart, run, Shown::Failures, Some)?;
        Ok(())
    })?;
    let mut entries = vec![
        Entry::new(
            Swatch::Line(style::VERMILLION, 3),
            "refused by PostgreSQL (cap)",
        ),
        Entry::new(Swatch::Line(style::BLUE, 3), "pool acquire timeouts"),
    ];
    entries.extend(seen);
    Ok(entries)
}
