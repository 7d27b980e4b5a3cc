//! The "Connection Pool Health" panel as a ratatui widget: the fleet's
//! connections against what the server lets the application hold, a bar per
//! pod, the alerts pending or firing, and the latest events.
//!
//! The same widget draws on a terminal (with colours) and into a plain-text
//! frame ([`Panel::plain`]) for pipes, `TERM=dumb` and tests.

use super::snapshot::Snapshot;
use crate::engine::SimTime;
use crate::metrics::{LogEntry, LogKind, PodRow};
use crate::scenario::{Scenario, Severity};
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::merge::MergeStrategy;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

/// Events listed at the bottom.
pub const EVENT_LINES: usize = 5;
/// Narrowest pod cell; wider panels get wider bars, or more columns.
const POD_CELL: usize = 36;
/// Space between pod columns.
const POD_GAP: usize = 2;
/// Width of the labels of the figures.
const LABEL: usize = 20;
/// The warning mark.
const WARN: &str = "⚠";
/// Eighths of a bar cell.
const EIGHTHS: [&str; 8] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/// One frame of the dashboard.
pub struct Panel<'a> {
    /// The scenario (capacities, clock).
    pub scenario: &'a Scenario,
    /// The state drawn.
    pub snapshot: &'a Snapshot,
    /// The latest events, oldest first (the last [`EVENT_LINES`] are shown).
    pub events: &'a [LogEntry],
    /// Text on the bottom border (playback speed and keys), if any.
    pub status: Option<&'a str>,
}

/// A titled section of the panel.
struct Section<'a> {
    title: &'static str,
    lines: Vec<Line<'a>>,
}

