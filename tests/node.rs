//! The shared suite in Node.js (wasm-bindgen-test-runner's default).
#![cfg(all(target_arch = "wasm32", feature = "js-class"))]

mod common;
