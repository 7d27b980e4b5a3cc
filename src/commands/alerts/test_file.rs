//! The promtool rule-test file: the run's exported metrics as
//! `input_series` in expanding notation, and a test at every evaluation
//! time that expects no `ALERTS`.

use super::promtool::parse_got;
use super::rules::{ExportedSeries, Rules};
use crate::metrics::{IntervalHistograms, LogEntry, LogKind, PodRow, SeriesRow, Sink, Summary};
use crate::model::{RunOptions, Simulation};
use crate::report::openmetrics::{Date, Exporter, Metric, Sample, SampleOut, Spool, run_epoch_ms};
use crate::scenario::Scenario;
use anyhow::{Context, Result, bail};
use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

/// A run of values being compressed into promtool's expanding notation:
/// `first`, `first+step`, … (`len` values).
#[derive(Clone, Copy, Debug)]
struct Run {
    first: f64,
    step: f64,
    len: u64,
}

impl Run {
    fn extend(&mut self, v: f64) -> bool {
        let whole = |x: f64| x.fract() == 0.0 && x.abs() < 9e15;
        if self.len == 1 && whole(self.first) && whole(v) {
            self.step = v - self.first;
        } else if v != self.first + self.step * self.len as f64 {
            return false;
        }
        self.len += 1;
        true
    }

    fn token(&self) -> String {
        let first = crate::report::openmetrics::format_value(self.first);
        let n = self.len - 1;
        match (self.len, self.step) {
            (1, _) => first,
            (2, s) if s != 0.0 => format!(
                "{first} {}",
                crate::report::openmetrics::format_value(self.first + s)
            ),
            (_, 0.0) => format!("{first}x{n}"),
            (_, s) if s > 0.0 => format!("{first}+{s}x{n}"),
            (_, s) => format!("{first}-{}x{n}", -s),
        }
    }
}

/// One input series of the test file.
struct InputSeries {
    selector: String,
    spool_id: usize,
    next: i64,
    run: Option<Run>,
    wrote: bool,
    /// Whether it ends on a stale marker when it stops (not the timeline's
    /// instants, which stay visible for the lookback as in a backfill).
    stale_when_gone: bool,
}

/// Samples as promtool `input_series`, every series at the sample interval
/// from time 0, in expanding notation (`_xN` for N missing samples), with a
/// stale marker where a series stops (a pool gone with its pod), as a
/// scrape would record (the OpenMetrics file cannot carry one; without them
/// a query over the pools would also count, for 5 minutes, every pool of a
/// rollout's old pods).
struct PromtoolInput {
    spool: Spool,
    wanted: Option<HashSet<String>>,
    epoch_ms: i64,
    interval_ms: i64,
    ids: HashMap<String, usize>,
    series: Vec<InputSeries>,
    /// Every series written, for the check of the rules' selectors.
    exported: Vec<ExportedSeries>,
}

impl PromtoolInput {
    fn token(&mut self, i: usize, token: &str) -> io::Result<()> {
        let id = self.series[i].spool_id;
        if std::mem::replace(&mut self.series[i].wrote, true) {
            self.spool.append(id, b" ")?;
        }
        self.spool.append(id, token.as_bytes())
    }

    fn flush_run(&mut self, i: usize) -> io::Result<()> {
        match self.series[i].run.take() {
            Some(run) => self.token(i, &run.token()),
            None => Ok(()),
        }
    }

    /// The `input_series` entries, each series once; a series that stopped
    /// before `end_ms` ends on a stale marker.
    fn finish(mut self, end_ms: i64, out: &mut dyn Write) -> io::Result<()> {
        let last = (end_ms - self.epoch_ms).div_euclid(self.interval_ms);
        for i in 0..self.series.len() {
            self.flush_run(i)?;
            if self.series[i].next <= last && self.series[i].stale_when_gone {
                self.token(i, "stale")?;
            }
            let s = &self.series[i];
            writeln!(out, "      - series: '{}'", s.selector.replace('\'', "''"))?;
            write!(out, "        values: '")?;
            let id = s.spool_id;
            self.spool.drain_into(id, out)?;
            writeln!(out, "'")?;
        }
        Ok(())
    }
}

