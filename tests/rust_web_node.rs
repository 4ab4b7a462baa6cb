//! The Rust API on the `web` transport in Node.js (wasm-bindgen-test-runner's default);
//! the tests are in rust_web/mod.rs.
#![cfg(all(target_arch = "wasm32", feature = "web"))]

mod rust_web;
mod scenarios;
