//! Colours and type sizes shared by every chart.
//!
//! Lines use the Okabe–Ito palette (safe for the common colour-vision
//! deficiencies); heatmaps use viridis. Type is sized for a projector.

use super::data::{MarkerKind, RegionKind};
use super::font::FAMILY;
use plotters::style::{Color, RGBAColor, RGBColor, TextStyle};

/// Okabe–Ito black.
pub(crate) const BLACK: RGBColor = RGBColor(0, 0, 0);
/// Okabe–Ito orange.
pub(crate) const ORANGE: RGBColor = RGBColor(230, 159, 0);
/// Okabe–Ito sky blue.
pub(crate) const SKY_BLUE: RGBColor = RGBColor(86, 180, 233);
/// Okabe–Ito bluish green.
pub(crate) const GREEN: RGBColor = RGBColor(0, 158, 115);
/// Okabe–Ito yellow.
pub(crate) const YELLOW: RGBColor = RGBColor(240, 228, 66);
/// Okabe–Ito blue.
pub(crate) const BLUE: RGBColor = RGBColor(0, 114, 178);
/// Okabe–Ito vermillion.
pub(crate) const VERMILLION: RGBColor = RGBColor(213, 94, 0);
/// Okabe–Ito reddish purple.
pub(crate) const PURPLE: RGBColor = RGBColor(204, 121, 167);
/// Grid lines, frames of secondary elements.
pub(crate) const GRID: RGBColor = RGBColor(225, 225, 225);
/// Secondary text (footer).
pub(crate) const MUTED: RGBColor = RGBColor(90, 90, 90);

/// Colours of several series in turn.
pub(crate) const SERIES: [RGBColor; 7] = [BLUE, ORANGE, GREEN, VERMILLION, SKY_BLUE, PURPLE, BLACK];

/// Light shading on the alerting side of a threshold.
pub(crate) fn alerting_side() -> RGBAColor {
    VERMILLION.mix(0.10)
}

/// Chart title.
pub(crate) const TITLE: u32 = 30;
/// Axis titles.
pub(crate) const AXIS: u32 = 19;
/// Tick labels.
pub(crate) const TICK: u32 = 17;
/// Legend entries, marker and region labels.
pub(crate) const LABEL: u32 = 17;
/// The footer.
pub(crate) const FOOTER: u32 = 15;

/// Text of `size` pixels in `color`.
pub(crate) fn text(size: u32, color: RGBColor) -> TextStyle<'static> {
    TextStyle {
        color: color.to_backend_color(),
        ..TextStyle::from((FAMILY, size as f64))
    }
}

/// Colour of a marker's line and label.
pub(crate) fn marker_color(kind: MarkerKind) -> RGBColor {
    match kind {
        MarkerKind::Deploy => BLUE,
        MarkerKind::Rollback => GREEN,
        MarkerKind::Alert => VERMILLION,
        MarkerKind::Event => BLACK,
    }
}

/// Colour of a region's band in the state strip (strong) and its shading
/// across the panels (`strong = false`).
pub(crate) fn region_color(kind: RegionKind, strong: bool) -> RGBAColor {
    let (color, alpha) = match kind {
        RegionKind::AlertPending => (YELLOW, 0.30),
        RegionKind::AlertFiring => (ORANGE, 0.22),
        RegionKind::Incident => (RGBColor(120, 120, 120), 0.10),
        RegionKind::Trigger => (SKY_BLUE, 0.18),
    };
    color.mix(if strong {
        (alpha * 2.5_f64).min(1.0)
    } else {
        alpha
    })
}
