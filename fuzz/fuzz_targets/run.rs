//! Fuzz target: scenarios that parse, validate and are small enough are
//! simulated with every invariant checked after every event. A panic or a
//! broken invariant is a crash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pooldrill::metrics::NullSink;
use pooldrill::model::{RunError, RunOptions};
use pooldrill::scenario::Scenario;
use pooldrill::scenario::validate::decode;

/// Runs above this many estimated events are skipped (they would only slow
/// the fuzzer down).
const MAX_EVENTS: f64 = 50_000.0;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = decode("fuzz.toml", data) else {
        return;
    };
    let Ok(s) = Scenario::parse("fuzz.toml", &text) else {
        return;
    };
    if pooldrill::guard::estimate(&s).events > MAX_EVENTS {
        return;
    }
    let options = RunOptions {
        check_invariants: true,
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
});
