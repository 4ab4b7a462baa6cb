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
#[cfg(any(
    all(feature = "reqwest", not(target_arch = "wasm32")),
    all(test, not(target_arch = "wasm32"))
))]
mod whatwg;

pub use api::{ApiRequest, ApiResponse, DEFAULT_BODY_LIMIT};
pub use local::{LocalClient, ParseUrl, ParsedUrl};
pub use options::{EventCallback, Options};
