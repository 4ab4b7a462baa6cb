//! The Rust API on the `web` transport in headless browsers (wasm-bindgen-test-runner with
//! chromedriver or geckodriver); the tests are in rust_web/mod.rs.
#![cfg(all(target_arch = "wasm32", feature = "web"))]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod rust_web;
mod scenarios;
