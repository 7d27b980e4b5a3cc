//! Markers and regions: shaded bands and vertical lines in every panel; the
//! thin annotation band above the panels (a numbered badge per marker, a
//! bar per region); and the key under the panels that names them.

use super::canvas::Area;
use super::data::{Marker, Region, RegionKind};
use super::panel::{Chart, Margins, ValueAxis, time_axis};
use super::{axis::TimeAxis, style};
use anyhow::Result;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// The regions cut to `x`, those outside it left out.
fn clipped(regions: &[Region], x: &Range<f64>) -> Vec<Region> {
    regions
        .iter()
        .filter(|r| r.from_s < x.end && r.to_s > x.start && r.from_s < r.to_s)
        .map(|r| Region {
            from_s: r.from_s.max(x.start),
            to_s: r.to_s.min(x.end),
            ..r.clone()
        })
        .collect()
}

/// The markers within `x`.
fn within<'m>(markers: &'m [Marker], x: &Range<f64>) -> impl Iterator<Item = &'m Marker> {
    let x = x.clone();
    markers
        .iter()
        .filter(move |m| x.contains(&m.t_s) || m.t_s == x.end)
}

/// Shade each region over the whole height of a panel.
pub(crate) fn shade_regions<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    regions: &[Region],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let y = chart.y_range();
    let regions = clipped(regions, &chart.x_range());
    chart.draw_series(regions.iter().map(|r| {
        Rectangle::new(
            [(r.from_s, y.start), (r.to_s, y.end)],
            style::region_color(r.kind, false).filled(),
        )
    }))?;
    Ok(())
}

/// A dashed vertical line at each marker over the whole height of a
/// panel; `halo` puts a white line under it (for heatmaps).
pub(crate) fn marker_lines<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    markers: &[Marker],
    halo: bool,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let y = chart.y_range();
    for m in within(markers, &chart.x_range()) {
        let points = vec![(m.t_s, y.start), (m.t_s, y.end)];
        if halo {
            chart.draw_series(std::iter::once(PathElement::new(
                points.clone(),
                WHITE.stroke_width(5),
            )))?;
        }
        let color = style::marker_color(m.kind);
        chart.draw_series(std::iter::once(DashedPathElement::new(
            points,
            8,
            5,
            color.stroke_width(2),
        )))?;
    }
    Ok(())
}

/// Height of the row of marker badges in pixels.
const BADGE_ROW: u32 = 22;
/// Height of the leaders from the badges down to their markers' lines.
const LEADER: u32 = 6;
/// Height of one lane of region bars in pixels.
const LANE: u32 = 6;
/// Space between two badges, and between a key entry's parts.
const GAP: i32 = 3;
/// Type size of a badge's number.
const BADGE_TEXT: u32 = 14;
/// Height of one line of the key in pixels.
const KEY_LINE: u32 = 21;
/// Space between the time axis's title and the key.
const KEY_PAD: u32 = 4;
/// Type size of the key.
const KEY_TEXT: u32 = 15;
/// Space between two entries of the key.
const KEY_SPACING: i32 = 22;

/// The annotation band above the panels, in the manner of Grafana's
/// annotations: a numbered badge per marker (its line rising from the
/// panels to it), then a thin bar per region; the numbers and names are
/// spelled out in the [`Key`] under the panels.
pub(crate) struct Strip {
    /// Each marker (in time order), its number in the key and the left
    /// edge of its badge in pixels from the left of the plot.
    markers: Vec<(Marker, usize, i32)>,
    /// Each region and its lane.
    regions: Vec<(Region, usize)>,
    lanes: usize,
}

/// The markers within `0..end_s` in time order (ties in input order).
fn in_order(markers: &[Marker], end_s: f64) -> Vec<&Marker> {
    let mut sorted: Vec<&Marker> = within(markers, &(0.0..end_s)).collect();
    sorted.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    sorted
}

/// The markers of several runs within `0..end_s` in time order (ties in
/// input order), each once: a marker the runs share (same time, label and
/// kind) is one. A marker's number, in the band and in the key, is its
/// place in this list, from 1.
pub(crate) fn numbered<'m>(
    markers: impl IntoIterator<Item = &'m [Marker]>,
    end_s: f64,
) -> Vec<Marker> {
    let all: Vec<Marker> = markers.into_iter().flatten().cloned().collect();
    let mut distinct: Vec<Marker> = Vec::new();
    for m in in_order(&all, end_s) {
        if !distinct.contains(m) {
            distinct.push(m.clone());
        }
    }
    distinct
}

/// A badge's text: the marker's number.
fn badge_text(number: usize) -> String {
    number.to_string()
}

/// A badge's width for a text `text_width` wide.
fn badge_width(text_width: i32) -> i32 {
    (text_width + 8).max(BADGE_ROW as i32 - 2)
}

