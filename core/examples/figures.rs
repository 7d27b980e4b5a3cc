//! A small incident (tests/mini-incident.toml) run through the core alone,
//! its summary printed as JSON: natively by `main`, and from a
//! `wasm32-unknown-unknown` build by the exported [`figures`], which
//! scripts/wasm-check.sh calls under node to check that both builds compute
//! the same bits.

use pooldrill_core::metrics::NullSink;
use pooldrill_core::model::{RunOptions, run};
use pooldrill_core::scenario::Scenario;

/// The scenario, compiled in: a browser build has no files.
const SCENARIO: &str = include_str!("../../tests/mini-incident.toml");

/// The run's summary as pretty JSON, ending in a newline.
fn summary_json() -> String {
    let scenario = Scenario::parse("mini-incident.toml", SCENARIO).expect("a valid scenario");
    let summary = run(&scenario, &mut NullSink, RunOptions::default()).expect("a finished run");
    serde_json::to_string_pretty(&summary).expect("a summary is JSON") + "\n"
}

/// The summary's JSON left in memory for the host: its address in the high
/// 32 bits, its length in the low ones.
#[cfg(target_arch = "wasm32")]
// The one name the host calls; nothing else is exported under it.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn figures() -> u64 {
    let text = summary_json().into_bytes().leak();
    ((text.as_ptr() as u64) << 32) | text.len() as u64
}

fn main() {
    use std::io::Write;
    std::io::stdout()
        .write_all(summary_json().as_bytes())
        .expect("stdout");
}
