#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
// Library code may not panic on data: with panic=abort a panic would kill the instance.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]
//!
//! # Module map
//! - [`core`]: pure Rust — options, the token exchange, cache, single flight, retry
//!   policy, errors, and the one async driver over the [`core::Runtime`],
//!   [`core::Transport`] and [`core::TokenStore`] traits. Tested natively with a fake
//!   clock and a scripted transport.
//! - [`rust`]: the Rust front — [`LocalClient`] over the core's traits (single-threaded,
//!   wasm and native) and, with the `reqwest` feature, the `Send + Sync` native `Client`.
//! - `js` (wasm32 only): the `#[wasm_bindgen]` layer — `CedatoAuth` itself, the web-sys
//!   transport, timer and store behind the core's traits, `auth.fetch`/`auth.request`,
//!   errors as JS `CedatoError`s, TypeScript typings.

pub mod core;
pub mod rust;

pub use crate::core::{Error, ErrorCode, Event, Secret, Stats};
#[cfg(all(feature = "reqwest", not(target_arch = "wasm32")))]
pub use rust::native::Client;
pub use rust::{ApiRequest, ApiResponse, LocalClient, Options};

#[cfg(all(target_arch = "wasm32", feature = "js-class"))]
mod js;

#[cfg(all(target_arch = "wasm32", feature = "js-class"))]
pub use js::CedatoAuth;

#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub mod web;
#[cfg(all(target_arch = "wasm32", feature = "web"))]
pub use web::Client;

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread, which is
// all `AssumeSingleThreaded` requires. The npm package's only (js-class): a Rust wasm app
// picks its own allocator.
#[cfg(all(target_arch = "wasm32", feature = "js-class"))]
#[global_allocator]
#[allow(unsafe_code)]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
