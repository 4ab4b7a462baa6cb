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
//! - `web` (wasm32, feature `web`): the core's platform on a JavaScript engine — the
//!   web-sys `fetch` transport, the `setTimeout`/`Date`/`URL` runtime, the Web Crypto
//!   sealer — and `cedato_auth::Client` over them, for Rust wasm apps (no class).
//! - `js` (wasm32, feature `js-class`): the `#[wasm_bindgen]` layer — `CedatoAuth` itself
//!   on the `web` pieces, its options and store, `auth.fetch`/`auth.request`, errors as JS
//!   `CedatoError`s, TypeScript typings.
//!
//! # One example per front
//!
//! **JavaScript** (feature `js-class`, the npm package): the example at the top of this
//! page; the npm README's examples are run against the mock by `tests/js/readme.test.mjs`.
//!
//! **Rust, native** (feature `reqwest`): `Client` is `Send + Sync + Clone` and does no I/O
//! until a token is asked for.
//!
//! ```
//! # #[cfg(all(feature = "reqwest", not(target_arch = "wasm32")))]
//! # fn main() -> Result<(), cedato_auth::Error> {
//! use std::sync::Arc;
//! use cedato_auth::{ApiRequest, Client, ErrorCode, Options};
//!
//! let client = Arc::new(Client::new(Options::new("my-client-id", "my-client-secret"))?);
//! assert!(!client.has_valid_token() && client.expires_at().is_none());
//! // From any task: one token request however many ask at once.
//! let shared = Arc::clone(&client);
//! let _task = async move {
//!     let report: serde_json::Value = shared.json(ApiRequest::get("reports/supplies/extended")).await?;
//!     Ok::<_, cedato_auth::Error>(report)
//! };
//! // Bad options fail at once, without echoing the secret.
//! let error = Client::new(Options::new("id:with-colon", "my-client-secret")).unwrap_err();
//! assert_eq!(error.code, ErrorCode::InvalidConfig);
//! assert!(!error.to_string().contains("my-client-secret"));
//! # Ok(()) }
//! # #[cfg(not(all(feature = "reqwest", not(target_arch = "wasm32"))))]
//! # fn main() {}
//! ```
//!
//! **Rust, wasm** (feature `web`): `Client` is `!Send` (wasm has one thread) and needs no
//! JS value; `examples/rust-worker` is a workers-rs worker built on it.
//!
//! ```no_run
//! # #[cfg(all(feature = "web", target_arch = "wasm32"))]
//! # async fn demo() -> Result<(), cedato_auth::Error> {
//! use std::rc::Rc;
//! use cedato_auth::{ApiRequest, Client, Options};
//!
//! let client = Rc::new(Client::from_options(Options::new("my-client-id", "my-client-secret"))?);
//! let header = client.authorization_header().await?; // "Bearer …", a Secret
//! let response = client.send(ApiRequest::get("reports/supplies/extended").query("limit", 10)).await?;
//! println!("{} {}", response.status, response.body.len());
//! # drop(header);
//! # Ok(()) }
//! # fn main() {}
//! ```

pub mod core;
pub mod rust;

pub use crate::core::{Error, ErrorCode, Event, Secret, Stats};
#[cfg(all(feature = "reqwest", not(target_arch = "wasm32")))]
pub use rust::native::{Client, MemoryStore, SharedTokenStore};
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
