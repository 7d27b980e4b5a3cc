//! pooldrill in the browser: the page's requests (JSON in, JSON out) served
//! by the simulation core. [`respond`] is the whole interface; on
//! `wasm32-unknown-unknown` the `exports` module hands it to JavaScript as
//! plain `extern "C"` functions over the wasm memory (no wasm-bindgen).
//!
//! A run's summary is the text `pooldrill run [--set …]` writes to
//! `summary.json`, byte for byte: the same scenario, sets, seed and
//! duration give the same hash and the same figures (docs/browser.md).

mod chart_sink;
#[cfg(target_arch = "wasm32")]
mod exports;
mod shipped;

use chart_sink::ChartSink;
use pooldrill_core::metrics::Tee;
use pooldrill_core::metrics::observed::ObservedSink;
use pooldrill_core::model::{RunOptions, Simulation};
use pooldrill_core::scenario::overrides::{Set, apply, parse_set, parse_with_sets};
use pooldrill_core::scenario::resolve::Resolve;
use pooldrill_core::scenario::units::Duration;
use pooldrill_core::scenario::validate::Overrides;
use pooldrill_core::scenario::{Scenario, ScenarioError};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What the page asks for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// `run` (summary and chart series), `apply` (the TOML with the sets,
    /// seed and duration written in, for download), `table` (the file's
    /// values, for the knobs) or `scenarios` (the shipped ones).
    pub op: String,
    /// The scenario's name in errors (`after.toml`).
    #[serde(default)]
    pub name: String,
    /// The scenario's text.
    #[serde(default)]
    pub source: String,
    /// `KEY=VALUE` sets, as `run --set` takes them.
    #[serde(default)]
    pub sets: Vec<String>,
    /// Replaces `meta.seed` (a string: JavaScript numbers hold 53 bits).
    #[serde(default)]
    pub seed: Option<String>,
    /// Replaces `meta.duration` (`"10m"`).
    #[serde(default)]
    pub duration: Option<String>,
    /// The data files dropped on the page with the scenario (a
    /// `traffic.rate_from`, an `[[observed]]` file), by file name: their
    /// bytes as they are on disk, so that the hash covers what the CLI's
    /// covers.
    #[serde(default)]
    pub files: BTreeMap<String, Vec<u8>>,
}

/// The data files dropped on the page, read by the name the scenario gives
/// them: the whole name, else its last part (`data/traffic.csv` is the
/// dropped `traffic.csv`: a browser gives files no folder).
struct Dropped<'a>(&'a BTreeMap<String, Vec<u8>>);

impl Resolve for Dropped<'_> {
    fn read(&self, name: &str) -> Result<Vec<u8>, String> {
        let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let bytes = self.0.get(name).or_else(|| self.0.get(last));
        bytes
            .cloned()
            .ok_or_else(|| format!("not on the page: drop {last} together with the scenario file"))
    }
}

/// The answer to `request` (JSON): `{"summary": TEXT, "chart": {…}}` for a
/// run, `{"toml": TEXT}` for `apply`, `{"table": {…}}` for `table`,
/// `{"scenarios": [{"name", "text"}…]}` for `scenarios`, or `{"error": TEXT, "line": L,
/// "column": C}` with the CLI's located message. `progress` hears the
/// share of the simulated time done (0 to 1) now and then.
pub fn respond(request: &str, progress: &mut dyn FnMut(f64)) -> String {
    let answer = serde_json::from_str::<Request>(request)
        .map_err(|e| json!({ "error": format!("a malformed request: {e}") }))
        .and_then(|r| match r.op.as_str() {
            "run" => run(&r, progress),
            "apply" => written(&r),
            "table" => table(&r),
            "scenarios" => Ok(json!({ "scenarios": shipped::list() })),
            other => Err(json!({ "error": format!("unknown op {other:?}") })),
        });
    answer.unwrap_or_else(|e| e).to_string()
}

/// A scenario error as the page shows it: the CLI's text and the place.
fn located(e: &ScenarioError) -> Value {
    json!({ "error": e.to_string(), "line": e.line, "column": e.column })
}

/// The request's sets, seed and duration.
fn inputs(r: &Request) -> Result<(Vec<Set>, Overrides), Value> {
    let sets = r
        .sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| json!({ "error": e }))?;
    let seed = r
        .seed
        .as_deref()
        .map(|s| s.trim().parse::<u64>())
        .transpose()
        .map_err(|_| json!({ "error": format!("seed: expected a whole number from 0 to 18446744073709551615, found {:?}", r.seed.as_deref().unwrap_or_default()) }))?;
    let duration = r
        .duration
        .as_deref()
        .map(str::parse::<Duration>)
        .transpose()
        .map_err(|e| json!({ "error": format!("duration: {e}") }))?;
    Ok((sets, Overrides { seed, duration }))
}

/// The validated scenario of a request.
fn scenario(r: &Request) -> Result<Scenario, Value> {
    let (sets, overrides) = inputs(r)?;
    let files = Dropped(&r.files);
    parse_with_sets(&r.name, &r.source, &sets, overrides, &files).map_err(|e| located(&e))
}

/// Run the request's scenario: the summary as `summary.json` holds it and
/// the series the page draws.
fn run(r: &Request, progress: &mut dyn FnMut(f64)) -> Result<Value, Value> {
    let scenario = scenario(r)?;
    let mut sink = ChartSink::default();
    // Scored as `pooldrill run` scores them, into the summary.
    let mut observed = ObservedSink::new(&scenario.observed);
    let total = scenario.duration.as_secs_f64();
    let mut summary = Simulation::new(&scenario, RunOptions::default())
        .run(&mut Tee(vec![&mut sink, &mut observed]), |t| {
            progress(t.as_secs_f64() / total);
            true
        })
        .map_err(|e| json!({ "error": format!("scenario {}: {e}", scenario.name) }))?;
    summary.observed = observed.scores(&scenario.observed);
    let text = serde_json::to_string_pretty(&summary).expect("a summary is JSON");
    Ok(json!({ "summary": text, "chart": sink.chart(&scenario) }))
}

/// The request's TOML with its sets, seed and duration written in, once it
/// validates: `pooldrill run` on it gives the run's figures (its hash is the
/// text's own).
fn written(r: &Request) -> Result<Value, Value> {
    scenario(r)?;
    let (mut sets, overrides) = inputs(r)?;
    if let Some(seed) = overrides.seed {
        let seed = i64::try_from(seed).map_err(
            |_| json!({ "error": "seed: a TOML file holds seeds up to 9223372036854775807" }),
        )?;
        sets.push(Set {
            path: "meta.seed".into(),
            value: seed.into(),
        });
    }
    if let Some(duration) = r.duration.as_deref() {
        sets.push(Set {
            path: "meta.duration".into(),
            value: duration.trim().into(),
        });
    }
    if sets.is_empty() {
        return Ok(json!({ "toml": r.source }));
    }
    let text = apply(&r.source, &sets).map_err(|(_, m)| json!({ "error": m }))?;
    Ok(json!({ "toml": text }))
}

/// The file's TOML table as JSON (the knobs show its values), or the
/// CLI's located error when it does not validate.
fn table(r: &Request) -> Result<Value, Value> {
    let files = Dropped(&r.files);
    parse_with_sets(&r.name, &r.source, &[], Overrides::default(), &files)
        .map_err(|e| located(&e))?;
    let table: toml::Table =
        toml::from_str(&r.source).map_err(|e| json!({ "error": e.to_string() }))?;
    Ok(json!({ "table": table }))
}

#[cfg(test)]
mod tests;