impl SampleOut for PromtoolInput {
    fn sample(&mut self, s: &Sample) -> io::Result<()> {
        let name = s.name();
        if self.wanted.as_ref().is_some_and(|w| !w.contains(&name)) {
            return Ok(());
        }
        let selector = format!("{name}{{{}}}", s.all_labels());
        let i = match self.ids.get(&selector) {
            Some(&i) => i,
            None => {
                let spool_id = self.spool.add();
                let labels = parse_got(&format!("{{{}}} 0", s.all_labels()))
                    .and_then(|mut v| v.pop())
                    .map(|(labels, _)| labels)
                    .unwrap_or_default();
                self.exported.push(ExportedSeries {
                    name: name.clone(),
                    labels,
                });
                self.ids.insert(selector.clone(), self.series.len());
                self.series.push(InputSeries {
                    selector,
                    spool_id,
                    next: 0,
                    run: None,
                    wrote: false,
                    stale_when_gone: s.metric != Metric::TimelineEvent,
                });
                self.series.len() - 1
            }
        };
        let index = (s.t_ms - self.epoch_ms).div_euclid(self.interval_ms);
        let next = self.series[i].next;
        if index < next {
            return Ok(()); // a second sample in one interval (events)
        }
        if index > next {
            // Absent since `next`: it went away (a stale marker, as a scrape
            // records) or had not appeared yet.
            self.flush_run(i)?;
            let mut missing = index - next;
            if self.series[i].wrote && self.series[i].stale_when_gone {
                self.token(i, "stale")?;
                missing -= 1;
            }
            if missing > 0 {
                self.token(i, &format!("_x{missing}"))?;
            }
        }
        self.series[i].next = index + 1;
        let extended = self.series[i]
            .run
            .as_mut()
            .is_some_and(|run| run.extend(s.value));
        if !extended {
            self.flush_run(i)?;
            self.series[i].run = Some(Run {
                first: s.value,
                step: 0.0,
                len: 1,
            });
        }
        Ok(())
    }
}

/// Keeps the timeline events the report refers to.
#[derive(Default)]
struct Timeline(Vec<LogEntry>);

impl Sink for Timeline {
    fn series(&mut self, _: &SeriesRow, _: IntervalHistograms) -> io::Result<()> {
        Ok(())
    }
    fn pods(&mut self, _: &[PodRow]) -> io::Result<()> {
        Ok(())
    }
    fn event(&mut self, e: &LogEntry) -> io::Result<()> {
        if matches!(
            e.kind,
            LogKind::Deploy | LogKind::Rollback | LogKind::FirstRefusal
        ) {
            self.0.push(e.clone());
        }
        Ok(())
    }
}

