//! Drawing one figure twice, as PNG and SVG, and writing both files.

use super::font;
use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// A drawing area in pixels, on any backend.
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

/// Something that draws itself on any backend.
pub(crate) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draw on a white canvas of [`Figure::size`].
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<()>
    where
        DB::ErrorType: 'static;
}

/// Draw `figure` into `<stem>.png` and `<stem>.svg`.
pub(crate) fn write(figure: &impl Figure, stem: &Path) -> Result<()> {
    font::register()?;
    let (w, h) = figure.size();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        paint(figure, &root)?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        paint(figure, &root)?;
    }
    let png_path = with_extension(stem, "png");
    std::fs::write(&png_path, encode_png(&rgb, w, h)?)
        .with_context(|| format!("cannot write {}", png_path.display()))?;
    let svg_path = with_extension(stem, "svg");
    std::fs::write(&svg_path, svg)
        .with_context(|| format!("cannot write {}", svg_path.display()))?;
    Ok(())
}

fn paint<DB: DrawingBackend>(figure: &impl Figure, root: &Area<DB>) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    figure.draw(root)?;
    root.present()?;
    Ok(())
}

/// `stem` + "." + `ext`, keeping any dot already in the stem.
fn with_extension(stem: &Path, ext: &str) -> PathBuf {
    let mut name = OsString::from(stem.as_os_str());
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("encoding the PNG")?;
    writer.write_image_data(rgb).context("encoding the PNG")?;
    writer.finish().context("encoding the PNG")?;
    Ok(out)
}
