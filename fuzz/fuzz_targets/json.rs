//! Any bytes through the JSON reader: no panic, no stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cedato_auth::core::json::parse(text);
    }
});
