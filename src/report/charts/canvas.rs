//! Drawing one figure twice, as PNG and SVG, and writing both files.

use super::font;
use anyhow::{Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A drawing area in pixels, on any backend.
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

/// Something that draws itself on any backend.
pub(crate) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draw on a white canvas of [`Figure::size`]; returns where the
    /// plots went.
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<Layout>
    where
        DB::ErrorType: 'static;
}

/// Where a figure put its plots, as the drawing code laid them out: rows of
/// pixels from the top of the canvas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The body: everything between the title and the footer.
    pub body: Range<i32>,
    /// The plots with their axes, from the top of the highest to the
    /// bottom of the lowest (annotation bands, keys, legends and column
    /// titles above or below them are not plot).
    pub plot: Range<i32>,
}

impl Layout {
    /// The layout of plots drawn on `plots` within `body`.
    pub(crate) fn of<'a, DB: DrawingBackend + 'a>(
        body: &Area<DB>,
        plots: impl IntoIterator<Item = &'a Area<DB>>,
    ) -> Layout {
        let rows = |area: &Area<DB>| {
            let top = area.get_base_pixel().1;
            top..top + area.dim_in_pixel().1 as i32
        };
        let plot = plots
            .into_iter()
            .map(rows)
            .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end))
            .unwrap_or(0..0);
        Layout {
            body: rows(body),
            plot,
        }
    }

    /// The share of the body's height the plots keep.
    #[cfg(test)]
    pub(crate) fn plot_share(&self) -> f64 {
        f64::from(self.plot.end - self.plot.start)
            / f64::from((self.body.end - self.body.start).max(1))
    }
}

/// Lay `figure` out (drawing it into memory) and say where its plots went.
#[cfg(test)]
pub(crate) fn layout(figure: &impl Figure) -> Result<Layout> {
    font::register()?;
    let (w, h) = figure.size();
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
    figure.draw(&root)
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

/// `rgb` as PNG bytes. Deflate at level 1 with adaptive filtering: 4–5
/// times faster than the crate's default (`Balanced`) on our charts, for
/// files 1.3–1.5 times larger. At the default, compression was most of a
/// chart's time, and about half of what 8 replications of `after.toml`
/// spent after their simulations.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_deflate_compression(png::DeflateCompression::Level(1));
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header().context("encoding the PNG")?;
    writer.write_image_data(rgb).context("encoding the PNG")?;
    writer.finish().context("encoding the PNG")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The faster compression keeps every pixel, and still compresses a
    /// chart-like picture (flat background, a few lines) well.
    #[test]
    fn png_round_trips_and_compresses() {
        let (w, h) = (300u32, 200u32);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        for x in 0..w {
            // A sloped line and a colour ramp along the bottom.
            let y = (x * 2 / 3).min(h - 1);
            let i = ((y * w + x) * 3) as usize;
            rgb[i..i + 3].copy_from_slice(&[200, 30, 30]);
            let j = (((h - 1) * w + x) * 3) as usize;
            rgb[j..j + 3].copy_from_slice(&[x as u8, 128, 255 - x as u8]);
        }
        let bytes = encode_png(&rgb, w, h).unwrap();
        assert!(bytes.len() * 20 < rgb.len(), "{} bytes", bytes.len());
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut back = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut back).unwrap();
        assert_eq!((info.width, info.height), (w, h));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&back[..info.buffer_size()], &rgb[..]);
    }
}