impl Panel<'_> {
    /// Rows the panel needs at `width` to show every pod.
    pub fn height(&self, width: u16) -> u16 {
        let sections = self.sections(width, usize::MAX);
        (1 + sections.iter().map(|s| s.lines.len() + 1).sum::<usize>()) as u16
    }

    /// The frame as plain text, `width` columns wide and as tall as needed:
    /// no colours, no escape codes.
    pub fn plain(&self, width: u16) -> String {
        let area = Rect::new(0, 0, width, self.height(width));
        let mut buf = Buffer::empty(area);
        self.render(area, &mut buf);
        let mut out = String::new();
        for y in 0..area.height {
            for x in 0..area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    fn clock(&self, t_s: f64) -> String {
        self.scenario.clock(SimTime::from_secs_f64(t_s))
    }

    /// The snapshot's time as "14:28:00" (with `meta.start`; seconds
    /// always shown so the width stays put), or from the start.
    fn time_of_day(&self) -> String {
        match self.scenario.start_clock {
            Some(start) => crate::format::clock_hms(start, self.snapshot.time_s()),
            None => self.clock(self.snapshot.time_s()),
        }
    }

    /// The sections at `width`, the pods on at most `pod_rows` lines.
    fn sections(&self, width: u16, pod_rows: usize) -> Vec<Section<'_>> {
        vec![
            Section {
                title: "",
                lines: vec![self.title_line(width)],
            },
            Section {
                title: "",
                lines: self.figures(),
            },
            Section {
                title: " By Pod ",
                lines: self.pods(width, pod_rows),
            },
            Section {
                title: " Alerts ",
                lines: self.alerts(),
            },
            Section {
                title: " Events ",
                lines: self.events(),
            },
        ]
    }

    /// "Connection Pool Health · incident" and, on the right, the time and
    /// the versions running.
    fn title_line(&self, width: u16) -> Line<'_> {
        let left = format!("Connection Pool Health · {}", self.scenario.name);
        let mut versions: Vec<(&str, usize)> = Vec::new();
        for p in &self.snapshot.pods {
            match versions.iter_mut().find(|(v, _)| *v == p.version) {
                Some((_, n)) => *n += 1,
                None => versions.push((&p.version, 1)),
            }
        }
        versions.sort();
        let running = match versions.as_slice() {
            [(v, n)] => format!("{n} pods: {v}"),
            _ => {
                let each: Vec<String> = versions.iter().map(|(v, n)| format!("{n} {v}")).collect();
                format!("{} pods: {}", self.snapshot.pods.len(), each.join(", "))
            }
        };
        let right = format!("{} · {running}", self.time_of_day());
        let inner = width.saturating_sub(4) as usize;
        let pad = inner.saturating_sub(left.chars().count() + right.chars().count());
        Line::from(vec![
            Span::styled(left, Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(" ".repeat(pad.max(1))),
            Span::raw(right),
        ])
    }

    /// The seed's figures: connections allocated, active, idle, waiting,
    /// and the requests.
    fn figures(&self) -> Vec<Line<'_>> {
        let r = &self.snapshot.row;
        let db = &self.scenario.database;
        let usable = db.usable_slots().saturating_sub(db.other_clients) as u64;
        let open = r.open_request_pools + r.open_job_pools + r.open_leaked;
        let percent = (open * 100).checked_div(usable).unwrap_or(0);
        let label = |s: &str| Span::raw(format!("{s:<LABEL$}"));
        let level = if open >= usable {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else if percent >= 80 {
            Style::new().fg(Color::Yellow)
        } else {
            Style::new()
        };
        let note = |s: String| Span::styled(s, Style::new().fg(Color::DarkGray));
        let interval = self.scenario.sample_interval.as_secs_f64();
        let per_s = |n: u64| (n as f64 / interval).round();
        let mut lines = vec![
            Line::from(vec![
                label("Total Allocated:"),
                Span::styled(format!("{open} / {usable} usable ({percent}%)"), level),
                note(format!(
                    "   server slots {} / {}",
                    r.db_occupied, db.max_connections
                )),
            ]),
            Line::from(vec![
                label("Active Connections:"),
                Span::raw((r.checked_out + r.open_leaked).to_string()),
                note(if r.open_leaked > 0 {
                    format!("   of which {} leaked", r.open_leaked)
                } else {
                    String::new()
                }),
            ]),
            Line::from(vec![
                label("Idle Connections:"),
                Span::raw(r.idle.to_string()),
                note(if r.connecting > 0 {
                    format!("   {} connecting", r.connecting)
                } else {
                    String::new()
                }),
            ]),
        ];
        let waiting = if r.waiters > 0 {
            Span::styled(
                format!("{} {WARN}", r.waiters),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            )
        } else {
            Span::raw("0")
        };
        lines.push(Line::from(vec![label("Waiting Clients:"), waiting]));
        let failed = r.error_rate.unwrap_or(0.0);
        lines.push(Line::from(vec![
            label("Requests:"),
            Span::raw(format!("{}/s", per_s(r.arrivals))),
            Span::styled(
                format!(
                    "   failing {}   refused {}/s   timed out {}/s",
                    crate::format::percent(failed, 2),
                    per_s(r.refusals),
                    per_s(r.acquire_timeouts)
                ),
                if failed > 0.0 && (r.refusals + r.acquire_timeouts) > 0 {
                    Style::new().fg(Color::Red)
                } else {
                    Style::new()
                },
            ),
        ]));
        lines
    }

    /// A bar per pod, column by column; at most `rows` lines, the last one
    /// saying how many pods did not fit.
    fn pods(&self, width: u16, rows: usize) -> Vec<Line<'_>> {
        let pods = &self.snapshot.pods;
        if pods.is_empty() {
            return vec![Line::styled(
                "no pod running",
                Style::new().fg(Color::DarkGray),
            )];
        }
        let inner = (width.saturating_sub(4) as usize).max(POD_CELL);
        let columns = ((inner + POD_GAP) / (POD_CELL + POD_GAP)).max(1);
        let cell = (inner + POD_GAP) / columns - POD_GAP;
        let needed = pods.len().div_ceil(columns);
        let (shown_rows, hidden) = if needed <= rows {
            (needed, 0)
        } else {
            let fit = rows.saturating_sub(1);
            (fit, pods.len().saturating_sub(fit * columns))
        };
        let widths = PodWidths::of(pods, cell);
        let mut lines: Vec<Line> = (0..shown_rows)
            .map(|row| {
                let mut spans = Vec::new();
                for col in 0..columns {
                    if let Some(p) = pods.get(col * shown_rows + row) {
                        if col > 0 {
                            spans.push(Span::raw(" ".repeat(POD_GAP)));
                        }
                        spans.extend(widths.cell(p));
                    }
                }
                Line::from(spans)
            })
            .collect();
        if hidden > 0 {
            lines.push(Line::styled(
                format!("… and {hidden} more pods (a taller terminal shows them)"),
                Style::new().fg(Color::DarkGray),
            ));
        }
        lines
    }

    /// The alerts pending or firing.
    fn alerts(&self) -> Vec<Line<'_>> {
        let alerts = &self.snapshot.alerts;
        if alerts.is_empty() {
            return vec![Line::styled(
                "no alert pending or firing",
                Style::new().fg(Color::DarkGray),
            )];
        }
        let name_width = alerts.iter().map(|a| a.name.len()).max().unwrap_or(0);
        alerts
            .iter()
            .map(|a| {
                let (mark, state, style) = if a.firing {
                    let colour = if a.severity == Severity::Page {
                        Color::Red
                    } else {
                        Color::Yellow
                    };
                    (
                        "●",
                        "FIRING ",
                        Style::new().fg(colour).add_modifier(Modifier::BOLD),
                    )
                } else {
                    ("○", "pending", Style::new().fg(Color::DarkGray))
                };
                Line::styled(
                    format!(
                        "{mark} {state}  {:<name_width$}  since {}  ({})",
                        a.name,
                        self.clock(a.since_s),
                        a.severity
                    ),
                    style,
                )
            })
            .collect()
    }

    /// The latest events.
    fn events(&self) -> Vec<Line<'_>> {
        let start = self.events.len().saturating_sub(EVENT_LINES);
        let shown = &self.events[start..];
        if shown.is_empty() {
            return vec![Line::styled(
                "nothing has happened yet",
                Style::new().fg(Color::DarkGray),
            )];
        }
        shown
            .iter()
            .map(|e| {
                let colour = match e.kind {
                    LogKind::Deploy | LogKind::Rollback | LogKind::RolloutComplete => Color::Cyan,
                    LogKind::AlertFiring | LogKind::FirstRefusal | LogKind::FirstAcquireTimeout => {
                        Color::Red
                    }
                    LogKind::AlertResolved => Color::Green,
                    _ => Color::Reset,
                };
                let pod = e.pod.map(|p| format!(" (pod {p})")).unwrap_or_default();
                Line::from(vec![
                    Span::raw(format!("{:<9}", e.clock)),
                    Span::styled(
                        format!("{}{pod}: {}", e.kind.words(), e.detail),
                        Style::new().fg(colour),
                    ),
                ])
            })
            .collect()
    }
}

