//! From text to a validated [`Scenario`]: parse, deserialize, apply the
//! defaults of docs/semantics.md#defaults and check every value, reporting the
//! first problem with its file, line, column and key path.
//!
//! `Checker::scenario` here orchestrates; each section of the file has its
//! own module, and `read` is the only one that touches the filesystem.

mod alerts;
mod database;
mod deploys;
mod events;
mod job;
mod observed;
mod pool;
mod read;
mod requests;
mod retry;
mod syntax;
mod targets;
mod traffic;
mod values;
mod versions;

use super::error::{ScenarioError, ScenarioWarning, did_you_mean, expected_found, syntax_error};
use super::file::*;
use super::locate::{exact_span_of, span_of};
use super::resolve::Resolve;
use super::units::{ClockTime, Duration, TimeSpec};
use super::*;
use super::{Target, TargetCheck};
use crate::dist::Dist;
use crate::engine::SimTime;
use crate::telemetry::{Clock, TelemetryError, read_series};
use job::overlay_job;
use pool::overlay_pool;
pub use read::{MAX_FILE_BYTES, decode};
use requests::overlay_requests;
use std::cell::RefCell;
use syntax::deserialize;

/// Longest `meta.name`, in bytes: it names output folders, with up to 37
/// bytes around it (`sweep-NAME-shard-I-of-N`), and file systems take 255.
pub const MAX_NAME_BYTES: usize = 200;

/// Values given on the command line that replace the file's.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    /// Replaces `meta.seed`.
    pub seed: Option<u64>,
    /// Replaces `meta.duration`.
    pub duration: Option<Duration>,
}

/// Parse and validate scenario text; `file` names it in errors.
pub fn parse(file: &str, source: &str) -> std::result::Result<Scenario, ScenarioError> {
    parse_with(file, source, Overrides::default())
}

/// [`parse`] with command-line overrides applied before validation. A
/// scenario that names data files (`traffic.rate_from`) needs
/// [`parse_with_files`].
pub fn parse_with(
    file: &str,
    source: &str,
    overrides: Overrides,
) -> std::result::Result<Scenario, ScenarioError> {
    parse_with_files(file, source, overrides, &NoFiles)
}

/// A resolver without files, for scenario text given alone.
pub struct NoFiles;

impl Resolve for NoFiles {
    fn read(&self, _: &str) -> std::result::Result<Vec<u8>, String> {
        Err("cannot read the file: the scenario was given as text alone, without its folder".into())
    }
}

/// [`parse_with`], reading the data files the scenario names through
/// `files` (names as written in the scenario, relative to its folder).
pub fn parse_with_files(
    file: &str,
    source: &str,
    overrides: Overrides,
    files: &dyn Resolve,
) -> std::result::Result<Scenario, ScenarioError> {
    let mut raw = deserialize(file, source)?;
    if let Some(seed) = overrides.seed {
        raw.meta.seed = Some(seed);
    }
    if let Some(duration) = overrides.duration {
        raw.meta.duration = duration;
    }
    let duration_note = if overrides.duration.is_some() {
        ", from --duration"
    } else {
        ""
    };
    let data = RefCell::new(Vec::new());
    Checker {
        file,
        source,
        duration_note,
        prefix: None,
        files,
        data: &data,
    }
    .scenario(raw, source)
}

/// Applies defaults and range checks; every error is located by key path.
struct Checker<'a> {
    file: &'a str,
    source: &'a str,
    /// Added to errors that compare with the duration.
    duration_note: &'a str,
    /// While checking a version: its table, e.g. `versions."v2.3.0"`. Errors
    /// point there when the version sets the key, else at the base table.
    prefix: Option<String>,
    /// Reads the data files the scenario names.
    files: &'a dyn Resolve,
    /// The data files read so far, `(name, bytes)`: the hash covers them.
    data: &'a RefCell<Vec<(String, Vec<u8>)>>,
}

type Result<T> = std::result::Result<T, ScenarioError>;

