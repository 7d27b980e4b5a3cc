//! The summary as a readable table on the terminal.

use crate::format::{millis, percent, seconds};
use crate::metrics::Summary;
use crate::metrics::summary::AcquireSummary;
use std::fmt::Write;

fn pct(num: u64, den: u64) -> String {
    if den == 0 {
        "–".into()
    } else {
        format!("{:.3} %", 100.0 * num as f64 / den as f64)
    }
}

/// The mean wait of the acquires that waited at all: when fewer than 1 %
/// wait, the p99 is 0 and the mean is theirs, diluted.
fn mean_of_waited(a: &AcquireSummary) -> Option<f64> {
    let mean = a.mean_wait_s?;
    (a.waited > 0).then(|| mean * a.count as f64 / a.waited as f64)
}

/// The acquires that never got a connection: how many (of which the
/// job's), how old, and how many still waited at the end.
fn unfinished(s: &Summary) -> String {
    let count = |a: &AcquireSummary| a.unfinished.as_ref().map_or(0, |u| u.count);
    match &s.acquire.unfinished {
        Some(u) if u.count > 0 => format!(
            "{} ({} of the job; age mean {}, oldest {}; {} still waiting at the end)",
            u.count,
            count(&s.acquire_by_class.job),
            seconds(u.mean_age_s),
            seconds(u.max_age_s),
            u.waiting_at_end
        ),
        _ => "0".into(),
    }
}

/// The requests the run stopped in the middle of.
fn at_end(s: &Summary) -> String {
    let queued = s
        .acquire_by_class
        .request
        .unfinished
        .as_ref()
        .map_or(0, |u| u.waiting_at_end);
    format!(
        "{} in flight ({queued} waiting for a connection), {} clients waiting",
        s.requests.in_flight, s.requests.clients_waiting
    )
}

/// Render the summary of one run.
pub fn summary_table(s: &Summary) -> String {
    let r = &s.requests;
    let a = &s.acquire;
    let c = &s.connections;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (seed {}, {} s simulated, first {} s left out)",
        s.scenario.name, s.scenario.seed, s.scenario.duration_s, s.scenario.warmup_s
    );
    let mut rows: Vec<(&str, String)> = vec![
        ("requests arrived", r.arrived.to_string()),
        (
            "answered in time (goodput)",
            format!("{} ({})", r.goodput, pct(r.goodput, r.arrived)),
        ),
        ("error rate (client view)", percent(r.error_rate, 3)),
        ("  acquire timeouts", r.acquire_timeouts.to_string()),
        ("  refused by PostgreSQL (53300)", r.refused.to_string()),
        ("  client gave up (deadline)", r.gave_up.to_string()),
        ("  other app errors", r.app_errors.to_string()),
        ("work wasted after give-up", r.wasted.to_string()),
        (
            "  connection time it held",
            seconds(Some(r.wasted_connection_s)),
        ),
        (
            "latency p50 / p95 / p99",
            format!(
                "{} / {} / {}",
                millis(r.p50_latency_s),
                millis(r.p95_latency_s),
                millis(r.p99_latency_s)
            ),
        ),
        (
            "acquires that waited",
            format!("{} ({})", a.waited, pct(a.waited, a.count)),
        ),
        (
            "acquires that found the pool full",
            format!("{} ({})", a.found_full, pct(a.found_full, a.count)),
        ),
        (
            "acquire wait mean / p99",
            format!("{} / {}", millis(a.mean_wait_s), millis(a.p99_wait_s)),
        ),
        ("  mean of those that waited", millis(mean_of_waited(a))),
        ("acquires never served", unfinished(s)),
        ("still running at the end", at_end(s)),
        (
            "open connections mean / peak",
            format!("{:.1} / {}", c.mean_open, c.peak_open),
        ),
        (
            "usable slots (max_connections − reserved)",
            format!(
                "{} (of {}; {} other clients)",
                c.usable_slots, c.max_connections, c.other_clients
            ),
        ),
        ("possible connections", c.possible.to_string()),
        ("checked out (mean)", format!("{:.2}", c.mean_checked_out)),
        ("connections leaked", c.leaked.to_string()),
    ];
    // retry: amplification and recovery, with `[retry]` only.
    if let (Some(attempts), Some(retries)) = (r.attempts, r.retries) {
        let rows_at = rows.iter().position(|r| r.0 == "still running at the end");
        let recovery = match s.recovery_s.flatten() {
            Some(v) => format!("{v:.0} s after the trigger"),
            None => "none before the end (or no trigger)".to_owned(),
        };
        let retry_rows = [
            (
                "attempts (amplification)",
                format!(
                    "{attempts} ({:.2} ×; {retries} retries, {} dropped)",
                    r.amplification.unwrap_or(1.0),
                    r.retries_dropped.unwrap_or(0)
                ),
            ),
            (
                "  in backoff at the end",
                r.in_backoff.unwrap_or(0).to_string(),
            ),
            ("recovery", recovery),
        ];
        let at = rows_at.unwrap_or(rows.len());
        rows.splice(at..at, retry_rows);
    }
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    for (k, v) in rows {
        let pad = width - k.chars().count();
        let _ = writeln!(out, "  {k}{}  {v}", " ".repeat(pad));
    }
    if !s.alerts.is_empty() {
        let _ = writeln!(out, "  alerts:");
        for a in &s.alerts {
            let first = a.episodes.iter().find(|e| e.firing_at.is_some());
            let line = match (first, a.time_to_detect_s) {
                (Some(e), Some(d)) => format!(
                    "fired {} ({} after {})",
                    e.firing_at.as_deref().unwrap_or("?"),
                    crate::engine::SimTime::from_secs_f64(d),
                    a.caused_by.as_deref().unwrap_or("the start")
                ),
                (Some(e), None) => format!("fired {}", e.firing_at.as_deref().unwrap_or("?")),
                (None, _) => "never fired".to_owned(),
            };
            let _ = writeln!(out, "    {:<24} {line}", a.name);
        }
    }
    if !s.targets.is_empty() {
        let _ = writeln!(out, "  calibration: target vs simulated");
        let width = s
            .targets
            .iter()
            .map(|t| t.label.chars().count())
            .max()
            .unwrap_or(0);
        for t in &s.targets {
            let pad = width - t.label.chars().count();
            let _ = writeln!(
                out,
                "    {}{}  {:>12}  {:>12}",
                t.label,
                " ".repeat(pad),
                t.expected,
                t.simulated
            );
        }
    }
    if let Some(p) = &s.pooler {
        let _ = writeln!(
            out,
            "  sidecar logins: {} after the warm-up ({} refused), {} during it ({} refused)",
            p.logins, p.refused_logins, p.warmup_logins, p.warmup_refused_logins
        );
    }
    if s.job.runs_started > 0 {
        let j = &s.job;
        let _ = writeln!(
            out,
            "  job runs: {} started, {} completed, {} failed, {} late, {} skipped",
            j.runs_started, j.runs_completed, j.runs_failed, j.runs_late, j.runs_skipped
        );
    }
    out
}
