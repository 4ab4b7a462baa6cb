//! The Rust API on a JavaScript engine (feature `web`, wasm32 only): [`Client`], a
//! [`LocalClient`] over the web-sys `fetch` transport ([`WebTransport`]) and the
//! `setTimeout`/`Date` runtime ([`WebRuntime`], whose URL parser is the engine's WHATWG
//! `URL`), plus the Web Crypto sealer ([`WebCrypto`]). For Rust wasm apps (workers-rs,
//! Leptos, Yew, Dioxus): no `#[wasm_bindgen]` class, no npm package, no JS values to pass.
//!
//! The client is `!Send`, as wasm is single-threaded: keep it in an `Rc` or a
//! `thread_local!` and share it between the tasks of the page or the isolate; concurrent
//! `token()` calls share one token request.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cedato_auth::Error> {
//! use cedato_auth::{ApiRequest, Client, Options};
//! let client = Client::from_options(Options::new("my-client-id", "my-client-secret"))?;
//! let header = client.authorization_header().await?; // "Bearer …"
//! let report: serde_json::Value = client
//!     .json(ApiRequest::get("reports/supplies/extended").query("start", "2026-01-01").query("end", "2026-01-31"))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! The files stay in `src/js/`, beside the rest of the JavaScript layer: this module gives
//! them a parent that compiles without the class (feature `js-class`), which is built on
//! the same pieces.

// Some helpers serve only the class (auth.fetch's plumbing): unused in a `web`-only build.
#[cfg_attr(not(feature = "js-class"), allow(dead_code))]
#[path = "js/engine.rs"]
pub(crate) mod engine;
#[cfg_attr(not(feature = "js-class"), allow(dead_code))]
#[path = "js/fetch.rs"]
pub(crate) mod fetch;
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

use std::rc::Rc;

use web_sys::Url;

use crate::core::{SharedStore, TokenStore};
use crate::rust::{LocalClient, Options, ParseUrl, ParsedUrl};
use crate::{Error, ErrorCode};

/// The client on the engine: `fetch`, `setTimeout`, `Date`, `URL` (single-threaded).
pub type Client = LocalClient<WebRuntime, WebTransport>;

impl Client {
    /// A client with nothing cached over the engine's global `fetch`; it does no I/O until
    /// a token is asked for, so it may be made at a worker's module scope. Fails with
    /// `invalid_config` on bad options.
    pub fn from_options(options: Options) -> Result<Client, Error> {
        LocalClient::new(options, WebRuntime::detect(), WebTransport::default())
    }

    /// [`from_options`](Self::from_options), sharing its token through `store` (a KV
    /// namespace, a Durable Object, Redis over `fetch`: any [`TokenStore`]) with the other
    /// instances of the same credentials and base URL, sealed by the engine's Web Crypto
    /// ([`WebCrypto`]: HKDF-SHA-256, AES-256-GCM; the keys are derived at the first store
    /// use, so this too may run at a worker's module scope). Fails with `invalid_config`
    /// when the engine has no `crypto.subtle` (browsers offer it only on https pages and
    /// localhost).
    pub fn from_options_with_store(options: Options, store: Rc<dyn TokenStore>) -> Result<Client, Error> {
        let sealer = WebCrypto::detect().ok_or_else(|| {
            let message = "a shared store needs the engine's Web Crypto (crypto.subtle) to seal the tokens it \
                           shares, and this runtime has none";
            Error::new(ErrorCode::InvalidConfig, message)
        })?;
        let shared = SharedStore {
            store,
            sealer: Rc::new(sealer),
        };
        LocalClient::with_store(options, WebRuntime::detect(), WebTransport::default(), shared)
    }
}

impl Default for WebTransport {
    /// The engine's global `fetch` (looked up at each call, so a test or a polyfill may
    /// replace it).
    fn default() -> WebTransport {
        WebTransport { fetch: None }
    }
}

impl ParseUrl for WebRuntime {
    /// The engine's WHATWG `URL`, the query appended through its `searchParams`.
    fn parse(&self, input: &str, base: &str, query: &[(String, String)]) -> Option<ParsedUrl> {
        let url = Url::new_with_base(input, base).ok()?;
        if !query.is_empty() {
            let params = url.search_params();
            for (name, value) in query {
                params.append(name, value);
            }
        }
        Some(ParsedUrl {
            href: url.href(),
            origin: url.origin(),
            path: url.pathname(),
        })
    }
}