impl Strip {
    /// Lay out `markers` and `regions` for a plot spanning pixels
    /// `x0..x1` for times `0..time.end_s`, each marker numbered by its
    /// place in `numbers` (see [`numbered`]); `width` measures a badge's
    /// text. Badges sit centred on their marker, pushed apart as little as
    /// needed not to overlap; overlapping regions take separate lanes.
    pub(crate) fn layout(
        markers: &[Marker],
        regions: &[Region],
        numbers: &[Marker],
        time: &TimeAxis,
        (x0, x1): (i32, i32),
        width: impl Fn(&str) -> i32,
    ) -> Strip {
        let px = |t: f64| ((t / time.end_s).clamp(0.0, 1.0) * f64::from(x1 - x0)) as i32;
        let sorted = in_order(markers, time.end_s);
        let number_of = |m: &Marker| numbers.iter().position(|n| n == m).map_or(0, |i| i + 1);
        let widths: Vec<i32> = sorted
            .iter()
            .map(|m| badge_width(width(&badge_text(number_of(m)))))
            .collect();
        // Left to right, each badge no further left than the last allows;
        // then right to left, none past the end of the plot.
        let mut lefts: Vec<i32> = Vec::with_capacity(sorted.len());
        let mut free = i32::MIN;
        for (m, w) in sorted.iter().zip(&widths) {
            let left = (px(m.t_s) - w / 2).max(free);
            lefts.push(left);
            free = left + w + GAP;
        }
        let mut limit = x1 - x0 + 30;
        for (left, w) in lefts.iter_mut().zip(&widths).rev() {
            *left = (*left).min(limit - w);
            limit = *left - GAP;
        }
        let mut sorted_regions = clipped(regions, &(0.0..time.end_s));
        sorted_regions.sort_by(|a, b| a.from_s.total_cmp(&b.from_s));
        let mut ends = Vec::new();
        let regions: Vec<(Region, usize)> = sorted_regions
            .into_iter()
            .map(|r| {
                let lane = take_row(&mut ends, px(r.from_s), px(r.to_s) + 2);
                (r, lane)
            })
            .collect();
        Strip {
            markers: sorted
                .into_iter()
                .zip(lefts)
                .map(|(m, left)| (m.clone(), number_of(m), left))
                .collect(),
            regions,
            lanes: ends.len(),
        }
    }

    /// Height of the band in pixels (0 when there is nothing to mark).
    pub(crate) fn height(&self) -> u32 {
        let badges = if self.markers.is_empty() {
            0
        } else {
            BADGE_ROW + LEADER
        };
        badges + self.lanes as u32 * LANE
    }

    /// Draw the band on `area`, aligned with panels of the same margins.
    pub(crate) fn draw<DB: DrawingBackend>(
        &self,
        area: &Area<DB>,
        time: &TimeAxis,
        margins: Margins,
    ) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let height = self.height();
        if height == 0 {
            return Ok(());
        }
        let (_, h) = area.dim_in_pixel();
        let (_, area) = area.split_vertically(h.saturating_sub(height));
        let y = ValueAxis {
            range: 0.0..f64::from(height),
            ticks: vec![0.0, f64::from(height)],
            labels: vec![String::new(); 2],
            title: String::new(),
        };
        let mut chart = ChartBuilder::on(&area)
            .y_label_area_size(margins.left)
            .margin_right(margins.right)
            .build_cartesian_2d(time_axis(time), y)?;
        // Lanes at the bottom (lane 0 lowest), badges above them; y counts
        // pixels up from the bottom of the band.
        let lanes = f64::from(self.lanes as u32 * LANE);
        for (r, lane) in &self.regions {
            let bottom = f64::from(*lane as u32 * LANE) + 1.0;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(r.from_s, bottom), (r.to_s, bottom + f64::from(LANE) - 2.0)],
                style::region_color(r.kind, true).filled(),
            )))?;
        }
        let leader_top = lanes + f64::from(LEADER);
        let centre = leader_top + f64::from(BADGE_ROW) / 2.0;
        let plot_left = chart.backend_coord(&(0.0, 0.0)).0;
        let text = badge_style().pos(Pos::new(HPos::Center, VPos::Center));
        let half = BADGE_ROW as i32 / 2 - 2;
        for (m, number, left) in &self.markers {
            let label = badge_text(*number);
            let (tw, _) = area.estimate_text_size(&label, &text)?;
            let w = badge_width(tw as i32);
            let color = style::marker_color(m.kind);
            let dx = plot_left + left + w / 2 - chart.backend_coord(&(m.t_s, centre)).0;
            chart.draw_series(std::iter::once(DashedPathElement::new(
                vec![(m.t_s, 0.0), (m.t_s, lanes)],
                4,
                3,
                color.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((m.t_s, lanes))
                    + PathElement::new(
                        vec![(0, 0), (dx, -(LEADER as i32) - 2)],
                        color.stroke_width(1),
                    ),
            ))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((m.t_s, centre))
                    + Rectangle::new([(dx - w / 2, -half), (dx + w / 2, half)], color.filled())
                    + Text::new(label, (dx, 0), text.clone()),
            ))?;
        }
        Ok(())
    }
}

