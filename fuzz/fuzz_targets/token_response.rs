//! Any bytes as a token answer, parsed with serde_json into the serde structs the wasm
//! reads from `JSON.parse`: no panic, and whatever is accepted is usable.
#![no_main]

use cedato_auth::core::config::MAX_EXPIRES_IN;
use cedato_auth::core::http::is_visible_ascii;
use cedato_auth::core::token::{process_token_response, TokenAnswer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let answer = serde_json::from_slice::<TokenAnswer>(data).ok();
    if let Ok(t) = process_token_response(200, answer, 1_800_000_000_000.0, |s| s.parse().ok()) {
        assert!(is_visible_ascii(&t.access_token));
        assert!(t.expires_in.is_finite() && (0.0..=MAX_EXPIRES_IN).contains(&t.expires_in));
        assert!(t.expires_at.is_finite());
    }
});