impl Checker<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        if let Some(prefix) = &self.prefix {
            let full = format!("{prefix}.{path}");
            // The version's own key, else the base table's, else the
            // version's table when the base has none (a job only a version has).
            let span = exact_span_of(self.source, &full).or_else(|| {
                span_of(self.source, path)
                    .is_none()
                    .then(|| span_of(self.source, &full))
                    .flatten()
            });
            if let Some(span) = span {
                return ScenarioError::at_span(self.file, self.source, Some(span), &full, message);
            }
        }
        ScenarioError::at_span(
            self.file,
            self.source,
            span_of(self.source, path),
            path,
            message,
        )
    }

    /// `" (from --duration)"` when the duration is the command line's.
    fn duration_from(&self) -> &'static str {
        if self.duration_note.is_empty() {
            ""
        } else {
            " (from --duration)"
        }
    }

    /// The same checker, reporting into a version's table.
    fn for_version(&self, name: &str) -> Checker<'_> {
        Checker {
            file: self.file,
            source: self.source,
            duration_note: self.duration_note,
            prefix: Some(format!("versions.\"{name}\"")),
            files: self.files,
            data: self.data,
        }
    }

    /// The bytes of the data file `name` that the key `path` names, read
    /// through the resolver and remembered for the hash.
    fn read_data(&self, path: &str, name: &str) -> Result<Vec<u8>> {
        let bytes = self.files.read(name).map_err(|why| {
            self.err(
                path,
                format!("expected a readable file, found {name:?}: {why}"),
            )
        })?;
        self.data
            .borrow_mut()
            .push((name.to_owned(), bytes.clone()));
        Ok(bytes)
    }

    /// A data file's error, reported at the key `path` that named the
    /// file.
    fn data_err(&self, e: TelemetryError, path: &str) -> ScenarioError {
        e.into_scenario_error(self.err(path, ""))
    }

    /// The data file `name` (relative to the scenario's folder) as the user
    /// finds it: beside the scenario, as the scenario file is named.
    fn beside(&self, name: &str) -> String {
        let absolute = name.starts_with(['/', '\\']) || name.get(1..2) == Some(":");
        match self.file.rfind(['/', '\\']) {
            Some(i) if !absolute => format!("{}{name}", &self.file[..=i]),
            _ => name.to_owned(),
        }
    }

    fn scenario(&self, raw: ScenarioFile, source: &str) -> Result<Scenario> {
        let meta = &raw.meta;
        if meta.name.trim().is_empty()
            || meta.name.contains(['/', '\\'])
            || meta.name.starts_with('.')
            || meta.name.contains(char::is_control)
        {
            return Err(self.err(
                "meta.name",
                format!("expected a name usable as a folder name (no slashes or control characters, not starting with a dot), found {:?}", meta.name),
            ));
        }
        if meta.name.len() > MAX_NAME_BYTES {
            return Err(self.err(
                "meta.name",
                format!("expected a name of at most {MAX_NAME_BYTES} bytes (it names output folders such as sweep-NAME-shard-i-of-n, and file systems take 255), found {} bytes", meta.name.len()),
            ));
        }
        let duration = meta.duration.0;
        if duration == SimTime::ZERO {
            return Err(self.err(
                "meta.duration",
                format!(
                    "expected a duration above zero, found 0{}",
                    self.duration_from()
                ),
            ));
        }
        let warmup = meta.warmup.map_or(SimTime::ZERO, |d| d.0);
        if warmup >= duration {
            return Err(self.err(
                "meta.warmup",
                format!(
                    "expected a warm-up shorter than the duration ({duration}{}), found {warmup}",
                    self.duration_note
                ),
            ));
        }
        let sample_interval = self.positive_duration(
            "meta.sample_interval",
            meta.sample_interval,
            SimTime::from_secs(1),
        )?;
        if sample_interval > duration {
            return Err(self.err(
                "meta.sample_interval",
                format!(
                    "expected at most the duration ({duration}{}), found {sample_interval}",
                    self.duration_note
                ),
            ));
        }
        let fleet = Fleet {
            pods: self.int("fleet.pods", raw.fleet.pods, 20, 1, 1_000_000)?,
            workers: self.int("fleet.workers", raw.fleet.workers, 4, 1, 1024)?,
            dispatch: raw.fleet.dispatch.unwrap_or(Dispatch::Random),
            termination_grace: raw
                .fleet
                .termination_grace
                .map_or(SimTime::from_secs(30), |d| d.0),
            worker_restart: raw
                .fleet
                .worker_restart
                .map_or(SimTime::from_secs(1), |d| d.0),
            shutdown_ends_pools: raw.fleet.shutdown_ends_pools.unwrap_or(false),
        };
        let versions = self.versions(&raw)?;
        let warnings = self.warnings(&versions);
        let database = self.database(&raw.database)?;
        let pooler = raw
            .pooler
            .as_ref()
            .map(|p| self.pooler(p, &database))
            .transpose()?;
        let start_clock = meta.start;
        let date = self.date(meta)?;
        let clock = Clock {
            start_s: start_clock.map(|c| f64::from(c.0)),
            date,
        };
        let (events, traffic_changes) =
            self.events(&raw, &versions, &fleet, duration, start_clock)?;
        // retry: the `[retry]` table (validate/retry.rs).
        let retry = raw
            .retry
            .as_ref()
            .map(|r| self.retry(r, meta.trigger_end, &events))
            .transpose()?;
        Ok(Scenario {
            name: meta.name.clone(),
            description: meta.description.clone().unwrap_or_default(),
            duration,
            seed: meta.seed.unwrap_or(1),
            warmup,
            sample_interval,
            traffic: self.traffic(&raw.traffic, duration, &traffic_changes, &clock)?,
            fleet,
            versions,
            database,
            start_clock,
            date,
            events,
            alert_interval: self.positive_duration(
                "alerting.evaluation_interval",
                raw.alerting.as_ref().and_then(|a| a.evaluation_interval),
                SimTime::from_secs(15),
            )?,
            alerts: self.alerts(raw.alerts.as_deref().unwrap_or_default(), sample_interval)?,
            targets: self.targets(&raw, start_clock, duration)?,
            pooler,
            retry,
            // Read before the hash, which covers every data file read.
            observed: self.observed(&raw, &clock, duration)?,
            hash: scenario_hash(source, &self.data.borrow()),
            warnings,
        })
    }

    /// `meta.date`, checked.
    fn date(&self, meta: &MetaFile) -> Result<Option<(i32, u32, u32)>> {
        let Some(text) = &meta.date else {
            return Ok(None);
        };
        match crate::telemetry::parse_date(text) {
            Some(date) if date.0 >= 1970 => Ok(Some(date)),
            _ => Err(self.err(
                "meta.date",
                format!("expected a date like \"2026-03-14\" (YYYY-MM-DD, 1970 or later), found {text:?}"),
            )),
        }
    }
}

