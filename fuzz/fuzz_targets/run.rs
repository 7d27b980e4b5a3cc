//! Fuzz target: small valid scenarios simulated with every invariant checked
//! after every event (`run_case` in ../cases.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;

include!("../cases.rs");

fuzz_target!(|data: &[u8]| {
    run_case(data);
});