/// What the band's numbers and bars stand for, set under the panels: each
/// marker's number and label, each kind of region's colour and the names of
/// its regions.
pub(crate) struct Key {
    /// Per line, each entry's left edge and what it shows.
    lines: Vec<Vec<(i32, KeyEntry)>>,
}

/// One entry of the key.
enum KeyEntry {
    /// A numbered marker.
    Marker(usize, Marker),
    /// The colour of a kind of region and the names of its regions.
    Region(RegionKind, String),
}

impl Key {
    /// Lay out the key of the markers `numbers` (see [`numbered`]) and of
    /// `regions` within `0..end_s` in lines `line_width` pixels wide;
    /// `width` measures a text in the key's type and `badge` a badge's
    /// number.
    pub(crate) fn layout(
        numbers: &[Marker],
        regions: &[Region],
        end_s: f64,
        line_width: i32,
        width: impl Fn(&str) -> i32,
        badge: impl Fn(&str) -> i32,
    ) -> Key {
        let mut entries: Vec<(i32, KeyEntry)> = numbers
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let w = badge_width(badge(&badge_text(i + 1))) + 2 * GAP + width(&m.label);
                (w, KeyEntry::Marker(i + 1, m.clone()))
            })
            .collect();
        let mut kinds: Vec<(RegionKind, Vec<String>)> = Vec::new();
        for r in clipped(regions, &(0.0..end_s)) {
            match kinds.iter_mut().find(|(k, _)| *k == r.kind) {
                Some((_, names)) if names.contains(&r.label) => {}
                Some((_, names)) => names.push(r.label),
                None => kinds.push((r.kind, vec![r.label])),
            }
        }
        for (kind, names) in kinds {
            let names = names.join(", ");
            let w = SWATCH + 2 * GAP + width(&names);
            entries.push((w, KeyEntry::Region(kind, names)));
        }
        let mut lines: Vec<Vec<(i32, KeyEntry)>> = Vec::new();
        let mut x = 0;
        for (w, entry) in entries {
            if lines.is_empty() || (x > 0 && x + w > line_width) {
                lines.push(Vec::new());
                x = 0;
            }
            lines.last_mut().expect("a line").push((x, entry));
            x += w + KEY_SPACING;
        }
        Key { lines }
    }

    /// Height of the key in pixels (0 when there is nothing to name).
    pub(crate) fn height(&self) -> u32 {
        match self.lines.len() as u32 {
            0 => 0,
            n => KEY_PAD + n * KEY_LINE,
        }
    }

    /// Draw the key from the top of `area`, starting `left` pixels in.
    pub(crate) fn draw<DB: DrawingBackend>(&self, area: &Area<DB>, left: i32) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let label = key_text().pos(Pos::new(HPos::Left, VPos::Center));
        let number = badge_style().pos(Pos::new(HPos::Center, VPos::Center));
        for (i, line) in self.lines.iter().enumerate() {
            let y = (KEY_PAD + i as u32 * KEY_LINE + KEY_LINE / 2) as i32;
            for (x, entry) in line {
                let x = left + x;
                let half = KEY_LINE as i32 / 2 - 3;
                match entry {
                    KeyEntry::Marker(n, m) => {
                        let text = badge_text(*n);
                        let (tw, _) = area.estimate_text_size(&text, &number)?;
                        let w = badge_width(tw as i32);
                        area.draw(&Rectangle::new(
                            [(x, y - half), (x + w, y + half)],
                            style::marker_color(m.kind).filled(),
                        ))?;
                        area.draw_text(&text, &number, (x + w / 2, y))?;
                        area.draw_text(&m.label, &label, (x + w + 2 * GAP, y))?;
                    }
                    KeyEntry::Region(kind, names) => {
                        area.draw(&Rectangle::new(
                            [(x, y - 4), (x + SWATCH, y + 4)],
                            style::region_color(*kind, true).filled(),
                        ))?;
                        area.draw_text(names, &label, (x + SWATCH + 2 * GAP, y))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Width of a region's sample in the key.
const SWATCH: i32 = 26;

/// The key's type.
pub(crate) fn key_text() -> TextStyle<'static> {
    style::text(KEY_TEXT, style::BLACK)
}

/// The type of a badge's number.
pub(crate) fn badge_style() -> TextStyle<'static> {
    style::text(BADGE_TEXT, WHITE)
}

/// The first row whose last label ends at or before `from` (a new row if
/// none), which then ends at `to`.
fn take_row(ends: &mut Vec<i32>, from: i32, to: i32) -> usize {
    match ends.iter().position(|&end| end <= from) {
        Some(row) => {
            ends[row] = to;
            row
        }
        None => {
            ends.push(to);
            ends.len() - 1
        }
    }
}
