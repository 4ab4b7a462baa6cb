//! The shared suite in headless Chromium (wasm-bindgen-test-runner + chromedriver).
#![cfg(all(target_arch = "wasm32", feature = "js-class"))]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
