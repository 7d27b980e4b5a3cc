// What each fuzz target checks, on one input. The fuzz targets include this
// file, and so does tests/fuzz_cases.rs, which runs the seed corpus and the
// shipped scenarios through it: the fuzz code compiles with every `cargo
// test` and cannot fall behind the library's API.

use pooldrill::guard::{Outputs, estimate};
use pooldrill::metrics::NullSink;
use pooldrill::model::{RunError, RunOptions};
use pooldrill::scenario::Scenario;
use pooldrill::scenario::validate::decode;

/// Runs above this many estimated events are skipped (they would only slow
/// the fuzzer down).
const MAX_EVENTS: f64 = 50_000.0;

/// Scenario bytes through decoding, TOML parsing, validation, error
/// formatting and the resource estimate. Nothing may panic, and every error
/// of a decoded file must name a line and a column.
pub fn parse_case(data: &[u8]) {
    let text = match decode("fuzz.toml", data) {
        Ok(text) => text,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.toml"));
            return;
        }
    };
    match Scenario::parse("fuzz.toml", &text) {
        Ok(s) => {
            let cost = estimate(&s, Outputs::default());
            assert!(cost.events >= 0.0 && cost.memory_bytes > 0.0);
            let _ = (s.possible_connections(), s.database.usable_slots());
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(e.line > 0 && e.column > 0, "no position: {shown}");
            assert!(shown.starts_with("fuzz.toml:"), "{shown}");
        }
    }
}

/// Scenarios that parse, validate and are small enough are simulated with
/// every invariant checked after every event. A panic or a broken invariant
/// is a crash. Returns whether the input was run.
pub fn run_case(data: &[u8]) -> bool {
    let Ok(text) = decode("fuzz.toml", data) else {
        return false;
    };
    let Ok(s) = Scenario::parse("fuzz.toml", &text) else {
        return false;
    };
    if estimate(&s, Outputs::default()).events > MAX_EVENTS {
        return false;
    }
    let options = RunOptions {
        check_invariants: true,
        ..RunOptions::default()
    };
    match pooldrill::model::run(&s, &mut NullSink, options) {
        Ok(summary) => {
            let r = &summary.requests;
            assert_eq!(
                r.arrived,
                r.goodput + r.errors + r.gave_up + r.clients_waiting
            );
        }
        Err(e @ RunError::Invariant { .. }) => panic!("{e}"),
        Err(e) => panic!("unexpected: {e}"),
    }
    true
}
