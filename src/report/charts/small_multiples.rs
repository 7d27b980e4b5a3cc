//! Small multiples: several runs (before, after, fixed) side by side, one
//! column each, the same panels on the same scales, so that the eye
//! compares heights without reading numbers.

use super::canvas::{self, Area, Figure, Layout};
use super::coarsen::coarsen;
use super::data::RunSeries;
use super::frame::frame;
use super::legend;
use super::panel::ValueAxis;
use super::stack::stack;
use super::timeline::{connections, connections_axis, errors, errors_axis, waits, waits_axis};
use anyhow::{Context, Result, ensure};
use plotters::prelude::*;
use std::path::Path;

/// Draw `runs` side by side, titled by scenario, into `<stem>.png` and
/// `<stem>.svg` (1600 × 1000 pixels): error rate, connections against the
/// cap and acquire wait, each on one scale shared by every run.
pub fn small_multiples(runs: &[RunSeries], stem: &Path) -> Result<()> {
    ensure!(!runs.is_empty(), "small multiples need at least one run");
    let coarse: Vec<RunSeries> = runs.iter().map(|r| coarsen(r, 150).into_owned()).collect();
    canvas::write(&SmallMultiples(&coarse), stem).context("drawing the small multiples")
}

pub(super) struct SmallMultiples<'r>(pub(super) &'r [RunSeries]);

impl Figure for SmallMultiples<'_> {
    fn size(&self) -> (u32, u32) {
        (1600, 1000)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static,
    {
        let runs: Vec<&RunSeries> = self.0.iter().collect();
        let footer: Vec<String> = runs.iter().map(|r| r.footer()).collect();
        let body = frame(
            root,
            "Runs side by side, on the same scales: errors, connections, pool waits",
            &footer.join("   |   "),
        )?;
        let grid = stack(&body, &runs, &[1, 1, 1], 300)?;
        let axes = [
            errors_axis(&runs),
            connections_axis(&runs),
            waits_axis(&runs),
        ];
        // Only the first column names its axes.
        let untitled = |y: &ValueAxis| ValueAxis {
            title: String::new(),
            ..y.clone()
        };
        for (column, (run, panels)) in runs.iter().zip(&grid.panels).enumerate() {
            let axes: Vec<ValueAxis> = if column == 0 {
                axes.to_vec()
            } else {
                axes.iter().map(untitled).collect()
            };
            let entries = [
                errors(run, &panels[0], &axes[0])?,
                connections(run, &panels[1], &axes[1])?,
                waits(run, &panels[2], &axes[2])?,
            ];
            if column == 0 {
                for (slot, entries) in grid.legends.iter().zip(&entries) {
                    legend::draw(slot, entries)?;
                }
            }
        }
        Ok(grid.layout)
    }
}
