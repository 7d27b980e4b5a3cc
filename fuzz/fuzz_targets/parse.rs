//! Fuzz target: scenario bytes through decoding, TOML parsing, validation,
//! error formatting and the resource estimate. Nothing may panic, and every
//! error of a decoded file must name a line and a column.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pooldrill::scenario::Scenario;
use pooldrill::scenario::validate::decode;

fuzz_target!(|data: &[u8]| {
    let text = match decode("fuzz.toml", data) {
        Ok(text) => text,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.toml"));
            return;
        }
    };
    match Scenario::parse("fuzz.toml", &text) {
        Ok(s) => {
            let estimate = pooldrill::guard::estimate(&s);
            assert!(estimate.events >= 0.0 && estimate.memory_bytes > 0.0);
            let _ = (s.possible_connections(), s.database.usable_slots());
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(e.line > 0 && e.column > 0, "no position: {shown}");
            assert!(shown.starts_with("fuzz.toml:"), "{shown}");
        }
    }
});
