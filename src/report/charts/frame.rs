//! The frame of every chart: the title above, the footer below.

use super::canvas::Area;
use super::style;
use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Height of the title band in pixels.
const TITLE_HEIGHT: u32 = 54;
/// Height of the footer band in pixels.
const FOOTER_HEIGHT: u32 = 32;
/// Left edge of the title and footer text.
const INDENT: i32 = 24;

/// Draw `title` and `footer` on `root`; returns the area between them.
pub(crate) fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    footer: &str,
) -> Result<Area<DB>>
where
    DB::ErrorType: 'static,
{
    let (_, h) = root.dim_in_pixel();
    let (top, rest) = root.split_vertically(TITLE_HEIGHT);
    let (body, bottom) = rest.split_vertically(h - TITLE_HEIGHT - FOOTER_HEIGHT);
    top.draw_text(
        title,
        &style::text(style::TITLE, style::BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
        (INDENT, TITLE_HEIGHT as i32 / 2 + 2),
    )?;
    bottom.draw_text(
        footer,
        &style::text(style::FOOTER, style::MUTED).pos(Pos::new(HPos::Left, VPos::Center)),
        (INDENT, FOOTER_HEIGHT as i32 / 2),
    )?;
    Ok(body)
}
