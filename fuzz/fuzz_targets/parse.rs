#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = pooldrill::scenario::validate::decode("fuzz.toml", data) {
        let _ = pooldrill::scenario::Scenario::parse("fuzz.toml", &text);
    }
});
