//! The Rust front: the same client as the JavaScript class, as a Rust API.
//!
//! - [`LocalClient`]: generic over the core's [`Runtime`](crate::core::Runtime) and
//!   [`Transport`](crate::core::Transport), single-threaded (`!Send`): what a Rust wasm app
//!   (workers-rs, Leptos, …) uses over the `web` transport, and what the native client
//!   runs on.
//! - the native `Client` (feature `reqwest`, module `native`): `Clone + Send + Sync`, over
//!   reqwest (rustls) and tokio, for services; its module docs say why it owns a
//!   `LocalClient` on a thread of its own. On wasm32 with the `web` feature, `Client` is
//!   the `LocalClient` over the engine's `fetch`.
//!
//! - a shared store (one token for a fleet): [`LocalClient::with_store`] with any core
//!   [`TokenStore`](crate::core::TokenStore) and [`Sealer`](crate::core::Sealer); the
//!   native `Client::with_store` with a `Send + Sync` `SharedTokenStore` (e.g.
//!   `MemoryStore`, module `native`), sealed by the native HKDF-SHA-256/AES-256-GCM
//!   `NativeSealer`; on wasm32, `Client::from_options_with_store`, sealed by Web Crypto.
//!
//! Both take [`Options`] (typed, with the JavaScript options' defaults and validation),
//! make calls from [`ApiRequest`]s, and fail with the one [`Error`](crate::Error), whose
//! [`ErrorCode`](crate::ErrorCode)s are the JavaScript `err.code`s.

mod api;
mod local;
mod options;

#[cfg(all(feature = "reqwest", not(target_arch = "wasm32")))]
pub mod native;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
#[cfg(any(all(feature = "reqwest", not(target_arch = "wasm32")), test))]
pub(crate) mod whatwg;

pub use api::{ApiRequest, ApiResponse, DEFAULT_BODY_LIMIT};
pub use local::{LocalClient, ParseUrl, ParsedUrl};
pub use options::{EventCallback, Options};
