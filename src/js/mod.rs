//! The `#[wasm_bindgen]` layer: `CedatoCore`, the Rust half of the `CedatoAuth` class.
//!
//! Rust decides: the options, the token request, what each answer means (a token, a wait
//! before the next attempt, or a `CedatoError`), the cache with its expiry and refresh
//! window, grace, and what the shared store holds. The JS half, `driver.mjs` (appended to
//! the wasm-bindgen glue by `tools/build-pkg.sh`), does the waiting: `fetch` under an
//! `AbortController` deadline, timers, the one promise all callers of a token request
//! share, and the `fetch`/`request` plumbing of JS objects. Awaiting in Rust instead
//! (an executor, futures over promises, closures) cost more wasm than the whole JS half.
//!
//! A token crosses to JS as a handle `[id, accessToken, authorization]`, plus
//! `[storedValue, ttlSeconds]` when a `tokenStore` should keep it.

mod error;
mod options;
mod runtime;
mod typings;

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::client::ERROR_BODY_LIMIT;
use crate::core::error::truncate_utf8;
use crate::core::retry::parse_retry_after;
use crate::core::{CachedToken, Config, Error, ErrorCode, Next, TokenClient, TransportError};
use runtime::{redact, stored_token, JsClock};

/// The token client; the JS half is its transport and timer, so `T` is `()`.
type Client = TokenClient<JsClock, ()>;

/// The Rust half of `CedatoAuth` (internal: use `CedatoAuth`).
#[wasm_bindgen]
pub struct CedatoCore {
    client: Rc<Client>,
    init: JsValue,
}

#[wasm_bindgen]
impl CedatoCore {
    /// Validates the options; throws a `CedatoError` with code `invalid_config`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<CedatoCore, JsValue> {
        let raw = options::read_options(&options).map_err(|e| error::to_js(&e))?;
        let config = Config::from_options(raw).map_err(|e| error::to_js(&e))?;
        let client = TokenClient::new(config, JsClock, (), None);
        let request = client.request();
        let headers = Object::new();
        for (name, value) in &request.headers {
            set(&headers, name, &value.into());
        }
        let init = Object::new();
        set(&init, "method", &request.method.into());
        set(&init, "headers", &headers);
        set(&init, "body", &request.body.as_str().into());
        // A redirect of the token request is reported (`http`), not followed with the
        // credentials to wherever it points.
        set(&init, "redirect", &"manual".into());
        Ok(CedatoCore {
            client,
            init: init.into(),
        })
    }

    /// `[refreshAt, tokenPromise, headerPromise]` for the cached token while it is fresh:
    /// promises already settled with the token and the header, which the JS half hands
    /// to every cached call until `refreshAt` (or until the cache changes), with no call
    /// into wasm and no string copy.
    pub fn memo(&self) -> JsValue {
        let Some(token) = self.client.fresh_token() else {
            return JsValue::UNDEFINED;
        };
        Array::of3(
            &token.refresh_at.into(),
            &Promise::resolve(&JsValue::from(token.access_token.as_str())),
            &Promise::resolve(&JsValue::from(token.authorization.as_str())),
        )
        .into()
    }

    /// The handle of the cached token while it is fresh.
    pub fn fresh(&self) -> JsValue {
        self.client
            .fresh_token()
            .map_or(JsValue::UNDEFINED, |t| self.handle(&t))
    }

    /// Grace: the handle of the cached token while it has not expired (after a failed
    /// refresh).
    pub fn grace(&self) -> JsValue {
        self.client
            .unexpired_token()
            .map_or(JsValue::UNDEFINED, |t| self.handle(&t))
    }

    /// After attempt `attempt` (from 1) of the token request, sent at `sent_at`, was
    /// answered: the token's handle (cached now), or the ms to wait before the next
    /// attempt; throws the `CedatoError` that ends the request.
    pub fn answer(
        &self,
        status: u16,
        retry_after: Option<String>,
        body: String,
        sent_at: f64,
        attempt: u32,
    ) -> Result<JsValue, JsValue> {
        let response = crate::core::HttpResponse {
            status,
            retry_after,
            body,
        };
        self.next(Ok(response), sent_at, attempt)
    }

    /// Like [`answer`](Self::answer), for an attempt that got no answer: `timed_out` when
    /// its deadline aborted it, else `detail` describes the failure (credentials are
    /// removed from it).
    pub fn failed(&self, timed_out: bool, detail: &str, attempt: u32) -> Result<JsValue, JsValue> {
        let failure = if timed_out {
            TransportError::Timeout
        } else {
            let basic = self.client.config().basic_authorization();
            let encoded = basic.strip_prefix("Basic ").unwrap_or(basic);
            TransportError::Network(redact(detail, &[basic, encoded]))
        };
        self.next(Err(failure), 0.0, attempt)
    }

    /// A value read from the `tokenStore`: the handle of the token (cached now) when it
    /// is usable and outside its refresh window, else `undefined`.
    pub fn stored(&self, value: &JsValue) -> JsValue {
        let Some(token) = stored_token(value).and_then(|s| self.client.accept_stored(s)) else {
            return JsValue::UNDEFINED;
        };
        self.client.land(&token);
        self.handle(&token)
    }

    /// Forgets the cached token if it is the one with `id` (the API refused it); true
    /// when it was (then the store's copy goes too).
    pub fn forget(&self, id: f64) -> bool {
        self.client.forget(id as u64)
    }

    /// Forgets the cached token. A token request in flight is not cancelled.
    pub fn clear(&self) {
        self.client.clear();
    }

    /// When the cached token expires, in ms since the epoch.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.client.expires_at()
    }

    /// Whether a token is cached and outside the refresh window.
    #[wasm_bindgen(getter, js_name = hasValidToken)]
    pub fn has_valid_token(&self) -> bool {
        self.client.fresh_token().is_some()
    }

    /// `[tokenUrl, init, storeKey, timeoutMs, longestFlightMs, baseUrl, origin, apiVersion]`:
    /// what the JS half needs of the options, read once.
    pub fn settings(&self) -> Array {
        let config = self.client.config();
        [
            self.client.request().url.as_str().into(),
            self.init.clone(),
            self.client.store_key().into(),
            config.timeout_ms.into(),
            self.client.longest_flight_ms().into(),
            config.base_url.as_str().into(),
            config.origin.as_str().into(),
            config.api_version.as_str().into(),
        ]
        .into_iter()
        .collect()
    }

    /// `CedatoAuth(<baseUrl>)`: never a credential.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        ["CedatoAuth(", self.client.config().base_url.as_str(), ")"].concat()
    }

    /// What `JSON.stringify` shows: the base URL and the token's state.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> JsValue {
        let out = Object::new();
        set(&out, "baseUrl", &self.client.config().base_url.as_str().into());
        set(&out, "hasValidToken", &self.has_valid_token().into());
        if let Some(at) = self.expires_at() {
            set(&out, "expiresAt", &at.into());
        }
        out.into()
    }
}

