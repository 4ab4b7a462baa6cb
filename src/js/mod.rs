//! The `#[wasm_bindgen]` layer: `CedatoAuth` itself, over the core's one async driver.
//!
//! The core decides and drives (cache, single flight, retries, grace, the store); this
//! layer gives it the JavaScript platform ([`runtime::WebRuntime`]: `Date.now`,
//! `setTimeout`, `wasm-bindgen-futures`; [`transport::WebTransport`]: web-sys `fetch`;
//! [`store::JsStore`]: the `tokenStore` option; [`seal::WebCrypto`]: Web Crypto, which seals
//! what the store keeps), and turns results into promises.
//!
//! Every exported method takes `&self` and returns at once: the work runs in a task of
//! its own that holds an `Rc` of the state, so user code it calls (the `fetch` option, a
//! store) may call back into the instance, and no `RefCell` borrow is held across an
//! `.await` or a call into user code.

mod api;
mod error;
mod options;
mod store;
mod typings;
// The platform pieces, shared with the Rust API (src/web.rs, feature `web`).
use crate::web::{engine, fetch, runtime, seal, transport};

use std::cell::RefCell;
use std::rc::Rc;

use crate::core::LocalFuture;
use js_sys::{Function, Object, Promise};
use wasm_bindgen::prelude::*;

use crate::core::{CachedToken, Error, ErrorCode, Event, Events, PendingToken, Redacted, TokenClient, TokenNow};
use error::{js_error, set, to_js};
use runtime::WebRuntime;
use transport::WebTransport;

use api::{Api, Client};

/// Which part of a token a promise resolves with.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Token,
    Header,
}

impl Part {
    fn of(self, token: &CachedToken) -> JsValue {
        match self {
            Part::Token => token.access_token.as_str().into(),
            Part::Header => token.authorization.as_str().into(),
        }
    }
}

/// Promises already settled with a fresh token and its header, handed to every call the
/// core answers with that token ([`TokenNow::Fresh`]): no task, no string copy.
struct Memo {
    id: u64,
    token: Promise,
    header: Promise,
}

/// The promises all callers of one token request share (made on first use).
struct Shared {
    pending: PendingToken<WebRuntime, WebTransport>,
    token: Option<Promise>,
    header: Option<Promise>,
}

/// The state of one `CedatoAuth`, shared by its pending calls.
struct Inner {
    client: Rc<Client>,
    /// What `fetch()` and `request()` need (the same client).
    api: Rc<Api>,
    memo: RefCell<Option<Memo>>,
    shared: RefCell<Option<Shared>>,
}

/// Cedato Platform API credentials exchanged for an access token, cached in memory with
/// expiry tracking, and authenticated calls.
///
/// ```js
/// const auth = new CedatoAuth({ clientId, clientSecret });
/// const report = await auth.request("reports/supplies/extended", { query: { start, end } });
/// ```
#[wasm_bindgen]
pub struct CedatoAuth {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl CedatoAuth {
    /// Validates the options; throws a `CedatoError` with code `invalid_config`. Makes no
    /// request, sets no timer (a worker may construct it at module scope).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "CedatoAuthOptions")] options: JsValue,
    ) -> Result<CedatoAuth, JsValue> {
        let options = options::read(&options).map_err(|e| to_js(&Redacted::own(e)))?;
        // The base URL and its origin as the engine's WHATWG URL serializes them (IDN
        // hosts in punycode, IPv4 shorthand and IPv6 in canonical form), for the token
        // request, the store key and every call's origin check alike.
        let config = options.config;
        let sink = options
            .on_event
            .map(|on_event| Box::new(move |e: &Event| report(&on_event, e)) as _);
        let client = TokenClient::new(
            config,
            WebRuntime::detect(),
            WebTransport {
                fetch: options.fetch.clone(),
            },
            options.store,
            Events::new(sink),
        );
        let inner = Inner {
            api: Rc::new(Api::new(Rc::clone(&client), options.fetch)),
            client,
            memo: RefCell::default(),
            shared: RefCell::default(),
        };
        Ok(CedatoAuth { inner: Rc::new(inner) })
    }

    /// The access token: from memory while it is valid outside the refresh window, else
    /// fetched (one request however many callers ask at once).
    #[wasm_bindgen(js_name = getToken, unchecked_return_type = "Promise<string>")]
    pub fn get_token(&self) -> Promise {
        self.inner.part(Part::Token)
    }

