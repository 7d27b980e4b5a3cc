//! Legends drawn in a margin reserved for them, never over the data.

use super::canvas::Area;
use super::style;
use anyhow::Result;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// How an entry's sample looks.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Swatch {
    /// A solid line of this colour and width.
    Line(RGBColor, u32),
    /// A dashed line of this colour.
    Dashed(RGBColor),
    /// A filled box.
    Fill(RGBAColor),
}

/// One line of a legend.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The sample.
    pub swatch: Swatch,
    /// The text.
    pub label: String,
}

impl Entry {
    /// An entry with `label`.
    pub(crate) fn new(swatch: Swatch, label: impl Into<String>) -> Entry {
        Entry {
            swatch,
            label: label.into(),
        }
    }
}

/// Height of one legend line in pixels.
pub(crate) const LINE_HEIGHT: i32 = 26;
const SWATCH_WIDTH: i32 = 34;

/// Draw `entries` one under the other from the top-left corner of `area`.
pub(crate) fn draw<DB: DrawingBackend>(area: &Area<DB>, entries: &[Entry]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let label = style::text(style::LABEL, style::BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, entry) in entries.iter().enumerate() {
        let y = i as i32 * LINE_HEIGHT + LINE_HEIGHT / 2;
        draw_swatch(area, entry.swatch, (8, y))?;
        area.draw_text(&entry.label, &label, (8 + SWATCH_WIDTH + 8, y))?;
    }
    Ok(())
}

/// A sample centred vertically on `y`, starting at `x`.
pub(crate) fn draw_swatch<DB: DrawingBackend>(
    area: &Area<DB>,
    swatch: Swatch,
    (x, y): (i32, i32),
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (x1, y) = (x + SWATCH_WIDTH, y);
    match swatch {
        Swatch::Line(color, width) => {
            area.draw(&PathElement::new(
                vec![(x, y), (x1, y)],
                color.stroke_width(width),
            ))?;
        }
        Swatch::Dashed(color) => {
            area.draw(&DashedPathElement::new(
                vec![(x, y), (x1, y)],
                7,
                4,
                color.stroke_width(2),
            ))?;
        }
        Swatch::Fill(color) => {
            area.draw(&Rectangle::new([(x, y - 8), (x1, y + 8)], color.filled()))?;
            area.draw(&Rectangle::new([(x, y - 8), (x1, y + 8)], style::GRID))?;
        }
    }
    Ok(())
}
