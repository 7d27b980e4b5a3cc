//! Values set over a scenario file's by their dotted key paths: the
//! `--set KEY=VALUE` of `run` and the browser page's `?pool.max=6`, and the
//! key-path setting a sweep's grid points use.
//!
//! A set is written into the parsed TOML table, the table re-serialised and
//! validated as any file is; an error is reported at the key's place in the
//! original file. The scenario hash of a run with sets is the FNV-1a hash
//! of the file's hash (which covers its data files) followed by the sorted
//! `key=value` lines ([`hash_with`]), so that the same file and sets give
//! the same summary
//! wherever they run.

pub mod key_path;
pub mod value;

use super::Scenario;
use super::error::ScenarioError;
use super::locate::span_of;
use super::resolve::Resolve;
use super::validate::{Overrides, parse_with_files, source_hash};
use key_path::{Step, set, steps, table_at};
use std::fmt;
use value::Value;

/// One `--set KEY=VALUE`: a key path and the TOML value written there.
#[derive(Clone, Debug, PartialEq)]
pub struct Set {
    /// The dotted key path: `pool.max`, `versions."v2.3.1".job.fan_out`.
    pub path: String,
    /// The value in the file's units: `6`, `"shared"`, `"600s"`.
    pub value: toml::Value,
}

impl fmt::Display for Set {
    /// `pool.max=6`, `job.pool_mode="shared"`: the line hashed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.path, self.value)
    }
}

/// Parse one `KEY=VALUE`: the value is an integer, a number, a duration, a
/// rate (as a sweep reads them), `true` or `false`, a word (`shared`) or a
/// quoted string. Errors start with `--set KEY=VALUE: `.
pub fn parse_set(option: &str) -> Result<Set, String> {
    let fail = |message: String| format!("--set {option}: {message}");
    let Some((path, text)) = option.split_once('=') else {
        return Err(fail(
            "expected KEY=VALUE, as in pool.max=6 or job.pool_mode=shared".into(),
        ));
    };
    let path = path.trim();
    steps(path).map_err(fail)?;
    if path == "meta.seed" {
        return Err(fail(
            "expected a model setting, found the seed (use --seed)".into(),
        ));
    }
    // The hash covers the data files the file names, with their bytes; a
    // set naming another file would leave its bytes out.
    if path.split('.').any(|k| k == "rate_from") || path.starts_with("observed") {
        return Err(fail(
            "expected a model setting, found a data file's key (name the file in the scenario)"
                .into(),
        ));
    }
    let text = text.trim();
    let quoted = text.len() >= 2 && text.starts_with('"') && text.ends_with('"');
    if !quoted && (text.contains(',') || text.contains("..")) {
        return Err(fail(format!(
            "expected one value (sweep takes lists and ranges), found \"{text}\""
        )));
    }
    let value = match Value::parse(text) {
        Ok(v) => v.kind().toml_value(v.stored()),
        Err(_) if text == "true" || text == "false" => toml::Value::Boolean(text == "true"),
        Err(_) if is_word(text) => toml::Value::String(text.to_owned()),
        Err(_) if quoted => toml::Value::String(text[1..text.len() - 1].to_owned()),
        Err(found) => {
            return Err(fail(format!(
                "expected an integer, a number, a duration like \"10s\", a rate like \"100/s\", true, false or a word like shared, found {found}"
            )));
        }
    };
    Ok(Set {
        path: path.to_owned(),
        value,
    })
}

/// Letters, digits, `_` and `-`: an enum's value (`shared`, `one_worker`).
fn is_word(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// `source` with `sets` written in, as TOML text. Each key at most once.
/// An error names the key path it is about (empty for the whole file).
pub fn apply(source: &str, sets: &[Set]) -> Result<String, (String, String)> {
    let mut table: toml::Table = toml::from_str(source)
        .map_err(|e| (String::new(), format!("not a TOML table: {}", e.message())))?;
    for (i, s) in sets.iter().enumerate() {
        let fail = |m: String| (s.path.clone(), format!("--set {s}: {m}"));
        if sets[..i].iter().any(|t| t.path == s.path) {
            return Err(fail(format!(
                "expected each key once, found {} twice",
                s.path
            )));
        }
        let path = steps(&s.path).map_err(fail)?;
        set(&mut table, &path, s.value.clone()).map_err(fail)?;
        drop_own_job_pool(&mut table, &path, &s.value);
    }
    toml::to_string(&table).map_err(|e| (String::new(), format!("cannot write the scenario: {e}")))
}

/// A job set to share the worker's pool (`job.pool_mode=shared`) keeps no
/// `[job.pool]` of its own: the job then uses `[pool]`, and validation
/// refuses a job pool table beside `pool_mode = "shared"`.
fn drop_own_job_pool(table: &mut toml::Table, path: &[Step], value: &toml::Value) {
    let Some((Step::Key(last), parent)) = path.split_last() else {
        return;
    };
    let is_job = matches!(parent.last(), Some(Step::Key(k)) if k == "job");
    if last == "pool_mode"
        && is_job
        && value.as_str() == Some("shared")
        && let Some(job) = table_at(table, parent)
    {
        job.remove("pool");
    }
}

/// The scenario hash of a file whose own hash (covering its data files) is
/// `file`, run with `sets`: `file` without sets, else the FNV-1a hash of
/// `file` and the sets' `key=value` lines in sorted order, each ending in a
/// newline.
pub fn hash_with(file: &str, sets: &[Set]) -> String {
    if sets.is_empty() {
        return file.to_owned();
    }
    let mut lines: Vec<String> = sets.iter().map(|s| format!("{s}\n")).collect();
    lines.sort();
    source_hash(&format!("{file}\n{}", lines.concat()))
}

/// Parse and validate `source` with `sets` written in and `overrides`
/// applied, reading the data files it names through `files`; `file` names
/// it in errors, which point into `source` at the key a set changed. The
/// scenario's hash is [`hash_with`]'s.
pub fn parse_with_sets(
    file: &str,
    source: &str,
    sets: &[Set],
    overrides: Overrides,
    files: &dyn Resolve,
) -> Result<Scenario, ScenarioError> {
    // The file as written first, so that its own mistakes are located.
    let base = parse_with_files(file, source, overrides, files)?;
    if sets.is_empty() {
        return Ok(base);
    }
    let at = |path: &str, message: String| {
        ScenarioError::at_span(file, source, span_of(source, path), path, message)
    };
    let text = apply(source, sets).map_err(|(path, m)| at(&path, m))?;
    let mut scenario = parse_with_files(file, &text, overrides, files).map_err(|e| {
        let with: Vec<String> = sets
            .iter()
            .map(|s| format!("{} = {}", s.path, s.value))
            .collect();
        at(
            &e.path,
            format!("{} (with {} from --set)", e.message, with.join(", ")),
        )
    })?;
    scenario.hash = hash_with(&base.hash, sets);
    Ok(scenario)
}