/// A duration as promtool reads it (`15s`, `250ms`).
fn promtool_duration(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// What a run for a rule test leaves besides the test file.
pub(super) struct TestRun {
    pub(super) summary: Summary,
    /// The timeline events the report refers to.
    pub(super) timeline: Vec<LogEntry>,
    /// The alerts with selectors that match nothing exported (see
    /// [`Rules::unmatched`]).
    pub(super) unmatched: Vec<(String, Vec<String>)>,
}

/// Run `scenario` and write the promtool test of `rules` to `test`.
pub(super) fn write_test(
    scenario: &Scenario,
    rules: &Rules,
    test: &Path,
    quiet: bool,
) -> Result<TestRun> {
    let interval_ms = (scenario.sample_interval.as_secs_f64() * 1000.0).round() as i64;
    let eval_ms = (scenario.alert_interval.as_secs_f64() * 1000.0).round() as i64;
    if interval_ms < 1 || eval_ms < 1 {
        bail!("promtool needs sample and evaluation intervals of at least 1 ms");
    }
    let input = PromtoolInput {
        spool: Spool::new().context("cannot create a temporary folder")?,
        wanted: rules.names.clone(),
        epoch_ms: run_epoch_ms(scenario, Date::DEFAULT),
        interval_ms,
        ids: HashMap::new(),
        series: Vec::new(),
        exported: Vec::new(),
    };
    let mut exporter = Exporter::new(scenario, Date::DEFAULT, input);
    let mut timeline = Timeline::default();
    let bar = crate::commands::run::progress_bar(scenario, quiet);
    let summary = Simulation::new(scenario, RunOptions::default())
        .run(
            &mut crate::metrics::Tee(vec![&mut exporter, &mut timeline]),
            |t| {
                bar.set_position(t.0 / 1_000_000);
                !crate::interrupt::requested()
            },
        )
        .with_context(|| format!("scenario {}", scenario.name))?;
    bar.finish_and_clear();
    let file =
        std::fs::File::create(test).with_context(|| format!("cannot create {}", test.display()))?;
    let mut out = io::BufWriter::with_capacity(1 << 16, file);
    let mut input = exporter.into_out();
    let exported = std::mem::take(&mut input.exported);
    let write = |out: &mut io::BufWriter<std::fs::File>| -> io::Result<()> {
        writeln!(
            out,
            "# promtool rule test generated by pooldrill {}: scenario {}, seed {}.\n\
             # input_series: the run's exported metrics, one sample every {} from 0.\n\
             # Each promql_expr_test expects no ALERTS, so that promtool prints every\n\
             # pending or firing alert with its evaluation time.",
            env!("CARGO_PKG_VERSION"),
            scenario.name,
            scenario.seed,
            promtool_duration(interval_ms)
        )?;
        let rules_path = rules.path.display().to_string().replace('\'', "''");
        writeln!(out, "rule_files:\n  - '{rules_path}'")?;
        writeln!(out, "evaluation_interval: {}", promtool_duration(eval_ms))?;
        writeln!(
            out,
            "tests:\n  - interval: {}",
            promtool_duration(interval_ms)
        )?;
        writeln!(out, "    input_series:")?;
        let end_ms = (scenario.duration.as_secs_f64() * 1000.0).round() as i64;
        let epoch_ms = run_epoch_ms(scenario, Date::DEFAULT);
        input.finish(epoch_ms + end_ms, out)?;
        writeln!(out, "    promql_expr_test:")?;
        for t in (eval_ms..=end_ms).step_by(eval_ms as usize) {
            writeln!(
                out,
                "      - expr: timestamp(ALERTS)\n        eval_time: {}\n        exp_samples: []",
                promtool_duration(t)
            )?;
        }
        out.flush()
    };
    write(&mut out).with_context(|| format!("cannot write {}", test.display()))?;
    Ok(TestRun {
        summary,
        timeline: timeline.0,
        unmatched: rules.unmatched(&exported),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_compress_into_expanding_notation() {
        let mut r = Run {
            first: 3.0,
            step: 0.0,
            len: 1,
        };
        assert_eq!(r.token(), "3");
        assert!(r.extend(5.0) && r.extend(7.0));
        assert!(!r.extend(8.0));
        assert_eq!(r.token(), "3+2x2");
        let mut down = Run {
            first: 5.0,
            step: 0.0,
            len: 1,
        };
        assert!(down.extend(4.0));
        assert_eq!(down.token(), "5 4", "two values need no notation");
        assert!(down.extend(3.0));
        assert_eq!(down.token(), "5-1x2");
        let mut frac = Run {
            first: 0.5,
            step: 0.0,
            len: 1,
        };
        assert!(frac.extend(0.5) && !frac.extend(1.0));
        assert_eq!(frac.token(), "0.5x1");
    }
}
