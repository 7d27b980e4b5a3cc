//! Fuzz target: scenario bytes through decoding, parsing, validation, error
//! formatting and the resource estimate (`parse_case` in ../cases.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../cases.rs");

fuzz_target!(|data: &[u8]| parse_case(data));