    /// `"Bearer <token>"`, for the `Authorization` header.
    #[wasm_bindgen(js_name = getAuthorizationHeader, unchecked_return_type = "Promise<string>")]
    pub fn get_authorization_header(&self) -> Promise {
        self.inner.part(Part::Header)
    }

    /// A new token now, joining a request already in flight. Rejects on failure even
    /// while the old token is still valid.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn refresh(&self) -> Promise {
        if let Some(freed) = self.inner.freed() {
            return freed;
        }
        let client = Rc::clone(&self.inner.client);
        self.inner
            .call(async move { settle(&client, Rc::clone(&client).refresh().await, Part::Token) })
    }

    /// Forgets the cached token. A request already in flight is not cancelled.
    pub fn clear(&self) {
        self.inner.client.clear();
    }

    /// When the cached token expires, in ms since the epoch; `undefined` when none is cached.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.inner.client.expires_at()
    }

    /// Whether a token is cached and outside the refresh window.
    #[wasm_bindgen(getter, js_name = hasValidToken)]
    pub fn has_valid_token(&self) -> bool {
        self.inner.client.has_fresh_token()
    }

    /// Counters since construction (a new object at each read).
    #[wasm_bindgen(getter, unchecked_return_type = "CedatoAuthStats")]
    pub fn stats(&self) -> JsValue {
        serde_wasm_bindgen::to_value(&self.inner.client.events().stats).unwrap_or(JsValue::UNDEFINED)
    }

    /// `fetch` with the token: a relative URL is resolved against `baseUrl`; an absolute
    /// one must share its origin. A 401 or 419 answer gets one retry with a new token
    /// (when the body can be sent again). Resolves with the `Response`, like `fetch`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: Option<Object>,
    ) -> Promise {
        if let Some(freed) = self.inner.freed() {
            return freed;
        }
        let init = init.map_or(JsValue::UNDEFINED, JsValue::from);
        self.inner.call(api::fetch(Rc::clone(&self.inner.api), input, init))
    }

    /// A call through `fetch`: resolves with the body of a 2xx answer, parsed as JSON
    /// (`undefined` when empty) or as text by `options.responseType`; rejects with `http`
    /// on another status. Typed by overloads in the typings (`"text"` gives a string).
    #[wasm_bindgen(skip_typescript)]
    pub fn request(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] path: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] options: Option<Object>,
    ) -> Promise {
        if let Some(freed) = self.inner.freed() {
            return freed;
        }
        let options = options.map_or(JsValue::UNDEFINED, JsValue::from);
        self.inner.call(api::request(Rc::clone(&self.inner.api), path, options))
    }

    /// Wipes the instance: the secret and the tokens are overwritten in memory (once
    /// the calls already pending settled: until then their errors are redacted), and
    /// every later call rejects with `invalid_request`. Calls already pending settle,
    /// without any text of the server's. It does not give the wasm memory back: that
    /// happens when the object is garbage-collected (wasm-bindgen's FinalizationRegistry).
    /// `Symbol.dispose` is this method.
    #[wasm_bindgen(js_name = free)]
    pub fn dispose(&self) {
        // This method shadows wasm-bindgen's own `free()` (which drops the Rust value at
        // once; every later call would then throw a null-pointer error instead of a
        // CedatoError) and is the glue's `Symbol.dispose`. The Rust value stays; its memory
        // goes back through the glue's FinalizationRegistry when the JS object is
        // collected, and what pending calls hold (`Rc`s) when they settle. Here: the
        // secret, the Basic value and every token are overwritten in wasm memory.
        self.inner.client.wipe();
        self.inner.memo.replace(None);
        self.inner.shared.replace(None);
    }

    /// `CedatoAuth(<baseUrl>)`: never a credential.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        ["CedatoAuth(", &self.inner.client.config().base_url, ")"].concat()
    }

    /// What `JSON.stringify` shows: the base URL and the token's state, never a credential.
    #[wasm_bindgen(
        js_name = toJSON,
        unchecked_return_type = "{ baseUrl: string; hasValidToken: boolean; expiresAt?: number }"
    )]
    pub fn to_json(&self) -> JsValue {
        let out = Object::new();
        set(&out, "baseUrl", &self.inner.client.config().base_url.as_str().into());
        set(&out, "hasValidToken", &self.has_valid_token().into());
        if let Some(at) = self.expires_at() {
            set(&out, "expiresAt", &at.into());
        }
        out.into()
    }
}

