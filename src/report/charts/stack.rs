//! Panels stacked on a time axis, one column per run: above each column its
//! annotation band marking markers and regions (and, with several runs, the
//! scenario's name); under the columns one key naming the markers and
//! regions of every run, once for the figure; to the right, a legend slot
//! per row of panels.

use super::axis::TimeAxis;
use super::canvas::{Area, Layout};
use super::data::{Region, RunSeries};
use super::events::{Key, Strip, badge_style, key_text, numbered};
use super::panel::Margins;
use super::style;
use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Left margin of every panel (value-axis labels and title).
const LEFT: u32 = 104;
/// Right margin of every panel (room for the end of the last time label).
const RIGHT: u32 = 40;
/// Height of the time labels and title under the last panel.
const TIME_LABELS: u32 = 64;
/// Space above each panel.
const GAP: u32 = 16;
/// Space between the annotation band and the first panel's space above it.
const BAND_GAP: u32 = 2;
/// Space left of the value-axis titles.
const INDENT: u32 = 14;
/// Pixels between two time ticks, at least.
const TICK_SPACING: i32 = 95;
/// Left edge of the key under the columns (under the value-axis titles).
const KEY_LEFT: i32 = INDENT as i32;
/// Height of a column's title (several runs only).
const COLUMN_TITLE: u32 = 34;

/// One panel's place.
pub(crate) struct Panel<DB: DrawingBackend> {
    /// The panel, margins included.
    pub area: Area<DB>,
    /// Margins to build the panel with.
    pub margins: Margins,
    /// Its time axis.
    pub time: TimeAxis,
}

/// Panels of several runs side by side.
pub(crate) struct Grid<DB: DrawingBackend> {
    /// `panels[column][row]`.
    pub panels: Vec<Vec<Panel<DB>>>,
    /// One legend slot per row, right of the last column.
    pub legends: Vec<Area<DB>>,
    /// Where the panels went in the body.
    pub layout: Layout,
}

/// Split `body` into one column per run (bands and the key drawn here) and
/// one row of panels per weight, the rows' heights proportional to the
/// weights. Every column's time axis ends with the longest run.
pub(crate) fn stack<DB: DrawingBackend>(
    body: &Area<DB>,
    runs: &[&RunSeries],
    weights: &[u32],
    legend_width: u32,
) -> Result<Grid<DB>>
where
    DB::ErrorType: 'static,
{
    let frame_body = body;
    let body = body.margin(0, 0, INDENT, 0);
    let (w, h) = body.dim_in_pixel();
    let (main, legends) = body.split_horizontally(w - legend_width);
    let main_width = main.dim_in_pixel().0 as i32;
    let columns = main.split_evenly((1, runs.len().max(1)));
    let end_s = runs.iter().map(|r| r.duration_s()).fold(1.0, f64::max);
    let measure = |style: &TextStyle, s: &str| {
        body.estimate_text_size(s, style)
            .map_or(8 * s.len() as i32, |(w, _)| w as i32)
    };
    let (key_style, badge) = (key_text(), badge_style());
    let column_width = columns.first().map_or(0, |c| c.dim_in_pixel().0);
    let plot_x = (LEFT as i32, (column_width - RIGHT) as i32);
    let times: Vec<TimeAxis> = runs
        .iter()
        .map(|r| TimeAxis {
            end_s,
            start_clock: r.start_clock,
            step_s: if r.rows.is_empty() {
                1.0
            } else {
                r.interval_s(0)
            },
            max_ticks: ((plot_x.1 - plot_x.0) / TICK_SPACING) as usize,
        })
        .collect();
    let numbers = numbered(runs.iter().map(|r| r.markers.as_slice()), end_s);
    let strips: Vec<Strip> = runs
        .iter()
        .zip(&times)
        .map(|(r, t)| {
            Strip::layout(&r.markers, &r.regions, &numbers, t, plot_x, |s| {
                measure(&badge, s)
            })
        })
        .collect();
    let regions: Vec<Region> = runs.iter().flat_map(|r| r.regions.clone()).collect();
    let shared_key = Key::layout(
        &numbers,
        &regions,
        end_s,
        main_width - KEY_LEFT,
        |s| measure(&key_style, s),
        |s| measure(&badge, s),
    );
    let title = if runs.len() > 1 { COLUMN_TITLE } else { 0 };
    let top = title + strips.iter().map(Strip::height).max().unwrap_or(0) + BAND_GAP;
    let key = shared_key.height();
    let margins = |last: bool| Margins {
        left: LEFT,
        right: RIGHT,
        bottom: if last { TIME_LABELS } else { 0 },
    };

    let total: u32 = weights.iter().sum::<u32>().max(1);
    let free = h.saturating_sub(top + TIME_LABELS + key);
    let heights: Vec<u32> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            free * w / total
                + if i + 1 == weights.len() {
                    TIME_LABELS
                } else {
                    0
                }
        })
        .collect();
    let split = |area: Area<DB>| -> Vec<Area<DB>> {
        let (_, mut rest) = area.split_vertically(top);
        heights
            .iter()
            .map(|&height| {
                let (row, below) = rest.split_vertically(height);
                rest = below;
                row.margin(GAP, 0, 0, 0)
            })
            .collect()
    };

    let mut panels = Vec::new();
    for ((column, run), (strip, time)) in
        columns.into_iter().zip(runs).zip(strips.iter().zip(&times))
    {
        let (head, _) = column.split_vertically(top);
        let (name, strip_area) = head.split_vertically(title);
        if title > 0 {
            name.draw_text(
                &run.scenario,
                &style::text(style::AXIS + 3, style::BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
                ((LEFT as i32 + plot_x.1) / 2, title as i32 / 2),
            )?;
        }
        let (strip_area, _) = strip_area.split_vertically(top - title - BAND_GAP);
        strip.draw(&strip_area, time, margins(false))?;
        let rows = split(column);
        let n = rows.len();
        panels.push(
            rows.into_iter()
                .enumerate()
                .map(|(i, area)| Panel {
                    area,
                    margins: margins(i + 1 == n),
                    time: *time,
                })
                .collect(),
        );
    }
    let (_, key_area) = main.split_vertically(h - key);
    shared_key.draw(&key_area, KEY_LEFT)?;
    let layout = Layout::of(
        frame_body,
        panels.iter().flatten().map(|p: &Panel<DB>| &p.area),
    );
    Ok(Grid {
        panels,
        legends: split(legends),
        layout,
    })
}
