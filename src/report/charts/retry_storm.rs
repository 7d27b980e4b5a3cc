//! The retry storm: arms of one fleet and one trigger that differ only in
//! their clients' retry policy, on one time axis — the error rate, and the
//! attempts sent against the first arrivals — with the trigger shaded.

use super::canvas::{self, Area, Figure, Layout};
use super::data::RunSeries;
use super::frame::frame;
use super::legend::{self, Entry, Swatch};
use super::panel::{ValueAxis, gapped_line};
use super::run_panel::{max_of, panel, present, rates, times};
use super::stack::stack;
use super::style;
use anyhow::{Context, Result, ensure};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::path::Path;

/// Draw `arms` (no retries, naive retries, a retry budget, say) into
/// `<stem>.png` and `<stem>.svg` (1600 × 900 pixels): the error rate and
/// the attempts per second of each, with the first arrivals of the first
/// arm; the markers and regions (the trigger) are those of the first arm.
pub fn retry_storm(arms: &[RunSeries], stem: &Path) -> Result<()> {
    ensure!(
        !arms.is_empty(),
        "the retry storm chart needs at least one arm"
    );
    canvas::write(&RetryStorm(arms), stem).context("drawing the retry storm chart")
}

pub(super) struct RetryStorm<'r>(pub(super) &'r [RunSeries]);

/// Attempts started in each interval (first arrivals without `[retry]`).
fn attempts(run: &RunSeries) -> Vec<f64> {
    rates(run, |r| r.attempts.unwrap_or(r.arrivals))
}

impl Figure for RetryStorm<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 900)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static,
    {
        let arms = self.0;
        let footer: Vec<String> = arms.iter().map(RunSeries::footer).collect();
        let body = frame(
            root,
            "Retry storm: one spike, three client retry policies",
            &footer.join("   |   "),
        )?;
        // One column: the first arm carries the time axis and the trigger.
        let base = &arms[0];
        let grid = stack(&body, &[base], &[1, 1], 330)?;
        let panels = &grid.panels[0];
        let colour = |i: usize| style::SERIES[i % style::SERIES.len()];

        let errors_max = max_of(
            arms.iter()
                .flat_map(|a| a.rows.iter().filter_map(|r| r.error_rate))
                .map(|e| e * 100.0),
        );
        // At most 100 %: a storm fails everything for a while.
        let errors_axis = ValueAxis::linear((errors_max * 1.1).clamp(1.0, 100.0), 4, "errors (%)");
        panel(base, &panels[0], &errors_axis, |chart| {
            for (i, arm) in arms.iter().enumerate() {
                let errors = arm.rows.iter().map(|r| r.error_rate.map(|e| e * 100.0));
                gapped_line(
                    chart,
                    times(arm).into_iter().zip(errors),
                    colour(i).stroke_width(3),
                )?;
            }
            Ok(())
        })?;

        let sent: Vec<Vec<f64>> = arms.iter().map(attempts).collect();
        let first = rates(base, |r| r.arrivals);
        let load_max = max_of(sent.iter().flatten().chain(&first).copied());
        let load_axis = ValueAxis::linear(load_max.max(1.0) * 1.1, 4, "attempts (/s)");
        panel(base, &panels[1], &load_axis, |chart| {
            for (i, (arm, sent)) in arms.iter().zip(&sent).enumerate() {
                let xs = times(arm);
                gapped_line(chart, present(&xs, sent), colour(i).stroke_width(3))?;
            }
            // On top: without retries the first arm's attempts are its
            // first arrivals, and would hide them.
            let line: Vec<(f64, f64)> =
                times(base).into_iter().zip(first.iter().copied()).collect();
            chart.draw_series(std::iter::once(DashedPathElement::new(
                line,
                9,
                6,
                style::BLACK.stroke_width(2),
            )))?;
            Ok(())
        })?;

        let named: Vec<Entry> = arms
            .iter()
            .enumerate()
            .map(|(i, a)| Entry::new(Swatch::Line(colour(i), 3), a.scenario.clone()))
            .collect();
        legend::draw(&grid.legends[0], &named)?;
        let mut load = named;
        load.push(Entry::new(
            Swatch::Dashed(style::BLACK),
            format!("first arrivals ({})", base.scenario),
        ));
        legend::draw(&grid.legends[1], &load)?;
        Ok(grid.layout)
    }
}
