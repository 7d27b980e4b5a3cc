//! Starvation: who waited too long for a connection (over 100 ms, or never
//! got one), requests and the background job apart, and how many pools had
//! callers queued.

use super::canvas::{self, Area, Figure, Layout};
use super::coarsen::coarsen;
use super::data::RunSeries;
use super::frame::frame;
use super::legend::{self, Entry, Swatch};
use super::panel::{ValueAxis, gapped_line};
use super::run_panel::{max_of, panel, present, rates, times};
use super::stack::stack;
use super::style;
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::path::Path;

/// Draw the starvation chart of `run` into `<stem>.png` and `<stem>.svg`
/// (1400 × 860 pixels).
pub fn starvation(run: &RunSeries, stem: &Path) -> Result<()> {
    canvas::write(&Starvation(&coarsen(run, 300)), stem).context("drawing the starvation chart")
}

pub(super) struct Starvation<'r>(pub(super) &'r RunSeries);

impl Figure for Starvation<'_> {
    fn size(&self) -> (u32, u32) {
        (1400, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static,
    {
        let run = self.0;
        let body = frame(
            root,
            "Starvation: acquires that waited over 100 ms or failed, by class",
            &run.footer(),
        )?;
        let grid = stack(&body, &[run], &[1, 1, 1], 300)?;
        let (panels, legends) = (&grid.panels[0], &grid.legends);
        let xs = times(run);
        let classes = [
            (
                rates(run, |r| r.starved_requests),
                style::BLUE,
                "requests/s",
                "request acquires starved",
            ),
            (
                rates(run, |r| r.starved_jobs),
                style::ORANGE,
                "job acquires/s",
                "job acquires starved",
            ),
        ];
        for (i, (values, colour, unit, label)) in classes.iter().enumerate() {
            let y = ValueAxis::linear(max_of(values.iter().copied()) * 1.1, 4, *unit);
            panel(run, &panels[i], &y, |chart| {
                gapped_line(chart, present(&xs, values), colour.stroke_width(2))
            })?;
            legend::draw(&legends[i], &[Entry::new(Swatch::Line(*colour, 3), *label)])?;
        }

        let pools = f64::from(run.pools.max(1));
        let share: Vec<f64> = run
            .rows
            .iter()
            .map(|r| r.pools_starving as f64 / pools * 100.0)
            .collect();
        let y = ValueAxis::linear(max_of(share.iter().copied()).max(1.0) * 1.1, 4, "pools (%)");
        panel(run, &panels[2], &y, |chart| {
            gapped_line(chart, present(&xs, &share), style::PURPLE.stroke_width(2))
        })?;
        let label = format!("pools with a queue (of {})", run.pools);
        legend::draw(
            &legends[2],
            &[Entry::new(Swatch::Line(style::PURPLE, 3), label)],
        )?;
        Ok(grid.layout)
    }
}
