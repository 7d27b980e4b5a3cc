//! The embedded font: charts never depend on the fonts of the machine.

use anyhow::{Result, ensure};
use plotters::style::{FontStyle, register_font};
use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans.LICENSE`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");

/// The family every chart asks for; the SVG files name it too.
pub(crate) const FAMILY: &str = "sans-serif";

/// Register the embedded font as [`FAMILY`] (once per process).
pub(crate) fn register() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok());
    ensure!(ok, "the embedded font DejaVuSans.ttf could not be read");
    Ok(())
}
