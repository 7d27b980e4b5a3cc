//! `pooldrill alerts FILE --rules rules.yml`: would *your* Prometheus alert
//! rules have paged you in time? Runs the scenario, writes a promtool
//! rule-test file whose input series are the run's exported metrics (the
//! names of [`crate::report::openmetrics`]), has `promtool test rules`
//! evaluate the user's rules with the real Prometheus engine, and reports
//! when each alert went pending and fired, relative to the deploy and to the
//! first refusal.
//!
//! promtool only checks assertions at given `eval_time`s, so the test file
//! asks, at every evaluation time, for `timestamp(ALERTS)` and expects
//! nothing: promtool then prints, as failures, every pending or firing alert
//! with the time it was evaluated at. Those transitions are folded into
//! episodes the way pooldrill's own alert replay folds its own.

mod promql;

use crate::format::{clock_hms, span};
use crate::guard::{self, GuardArgs, Outputs};
use crate::metrics::alerts::Episode;
use crate::metrics::{IntervalHistograms, LogEntry, LogKind, PodRow, SeriesRow, Sink, Summary};
use crate::model::{RunOptions, Simulation};
use crate::report::OutputFile;
use crate::report::openmetrics::{
    Date, Exporter, Kind, Metric, Sample, SampleOut, Spool, run_epoch_ms,
};
use crate::scenario::units::Duration;
use crate::scenario::validate::{Overrides, load_file};
use crate::scenario::{Scenario, Severity};
use crate::stdout::out;
use anyhow::{Context, Result, bail};
use clap::Args;
use promql::Selector;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Arguments of `alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// A Prometheus rule file (`groups:` of alerting and recording rules).
    #[arg(long, value_name = "RULES.yml")]
    pub rules: PathBuf,
    /// Replace the scenario's seed.
    #[arg(long, allow_negative_numbers = true, value_parser = super::parse_seed)]
    pub seed: Option<u64>,
    /// Replace the scenario's duration (e.g. "40m").
    #[arg(long)]
    pub duration: Option<Duration>,
    /// Keep the generated promtool test file at this path (`-`: standard
    /// output; without promtool, write it and stop there).
    #[arg(long, value_name = "PATH")]
    pub write_test: Option<PathBuf>,
    /// The resource guard's limits.
    #[command(flatten)]
    pub guard: GuardArgs,
}

/// One rule of a Prometheus rule file (the fields pooldrill reads).
#[derive(Debug, Deserialize)]
struct Rule {
    alert: Option<String>,
    record: Option<String>,
    expr: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Group {
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
struct RuleFile {
    groups: Vec<Group>,
}

/// An alerting rule of the user's file.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRuleInfo {
    /// `alert:`.
    pub name: String,
    /// `labels.severity`, if set.
    pub severity: Option<Severity>,
}

/// What a rule file asks for.
struct Rules {
    /// Absolute path.
    path: PathBuf,
    /// Alerting rules in file order, one per name.
    alerts: Vec<AlertRuleInfo>,
    /// Metric names the expressions mention (`None`: maybe any of them).
    names: Option<HashSet<String>>,
    /// The vector selectors of each alerting rule, by alert name.
    selectors: BTreeMap<String, Vec<Selector>>,
    /// Series the file's recording rules make.
    recorded: HashSet<String>,
}

impl Rules {
    fn load(path: &Path) -> Result<Rules> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file: RuleFile = yaml_serde::from_str(&text)
            .with_context(|| format!("{}: not a Prometheus rule file", path.display()))?;
        let mut alerts: Vec<AlertRuleInfo> = Vec::new();
        let mut names = Some(HashSet::new());
        let mut selectors: BTreeMap<String, Vec<Selector>> = BTreeMap::new();
        let mut recorded = HashSet::new();
        for rule in file.groups.iter().flat_map(|g| &g.rules) {
            if let Some(name) = &rule.alert {
                selectors
                    .entry(name.clone())
                    .or_default()
                    .extend(promql::selectors(&rule.expr));
            }
            recorded.extend(rule.record.clone());
            if let Some(name) = &rule.alert
                && !alerts.iter().any(|a| &a.name == name)
            {
                alerts.push(AlertRuleInfo {
                    name: name.clone(),
                    severity: rule.labels.get("severity").cloned().map(Severity::from),
                });
            }
            if rule.expr.contains("__name__") {
                names = None;
            }
            if let Some(n) = names.as_mut() {
                n.extend(identifiers(&rule.expr));
            }
        }
        if alerts.is_empty() {
            bail!(
                "{}: no alerting rule (`alert:`) to evaluate",
                path.display()
            );
        }
        let path = std::fs::canonicalize(path)
            .with_context(|| format!("cannot resolve {}", path.display()))?;
        Ok(Rules {
            path,
            alerts,
            names,
            selectors,
            recorded,
        })
    }

    /// Per alert, in file order, the selectors of its expression that match
    /// no series of `exported` (nor a recorded series, nor `ALERTS`): such
    /// an alert cannot fire on pooldrill's metrics, whatever happens.
    fn unmatched(&self, exported: &[ExportedSeries]) -> Vec<(String, Vec<String>)> {
        let made_by_rules = |name: &str| {
            matches!(name, "ALERTS" | "ALERTS_FOR_STATE") || self.recorded.contains(name)
        };
        self.alerts
            .iter()
            .filter_map(|a| {
                let mut missing: Vec<String> = Vec::new();
                for s in &self.selectors[&a.name] {
                    let Some(name) = s.name.as_deref() else {
                        continue;
                    };
                    if !made_by_rules(name)
                        && !exported.iter().any(|e| s.matches(&e.name, &e.labels))
                        && !missing.contains(&s.text)
                    {
                        missing.push(s.text.clone());
                    }
                }
                (!missing.is_empty()).then(|| (a.name.clone(), missing))
            })
            .collect()
    }
}

/// A series of the run's export: metric name and labels.
struct ExportedSeries {
    name: String,
    labels: BTreeMap<String, String>,
}

/// Every metric name pooldrill exports (a counter's with `_total`, a
/// histogram's `_bucket`, `_count` and `_sum`).
fn exported_names() -> Vec<String> {
    Metric::ALL
        .iter()
        .flat_map(|m| {
            let suffixes: &[&str] = match m.kind() {
                Kind::Counter => &["_total"],
                Kind::Histogram => &["_bucket", "_count", "_sum"],
                Kind::Gauge => &[""],
            };
            suffixes.iter().map(move |s| format!("{}{s}", m.name()))
        })
        .collect()
}

/// Warn on stderr about every selector of `unmatched`, and list what
/// pooldrill exports.
fn warn_unmatched(rules: &Path, unmatched: &[(String, Vec<String>)]) {
    for (alert, selectors) in unmatched {
        for s in selectors {
            eprintln!(
                "warning: {}: alert `{alert}`: `{s}` matches no series pooldrill exports: \
                 the rule cannot fire on this run",
                rules.display()
            );
        }
    }
    if !unmatched.is_empty() {
        eprintln!(
            "warning: pooldrill exports: {}",
            exported_names().join(", ")
        );
    }
}

/// The words of a PromQL expression that could be metric names.
fn identifiers(expr: &str) -> impl Iterator<Item = String> + '_ {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
}

/// promtool: `$PROMTOOL`, or `promtool` on the `PATH`.
pub fn find_promtool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PROMTOOL") {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("promtool"))
        .find(|p| p.is_file())
}

/// What promtool says about the rule file, or an error quoting it.
fn check_rules(promtool: &Path, rules: &Path) -> Result<()> {
    let out = Command::new(promtool)
        .arg("check")
        .arg("rules")
        .arg(rules)
        .output()
        .with_context(|| format!("cannot run {}", promtool.display()))?;
    if !out.status.success() {
        bail!(
            "promtool rejects {}:\n{}{}",
            rules.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

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
struct TestRun {
    summary: Summary,
    /// The timeline events the report refers to.
    timeline: Vec<LogEntry>,
    /// The alerts with selectors that match nothing exported (see
    /// [`Rules::unmatched`]).
    unmatched: Vec<(String, Vec<String>)>,
}

/// Run `scenario` and write the promtool test of `rules` to `test`.
fn write_test(scenario: &Scenario, rules: &Rules, test: &Path, quiet: bool) -> Result<TestRun> {
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
    let bar = super::run::progress_bar(scenario, quiet);
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

/// An alert's state at one evaluation, as `ALERTS{alertstate}` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Pending,
    Firing,
}

/// `{a="x", b="y"} 1.2E+02, {…} 3E+00`: promtool's rendering of a vector.
fn parse_got(text: &str) -> Option<Vec<(BTreeMap<String, String>, f64)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        rest = rest.strip_prefix('{')?;
        let mut labels = BTreeMap::new();
        loop {
            rest = rest.trim_start_matches([',', ' ']);
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let (name, r) = rest.split_once("=\"")?;
            let mut value = String::new();
            let mut chars = r.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (i, '"') => break i,
                    (_, c) => value.push(c),
                }
            };
            labels.insert(name.trim().to_owned(), value);
            rest = &r[end + 1..];
        }
        let r = rest.trim_start();
        let end = r.find(',').unwrap_or(r.len());
        out.push((labels, r[..end].trim().parse().ok()?));
        rest = r[end..].trim_start_matches([',', ' ']);
    }
    Some(out)
}

/// Run the test; every alert seen active: (name, evaluation time, state).
fn run_test(promtool: &Path, test: &Path) -> Result<Vec<(String, f64, State)>> {
    let out = Command::new(promtool)
        .args(["test", "rules"])
        .arg(test)
        .output()
        .with_context(|| format!("cannot run {}", promtool.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let unexpected = || {
        let text: Vec<&str> = stdout.lines().chain(stderr.lines()).take(40).collect();
        let hint = if stdout.contains("too many samples") {
            "\nhint: promtool's rule tests cap every query at 10,000 samples; a subquery \
             over per-pool series loads pools × steps × selectors: use a coarser step"
        } else {
            ""
        };
        anyhow::anyhow!(
            "promtool test rules {} did not run as expected:\n{}{hint}",
            test.display(),
            text.join("\n")
        )
    };
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(unexpected());
    }
    let mut active = Vec::new();
    let mut failures = false;
    for line in stdout.lines().chain(stderr.lines()).map(str::trim) {
        if line.starts_with("FAILED:") {
            failures = true;
        } else if let Some(got) = line.strip_prefix("got:") {
            for (labels, t) in parse_got(got).ok_or_else(unexpected)? {
                let state = match labels.get("alertstate").map(String::as_str) {
                    Some("firing") => State::Firing,
                    Some("pending") => State::Pending,
                    _ => return Err(unexpected()),
                };
                let name = labels.get("alertname").cloned().ok_or_else(unexpected)?;
                active.push((name, t, state));
            }
        } else if failures
            && !line.is_empty()
            && !line.starts_with("expr:")
            && !line.starts_with("exp:")
        {
            return Err(unexpected());
        }
    }
    if out.status.code() == Some(1) && active.is_empty() {
        return Err(unexpected());
    }
    Ok(active)
}

/// Fold evaluations into episodes as pooldrill's replay does: pending from
/// the first evaluation an instance is active, firing from the first one an
/// instance fires, resolved at the first one none is active; an episode
/// that clears before it fires is dropped.
fn episodes(eval_times: &[f64], states: &BTreeMap<i64, State>) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    let mut open = false;
    for &t in eval_times {
        let state = states.get(&((t * 1000.0).round() as i64)).copied();
        match (state, open) {
            (Some(s), false) => {
                open = true;
                out.push(Episode {
                    pending_at_s: t,
                    firing_at_s: (s == State::Firing).then_some(t),
                    resolved_at_s: None,
                });
            }
            (Some(State::Firing), true) => {
                let e = out.last_mut().expect("open episode");
                e.firing_at_s.get_or_insert(t);
            }
            (None, true) => {
                open = false;
                let e = out.last_mut().expect("open episode");
                if e.firing_at_s.is_some() {
                    e.resolved_at_s = Some(t);
                } else {
                    out.pop();
                }
            }
            _ => {}
        }
    }
    out
}

/// One alert of the user's file: what promtool and pooldrill's own replay
/// (when the scenario has a rule of the same name) make of it.
#[derive(Clone, Debug)]
pub struct AlertOutcome {
    /// The rule.
    pub rule: AlertRuleInfo,
    /// Episodes under promtool, in time order.
    pub promtool: Vec<Episode>,
    /// Episodes of pooldrill's rule of the same name, if any.
    pub pooldrill: Option<Vec<Episode>>,
    /// The selectors of its expression that match no series pooldrill
    /// exports (a misspelled or production-only metric): the rule cannot
    /// fire on this run.
    pub unmatched: Vec<String>,
}

/// The whole evaluation.
#[derive(Clone, Debug)]
pub struct AlertsReport {
    /// The run's summary.
    pub summary: Summary,
    /// First deploy (s from the start).
    pub deploy_s: Option<f64>,
    /// First refusal (s).
    pub first_refusal_s: Option<f64>,
    /// Per alert of the file, in file order.
    pub alerts: Vec<AlertOutcome>,
}

/// Run `scenario`, evaluate the alerting rules of `rules` with `promtool`
/// (the test file is written to `test`), and compare.
pub fn evaluate(
    scenario: &Scenario,
    rules: &Path,
    promtool: &Path,
    test: &Path,
    quiet: bool,
) -> Result<AlertsReport> {
    let rules = Rules::load(rules)?;
    check_rules(promtool, &rules.path)?;
    let run = write_test(scenario, &rules, test, quiet)?;
    let active = run_test(promtool, test)?;
    Ok(report(scenario, &rules, run, &active))
}

fn report(
    scenario: &Scenario,
    rules: &Rules,
    run: TestRun,
    active: &[(String, f64, State)],
) -> AlertsReport {
    let TestRun {
        summary,
        timeline,
        unmatched,
    } = run;
    let step = scenario.alert_interval.as_secs_f64();
    let end = scenario.duration.as_secs_f64();
    let eval_times: Vec<f64> = (1..)
        .map(|k| k as f64 * step)
        .take_while(|&t| t <= end + 1e-9)
        .collect();
    let first = |kind: LogKind| timeline.iter().find(|e| e.kind == kind).map(|e| e.time_s);
    let alerts = rules
        .alerts
        .iter()
        .map(|rule| {
            let mut states: BTreeMap<i64, State> = BTreeMap::new();
            for (_, t, s) in active.iter().filter(|a| a.0 == rule.name) {
                let at = states.entry((t * 1000.0).round() as i64).or_insert(*s);
                *at = (*at).max(*s);
            }
            let pooldrill = summary
                .alerts
                .iter()
                .find(|a| a.name == rule.name)
                .map(|a| {
                    a.episodes
                        .iter()
                        .map(|e| Episode {
                            pending_at_s: e.pending_at_s,
                            firing_at_s: e.firing_at_s,
                            resolved_at_s: e.resolved_at_s,
                        })
                        .collect()
                });
            AlertOutcome {
                rule: rule.clone(),
                promtool: episodes(&eval_times, &states),
                pooldrill,
                unmatched: unmatched
                    .iter()
                    .find(|(name, _)| *name == rule.name)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    AlertsReport {
        deploy_s: first(LogKind::Deploy),
        first_refusal_s: first(LogKind::FirstRefusal),
        summary,
        alerts,
    }
}

/// `t` relative to `reference`: `9 min 40 s after the deploy`.
fn relative(t: f64, reference: f64, what: &str) -> String {
    let side = if t >= reference { "after" } else { "before" };
    format!("{} {side} {what}", span((t - reference).abs()))
}

/// The report as text.
pub fn render(scenario: &Scenario, rules: &Path, report: &AlertsReport) -> String {
    let clock = |s: f64| match scenario.start_clock {
        Some(start) => clock_hms(start, s),
        None => crate::engine::SimTime::from_secs_f64(s).to_string(),
    };
    let opt = |s: Option<f64>| s.map_or("-".to_owned(), clock);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: rules {} evaluated by promtool every {}",
        scenario.name,
        rules.display(),
        scenario.alert_interval
    );
    if let Some(d) = report.deploy_s {
        let _ = write!(out, "deploy at {}", clock(d));
    }
    if let Some(r) = report.first_refusal_s {
        let _ = write!(out, "; first refusal at {}", clock(r));
    }
    let _ = writeln!(out, "\n");
    let width = report
        .alerts
        .iter()
        .map(|a| a.rule.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        out,
        "{:width$}  {:>9} {:>9} {:>9} {:>8}   {:>16}",
        "alert", "pending", "firing", "resolved", "episodes", "pooldrill firing"
    );
    for a in &report.alerts {
        let e = a.promtool.first();
        let own = a
            .pooldrill
            .as_ref()
            .map_or("(no such rule)".to_owned(), |eps| {
                opt(eps.iter().find_map(|e| e.firing_at_s))
            });
        let _ = writeln!(
            out,
            "{:width$}  {:>9} {:>9} {:>9} {:>8}   {:>16}",
            a.rule.name,
            opt(e.map(|e| e.pending_at_s)),
            opt(e.and_then(|e| e.firing_at_s)),
            opt(e.and_then(|e| e.resolved_at_s)),
            a.promtool.len(),
            own
        );
    }
    let _ = writeln!(out);
    for a in &report.alerts {
        let verb = if a.rule.severity == Some(Severity::Page) {
            "paged"
        } else {
            "fired"
        };
        match a.promtool.iter().find_map(|e| e.firing_at_s) {
            None if !a.unmatched.is_empty() => {
                let _ = writeln!(
                    out,
                    "your `{}` could not have {verb} here: {} matches no series pooldrill exports.",
                    a.rule.name,
                    a.unmatched
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            None => {
                let _ = writeln!(out, "your `{}` would never have {verb}.", a.rule.name);
            }
            Some(f) => {
                let mut when = vec![];
                if let Some(d) = report.deploy_s {
                    when.push(relative(f, d, "the deploy"));
                }
                if let Some(r) = report.first_refusal_s {
                    when.push(relative(f, r, "the first refusal"));
                }
                if when.is_empty() {
                    when.push(format!("at {}", clock(f)));
                }
                let _ = writeln!(
                    out,
                    "your `{}` would have {verb} {}.",
                    a.rule.name,
                    when.join(", ")
                );
            }
        }
    }
    out
}

/// Copy the generated test `test` to `kept` (the `--write-test` output,
/// shown as `path`) and commit it.
fn keep_test(test: &Path, mut kept: OutputFile, path: &Path) -> Result<()> {
    let mut from =
        std::fs::File::open(test).with_context(|| format!("cannot read {}", test.display()))?;
    // Nothing goes out after a signal, and a signal while it does waits.
    let _hold = crate::interrupt::hold();
    if crate::interrupt::requested() {
        return Err(crate::interrupt::Stopped.into());
    }
    io::copy(&mut from, &mut kept).with_context(|| format!("cannot write {}", path.display()))?;
    kept.commit()
}

/// `pooldrill alerts`: exit 0 when at least one alert fired, 1 when none did.
pub fn alerts(args: &AlertsArgs, quiet: bool) -> Result<i32> {
    let overrides = Overrides {
        seed: args.seed,
        duration: args.duration,
    };
    crate::interrupt::catch();
    let scenario = load_file(&args.file, overrides)?;
    super::warn(&scenario);
    let file = args.file.display().to_string();
    // The promtool test holds the series as an OpenMetrics export would.
    let series = Outputs {
        openmetrics: true,
        ..Outputs::default()
    };
    args.guard.check(&file, &scenario, series, 1)?;
    // A bad --write-test path is refused before the run, not after it.
    let mut kept = args
        .write_test
        .as_deref()
        .map(|path| OutputFile::create(path, &[&args.file, &args.rules]))
        .transpose()?;
    let to_stdout = kept.as_ref().is_some_and(OutputFile::is_stdout);
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    // promtool reads the test from a file of its own; --write-test gets a copy.
    let test = tmp.path().join("pooldrill-rules-test.yml");
    let Some(promtool) = find_promtool() else {
        let rules = Rules::load(&args.rules)?;
        let Some(kept) = kept else {
            bail!(
                "promtool not found (install Debian's `prometheus` package, or set PROMTOOL); \
                 add --write-test PATH to only write the rule test"
            );
        };
        let run =
            write_test(&scenario, &rules, &test, quiet).map_err(|e| guard::name_file(e, &file))?;
        warn_unmatched(&args.rules, &run.unmatched);
        keep_test(&test, kept, args.write_test.as_deref().unwrap_or(&test))?;
        let shown = args.write_test.as_deref().unwrap_or(&test).display();
        eprintln!(
            "promtool not found: wrote {shown}; run `promtool test rules {shown}` where it is installed"
        );
        return Ok(0);
    };
    let report = evaluate(&scenario, &args.rules, &promtool, &test, quiet)
        .map_err(|e| guard::name_file(e, &file));
    // The test is kept even when promtool failed on it, to look into.
    if let (Some(kept), Some(path)) = (kept.take(), &args.write_test)
        && test.exists()
    {
        keep_test(&test, kept, path)?;
    }
    let report = report?;
    let unmatched: Vec<(String, Vec<String>)> = report
        .alerts
        .iter()
        .filter(|a| !a.unmatched.is_empty())
        .map(|a| (a.rule.name.clone(), a.unmatched.clone()))
        .collect();
    warn_unmatched(&args.rules, &unmatched);
    let text = render(&scenario, &args.rules, &report);
    // With `--write-test -` standard output carries the test.
    if to_stdout {
        eprint!("{text}");
    } else {
        out!("{text}");
    }
    let fired = report
        .alerts
        .iter()
        .any(|a| a.promtool.iter().any(|e| e.firing_at_s.is_some()));
    Ok(if fired { 0 } else { 1 })
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

    #[test]
    fn promtool_vectors_parse() {
        let got = parse_got(
            r#" {alertname="High", alertstate="pending", pod="a \"b\""} 1.2E+02, {alertname="Low", alertstate="firing"} 1.8E+02"#,
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0["pod"], "a \"b\"");
        assert_eq!(got[0].1, 120.0);
        assert_eq!(got[1].0["alertstate"], "firing");
        assert!(parse_got("nonsense").is_none());
    }

    #[test]
    fn episodes_fold_like_the_replay() {
        let times: Vec<f64> = (1..=10).map(|k| k as f64 * 15.0).collect();
        let mut states = BTreeMap::new();
        // pending at 30 s, cleared at 45 s; pending 75 s, firing 105 s,
        // resolved at 135 s.
        states.insert(30_000, State::Pending);
        for t in [75, 90] {
            states.insert(t * 1000, State::Pending);
        }
        for t in [105, 120] {
            states.insert(t * 1000, State::Firing);
        }
        let e = episodes(&times, &states);
        assert_eq!(
            e,
            vec![Episode {
                pending_at_s: 75.0,
                firing_at_s: Some(105.0),
                resolved_at_s: Some(135.0)
            }]
        );
    }
}
