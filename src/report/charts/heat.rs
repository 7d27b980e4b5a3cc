//! What the heatmaps share: the colour scale (viridis) and its colour bar.

use super::canvas::Area;
use super::style;
use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
pub(crate) fn colour_bar<DB: DrawingBackend>(
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
