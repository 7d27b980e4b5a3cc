//! "What to notice": bullets computed from a run's results (summary, event
//! log, time series, pods), never written per scenario. Each rule looks for
//! one thing — the first refusal, the cap, the leaks, the alerts, the page,
//! the rollback's own error burst, the recovery — and says nothing when the
//! run does not show it.

use super::story::usable;
use super::{HandoutRun, clock};
use crate::format::{percent, span};
use crate::metrics::summary::AlertSummary;
use crate::metrics::{LogKind, SeriesRow};
use crate::scenario::{AlertMetric, CompareOp, Severity};

/// The bullets for one run, in reading order.
pub fn bullets(r: &HandoutRun) -> Vec<String> {
    let f = Facts::of(r);
    [
        capacity(r),
        crowd(r),
        refusals(r, &f),
        cap(r, &f),
        failures(r),
        leaks(r),
        alerts(r, &f),
        page(r, &f),
        rollback(r, &f),
        recovery(r, &f),
        job(r),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Instants the bullets measure from.
struct Facts<'a> {
    /// The first deploy (or the start) and its name: "deploy", "start".
    reference: (f64, &'static str),
    /// The first rollback.
    rollback: Option<f64>,
    /// The first refusal (53300).
    first_refusal: Option<f64>,
    /// The rules of severity `page`, with their replay.
    pages: Vec<(&'a crate::scenario::AlertRule, &'a AlertSummary)>,
}

impl<'a> Facts<'a> {
    fn of(r: &'a HandoutRun) -> Facts<'a> {
        let first = |kind: LogKind| r.events.iter().find(|e| e.kind == kind);
        let reference = first(LogKind::Deploy).map_or((0.0, "start"), |e| (e.time_s, "deploy"));
        Facts {
            reference,
            rollback: first(LogKind::Rollback).map(|e| e.time_s),
            first_refusal: first(LogKind::FirstRefusal).map(|e| e.time_s),
            pages: r
                .scenario
                .alerts
                .iter()
                .zip(&r.summary.alerts)
                .filter(|(rule, _)| rule.severity == Severity::Page)
                .collect(),
        }
    }

    /// "6 min 20 s after the deploy".
    fn since(&self, t: f64) -> String {
        let (at, name) = self.reference;
        if t >= at {
            format!("{} after the {name}", span(t - at))
        } else {
            format!("{} before the {name}", span(at - t))
        }
    }

    /// "6 min 20 s after the deploy, at 14:21:20" (the clock only when the
    /// run has one and the reference is not the start).
    fn moment(&self, s: &crate::scenario::Scenario, t: f64) -> String {
        match s.start_clock {
            Some(_) => format!("{}, at {}", self.since(t), clock(s, t)),
            None => self.since(t),
        }
    }
}

/// Possible against usable connections, and what was really open.
fn capacity(r: &HandoutRun) -> Option<String> {
    let c = &r.summary.connections;
    let usable = usable(r.scenario) as u64;
    Some(if c.possible > usable {
        format!(
            "The pools could open {} connections, {:.1} times the {usable} the application may hold, yet on average only {:.0} were open: pools grow lazily, so the excess stays hidden until something takes the slack.",
            c.possible,
            c.possible as f64 / usable as f64,
            c.mean_open
        )
    } else {
        format!(
            "The pools could open at most {} connections, within the {usable} the application may hold: the fleet fits even with every pool full (on average {:.0} were open).",
            c.possible, c.mean_open
        )
    })
}

/// The most pods alive at once, when a rollout made it more than the fleet.
fn crowd(r: &HandoutRun) -> Option<String> {
    let pods = &r.run.pods;
    let mut best: Option<(f64, usize, usize)> = None;
    for at in pods.chunk_by(|a, b| a.time_s == b.time_s) {
        let terminating = at.iter().filter(|p| p.state == "terminating").count();
        if best.is_none_or(|b| at.len() > b.1) {
            best = Some((at[0].time_s, at.len(), terminating));
        }
    }
    let (t, alive, terminating) = best?;
    (alive > r.scenario.fleet.pods as usize).then(|| {
        format!(
            "During a rollout up to {alive} pods were alive at once ({terminating} of them terminating, at {}), against {} in the steady state: a terminating pod keeps its connections until it exits.",
            clock(r.scenario, t),
            r.scenario.fleet.pods
        )
    })
}

/// When refusals began, against the deploy and the page.
fn refusals(r: &HandoutRun, f: &Facts) -> Option<String> {
    let t = f.first_refusal?;
    let page = match f.pages.first() {
        Some((_, a)) => match a.first_firing_s {
            Some(p) if p > t => format!(", {} before the page fired", span(p - t)),
            Some(_) => ", after the page had fired".to_owned(),
            None => ", and the page never fired".to_owned(),
        },
        None => String::new(),
    };
    Some(format!(
        "Refusals by PostgreSQL (53300) began {}{page}.",
        f.moment(r.scenario, t)
    ))
}

/// When every slot open to the application's role was first taken, and
/// for how long in all.
fn cap(r: &HandoutRun, f: &Facts) -> Option<String> {
    let slots = r.scenario.database.usable_slots() as u64;
    let rows = &r.run.rows;
    let full: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].db_occupied >= slots)
        .collect();
    let first = rows[*full.first()?].time_s;
    let total: f64 = full.iter().map(|&i| r.run.interval_s(i)).sum();
    Some(format!(
        "The server was full — all {slots} slots an ordinary role may use taken, other clients included — first {}, and for {} in all.",
        f.moment(r.scenario, first),
        span(total)
    ))
}

/// What kind of failures the requests saw.
fn failures(r: &HandoutRun) -> Option<String> {
    let q = &r.summary.requests;
    let p99 = crate::format::seconds(q.p99_latency_s);
    Some(if q.refused == 0 && q.acquire_timeouts == 0 {
        format!(
            "Nothing failed because of the pool: the {} error rate is the baseline of failures unrelated to the database ({} application errors).",
            percent(q.error_rate, 2),
            q.app_errors
        )
    } else if q.acquire_timeouts == 0 && r.summary.acquire_by_class.request.found_full == 0 {
        format!(
            "No request ever found its pool full: all {} pool failures were PostgreSQL refusing a new connection, and they failed fast — the p99 latency stayed at {p99}.",
            q.refused
        )
    } else {
        format!(
            "{} requests timed out waiting for a connection in their own pool's queue, besides {} refused by PostgreSQL: waits, not refusals, push the p99 latency to {p99}.",
            q.acquire_timeouts, q.refused
        )
    })
}

/// How much the job leaked, and the most slots leaked clients held.
fn leaks(r: &HandoutRun) -> Option<String> {
    let peak = r.run.rows.iter().max_by_key(|row| row.open_leaked)?;
    if peak.open_leaked == 0 {
        return None;
    }
    let total = r.run.rows.last().map_or(0, |row| row.leaked_cumulative);
    let measured = r.summary.connections.leaked;
    let after_warmup = if measured != total {
        format!(" ({measured} after the warm-up)")
    } else {
        String::new()
    };
    Some(format!(
        "The job leaked {total} connections over the run{after_warmup}; at the peak ({}) leaked clients held {} server slots, {:.0} % of what the application may hold.",
        clock(r.scenario, peak.time_s),
        peak.open_leaked,
        100.0 * peak.open_leaked as f64 / usable(r.scenario) as f64
    ))
}

/// The alerts in the order they fired, and those that never did.
fn alerts(r: &HandoutRun, f: &Facts) -> Option<String> {
    if r.summary.alerts.is_empty() {
        return None;
    }
    let mut fired: Vec<(f64, &str)> = r
        .summary
        .alerts
        .iter()
        .flat_map(|a| {
            a.episodes
                .iter()
                .filter_map(|e| Some((e.firing_at_s?, a.name.as_str())))
        })
        .collect();
    fired.sort_by(|a, b| a.0.total_cmp(&b.0));
    let never: Vec<&str> = r
        .summary
        .alerts
        .iter()
        .filter(|a| a.first_firing_s.is_none())
        .map(|a| a.name.as_str())
        .collect();
    let mut text = if fired.is_empty() {
        "No alert fired.".to_owned()
    } else {
        let each: Vec<String> = fired
            .iter()
            .map(|(t, name)| format!("{name} {}", f.moment(r.scenario, *t)))
            .collect();
        format!("Alerts fired in this order: {}.", each.join("; "))
    };
    if !never.is_empty() && !fired.is_empty() {
        text.push_str(&format!(" Never fired: {}.", never.join(", ")));
    }
    Some(text)
}

/// Whether the page fired, and if not, how close the error rate came.
fn page(r: &HandoutRun, f: &Facts) -> Option<String> {
    let (rule, a) = f.pages.first()?;
    if let Some(t) = a.first_firing_s {
        return Some(format!(
            "The page ({}: `{}`) fired {}.",
            a.name,
            a.rule,
            f.moment(r.scenario, t)
        ));
    }
    let mut text = format!("The page ({}: `{}`) never fired", a.name, a.rule);
    if rule.metric == AlertMetric::ErrorRate
        && matches!(rule.op, CompareOp::Above | CompareOp::AtLeast)
    {
        let window = rule.window.as_secs_f64();
        let longest = longest_above(&r.run.rows, window, rule.threshold);
        let needed = rule.for_.as_secs_f64();
        if longest == 0.0 {
            text.push_str(&format!(
                ": the error rate over any {} never went above {}",
                span(window),
                percent(rule.threshold, 2)
            ));
        } else if longest < needed {
            text.push_str(&format!(
                ": the error rate over {} windows stayed above {} for {} at most, short of the {} the rule needs",
                span(window),
                percent(rule.threshold, 2),
                span(longest),
                span(needed)
            ));
        }
    }
    text.push('.');
    Some(text)
}

/// The longest stretch (s) during which the error rate over the trailing
/// `window` seconds was above `threshold`.
fn longest_above(rows: &[SeriesRow], window: f64, threshold: f64) -> f64 {
    let (mut start, mut failed, mut answered) = (0, 0u64, 0u64);
    let (mut longest, mut since) = (0.0f64, None::<f64>);
    for (i, row) in rows.iter().enumerate() {
        failed += row.failed;
        answered += row.answered;
        while start <= i && rows[start].time_s <= row.time_s - window {
            failed -= rows[start].failed;
            answered -= rows[start].answered;
            start += 1;
        }
        let above = answered > 0 && failed as f64 / answered as f64 > threshold;
        let previous = if i == 0 { 0.0 } else { rows[i - 1].time_s };
        match (above, since) {
            (true, None) => since = Some(previous),
            (false, Some(s)) => {
                longest = longest.max(previous - s);
                since = None;
            }
            _ => {}
        }
    }
    if let (Some(s), Some(last)) = (since, rows.last()) {
        longest = longest.max(last.time_s - s);
    }
    longest
}

/// Pool failures (refusals and acquire timeouts) of a row.
fn pool_failures(row: &SeriesRow) -> u64 {
    row.refusals + row.acquire_timeouts
}

/// The error burst the rollback itself caused.
fn rollback(r: &HandoutRun, f: &Facts) -> Option<String> {
    let t = f.rollback?;
    let rows = &r.run.rows;
    let after: Vec<&SeriesRow> = rows.iter().filter(|row| row.time_s > t).collect();
    let burst: u64 = after.iter().map(|row| pool_failures(row)).sum();
    if burst == 0 {
        return None;
    }
    let before: u64 = rows
        .iter()
        .filter(|row| row.time_s > f.reference.0 && row.time_s <= t)
        .map(pool_failures)
        .sum();
    let peak = after.iter().max_by(|a, b| {
        a.error_rate
            .unwrap_or(0.0)
            .total_cmp(&b.error_rate.unwrap_or(0.0))
    })?;
    let mut text = format!(
        "The rollback itself cost {burst} failed requests ({} the {before} between the {} and the rollback), up to {} of requests failing in one second at {}",
        if burst > before {
            "more than"
        } else {
            "against"
        },
        f.reference.1,
        percent(peak.error_rate.unwrap_or(0.0), 2),
        clock(r.scenario, peak.time_s)
    );
    let leaked_at_rollback = rows
        .iter()
        .rfind(|row| row.time_s <= t)
        .is_some_and(|row| row.open_leaked > 0);
    if let Some(cleared) = after.iter().find(|row| row.open_leaked == 0)
        && leaked_at_rollback
    {
        text.push_str(&format!(
            ": leaked connections kept their server slots until {}, {} after the rollback (the termination grace period is {})",
            clock(r.scenario, cleared.time_s),
            span(cleared.time_s - t),
            span(r.scenario.fleet.termination_grace.as_secs_f64())
        ));
    }
    text.push('.');
    Some(text)
}

/// How long recovery took after the rollback.
fn recovery(r: &HandoutRun, f: &Facts) -> Option<String> {
    let t = f.rollback?;
    let mut parts = Vec::new();
    let rows = &r.run.rows;
    match rows.iter().rfind(|row| pool_failures(row) > 0) {
        Some(last) if last.time_s > t => parts.push(format!(
            "the last pool failure came {} after the rollback (at {})",
            span(last.time_s - t),
            clock(r.scenario, last.time_s)
        )),
        _ => parts.push("no request failed for the pool after the rollback".to_owned()),
    }
    let episodes = r.summary.alerts.iter().flat_map(|a| &a.episodes);
    let resolved = episodes
        .clone()
        .filter_map(|e| e.resolved_at_s)
        .filter(|&at| at > t)
        .max_by(f64::total_cmp);
    if let Some(at) = resolved {
        parts.push(format!(
            "the last alert resolved {} after it (at {})",
            span(at - t),
            clock(r.scenario, at)
        ));
    }
    let still: Vec<&str> = r
        .summary
        .alerts
        .iter()
        .filter(|a| {
            a.episodes
                .iter()
                .any(|e| e.firing_at_s.is_some() && e.resolved_at_s.is_none())
        })
        .map(|a| a.name.as_str())
        .collect();
    if !still.is_empty() {
        parts.push(format!("{} still firing at the end", still.join(", ")));
    }
    Some(format!("Recovery: {}.", parts.join("; ")))
}

/// How the job fared.
fn job(r: &HandoutRun) -> Option<String> {
    let a = &r.summary.acquire_by_class.job;
    let j = &r.summary.job;
    (a.starved > 0).then(|| {
        format!(
            "{} of the job's {} connection requests starved (waited over 100 ms or failed), and {} of its {} runs failed.",
            a.starved, a.count, j.runs_failed, j.runs_started
        )
    })
}
