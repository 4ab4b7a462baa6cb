//! The core's platform on a JavaScript engine (feature `web`, wasm32 only): the web-sys
//! `fetch` transport ([`WebTransport`]), the `setTimeout`/`Date` runtime ([`WebRuntime`])
//! and the Web Crypto sealer ([`WebCrypto`]). Rust wasm apps (workers-rs, Leptos, Yew,
//! Dioxus) use them without the `#[wasm_bindgen]` class; the class (feature `js-class`)
//! is built on the same pieces.
//!
//! The files stay in `src/js/`, beside the rest of the JavaScript layer: this module only
//! gives them a parent that compiles without the class.

// Some helpers serve only the class (auth.fetch's plumbing): unused in a `web`-only build.
#[cfg_attr(not(feature = "js-class"), allow(dead_code))]
#[path = "js/body.rs"]
pub(crate) mod body;
#[cfg_attr(not(feature = "js-class"), allow(dead_code))]
#[path = "js/engine.rs"]
pub(crate) mod engine;
#[cfg_attr(not(feature = "js-class"), allow(dead_code))]
#[path = "js/runtime.rs"]
pub(crate) mod runtime;
#[cfg_attr(not(feature = "js-class"), allow(dead_code))]
#[path = "js/seal.rs"]
pub(crate) mod seal;
#[cfg_attr(not(feature = "js-class"), allow(dead_code))]
#[path = "js/transport.rs"]
pub(crate) mod transport;

pub use runtime::WebRuntime;
pub use seal::WebCrypto;
pub use transport::WebTransport;