/// Column widths of the pod cells, shared by every pod of a frame: the
/// version and state columns appear only when some pod needs them.
struct PodWidths {
    pod: usize,
    version: usize,
    count: usize,
    bar: usize,
    waiting: bool,
    state: bool,
}

impl PodWidths {
    /// Widths for `pods` in cells `cell` characters wide.
    fn of(pods: &[PodRow], cell: usize) -> PodWidths {
        let digits = |n: u32| n.to_string().len();
        let pod = pods.iter().map(|p| digits(p.pod)).max().unwrap_or(1);
        let mixed = pods.iter().any(|p| p.version != pods[0].version);
        let version = if mixed {
            pods.iter().map(|p| p.version.len() + 1).max().unwrap_or(0)
        } else {
            0
        };
        let count = pods.iter().map(|p| digits(p.capacity)).max().unwrap_or(1);
        let waiting = pods.iter().any(|p| p.waiters > 0);
        let state = pods.iter().any(|p| p.state != "ready");
        // "Pod " number " " [version " "] open "/" max " " bar [" ⚠12"] [" start"]
        let fixed =
            4 + pod + 1 + version + 2 * count + 2 + 4 * waiting as usize + 6 * state as usize;
        PodWidths {
            pod,
            version,
            count,
            bar: cell.saturating_sub(fixed).max(4),
            waiting,
            state,
        }
    }

