//! The shared suite in Node.js (wasm-bindgen-test-runner's default).
#![cfg(target_arch = "wasm32")]

mod common;
