//! The fleet's state at each sampling instant, as the dashboard shows it,
//! collected by a [`Sink`] while the simulation runs.

use crate::metrics::{IntervalHistograms, LogEntry, LogKind, PodRow, SeriesRow, Sink};
use crate::scenario::{AlertRule, Severity};
use std::io;

/// An alert rule that is pending or firing.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertState {
    /// Rule name.
    pub name: String,
    /// Rule severity.
    pub severity: Severity,
    /// Firing (else pending).
    pub firing: bool,
    /// When it entered that state, seconds from the start.
    pub since_s: f64,
}

/// The fleet at one sampling instant.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The fleet's row (gauges at the instant, counts over the interval
    /// ending at it).
    pub row: SeriesRow,
    /// Every live pod, by pod number.
    pub pods: Vec<PodRow>,
    /// Alerts pending or firing at the instant, in rule order.
    pub alerts: Vec<AlertState>,
    /// Notable events ([`LogKind::is_notable`]) since the previous instant, in order.
    pub events: Vec<LogEntry>,
}

impl Snapshot {
    /// Seconds from the start.
    pub fn time_s(&self) -> f64 {
        self.row.time_s
    }
}

/// Builds a [`Snapshot`] per sampling instant and hands each to `emit` once
/// the events up to its instant are in (the simulation logs them after the
/// rows). Call [`finish`](SnapshotSink::finish) after the run for the last.
pub struct SnapshotSink<'a, F: FnMut(Snapshot) -> io::Result<()>> {
    rules: &'a [AlertRule],
    alerts: Vec<Option<AlertState>>,
    current: Option<Snapshot>,
    emit: F,
}

impl<'a, F: FnMut(Snapshot) -> io::Result<()>> SnapshotSink<'a, F> {
    /// A sink for a scenario with these alert `rules`.
    pub fn new(rules: &'a [AlertRule], emit: F) -> Self {
        SnapshotSink {
            rules,
            alerts: vec![None; rules.len()],
            current: None,
            emit,
        }
    }

    /// Hand over the last snapshot.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.current.take() {
            Some(mut s) => {
                s.alerts = self.alerts.iter().flatten().cloned().collect();
                (self.emit)(s)
            }
            None => Ok(()),
        }
    }

    /// Track an alert transition (`detail` starts with the rule's name).
    fn alert(&mut self, e: &LogEntry) {
        let Some(i) = self.rules.iter().position(|r| {
            e.detail
                .strip_prefix(r.name.as_str())
                .is_some_and(|rest| rest.starts_with(" ("))
        }) else {
            return;
        };
        let state = |firing| {
            Some(AlertState {
                name: self.rules[i].name.clone(),
                severity: self.rules[i].severity.clone(),
                firing,
                since_s: e.time_s,
            })
        };
        self.alerts[i] = match e.kind {
            LogKind::AlertPending => state(false),
            LogKind::AlertFiring => state(true),
            _ => None,
        };
    }
}

impl<F: FnMut(Snapshot) -> io::Result<()>> Sink for SnapshotSink<'_, F> {
    fn series(&mut self, row: &SeriesRow, _: IntervalHistograms) -> io::Result<()> {
        self.flush()?;
        self.current = Some(Snapshot {
            row: row.clone(),
            ..Snapshot::default()
        });
        Ok(())
    }

    fn pods(&mut self, rows: &[PodRow]) -> io::Result<()> {
        if let Some(s) = &mut self.current {
            s.pods = rows.to_vec();
            s.pods.sort_by_key(|p| p.pod);
        }
        Ok(())
    }

    fn event(&mut self, entry: &LogEntry) -> io::Result<()> {
        if entry.kind.is_alert() {
            self.alert(entry);
        }
        if let Some(s) = &mut self.current
            && entry.kind.is_notable()
        {
            s.events.push(entry.clone());
        }
        Ok(())
    }
}
