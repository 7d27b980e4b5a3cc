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
    /// Dots of this colour (measured points).
    Dots(RGBColor),
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
/// The smallest type a long label is set in.
const MIN_SIZE: u32 = 12;

/// Draw `entries` one under the other from the top-left corner of `area`;
/// a label too wide for the area is set smaller rather than cut.
pub(crate) fn draw<DB: DrawingBackend>(area: &Area<DB>, entries: &[Entry]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (width, _) = area.dim_in_pixel();
    let x = 8 + SWATCH_WIDTH + 8;
    for (i, entry) in entries.iter().enumerate() {
        let y = i as i32 * LINE_HEIGHT + LINE_HEIGHT / 2;
        draw_swatch(area, entry.swatch, (8, y))?;
        let mut size = style::LABEL;
        let label = loop {
            let label = style::text(size, style::BLACK).pos(Pos::new(HPos::Left, VPos::Center));
            let (w, _) = area.estimate_text_size(&entry.label, &label)?;
            if x + w as i32 + 4 <= width as i32 || size <= MIN_SIZE {
                break label;
            }
            size -= 1;
        };
        area.draw_text(&entry.label, &label, (x, y))?;
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
        Swatch::Dots(color) => {
            for dx in [6, 17, 28] {
                area.draw(&Circle::new((x + dx, y), 3, color.filled()))?;
            }
        }
        Swatch::Fill(color) => {
            area.draw(&Rectangle::new([(x, y - 8), (x1, y + 8)], color.filled()))?;
            area.draw(&Rectangle::new([(x, y - 8), (x1, y + 8)], style::GRID))?;
        }
    }
    Ok(())
}
