//! Window summaries on the terminal, side by side with the whole run's
//! (`run --window`), the before / during / after table of each deploy and
//! rollback, and `windows.json`.

use crate::engine::SimTime;
use crate::format::{millis, percent};
use crate::metrics::Summary;
use crate::metrics::summary::{AcquireSummary, ConnectionSummary, RequestSummary};
use crate::metrics::window_summary::WindowSummary;
use crate::scenario::Scenario;
use std::fmt::Write;

/// One column: a heading and the three sections.
struct Column<'a> {
    heading: String,
    requests: &'a RequestSummary,
    acquire: &'a AcquireSummary,
    connections: &'a ConnectionSummary,
}

impl<'a> Column<'a> {
    fn of(heading: String, w: &'a WindowSummary) -> Column<'a> {
        Column {
            heading,
            requests: &w.requests,
            acquire: &w.acquire,
            connections: &w.connections,
        }
    }
}

/// The rows of a side-by-side table: a label and how to show a column.
type Row = (&'static str, fn(&Column) -> String);

const ROWS: &[Row] = &[
    ("requests arrived", |c| c.requests.arrived.to_string()),
    ("answered in time (goodput)", |c| {
        c.requests.goodput.to_string()
    }),
    ("error rate (client view)", |c| {
        percent(c.requests.error_rate, 3)
    }),
    ("  acquire timeouts", |c| {
        c.requests.acquire_timeouts.to_string()
    }),
    ("  refused by PostgreSQL (53300)", |c| {
        c.requests.refused.to_string()
    }),
    ("  client gave up (deadline)", |c| {
        c.requests.gave_up.to_string()
    }),
    ("latency p50", |c| millis(c.requests.p50_latency_s)),
    ("latency p99", |c| millis(c.requests.p99_latency_s)),
    ("acquires that waited", |c| c.acquire.waited.to_string()),
    ("acquire wait mean", |c| millis(c.acquire.mean_wait_s)),
    ("acquire wait p99", |c| millis(c.acquire.p99_wait_s)),
    ("open connections mean", |c| {
        format!("{:.1}", c.connections.mean_open)
    }),
    ("open connections peak", |c| {
        c.connections.peak_open.to_string()
    }),
    ("checked out (mean)", |c| {
        format!("{:.2}", c.connections.mean_checked_out)
    }),
    ("connections leaked", |c| c.connections.leaked.to_string()),
];

/// `columns` side by side, under `title`.
fn side_by_side(title: &str, columns: &[Column]) -> String {
    let label_width = ROWS.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let cells: Vec<Vec<String>> = columns
        .iter()
        .map(|c| ROWS.iter().map(|(_, show)| show(c)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .zip(&cells)
        .map(|(c, cells)| {
            cells
                .iter()
                .chain([&c.heading])
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("  {title}\n");
    let mut line = format!("    {}", " ".repeat(label_width));
    for (c, w) in columns.iter().zip(&widths) {
        let _ = write!(line, "  {:>w$}", c.heading);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    for (i, (label, _)) in ROWS.iter().enumerate() {
        let mut line = format!("    {label:<label_width$}");
        for (cells, w) in cells.iter().zip(&widths) {
            let _ = write!(line, "  {:>w$}", cells[i]);
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `from–to` in the scenario's clock.
fn span_label(scenario: &Scenario, w: &WindowSummary) -> String {
    let at = |s: f64| scenario.clock(SimTime::from_secs_f64(s));
    format!("{}–{}", at(w.from_s), at(w.to_s))
}

/// The `--window` windows beside the whole run, with a note for each
/// window clipped to the warm-up's end; empty without windows.
pub fn windows_table(scenario: &Scenario, s: &Summary) -> String {
    if s.windows.is_empty() {
        return String::new();
    }
    let mut columns = vec![Column {
        heading: "whole run".to_owned(),
        requests: &s.requests,
        acquire: &s.acquire,
        connections: &s.connections,
    }];
    columns.extend(
        s.windows
            .iter()
            .map(|w| Column::of(span_label(scenario, w), w)),
    );
    let mut out = side_by_side(
        "windows (requests by arrival, acquires by start):",
        &columns,
    );
    for w in &s.windows {
        if let Some(asked) = w.clipped_from_s {
            let _ = writeln!(
                out,
                "    {} starts inside the warm-up: measured from its end ({} asked)",
                span_label(scenario, w),
                scenario.clock(SimTime::from_secs_f64(asked))
            );
        }
    }
    out
}

/// A before / during / after table for each deploy and rollback.
pub fn rollout_tables(scenario: &Scenario, s: &Summary) -> String {
    let mut out = String::new();
    for r in &s.rollouts {
        let parts = [
            ("before", r.before.as_ref()),
            ("during", Some(&r.during)),
            ("after", r.after.as_ref()),
        ];
        let columns: Vec<Column> = parts
            .into_iter()
            .filter_map(|(name, w)| {
                let w = w?;
                Some(Column::of(format!("{name} {}", span_label(scenario, w)), w))
            })
            .collect();
        let at = scenario.clock(SimTime::from_secs_f64(r.at_s));
        out.push_str(&side_by_side(&format!("{} at {at}:", r.label), &columns));
    }
    out
}

/// `windows.json`: the windows' summaries, pretty-printed.
pub fn windows_json(s: &Summary) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec_pretty(&s.windows)
}