    /// One pod: number, version, open / max, a bar, waiters, state.
    fn cell(&self, p: &PodRow) -> Vec<Span<'static>> {
        let ready = p.state == "ready";
        let dim = if ready {
            Style::new()
        } else {
            Style::new().fg(Color::DarkGray)
        };
        let ratio = if p.capacity > 0 {
            (p.open as f64 / p.capacity as f64).min(1.0)
        } else {
            0.0
        };
        let colour = if ratio >= 1.0 {
            Color::Red
        } else if ratio >= 0.8 {
            Color::Yellow
        } else {
            Color::Green
        };
        let (pw, vw, cw) = (self.pod, self.version, self.count);
        let version = if vw > 0 { p.version.as_str() } else { "" };
        let mut spans = vec![
            Span::styled(
                format!(
                    "Pod {:<pw$} {version:<vw$}{:>cw$}/{:<cw$} ",
                    p.pod, p.open, p.capacity
                ),
                dim,
            ),
            Span::styled(bar(ratio, self.bar), Style::new().fg(colour)),
        ];
        if self.waiting {
            let waiting = if p.waiters > 0 {
                format!(" {WARN}{:<2}", p.waiters.min(99))
            } else {
                "    ".to_owned()
            };
            spans.push(Span::styled(waiting, Style::new().fg(Color::Yellow)));
        }
        if self.state {
            let state = match p.state.as_str() {
                "starting" => " start",
                "terminating" => " term ",
                _ => "      ",
            };
            spans.push(Span::styled(state, dim));
        }
        spans
    }
}

/// `ratio` of `width` cells as a bar of full and partial blocks, the rest
/// light shade: `███▌░░░░`.
fn bar(ratio: f64, width: usize) -> String {
    let eighths = (ratio.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let (full, part) = (eighths / 8, eighths % 8);
    let mut s = "█".repeat(full);
    if part > 0 {
        s.push_str(EIGHTHS[part]);
    }
    let used = full + usize::from(part > 0);
    s.push_str(&"░".repeat(width - used));
    s
}

impl Widget for &Panel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let natural = self.height(area.width);
        let sections = if natural > area.height {
            let others: usize = self
                .sections(area.width, 1)
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 2)
                .map(|(_, s)| s.lines.len() + 1)
                .sum();
            let rows = (area.height as usize).saturating_sub(1 + others + 1);
            self.sections(area.width, rows.max(1))
        } else {
            self.sections(area.width, usize::MAX)
        };
        let last = sections.len() - 1;
        let mut y = area.y;
        for (i, s) in sections.into_iter().enumerate() {
            let height = (s.lines.len() as u16 + 2).min(area.bottom().saturating_sub(y));
            if height < 2 {
                break;
            }
            let rect = Rect::new(area.x, y, area.width, height);
            let mut block = Block::bordered()
                .merge_borders(MergeStrategy::Exact)
                .title(s.title);
            if i == last
                && let Some(status) = self.status
            {
                block = block
                    .title_bottom(Line::from(format!(" {status} ")).alignment(Alignment::Right));
            }
            let inner = block.inner(rect);
            block.render(rect, buf);
            let text = Rect {
                x: inner.x + 1,
                width: inner.width.saturating_sub(2),
                ..inner
            };
            Paragraph::new(s.lines).render(text, buf);
            y += height - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bars_fill_in_eighths_and_keep_their_width() {
        assert_eq!(bar(0.0, 4), "░░░░");
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 4), "██░░");
        assert_eq!(bar(0.5625, 4), "██▎░");
        assert_eq!(bar(2.0, 3), "███", "clamped");
        for i in 0..=40 {
            assert_eq!(bar(i as f64 / 40.0, 7).chars().count(), 7);
        }
    }
}