impl Inner {
    /// A promise rejected with "this instance was freed", after `free()`.
    fn freed(&self) -> Option<Promise> {
        self.client.wiped().then(|| {
            Promise::reject(&js_error(
                ErrorCode::InvalidRequest,
                "this instance was freed (free() was called); create a new CedatoAuth",
            ))
        })
    }

    /// The token or its header, as the core's one token path answers
    /// ([`TokenClient::token_now`]): a fresh token as a settled promise (the same one for
    /// every call on that token), a pending one as a promise per token request.
    fn part(self: &Rc<Self>, part: Part) -> Promise {
        if let Some(freed) = self.freed() {
            return freed;
        }
        let pick = |m: &Memo| match part {
            Part::Token => m.token.clone(),
            Part::Header => m.header.clone(),
        };
        // The cached path: the core's freshness rule by id, then the promise made for it.
        let fresh = match self.client.fresh_hit_id() {
            Some(id) => match self.memo.borrow().as_ref().filter(|m| m.id == id) {
                Some(memo) => return pick(memo),
                // Counted already: taken without counting again.
                None => self.client.fresh_token(),
            },
            None => None,
        };
        let token = match fresh {
            Some(token) => token,
            None => match self.client.token_now() {
                TokenNow::Fresh(token) => token,
                TokenNow::Pending(pending) => return self.shared(pending, part),
            },
        };
        let memo = Memo {
            id: token.id,
            token: Promise::resolve(&Part::Token.of(&token)),
            header: Promise::resolve(&Part::Header.of(&token)),
        };
        let promise = pick(&memo);
        self.memo.replace(Some(memo));
        promise
    }

    /// The promise of `part` that every caller waiting for `pending`'s token request
    /// shares (off the cached path: not inlined into it).
    #[inline(never)]
    fn shared(self: &Rc<Self>, pending: PendingToken<WebRuntime, WebTransport>, part: Part) -> Promise {
        let mut shared = self.shared.borrow_mut();
        if !shared.as_ref().is_some_and(|s| s.pending.same_request(&pending)) {
            *shared = None;
        }
        let shared = shared.get_or_insert_with(|| Shared {
            pending,
            token: None,
            header: None,
        });
        let slot = match part {
            Part::Token => &mut shared.token,
            Part::Header => &mut shared.header,
        };
        let pending = &shared.pending;
        slot.get_or_insert_with(|| {
            let (client, pending) = (Rc::clone(&self.client), pending.clone());
            self.call(async move { settle(&client, pending.wait().await, part) })
        })
        .clone()
    }
}

impl Inner {
    /// `future` run as a task, as a promise, and counted as a pending call until it
    /// settles (`free()` keeps what redaction needs until then). Every call site hands
    /// over the same boxed type, so the wasm carries one copy of the executor's promise
    /// glue, not one per future.
    fn call(&self, future: impl std::future::Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
        self.track(Box::pin(future))
    }

    /// The one, non-generic body of [`call`](Self::call).
    fn track(&self, future: LocalFuture<Result<JsValue, JsValue>>) -> Promise {
        let pending = self.client.pending_call();
        let future: LocalFuture<Result<JsValue, JsValue>> = Box::pin(async move {
            let settled = future.await;
            drop(pending);
            settled
        });
        wasm_bindgen_futures::future_to_promise(future)
    }
}

/// Hands `event` to the `onEvent` callback as a plain object; what the callback throws
/// is dropped (it never changes a call's outcome).
fn report(on_event: &Function, event: &Event) {
    if let Ok(event) = serde_wasm_bindgen::to_value(event) {
        let _ = on_event.call1(&JsValue::UNDEFINED, &event);
    }
}

/// A token request's result as a promise's (after `free()`, an error without server text).
fn settle(client: &Client, result: Result<Rc<CachedToken>, Error>, part: Part) -> Result<JsValue, JsValue> {
    result
        .map(|token| part.of(&token))
        .map_err(|e| to_js(&client.settled_error(e)))
}
