//! From text to a validated [`Scenario`]: parse, deserialize, apply the
//! defaults of model-semantics.md §6.2 and check every value, reporting the
//! first problem with its file, line, column and key path.

use super::error::{ScenarioError, did_you_mean};
use super::file::*;
use super::locate::span_of;
use super::units::Duration;
use super::*;
use crate::dist::Dist;
use crate::engine::SimTime;
use std::path::Path;

/// Largest scenario file read (a scenario is a page of text).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

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
pub fn read_source(path: &Path) -> std::result::Result<String, ScenarioError> {
    let name = path.display().to_string();
    let whole = |message: String| ScenarioError::at_span(&name, "", None, "", message);
    let meta = std::fs::metadata(path)
        .map_err(|e| whole(format!("cannot read the file: {}", io_reason(&e))))?;
    if meta.is_dir() {
        return Err(whole("expected a scenario file, found a directory".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(whole(format!(
            "expected a scenario file of at most 1 MiB, found {:.1} MiB",
            meta.len() as f64 / 1048576.0
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| whole(format!("cannot read the file: {}", io_reason(&e))))?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = super::error::line_column(valid, valid.len());
            Err(ScenarioError {
                file: name,
                line,
                column,
                path: String::new(),
                message: format!(
                    "expected UTF-8 text, found the byte 0x{:02x} (is this a binary file?)",
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
        " (the duration comes from --duration)"
    } else {
        ""
    };
    Checker {
        file,
        source,
        duration_note,
    }
    .scenario(raw, source)
}

/// TOML syntax and types, with serde's key path.
fn deserialize(file: &str, source: &str) -> std::result::Result<ScenarioFile, ScenarioError> {
    if source.trim().is_empty() {
        return Err(ScenarioError::at_span(
            file,
            source,
            None,
            "",
            "expected a scenario with at least a [meta] table (name and duration), found an empty file",
        ));
    }
    let de = toml::de::Deserializer::parse(source).map_err(|e| {
        ScenarioError::at_span(
            file,
            source,
            e.span(),
            "",
            format!("invalid TOML: {}", e.message().trim_end()),
        )
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let mut path = e.path().to_string();
        if path == "." {
            path.clear();
        }
        let inner = e.inner();
        let (path, message) = explain(&path, inner.message().trim_end());
        ScenarioError::at_span(file, source, inner.span(), &path, message)
    })
}

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
        let hint = did_you_mean(key, &expected)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
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
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return (
            path.to_owned(),
            format!("expected {expected}, found {found}"),
        );
    }
    (path.to_owned(), message.to_owned())
}

/// Applies defaults and range checks; every error is located by key path.
struct Checker<'a> {
    file: &'a str,
    source: &'a str,
    /// Added to errors that compare with the duration.
    duration_note: &'a str,
}

type Result<T> = std::result::Result<T, ScenarioError>;

impl Checker<'_> {
    fn err(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at_span(
            self.file,
            self.source,
            span_of(self.source, path),
            path,
            message,
        )
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
        Ok(PoolConfig {
            max,
            min,
            idle_timeout: self.optional_duration(f.idle_timeout, idle_default),
            acquire_timeout: self.optional_duration(f.acquire_timeout, SimTime::ZERO),
            acquire_timeout_law: f.acquire_timeout_law.unwrap_or(PatienceLaw::Fixed),
            max_lifetime: self.optional_duration(f.max_lifetime, SimTime::ZERO),
            max_uses: (max_uses > 0).then_some(max_uses),
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
        })
    }

    fn job(&self, f: &JobFile) -> Result<Option<Job>> {
        if f.enabled == Some(false) {
            return Ok(None);
        }
        let pool_mode = f.pool_mode.ok_or_else(|| {
            self.err(
                "job.pool_mode",
                "expected the required key `pool_mode` (\"shared\", \"own\" or \"per_run\"), found nothing",
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
        let pool = self.pool(
            "job.pool",
            &f.pool.clone().unwrap_or_default(),
            SimTime::from_secs(10),
        )?;
        let fan_out = self.int("job.fan_out", f.fan_out, 1, 1, 10_000)?;
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
        })
    }

    fn traffic(&self, f: &TrafficFile, duration: SimTime) -> Result<Traffic> {
        let rate = f.rate.map_or(400.0, |r| r.0);
        let mut points = vec![(0.0, rate)];
        let mut last_end = 0.0;
        for (i, change) in f.profile.iter().flatten().enumerate() {
            let at = change.at.0.as_secs_f64();
            if change.at.0 >= duration {
                return Err(self.err(
                    &format!("traffic.profile[{i}].at"),
                    format!(
                        "expected a time before the end of the run ({duration}{}), found {}",
                        self.duration_note, change.at
                    ),
                ));
            }
            if at < last_end {
                return Err(self.err(
                    &format!("traffic.profile[{i}].at"),
                    format!("expected changes in time order, each after the previous ramp ends ({}s), found {}", last_end, change.at),
                ));
            }
            let ramp = change.ramp.map_or(0.0, |r| r.0.as_secs_f64());
            let current = points.last().map_or(rate, |p| p.1);
            points.push((at, current));
            points.push((at + ramp, change.rate.0));
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
        {
            return Err(self.err(
                "meta.name",
                format!("expected a name usable as a folder name (no slashes, not starting with a dot), found \"{}\"", meta.name),
            ));
        }
        let duration = meta.duration.0;
        if duration == SimTime::ZERO {
            return Err(self.err("meta.duration", "expected a duration above zero, found 0"));
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
        };
        let app = App {
            requests: self.requests(&raw.requests)?,
            pool: self.pool("pool", &raw.pool, SimTime::from_secs(30))?,
            job: raw.job.as_ref().map(|j| self.job(j)).transpose()?.flatten(),
        };
        Ok(Scenario {
            name: meta.name.clone(),
            description: meta.description.clone().unwrap_or_default(),
            duration,
            seed: meta.seed.unwrap_or(1),
            warmup,
            sample_interval,
            traffic: self.traffic(&raw.traffic, duration)?,
            fleet,
            app,
            database: self.database(&raw.database)?,
            hash: source_hash(source),
        })
    }
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
        assert_eq!(s.app.pool.max, 10);
        assert_eq!(s.app.pool.idle_timeout, Some(SimTime::from_secs(30)));
        assert_eq!(s.app.pool.acquire_timeout, None);
        assert_eq!(s.database.usable_slots(), 497);
        assert_eq!(s.app.requests.deadline, SimTime::from_secs(60));
        assert!((s.app.requests.hold.mean() - 0.050).abs() < 1e-12);
        assert!(s.app.job.is_none());
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
        assert_eq!((e.line, e.path.as_str()), (1, ""));
        assert!(e.message.starts_with("invalid TOML"), "{e}");
        let e = parse("s.toml", "[meta]\nname = \"x\"\n").unwrap_err();
        assert_eq!(e.path, "meta.duration");
        assert!(e.message.contains("required key `duration`"), "{e}");
        let e = parse("s.toml", "").unwrap_err();
        assert!(e.message.contains("empty file"), "{e}");
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
        let job = s.app.job.as_ref().unwrap();
        assert_eq!(job.pool.idle_timeout, Some(SimTime::from_secs(10)));
        assert_eq!(job.period, SimTime::from_secs(30));
        assert_eq!(s.possible_connections(), 800 + 200);
    }
}