impl CedatoCore {
    fn next(
        &self,
        outcome: Result<crate::core::HttpResponse, TransportError>,
        sent_at: f64,
        attempt: u32,
    ) -> Result<JsValue, JsValue> {
        match self.client.next(outcome, sent_at, attempt) {
            Next::Token(token) => {
                self.client.land(&token);
                let handle = self.handle(&token);
                if self.client.config().token_store {
                    if let Some((stored, ttl)) = self.client.store_entry(&token) {
                        let value = Object::new();
                        set(&value, "accessToken", &stored.access_token.as_str().into());
                        set(&value, "tokenType", &"bearer".into());
                        set(&value, "expiresAt", &stored.expires_at.into());
                        if let Some(lifetime) = stored.expires_in {
                            set(&value, "expiresIn", &lifetime.into());
                        }
                        let handle: &Array = handle.unchecked_ref();
                        handle.push(&value);
                        handle.push(&ttl.into());
                    }
                }
                Ok(handle)
            }
            Next::Wait(ms) => Ok(ms.into()),
            Next::Fail(e) => Err(error::to_js(&e)),
        }
    }

    fn handle(&self, token: &CachedToken) -> JsValue {
        Array::of3(
            &(token.id as f64).into(),
            &token.access_token.as_str().into(),
            &token.authorization.as_str().into(),
        )
        .into()
    }
}

/// Sets a field of an object this crate just made (a plain object, an array, an `Error`):
/// that cannot fail, and if it did, the object would still be usable.
fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &key.into(), value);
}

/// A `CedatoError` for the JS half (`fetch`/`request`): `code` is one of the SPEC's codes
/// (an unknown one is `http`); with `status`, the first 1 KB of `body` and the seconds of
/// a `Retry-After` value.
#[wasm_bindgen(js_name = cedatoError)]
pub fn cedato_error(
    code: &str,
    message: String,
    status: Option<u16>,
    body: Option<String>,
    retry_after: Option<String>,
) -> JsValue {
    let code = match code {
        "invalid_request" => ErrorCode::InvalidRequest,
        "invalid_response" => ErrorCode::InvalidResponse,
        "network" => ErrorCode::Network,
        "timeout" => ErrorCode::Timeout,
        _ => ErrorCode::Http,
    };
    let mut e = Error::new(code, message);
    e.status = status;
    e.body = body.map(|b| truncate_utf8(&b, ERROR_BODY_LIMIT).to_owned());
    e.retry_after = retry_after.and_then(|v| parse_retry_after(&v, js_sys::Date::now()));
    error::to_js(&e)
}
