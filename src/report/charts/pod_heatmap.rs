//! The per-pod utilisation heatmap: one row per pod, colour = how much of
//! its pools' capacity is in use. A pod's row is blank before it starts and
//! after it ends (pods come and go with deploys).

use super::canvas::{self, Area, Figure, Layout};
use super::coarsen::coarsen;
use super::data::RunSeries;
use super::events::marker_lines;
use super::heat::{self, ColourKey, colour};
use super::legend::{Entry, Swatch};
use super::panel::{ValueAxis, time_chart};
use super::stack::Panel;
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Draw the per-pod utilisation heatmap of `run` into `<stem>.png` and
/// `<stem>.svg` (1400 × 860 pixels).
pub fn pod_heatmap(run: &RunSeries, stem: &Path) -> Result<()> {
    canvas::write(&PodHeatmap(&coarsen(run, 320)), stem)
        .context("drawing the per-pod utilisation heatmap")
}

pub(super) struct PodHeatmap<'r>(pub(super) &'r RunSeries);

/// Pixels a pod label needs.
const LABEL_PITCH: f64 = 20.0;

impl Figure for PodHeatmap<'_> {
    fn size(&self) -> (u32, u32) {
        (1400, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static,
    {
        let run = self.0;
        let entries = [Entry::new(
            Swatch::Fill(WHITE.mix(1.0)),
            "white: pod not running",
        )];
        let key = ColourKey {
            entries: &entries,
            title: &["in use: (open − idle)", "/ capacity"],
            ticks: (0..=4)
                .map(|i| (f64::from(i) / 4.0, format!("{} %", i * 25)))
                .collect(),
        };
        let title = "Pool utilisation per pod: share of each pod's connections in use";
        heat::over_time(root, title, run, &key, |panel| self.cells(panel))
    }
}

impl PodHeatmap<'_> {
    /// Each pod's row of cells on `panel`, with the markers over them.
    fn cells<DB: DrawingBackend>(&self, panel: &Panel<DB>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let run = self.0;
        // Pods in id order, each to a row of cells from the bottom up.
        let mut index: BTreeMap<u32, usize> = run.pods.iter().map(|p| (p.pod, 0)).collect();
        for (i, slot) in index.values_mut().enumerate() {
            *slot = i;
        }
        let n = index.len().max(1);
        let (_, height) = panel.area.dim_in_pixel();
        let every = (LABEL_PITCH * n as f64 / f64::from(height.max(1)))
            .ceil()
            .max(1.0) as usize;
        let (ticks, labels) = index
            .iter()
            .filter(|(_, i)| *i % every == 0)
            .map(|(pod, i)| (*i as f64 + 0.5, pod.to_string()))
            .unzip();
        let y = ValueAxis {
            range: 0.0..n as f64,
            ticks,
            labels,
            title: "pod".to_owned(),
        };
        let mut chart = time_chart(&panel.area, &panel.time, &y, panel.margins)?;

        // Mean utilisation of each pod over each row's interval.
        let ends: Vec<f64> = run.rows.iter().map(|r| r.time_s).collect();
        let mut cells: BTreeMap<(usize, usize), (f64, u32)> = BTreeMap::new();
        for p in &run.pods {
            let column = ends.partition_point(|&end| end < p.time_s);
            if column < ends.len() {
                let cell = cells.entry((index[&p.pod], column)).or_default();
                cell.0 += p.utilisation;
                cell.1 += 1;
            }
        }
        chart.draw_series(cells.iter().map(|(&(pod, column), &(sum, count))| {
            let (from, to) = (ends[column] - run.interval_s(column), ends[column]);
            let u = sum / f64::from(count);
            Rectangle::new(
                [(from, pod as f64), (to, pod as f64 + 1.0)],
                colour(u).filled(),
            )
        }))?;
        marker_lines(&mut chart, &run.markers, true)
    }
}
