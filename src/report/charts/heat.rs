//! What the heatmaps share: the single-panel figure (title, footer, the
//! plot, and right of it a column with the legend and the colour bar), the
//! colour scale (viridis) and its colour bar.

use super::canvas::{Area, Layout};
use super::data::RunSeries;
use super::frame::frame;
use super::legend::{self, Entry};
use super::stack::{Panel, stack};
use super::style;
use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width of the column right of the plot.
const SIDE: u32 = 250;

/// What the column right of a heatmap shows, top down: legend entries,
/// then the colour bar.
pub(crate) struct ColourKey<'a> {
    /// The legend entries (what white means, lines drawn over the cells).
    pub entries: &'a [Entry],
    /// The colour bar's title, a line each.
    pub title: &'a [&'a str],
    /// The colour bar's ticks: (position 0..=1, label).
    pub ticks: Vec<(f64, String)>,
}

/// A heatmap on the time axis of `run`: the chart's `title` above, the
/// run's footer below, one panel with the run's annotation band and key,
/// and `key` right of it; `draw` draws the panel.
pub(crate) fn over_time<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    run: &RunSeries,
    key: &ColourKey,
    draw: impl FnOnce(&Panel<DB>) -> Result<()>,
) -> Result<Layout>
where
    DB::ErrorType: 'static,
{
    figure(root, title, &run.footer(), key, |body| {
        let grid = stack(body, &[run], &[1], SIDE)?;
        draw(&grid.panels[0][0])?;
        let side = grid.legends.into_iter().next().expect("one row");
        Ok((side, grid.layout))
    })
}

/// A heatmap of labelled cells: `title` above, `footer` below, the plot,
/// and `key` right of it; `draw` draws the plot on the area it gets
/// (axis labels included).
pub(crate) fn on_categories<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    footer: &str,
    key: &ColourKey,
    draw: impl FnOnce(&Area<DB>) -> Result<()>,
) -> Result<Layout>
where
    DB::ErrorType: 'static,
{
    figure(root, title, footer, key, |body| {
        let inner = body.margin(16, 0, 14, 0);
        let (w, _) = inner.dim_in_pixel();
        let (plot, side) = inner.split_horizontally(w - SIDE);
        draw(&plot)?;
        Ok((side, Layout::of(body, [&plot])))
    })
}

/// The frame, then what `body` lays out and draws between title and
/// footer (it returns the column for the key), then the key.
fn figure<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    footer: &str,
    key: &ColourKey,
    body: impl FnOnce(&Area<DB>) -> Result<(Area<DB>, Layout)>,
) -> Result<Layout>
where
    DB::ErrorType: 'static,
{
    let (side, layout) = body(&frame(root, title, footer)?)?;
    legend::draw(&side, key.entries)?;
    let (_, bar) = side.split_vertically(key.entries.len() as i32 * legend::LINE_HEIGHT + 24);
    colour_bar(&bar, key.title, &key.ticks)?;
    Ok(layout)
}

/// Viridis at `h` in 0..=1.
pub(crate) fn colour(h: f64) -> RGBColor {
    ViridisRGB::get_color(h.clamp(0.0, 1.0))
}

/// Text readable on `colour(h)`.
pub(crate) fn ink(h: f64) -> RGBColor {
    if h < 0.6 { WHITE } else { style::BLACK }
}

/// A vertical colour bar: `title` above, the gradient, and `ticks` as
/// (position 0..=1, label) beside it.
fn colour_bar<DB: DrawingBackend>(
    area: &Area<DB>,
    title: &[&str],
    ticks: &[(f64, String)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (_, h) = area.dim_in_pixel();
    let text = style::text(style::LABEL, style::BLACK);
    for (i, line) in title.iter().enumerate() {
        area.draw_text(line, &text, (8, 4 + i as i32 * 22))?;
    }
    let top = 16 + title.len() as i32 * 22;
    let bottom = (h as i32 - 12).min(top + 300);
    let (x0, x1) = (10, 38);
    let steps = 100;
    for i in 0..steps {
        let h0 = i as f64 / steps as f64;
        let y_of = |f: f64| bottom - (f * f64::from(bottom - top)).round() as i32;
        let (ya, yb) = (y_of(h0 + 1.0 / steps as f64), y_of(h0));
        area.draw(&Rectangle::new([(x0, ya), (x1, yb)], colour(h0).filled()))?;
    }
    area.draw(&Rectangle::new([(x0, top), (x1, bottom)], style::MUTED))?;
    let label = style::text(style::TICK, style::BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    for (f, text) in ticks {
        let y = bottom - (f * f64::from(bottom - top)).round() as i32;
        area.draw(&PathElement::new(vec![(x1, y), (x1 + 6, y)], style::MUTED))?;
        area.draw_text(text, &label, (x1 + 10, y))?;
    }
    Ok(())
}