/// The scenario's hash: [`source_hash`] of the source, followed by each
/// data file's name and bytes (the source's own when there are none).
pub fn scenario_hash(source: &str, data: &[(String, Vec<u8>)]) -> String {
    if data.is_empty() {
        return source_hash(source);
    }
    let mut bytes = source.as_bytes().to_vec();
    for (name, content) in data {
        bytes.push(0);
        bytes.extend_from_slice(name.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(content);
    }
    fnv1a(&bytes)
}

/// FNV-1a over the source bytes, as 16 hex digits.
pub fn source_hash(source: &str) -> String {
    fnv1a(source.as_bytes())
}

fn fnv1a(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[meta]\nname = \"t\"\nduration = \"10s\"\n";

    fn err(extra: &str) -> String {
        parse("s.toml", &format!("{MINIMAL}{extra}"))
            .expect_err("should fail")
            .to_string()
    }

    #[test]
    fn minimal_file_gets_the_documented_defaults() {
        let s = parse("s.toml", MINIMAL).unwrap();
        assert_eq!((s.fleet.pods, s.fleet.workers), (20, 4));
        assert_eq!(s.app().pool.max, 10);
        assert_eq!(s.app().pool.idle_timeout, Some(SimTime::from_secs(30)));
        assert_eq!(s.app().pool.acquire_timeout, None);
        assert_eq!(s.database.usable_slots(), 497);
        assert_eq!(s.app().requests.deadline, SimTime::from_secs(60));
        assert!((s.app().requests.hold.mean() - 0.050).abs() < 1e-12);
        assert!(s.app().job.is_none());
    }

    #[test]
    fn errors_name_file_line_column_and_key() {
        let e = err("[pool]\nmax = 0\n");
        assert!(
            e.starts_with("s.toml:5:7: pool.max: expected an integer from 1 to 100000, found 0"),
            "{e}"
        );
        let e = err("[pool]\nidle_timout = \"1s\"\n");
        assert!(
            e.starts_with("s.toml:5:1: pool.idle_timout: expected one of"),
            "{e}"
        );
        assert!(e.contains("did you mean `idle_timeout`?"), "{e}");
        let e = err("[pool]\nacquire_timeout = 30\n");
        assert!(
            e.contains("pool.acquire_timeout: expected a duration like"),
            "{e}"
        );
        let e = err("[traffic]\nrate = \"2000\"\n");
        assert!(
            e.contains("traffic.rate: expected a rate like \"2000/s\""),
            "{e}"
        );
        let e = err("[requests]\nhold = { dist = \"exponential\", median = \"1s\" }\n");
        assert!(
            e.contains("requests.hold: an exponential distribution needs mean; found median"),
            "{e}"
        );
        let e = err("[database]\nsuperuser_reserved_connections = 500\n");
        assert!(e.contains("database.superuser_reserved_connections: expected superuser_reserved_connections + reserved_connections below max_connections (500), found 500"), "{e}");
    }

    #[test]
    fn syntax_errors_and_missing_keys_are_located() {
        let e = parse("s.toml", "[meta\nname = 1").unwrap_err();
        assert_eq!((e.line, e.path.as_str()), (1, "meta"));
        assert!(e.message.starts_with("invalid TOML"), "{e}");
        let e = parse("s.toml", "[meta]\nname = \"x\"\n").unwrap_err();
        assert_eq!(e.path, "meta.duration");
        assert!(e.message.contains("required key `duration`"), "{e}");
        let e = parse("s.toml", "").unwrap_err();
        assert!(e.message.contains("empty file"), "{e}");
    }

    #[test]
    fn model_keys_have_defaults_and_located_errors() {
        let s = parse(
            "s.toml",
            &format!("{MINIMAL}[pooler]\n[database]\ncpu_cores = 16\n"),
        )
        .unwrap();
        let p = s.pooler.as_ref().unwrap();
        assert_eq!(p.pool_size, 20, "PgBouncer's default_pool_size");
        assert_eq!(p.query_wait_timeout, Some(SimTime::from_secs(120)));
        assert_eq!(p.server_idle_timeout, Some(SimTime::from_secs(600)));
        assert_eq!(p.client_setup, s.database.setup);
        assert_eq!(s.possible_connections(), 20 * 20);
        let cpu = s.database.cpu.unwrap();
        assert_eq!((cpu.cores, cpu.contention), (16, 0.0));
        assert_eq!(s.app().requests.cpu_fraction, 1.0);
        assert_eq!(s.app().pool.queue, QueueDiscipline::Fifo);
        let shared = "[job]\npool_mode = \"shared\"\nrelease = \"finally\"\nfan_out = 2\n";
        let e = err(&format!("{shared}[pool]\njob_limit = 1\n"));
        assert!(
            e.contains("pool.job_limit: expected a job_limit of at least job.fan_out (2)"),
            "{e}"
        );
        let e = err("[pool]\njob_limit = 11\n");
        assert!(
            e.contains("pool.job_limit: expected an integer from 1 to 10"),
            "{e}"
        );
        let own = "[job]\npool_mode = \"own\"\nrelease = \"finally\"\n[job.pool]\n";
        let e = err(&format!("{own}queue = \"requests_first\"\n"));
        assert!(
            e.contains("job.pool.queue: expected queue only in [pool]"),
            "{e}"
        );
        let e = err("[database]\ncpu_contention = 0.1\n");
        assert!(
            e.contains("database.cpu_contention: expected database.cpu_cores"),
            "{e}"
        );
        let e = err("[pool]\nqueue = \"priority\"\n");
        assert!(
            e.contains("pool.queue: expected one of \"fifo\", \"requests_first\""),
            "{e}"
        );
    }

    #[test]
    fn job_needs_explicit_pool_mode_and_release() {
        let e = err("[job]\nperiod = \"30s\"\n");
        assert!(
            e.contains("job.pool_mode: expected the required key"),
            "{e}"
        );
        let s = parse(
            "s.toml",
            &format!("{MINIMAL}[job]\npool_mode = \"own\"\nrelease = \"leaky\"\n"),
        )
        .unwrap();
        let job = s.app().job.as_ref().unwrap();
        assert_eq!(job.pool.idle_timeout, Some(SimTime::from_secs(10)));
        assert_eq!(job.period, SimTime::from_secs(30));
        assert_eq!(s.possible_connections(), 800 + 200);
    }
}
