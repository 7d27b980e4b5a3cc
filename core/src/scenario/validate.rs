//! From text to a validated [`Scenario`]: parse, deserialize, apply the
//! defaults of docs/semantics.md#defaults and check every value, reporting the
//! first problem with its file, line, column and key path.

use super::error::{ScenarioError, ScenarioWarning, did_you_mean, expected_found, syntax_error};
use super::file::*;
use super::locate::{exact_span_of, span_of};
use super::units::{ClockTime, Duration, TimeSpec};
use super::*;
use super::{Target, TargetCheck};
use crate::dist::Dist;
use crate::engine::SimTime;
use std::io::Read;
use std::path::Path;

mod retry;

/// Largest scenario file read (a scenario is a page of text).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

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

/// Read, parse and validate a scenario file.
pub fn load_file(
    path: &Path,
    overrides: Overrides,
) -> std::result::Result<Scenario, ScenarioError> {
    let source = read_source(path)?;
    parse_with(&path.display().to_string(), &source, overrides)
}

/// Read a scenario file as text: size-capped, UTF-8 checked, BOM removed.
/// At most [`MAX_FILE_BYTES`] + 1 bytes are read, so that a device or a pipe
/// (`/dev/zero`) cannot exhaust memory.
pub fn read_source(path: &Path) -> std::result::Result<String, ScenarioError> {
    let name = path.display().to_string();
    let whole = |message: String| ScenarioError::at_span(&name, "", None, "", message);
    let cannot = |e: std::io::Error| whole(format!("cannot read the file: {}", io_reason(&e)));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.is_dir() {
        return Err(whole("expected a scenario file, found a directory".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(whole(format!(
            "expected a scenario file of at most 1 MiB, found {:.1} MiB",
            meta.len() as f64 / 1048576.0
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    decode(&name, &bytes)
}

/// Scenario bytes as text: size-capped, UTF-8 checked, BOM removed; `file`
/// names them in errors.
pub fn decode(file: &str, bytes: &[u8]) -> std::result::Result<String, ScenarioError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ScenarioError::at_span(
            file,
            "",
            None,
            "",
            "expected a scenario file of at most 1 MiB, found more",
        ));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(ScenarioError {
            line: 1,
            column: 1,
            ..ScenarioError::at_span(
                file,
                "",
                None,
                "",
                "expected UTF-8 text, found UTF-16 (save the file as UTF-8)",
            )
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = super::error::line_column(valid, valid.len());
            Err(ScenarioError {
                file: file.to_owned(),
                line,
                column,
                path: String::new(),
                message: format!(
                    "expected UTF-8 text, found the byte 0x{:02x} (a binary file, or text in another encoding?)",
                    bytes[e.valid_up_to()]
                ),
                snippet: None,
            })
        }
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Parse and validate scenario text; `file` names it in errors.
pub fn parse(file: &str, source: &str) -> std::result::Result<Scenario, ScenarioError> {
    parse_with(file, source, Overrides::default())
}

/// [`parse`] with command-line overrides applied before validation.
pub fn parse_with(
    file: &str,
    source: &str,
    overrides: Overrides,
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
    Checker {
        file,
        source,
        duration_note,
        prefix: None,
    }
    .scenario(raw, source)
}

/// TOML syntax and types, with serde's key path.
fn deserialize(file: &str, source: &str) -> std::result::Result<ScenarioFile, ScenarioError> {
    if source.trim().is_empty() {
        return Err(ScenarioError {
            line: 1,
            column: 1,
            ..ScenarioError::at_span(
                file,
                source,
                None,
                "",
                "expected a scenario with at least a [meta] table (name and duration), found an empty file",
            )
        });
    }
    let de = toml::de::Deserializer::parse(source).map_err(|e| syntax_error(file, source, &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = key_path(e.path());
        let inner = e.inner();
        let raw = inner.message().trim_end();
        let (mut path, mut message) = explain(&path, raw);
        let span = inner.span();
        // A struct read from `[[meta]]`: serde takes the array as a tuple.
        let header = span.clone().and_then(|s| source.get(s.start..));
        if raw.starts_with("invalid type: map")
            && header.is_some_and(|h| h.starts_with("[["))
            && path.ends_with(']')
            && let Some((table, _)) = path.clone().rsplit_once('[')
        {
            message = format!("expected a table [{table}], found an array of tables [[{table}]]");
            path = table.to_owned();
        }
        ScenarioError::at_span(file, source, span, &path, message)
    })
}

/// serde's key path as the file writes it: `versions."v2.3.0".pool`, with
/// the keys that are not bare TOML keys quoted; empty at the top.
fn key_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        let key = match segment {
            Segment::Seq { index } => {
                out.push_str(&format!("[{index}]"));
                continue;
            }
            Segment::Map { key } | Segment::Enum { variant: key } => key.as_str(),
            Segment::Unknown => "?",
        };
        if !out.is_empty() {
            out.push('.');
        }
        let bare = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '?');
        if bare {
            out.push_str(key);
        } else {
            out.push_str(&format!("{key:?}"));
        }
    }
    out
}

/// The top-level keys of a scenario file, for a hint when one lands inside
/// a table.
const TOP_LEVEL: [&str; 12] = [
    "meta", "fleet", "traffic", "requests", "pool", "database", "job", "versions", "events",
    "alerts", "alerting", "targets",
];

/// The tables a `[versions."NAME"]` table may hold.
const VERSION_KEYS: [&str; 3] = ["requests", "pool", "job"];

/// Rephrase serde's messages in the "expected …, found …" form, with a
/// suggestion for misspelt keys.
fn explain(path: &str, message: &str) -> (String, String) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else if path == key || path.ends_with(&format!(".{key}")) {
            path.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let hint = match did_you_mean(key, &expected) {
            Some(s) => format!(" (did you mean `{s}`?)"),
            None if expected == VERSION_KEYS && TOP_LEVEL.contains(&key) => format!(
                " ({key} cannot vary by version: a version changes only [requests], [pool] and [job]; the rest is the same for every version)"
            ),
            None if !path.is_empty() && TOP_LEVEL.contains(&key) => {
                let table = path.strip_suffix(key).unwrap_or(path).trim_end_matches('.');
                format!(
                    " (keys after [{table}] belong to it: put `{key}` before the first table, or under its own [{key}] header)"
                )
            }
            None => String::new(),
        };
        let list = expected
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let expected = if list.is_empty() {
            "no keys here".to_owned()
        } else {
            format!("one of {list}")
        };
        return (
            join(key),
            format!("expected {expected}, found unknown key `{key}`{hint}"),
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default();
        if path.is_empty() && key == "meta" {
            return (
                key.to_owned(),
                "expected a [meta] table with at least name and duration, found none".to_owned(),
            );
        }
        return (
            join(key),
            format!("expected the required key `{key}`, found nothing"),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let found = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let hint = did_you_mean(found, &expected)
            .map(|s| format!(" (did you mean \"{s}\"?)"))
            .unwrap_or_default();
        let list = expected
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        return (
            path.to_owned(),
            format!("expected one of {list}, found \"{found}\"{hint}"),
        );
    }
    if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return (path.to_owned(), expected_found(expected, found));
    }
    (path.to_owned(), message.to_owned())
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
        }
    }

    /// An integer in `[min, max]`.
    fn int(&self, path: &str, v: Option<i64>, default: u32, min: i64, max: i64) -> Result<u32> {
        let Some(v) = v else { return Ok(default) };
        if v < min || v > max {
            return Err(self.err(
                path,
                format!("expected an integer from {min} to {max}, found {v}"),
            ));
        }
        Ok(v as u32)
    }

    /// A probability.
    fn probability(&self, path: &str, v: Option<f64>, default: f64) -> Result<f64> {
        let Some(v) = v else { return Ok(default) };
        if !(0.0..=1.0).contains(&v) {
            return Err(self.err(
                path,
                format!("expected a probability from 0 to 1, found {v}"),
            ));
        }
        Ok(v)
    }

    /// A duration where zero means "off".
    fn optional_duration(&self, v: Option<Duration>, default: SimTime) -> Option<SimTime> {
        let t = v.map_or(default, |d| d.0);
        (t > SimTime::ZERO).then_some(t)
    }

    /// A strictly positive duration.
    fn positive_duration(
        &self,
        path: &str,
        v: Option<Duration>,
        default: SimTime,
    ) -> Result<SimTime> {
        let t = v.map_or(default, |d| d.0);
        if t == SimTime::ZERO {
            return Err(self.err(path, "expected a duration above zero, found 0"));
        }
        Ok(t)
    }

    fn dist(&self, path: &str, v: Option<&DistFile>, default: Dist) -> Result<Dist> {
        let Some(f) = v else { return Ok(default) };
        let Some(kind) = f.dist else {
            return Err(self.err(
                path,
                "expected the key `dist` (\"exponential\", \"deterministic\", \"uniform\" or \"lognormal\"), found nothing",
            ));
        };
        let secs = |d: Option<Duration>| d.map(|d| d.0.as_secs_f64());
        let given: Vec<(&str, Option<f64>)> = vec![
            ("mean", secs(f.mean)),
            ("value", secs(f.value)),
            ("min", secs(f.min)),
            ("max", secs(f.max)),
            ("median", secs(f.median)),
            ("p99", secs(f.p99)),
        ];
        let (name, allowed): (&str, &[&[&str]]) = match kind {
            DistKind::Deterministic => ("deterministic", &[&["value"]]),
            DistKind::Exponential => ("exponential", &[&["mean"]]),
            DistKind::Uniform => ("uniform", &[&["min", "max"]]),
            DistKind::Lognormal => ("lognormal", &[&["median", "p99"], &["mean", "p99"]]),
        };
        let present: Vec<&str> = given
            .iter()
            .filter(|g| g.1.is_some())
            .map(|g| g.0)
            .collect();
        let Some(keys) = allowed.iter().find(|keys| {
            keys.iter().all(|k| present.contains(k)) && present.iter().all(|p| keys.contains(p))
        }) else {
            let wanted = allowed
                .iter()
                .map(|keys| keys.join(" and "))
                .collect::<Vec<_>>()
                .join(", or ");
            let found = if present.is_empty() {
                "none of them".to_owned()
            } else {
                present.join(", ")
            };
            return Err(self.err(
                path,
                format!(
                    "{} {name} distribution needs {wanted}; found {found}",
                    if name == "exponential" { "an" } else { "a" }
                ),
            ));
        };
        let get = |k: &str| {
            given
                .iter()
                .find(|g| g.0 == k)
                .and_then(|g| g.1)
                .unwrap_or(0.0)
        };
        let sub = |k: &str| format!("{path}.{k}");
        Ok(match kind {
            DistKind::Deterministic => Dist::Deterministic(get("value")),
            DistKind::Exponential => {
                let mean = get("mean");
                if mean <= 0.0 {
                    return Err(self.err(&sub("mean"), "expected a mean above zero, found 0"));
                }
                Dist::Exponential { mean }
            }
            DistKind::Uniform => {
                let (lo, hi) = (get("min"), get("max"));
                if lo > hi {
                    return Err(self.err(
                        &sub("max"),
                        format!("expected max ≥ min ({lo}s), found {hi}s"),
                    ));
                }
                Dist::Uniform { lo, hi }
            }
            DistKind::Lognormal => {
                let p99 = get("p99");
                if keys.contains(&"median") {
                    let median = get("median");
                    if median <= 0.0 || p99 <= median {
                        return Err(self.err(
                            &sub("p99"),
                            format!(
                                "expected 0 < median < p99, found median {median}s and p99 {p99}s"
                            ),
                        ));
                    }
                    Dist::lognormal_median_p99(median, p99)
                } else {
                    let mean = get("mean");
                    if mean <= 0.0 || p99 <= mean {
                        return Err(self.err(
                            &sub("p99"),
                            format!("expected 0 < mean < p99, found mean {mean}s and p99 {p99}s"),
                        ));
                    }
                    Dist::lognormal_mean_p99(mean, p99).ok_or_else(|| {
                        self.err(
                            &sub("p99"),
                            format!("expected p99 at most about 15 × the mean for a lognormal, found {p99}s with mean {mean}s (give median and p99 instead)"),
                        )
                    })?
                }
            }
        })
    }

    fn pool(&self, path: &str, f: &PoolFile, idle_default: SimTime) -> Result<PoolConfig> {
        let p = |k: &str| format!("{path}.{k}");
        let max = self.int(&p("max"), f.max, 10, 1, 100_000)?;
        let min = self.int(&p("min"), f.min, 0, 0, 100_000)?;
        if min > max {
            return Err(self.err(
                &p("min"),
                format!("expected min ≤ max ({max}), found {min}"),
            ));
        }
        let max_uses = self.int(&p("max_uses"), f.max_uses, 0, 0, i32::MAX as i64)?;
        let job_limit = match f.job_limit {
            None => None,
            Some(_) if path != "pool" => {
                return Err(self.err(
                    &p("job_limit"),
                    "expected job_limit only in [pool] (the reservation is for requests in the worker's shared pool), found it here",
                ));
            }
            Some(k) => Some(self.int(&p("job_limit"), Some(k), 0, 1, max as i64)?),
        };
        if f.queue.is_some() && path != "pool" {
            return Err(self.err(
                &p("queue"),
                "expected queue only in [pool] (requests and the job share only the worker's pool), found it here",
            ));
        }
        Ok(PoolConfig {
            max,
            min,
            idle_timeout: self.optional_duration(f.idle_timeout, idle_default),
            acquire_timeout: self.optional_duration(f.acquire_timeout, SimTime::ZERO),
            acquire_timeout_law: f.acquire_timeout_law.unwrap_or(PatienceLaw::Fixed),
            max_lifetime: self.optional_duration(f.max_lifetime, SimTime::ZERO),
            max_uses: (max_uses > 0).then_some(max_uses),
            error_listener: f.error_listener.unwrap_or(true),
            queue: f.queue.unwrap_or(QueueDiscipline::Fifo),
            job_limit,
        })
    }

    fn requests(&self, f: &RequestsFile) -> Result<Requests> {
        let default_hold = Dist::lognormal_mean_p99(0.050, 0.300).expect("valid default");
        Ok(Requests {
            checkouts: self.int("requests.checkouts", f.checkouts, 1, 1, 100)?,
            hold: self.dist("requests.hold", f.hold.as_ref(), default_hold)?,
            app_time: self.dist(
                "requests.app_time",
                f.app_time.as_ref(),
                Dist::Deterministic(0.0),
            )?,
            error_probability: self.probability(
                "requests.error_probability",
                f.error_probability,
                0.0,
            )?,
            error_destroys_client: f.error_destroys_client.unwrap_or(false),
            deadline: self
                .optional_duration(f.deadline, SimTime::from_secs(60))
                .unwrap_or(SimTime::NEVER),
            cancel_on_abort: f.cancel_on_abort.unwrap_or(false),
            cpu_fraction: self.probability("requests.cpu_fraction", f.cpu_fraction, 1.0)?,
        })
    }

    fn job(&self, f: &JobFile) -> Result<Option<Job>> {
        if f.enabled == Some(false) {
            return Ok(None);
        }
        let pool_mode = f.pool_mode.ok_or_else(|| {
            self.err(
                "job.pool_mode",
                "expected the required key `pool_mode` (\"shared\", \"own\", \"per_run\" or \"queue\"), found nothing",
            )
        })?;
        let release = f.release.ok_or_else(|| {
            self.err(
                "job.release",
                "expected the required key `release` (\"finally\" or \"leaky\"), found nothing",
            )
        })?;
        if pool_mode == JobPoolMode::Shared && f.pool.is_some() {
            return Err(self.err(
                "job.pool",
                "expected no [job.pool] table with pool_mode = \"shared\" (the job uses the worker's [pool]), found one",
            ));
        }
        let mut pool_file = f.pool.clone().unwrap_or_default();
        let fan_out = self.int("job.fan_out", f.fan_out, 1, 1, 10_000)?;
        if pool_mode == JobPoolMode::Queue {
            // One consumer per pod, holding one connection.
            if fan_out != 1 {
                return Err(self.err(
                    "job.fan_out",
                    format!("expected fan_out = 1 with pool_mode = \"queue\" (the consumer holds one connection), found {fan_out}"),
                ));
            }
            if pool_file.max.is_some_and(|m| m != 1) {
                return Err(self.err(
                    "job.pool.max",
                    format!("expected max = 1 with pool_mode = \"queue\" (the consumer holds one connection), found {}", pool_file.max.unwrap_or_default()),
                ));
            }
            pool_file.max = Some(1);
        }
        let pool = self.pool("job.pool", &pool_file, SimTime::from_secs(10))?;
        Ok(Some(Job {
            period: self.positive_duration("job.period", f.period, SimTime::from_secs(30))?,
            placement: f.runs_in.unwrap_or(JobPlacement::OneWorker),
            overlap: f.overlap.unwrap_or(true),
            fan_out,
            hold: self.dist(
                "job.hold",
                f.hold.as_ref(),
                Dist::lognormal_median_p99(2.0, 30.0),
            )?,
            error_probability: self.probability(
                "job.error_probability",
                f.error_probability,
                0.05,
            )?,
            pool_mode,
            release,
            leak_in_transaction: f.leak_in_transaction.unwrap_or(false),
            error_listener: f.error_listener.unwrap_or(false),
            pool,
        }))
    }

    fn database(&self, f: &DatabaseFile) -> Result<Database> {
        let max_connections = self.int(
            "database.max_connections",
            f.max_connections,
            500,
            1,
            262_143,
        )?;
        let superuser_reserved = self.int(
            "database.superuser_reserved_connections",
            f.superuser_reserved_connections,
            3,
            0,
            262_143,
        )?;
        let reserved = self.int(
            "database.reserved_connections",
            f.reserved_connections,
            0,
            0,
            262_143,
        )?;
        if superuser_reserved + reserved >= max_connections {
            let key = if f.reserved_connections.is_some() {
                "database.reserved_connections"
            } else {
                "database.superuser_reserved_connections"
            };
            return Err(self.err(
                key,
                format!(
                    "expected superuser_reserved_connections + reserved_connections below max_connections ({max_connections}), found {}",
                    superuser_reserved + reserved
                ),
            ));
        }
        let other_clients = self.int("database.other_clients", f.other_clients, 5, 0, 262_143)?;
        if other_clients > max_connections - superuser_reserved - reserved {
            return Err(self.err(
                "database.other_clients",
                format!(
                    "expected at most the {} usable slots, found {other_clients}",
                    max_connections - superuser_reserved - reserved
                ),
            ));
        }
        let reserve_check_at =
            self.probability("database.reserve_check_at", f.reserve_check_at, 0.85)?;
        let cpu = match (f.cpu_cores, f.cpu_contention) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(self.err(
                    "database.cpu_contention",
                    "expected database.cpu_cores with cpu_contention (contention is lost CPU), found no cpu_cores",
                ));
            }
            (Some(cores), contention) => {
                let cores = self.int("database.cpu_cores", Some(cores), 0, 1, 100_000)?;
                let contention = contention.unwrap_or(0.0);
                if !(0.0..=1.0).contains(&contention) {
                    return Err(self.err(
                        "database.cpu_contention",
                        format!("expected a fraction from 0 to 1 (of a core's work lost per active query beyond the cores), found {contention}"),
                    ));
                }
                Some(Cpu { cores, contention })
            }
        };
        Ok(Database {
            max_connections,
            superuser_reserved,
            reserved,
            other_clients,
            setup: self.dist(
                "database.setup",
                f.setup.as_ref(),
                Dist::lognormal_median_p99(0.0093, 0.015),
            )?,
            reserve_check_at,
            too_many_clients_delay: self.dist(
                "database.too_many_clients_delay",
                f.too_many_clients_delay.as_ref(),
                Dist::lognormal_median_p99(0.0023, 0.0054),
            )?,
            idle_session_timeout: self.optional_duration(f.idle_session_timeout, SimTime::ZERO),
            idle_in_transaction_timeout: self
                .optional_duration(f.idle_in_transaction_session_timeout, SimTime::ZERO),
            cpu,
        })
    }

    /// The `[pooler]` table: PgBouncer's defaults (doc/config.md).
    fn pooler(&self, f: &PoolerFile, database: &Database) -> Result<PoolerConfig> {
        Ok(PoolerConfig {
            pool_size: self.int("pooler.pool_size", f.pool_size, 20, 1, 100_000)?,
            query_wait_timeout: self
                .optional_duration(f.query_wait_timeout, SimTime::from_secs(120)),
            server_idle_timeout: self
                .optional_duration(f.server_idle_timeout, SimTime::from_secs(600)),
            server_login_retry: f.server_login_retry.map_or(SimTime::from_secs(15), |d| d.0),
            client_setup: self.dist(
                "pooler.client_setup",
                f.client_setup.as_ref(),
                database.setup,
            )?,
        })
    }

    /// The rate profile from `[traffic]` and the traffic events, given as
    /// `(at, rate, ramp, key path)`.
    fn traffic(
        &self,
        f: &TrafficFile,
        duration: SimTime,
        events: &[(SimTime, f64, SimTime, String)],
    ) -> Result<Traffic> {
        let rate = f.rate.map_or(400.0, |r| r.0);
        let mut changes: Vec<(SimTime, f64, SimTime, String)> = f
            .profile
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| {
                let ramp = c.ramp.map_or(SimTime::ZERO, |r| r.0);
                (c.at.0, c.rate.0, ramp, format!("traffic.profile[{i}].at"))
            })
            .collect();
        changes.extend(events.iter().cloned());
        changes.sort_by_key(|c| c.0);
        let mut points = vec![(0.0, rate)];
        let mut last_end = 0.0;
        for (at, new_rate, ramp, path) in changes {
            if at >= duration {
                return Err(self.err(
                    &path,
                    format!(
                        "expected a time before the end of the run ({duration}{}), found {at}",
                        self.duration_note
                    ),
                ));
            }
            let (at, ramp) = (at.as_secs_f64(), ramp.as_secs_f64());
            if at < last_end {
                return Err(self.err(
                    &path,
                    format!("expected rate changes that do not overlap (the previous ramp ends at {last_end}s), found one starting at {at}s"),
                ));
            }
            let current = points.last().map_or(rate, |p| p.1);
            points.push((at, current));
            points.push((at + ramp, new_rate));
            last_end = at + ramp;
        }
        Ok(Traffic {
            arrivals: f.arrivals.unwrap_or(ArrivalProcess::Poisson),
            rate_points: points,
        })
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
            traffic: self.traffic(&raw.traffic, duration, &traffic_changes)?,
            fleet,
            versions,
            database,
            start_clock,
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
            hash: source_hash(source),
            warnings,
        })
    }

    /// The application of one version: the base tables with the version's
    /// keys on top.
    fn app(&self, requests: &RequestsFile, pool: &PoolFile, job: Option<&JobFile>) -> Result<App> {
        let app = App {
            requests: self.requests(requests)?,
            pool: self.pool("pool", pool, SimTime::from_secs(30))?,
            job: job.map(|j| self.job(j)).transpose()?.flatten(),
        };
        if let (Some(k), Some(job)) = (app.pool.job_limit, &app.job)
            && job.pool_mode == JobPoolMode::Shared
            && job.fan_out > k
        {
            return Err(self.err(
                "pool.job_limit",
                format!(
                    "expected a job_limit of at least job.fan_out ({}): a run holding {k} clients would wait for its next one for ever, found {k}",
                    job.fan_out
                ),
            ));
        }
        Ok(app)
    }

    /// The initial version (named by `meta.version`) first, then the others
    /// in name order.
    fn versions(&self, raw: &ScenarioFile) -> Result<Vec<Version>> {
        let initial = raw
            .meta
            .version
            .clone()
            .unwrap_or_else(|| "initial".to_owned());
        // The initial version runs the base tables, with its own overrides
        // if [versions] declares it: it need not be declared.
        let declared = raw.versions.clone().unwrap_or_default();
        let mut order = vec![initial.clone()];
        order.extend(declared.keys().filter(|k| **k != initial).cloned());
        let mut versions = Vec::new();
        let mut job_modes = Vec::new();
        for name in order {
            let over = declared.get(&name).cloned().unwrap_or_default();
            let requests = overlay_requests(&raw.requests, over.requests.as_ref());
            let pool = overlay_pool(&raw.pool, over.pool.as_ref());
            let job = overlay_job(raw.job.as_ref(), over.job.as_ref());
            let app = self
                .for_version(&name)
                .app(&requests, &pool, job.as_ref())?;
            job_modes.push(job.and_then(|j| j.pool_mode));
            versions.push(Version { name, app });
        }
        self.job_limit_applies(&versions, &job_modes)?;
        Ok(versions)
    }

    /// `pool.job_limit` caps what the job takes from the worker's pool: it
    /// is refused where no version runs the job there, as it would change
    /// nothing. `modes` are the versions' `job.pool_mode`, job disabled or
    /// not.
    fn job_limit_applies(&self, versions: &[Version], modes: &[Option<JobPoolMode>]) -> Result<()> {
        let mut limited = versions
            .iter()
            .zip(modes)
            .filter(|(v, _)| v.app.pool.job_limit.is_some());
        if limited
            .clone()
            .any(|(_, mode)| *mode == Some(JobPoolMode::Shared))
        {
            return Ok(());
        }
        let Some((version, mode)) = limited.next() else {
            return Ok(());
        };
        let found = match mode {
            Some(mode) => format!("pool_mode = {}", serde_json::json!(mode)),
            None => "no [job]".to_owned(),
        };
        Err(self.for_version(&version.name).err(
            "pool.job_limit",
            format!(
                "expected job_limit only with a job in the worker's pool (job.pool_mode = \"shared\"), whose share of that pool it caps, found {found}"
            ),
        ))
    }

    /// Valid but likely wrong: a job whose nested checkouts need more
    /// clients than its pool has can deadlock on every run.
    fn warnings(&self, versions: &[Version]) -> Vec<ScenarioWarning> {
        let mut warnings: Vec<ScenarioWarning> = Vec::new();
        for version in versions {
            let app = &version.app;
            let Some(job) = &app.job else { continue };
            let (pool, whose) = match job.pool_mode {
                JobPoolMode::Shared => (&app.pool, "the worker's pool (pool.max"),
                JobPoolMode::Own | JobPoolMode::PerRun => {
                    (&job.pool, "the job's pool (job.pool.max")
                }
                JobPoolMode::Queue => continue,
            };
            if job.fan_out <= pool.max {
                continue;
            }
            let wait = match pool.acquire_timeout {
                Some(t) => format!("until its acquire times out after {t}"),
                None => "for ever (no acquire_timeout)".to_owned(),
            };
            let starved = if job.pool_mode == JobPoolMode::Shared {
                ", starving the requests,"
            } else {
                ""
            };
            let warning = self.for_version(&version.name).err(
                "job.fan_out",
                format!(
                    "a run checks out {} clients one after the other from {whose} = {}): it can never hold them all, and can deadlock holding all {} of them{starved} while it waits for one more {wait}",
                    job.fan_out, pool.max, pool.max
                ),
            );
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        warnings
    }

    /// A time of the timeline, resolved against the start clock.
    fn at(
        &self,
        path: &str,
        at: TimeSpec,
        start: Option<ClockTime>,
        duration: SimTime,
    ) -> Result<SimTime> {
        let t = match at {
            TimeSpec::Offset(d) => d.0,
            TimeSpec::Clock(clock) => {
                let Some(start) = start else {
                    return Err(self.err(
                        path,
                        format!("expected a time after the start like \"15m\" (or set meta.start to use times of day), found \"{clock}\""),
                    ));
                };
                clock.since(start)
            }
        };
        if t > duration {
            return Err(self.err(
                path,
                format!("expected a time within the run (it lasts {duration}{}), found {t} after the start", self.duration_note),
            ));
        }
        Ok(t)
    }

    /// The timeline, and its traffic changes for the rate profile.
    #[allow(clippy::type_complexity)]
    fn events(
        &self,
        raw: &ScenarioFile,
        versions: &[Version],
        fleet: &Fleet,
        duration: SimTime,
        start: Option<ClockTime>,
    ) -> Result<(Vec<TimelineEvent>, Vec<(SimTime, f64, SimTime, String)>)> {
        let mut events = Vec::new();
        let mut traffic = Vec::new();
        let mut deployed = false;
        let mut timed: Vec<(SimTime, usize)> = Vec::new();
        for (i, e) in raw.events.iter().flatten().enumerate() {
            timed.push((
                self.at(&format!("events[{i}].at"), e.at, start, duration)?,
                i,
            ));
        }
        timed.sort();
        for (at, i) in timed {
            let e = &raw.events.as_ref().expect("events")[i];
            let key = |k: &str| format!("events[{i}].{k}");
            let allowed: &[&str] = match e.kind {
                EventKind::Deploy => &[
                    "version",
                    "strategy",
                    "max_surge",
                    "max_unavailable",
                    "pod_startup",
                    "canary_pods",
                    "canary_pause",
                ],
                EventKind::Rollback => &[
                    "strategy",
                    "max_surge",
                    "max_unavailable",
                    "pod_startup",
                    "canary_pods",
                    "canary_pause",
                ],
                EventKind::Traffic => &["rate", "ramp"],
                EventKind::Job => &["enabled"],
                EventKind::Server => &[
                    "idle_session_timeout",
                    "idle_in_transaction_session_timeout",
                ],
                EventKind::Restart => &["pod", "pod_startup"],
            };
            self.only_keys(e, allowed, &key)?;
            let action = match e.kind {
                EventKind::Deploy | EventKind::Rollback => {
                    let rollout = self.rollout(e, fleet, &key)?;
                    if e.kind == EventKind::Rollback {
                        if !deployed {
                            return Err(self.err(&key("kind"), "expected a deploy before this rollback, found none"));
                        }
                        Action::Rollback { rollout }
                    } else {
                        let name = e.version.clone().ok_or_else(|| {
                            self.err(&key("kind"), "expected the key `version` for a deploy, found nothing")
                        })?;
                        let names: Vec<&str> = versions.iter().map(|v| v.name.as_str()).collect();
                        let Some(version) = names.iter().position(|n| *n == name) else {
                            let hint = did_you_mean(&name, &names).map(|n| format!(" (did you mean \"{n}\"?)")).unwrap_or_default();
                            return Err(self.err(
                                &key("version"),
                                format!("expected one of the versions {}, found \"{name}\"{hint}", names.join(", ")),
                            ));
                        };
                        deployed = true;
                        Action::Deploy { version, rollout }
                    }
                }
                EventKind::Traffic => {
                    let rate = e.rate.ok_or_else(|| self.err(&key("kind"), "expected the key `rate` for a traffic change, found nothing"))?;
                    let ramp = e.ramp.map_or(SimTime::ZERO, |r| r.0);
                    traffic.push((at, rate.0, ramp, key("at")));
                    Action::Traffic { rate: rate.0, ramp }
                }
                EventKind::Job => Action::Job {
                    enabled: e.enabled.ok_or_else(|| self.err(&key("kind"), "expected the key `enabled` (true or false) for a job event, found nothing"))?,
                },
                EventKind::Server => {
                    if e.idle_session_timeout.is_none() && e.idle_in_transaction_session_timeout.is_none() {
                        return Err(self.err(&key("kind"), "expected `idle_session_timeout` or `idle_in_transaction_session_timeout` for a server event, found neither"));
                    }
                    let off_or = |d: Option<Duration>| d.map(|d| (d.0 > SimTime::ZERO).then_some(d.0));
                    Action::Server {
                        idle_session_timeout: off_or(e.idle_session_timeout),
                        idle_in_transaction_timeout: off_or(e.idle_in_transaction_session_timeout),
                    }
                }
                EventKind::Restart => Action::Restart {
                    pod: self.int(&key("pod"), e.pod, 0, 0, fleet.pods as i64 - 1)?,
                    pod_startup: e.pod_startup.map_or(SimTime::from_secs(20), |d| d.0),
                },
            };
            events.push(TimelineEvent { at, action });
        }
        Ok((events, traffic))
    }

    /// Reject keys that do not apply to this kind of event.
    fn only_keys(
        &self,
        e: &EventFile,
        allowed: &[&str],
        key: &dyn Fn(&str) -> String,
    ) -> Result<()> {
        let present = [
            ("version", e.version.is_some()),
            ("strategy", e.strategy.is_some()),
            ("max_surge", e.max_surge.is_some()),
            ("max_unavailable", e.max_unavailable.is_some()),
            ("pod_startup", e.pod_startup.is_some()),
            ("canary_pods", e.canary_pods.is_some()),
            ("canary_pause", e.canary_pause.is_some()),
            ("rate", e.rate.is_some()),
            ("ramp", e.ramp.is_some()),
            ("enabled", e.enabled.is_some()),
            ("idle_session_timeout", e.idle_session_timeout.is_some()),
            (
                "idle_in_transaction_session_timeout",
                e.idle_in_transaction_session_timeout.is_some(),
            ),
            ("pod", e.pod.is_some()),
        ];
        for (name, given) in present {
            if given && !allowed.contains(&name) {
                let kind = serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                return Err(self.err(
                    &key(name),
                    format!(
                        "expected only {} for a {kind} event, found `{name}`",
                        allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn rollout(
        &self,
        e: &EventFile,
        fleet: &Fleet,
        key: &dyn Fn(&str) -> String,
    ) -> Result<Rollout> {
        let strategy = e.strategy.unwrap_or(Strategy::Rolling);
        let pod_startup = e.pod_startup.map_or(SimTime::from_secs(20), |d| d.0);
        let mut r = Rollout::kubernetes_default(fleet.pods, pod_startup);
        r.strategy = strategy;
        if let Some(s) = e.max_surge {
            r.max_surge = s.of(fleet.pods, true);
        }
        if let Some(u) = e.max_unavailable {
            r.max_unavailable = u.of(fleet.pods, false);
        }
        if strategy == Strategy::AllAtOnce {
            r.max_surge = fleet.pods;
            r.max_unavailable = 0;
        }
        let written_zero = |p: Option<Percent>| p.is_some_and(Percent::is_zero);
        if strategy != Strategy::AllAtOnce
            && written_zero(e.max_surge)
            && written_zero(e.max_unavailable)
        {
            return Err(self.err(&key("max_surge"), "expected max_surge or max_unavailable above zero (Kubernetes refuses both at zero), found both zero"));
        }
        let mut r = r.resolve_fenceposts();
        if strategy == Strategy::Canary {
            r.canary_pods =
                self.int(&key("canary_pods"), e.canary_pods, 1, 1, fleet.pods as i64)?;
            r.canary_pause = e.canary_pause.map_or(SimTime::from_secs(300), |d| d.0);
        } else if e.canary_pods.is_some() || e.canary_pause.is_some() {
            return Err(self.err(&key("canary_pods"), "expected canary_pods and canary_pause only with strategy = \"canary\", found them with another strategy"));
        }
        Ok(r)
    }

    fn alerts(&self, raw: &[AlertFile], sample_interval: SimTime) -> Result<Vec<AlertRule>> {
        let mut names: Vec<&str> = Vec::new();
        raw.iter()
            .enumerate()
            .map(|(i, a)| {
                let key = |k: &str| format!("alerts[{i}].{k}");
                if a.name.trim().is_empty() || names.contains(&a.name.as_str()) {
                    return Err(self.err(&key("name"), format!("expected a unique, non-empty alert name, found \"{}\"", a.name)));
                }
                names.push(&a.name);
                if !a.threshold.is_finite() {
                    return Err(self.err(&key("threshold"), format!("expected a finite number, found {}", a.threshold)));
                }
                let window = a.window.map_or(SimTime::from_secs(60), |d| d.0);
                if window < sample_interval {
                    return Err(self.err(&key("window"), format!("expected a window of at least one sample interval ({sample_interval}), found {window}")));
                }
                Ok(AlertRule {
                    name: a.name.clone(),
                    metric: a.metric,
                    op: a.op,
                    threshold: a.threshold,
                    window,
                    for_: a.for_.map_or(SimTime::ZERO, |d| d.0),
                    severity: a.severity.clone().unwrap_or_default(),
                })
            })
            .collect()
    }
}

impl Checker<'_> {
    fn targets(
        &self,
        raw: &ScenarioFile,
        start: Option<ClockTime>,
        duration: SimTime,
    ) -> Result<Vec<Target>> {
        let alerts: Vec<&str> = raw
            .alerts
            .iter()
            .flatten()
            .map(|a| a.name.as_str())
            .collect();
        raw.targets
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| {
                let key = |k: &str| format!("targets[{i}].{k}");
                let window = (t.metric, t.from, t.to, t.expected);
                let check = match (window, &t.alert, t.expected_at) {
                    ((Some(metric), Some(from), Some(to), Some(expected)), None, None) => {
                        let (from, to) = (self.at(&key("from"), from, start, duration)?, self.at(&key("to"), to, start, duration)?);
                        if from >= to {
                            return Err(self.err(&key("to"), format!("expected a window end after its start ({from}), found {to}")));
                        }
                        if !expected.is_finite() {
                            return Err(self.err(&key("expected"), format!("expected a finite number, found {expected}")));
                        }
                        TargetCheck::Window { metric, from, to, expected }
                    }
                    ((None, None, None, None), Some(alert), Some(at)) => {
                        if !alerts.contains(&alert.as_str()) {
                            let hint = did_you_mean(alert, &alerts).map(|n| format!(" (did you mean \"{n}\"?)")).unwrap_or_default();
                            return Err(self.err(&key("alert"), format!("expected the name of an [[alerts]] rule, found \"{alert}\"{hint}")));
                        }
                        TargetCheck::AlertFires { alert: alert.clone(), at: self.at(&key("expected_at"), at, start, duration)? }
                    }
                    _ => {
                        return Err(self.err(
                            &key("label"),
                            "expected either `metric`, `from`, `to` and `expected`, or `alert` and `expected_at`, found another combination",
                        ));
                    }
                };
                Ok(Target { label: t.label.clone(), check, note: t.note.clone().unwrap_or_default() })
            })
            .collect()
    }
}

/// `over`'s keys on top of `base`'s.
fn overlay_requests(base: &RequestsFile, over: Option<&RequestsFile>) -> RequestsFile {
    let Some(o) = over else { return base.clone() };
    RequestsFile {
        checkouts: o.checkouts.or(base.checkouts),
        hold: o.hold.clone().or_else(|| base.hold.clone()),
        app_time: o.app_time.clone().or_else(|| base.app_time.clone()),
        error_probability: o.error_probability.or(base.error_probability),
        error_destroys_client: o.error_destroys_client.or(base.error_destroys_client),
        deadline: o.deadline.or(base.deadline),
        cancel_on_abort: o.cancel_on_abort.or(base.cancel_on_abort),
        cpu_fraction: o.cpu_fraction.or(base.cpu_fraction),
    }
}

/// `over`'s keys on top of `base`'s.
fn overlay_pool(base: &PoolFile, over: Option<&PoolFile>) -> PoolFile {
    let Some(o) = over else { return base.clone() };
    PoolFile {
        max: o.max.or(base.max),
        min: o.min.or(base.min),
        idle_timeout: o.idle_timeout.or(base.idle_timeout),
        acquire_timeout: o.acquire_timeout.or(base.acquire_timeout),
        acquire_timeout_law: o.acquire_timeout_law.or(base.acquire_timeout_law),
        max_lifetime: o.max_lifetime.or(base.max_lifetime),
        max_uses: o.max_uses.or(base.max_uses),
        error_listener: o.error_listener.or(base.error_listener),
        queue: o.queue.or(base.queue),
        job_limit: o.job_limit.or(base.job_limit),
    }
}

/// `over`'s keys on top of `base`'s; a version may add a job the base lacks.
fn overlay_job(base: Option<&JobFile>, over: Option<&JobFile>) -> Option<JobFile> {
    let (b, o) = match (base, over) {
        (b, None) => return b.cloned(),
        (None, Some(o)) => return Some(o.clone()),
        (Some(b), Some(o)) => (b, o),
    };
    Some(JobFile {
        enabled: o.enabled.or(b.enabled),
        period: o.period.or(b.period),
        runs_in: o.runs_in.or(b.runs_in),
        overlap: o.overlap.or(b.overlap),
        fan_out: o.fan_out.or(b.fan_out),
        hold: o.hold.clone().or_else(|| b.hold.clone()),
        error_probability: o.error_probability.or(b.error_probability),
        pool_mode: o.pool_mode.or(b.pool_mode),
        release: o.release.or(b.release),
        leak_in_transaction: o.leak_in_transaction.or(b.leak_in_transaction),
        error_listener: o.error_listener.or(b.error_listener),
        pool: match (&b.pool, &o.pool) {
            (Some(bp), op) => Some(overlay_pool(bp, op.as_ref())),
            (None, op) => op.clone(),
        },
    })
}

/// FNV-1a over the source bytes, as 16 hex digits.
pub fn source_hash(source: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in source.bytes() {
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
