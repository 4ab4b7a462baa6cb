//! The thin `#[wasm_bindgen]` layer: the `CedatoAuth` class JavaScript sees.
//!
//! Exported methods take `&self` and hand their futures `Rc` clones, so concurrent calls
//! and `free()` during a call are safe; no `RefCell` borrow is held across an `.await`.

#[allow(unused_imports)]
use crate::prelude::*;

mod error;
mod options;
mod runtime;
mod typings;

use alloc::rc::Rc;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};

use js_sys::{Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::Response;

use crate::core::client::FlightResult;
use crate::core::client::ERROR_BODY_LIMIT;
use crate::core::error::truncate_utf8;
use crate::core::retry::parse_retry_after;
use crate::core::shared::{LocalFuture, Shared};
use crate::core::text::push_int;
use crate::core::{CachedToken, Config, Error, ErrorCode, TokenClient, TokenStore};
use runtime::{describe, Deadline, Fetcher, JsClock, JsTokenStore, JsTransport};

type Client = TokenClient<JsClock, JsTransport>;

/// The current token as JS values, made once per token rather than once per call: its
/// strings, and promises already resolved with them (a cached `getToken()` hands out the
/// same settled promise, with no executor and no string copy).
struct Memo {
    id: u64,
    token: JsValue,
    authorization: JsValue,
    token_promise: Promise,
    authorization_promise: Promise,
}

struct Inner {
    client: Rc<Client>,
    memo: RefCell<Option<Memo>>,
    /// The token request in flight and the JS promise that settles when it does.
    flight: RefCell<Option<(Shared<FlightResult>, Promise)>>,
}

impl Inner {
    /// Runs `f` on the memo of `token`, making it first when it is for another token.
    fn with_memo<R>(&self, token: &CachedToken, f: impl FnOnce(&Memo) -> R) -> R {
        let mut slot = self.memo.borrow_mut();
        let memo = match slot.take() {
            Some(m) if m.id == token.id => m,
            _ => {
                let token_js: JsValue = token.access_token.as_str().into();
                let authorization: JsValue = token.authorization.as_str().into();
                Memo {
                    id: token.id,
                    token_promise: Promise::resolve(&token_js),
                    authorization_promise: Promise::resolve(&authorization),
                    token: token_js,
                    authorization,
                }
            }
        };
        let result = f(&memo);
        *slot = Some(memo);
        result
    }

    /// The token (or header) as a JS string.
    fn js_value(&self, token: &CachedToken, header: bool) -> JsValue {
        self.with_memo(token, |m| {
            if header {
                m.authorization.clone()
            } else {
                m.token.clone()
            }
        })
    }

    /// A promise of the token or header: an already settled one from memory when the
    /// token is fresh, else through the client (refresh, single flight, grace).
    fn token_promise(self: &Rc<Self>, header: bool, refresh: bool) -> Promise {
        if !refresh {
            if let Some(token) = self.client.fresh_token() {
                return self.with_memo(&token, |m| {
                    if header {
                        m.authorization_promise.clone()
                    } else {
                        m.token_promise.clone()
                    }
                });
            }
        }
        let inner = Rc::clone(self);
        spawn(Box::pin(async move {
            inner
                .token(refresh)
                .await
                .map(|t| inner.js_value(&t, header))
                .map_err(|e| error::to_js(&e))
        }))
    }

    /// A token for this caller: fresh from memory, else from the request in flight (with
    /// grace unless `refresh`).
    async fn token(self: &Rc<Self>, refresh: bool) -> FlightResult {
        if !refresh {
            if let Some(token) = self.client.fresh_token() {
                return Ok(token);
            }
        }
        let result = self.join_flight(refresh).await;
        if refresh {
            result
        } else {
            self.client.with_grace(result)
        }
    }

    /// Waits for the token request in flight (starting one if needed).
    ///
    /// With request isolation (workerd, see [`isolate_requests`]) the caller waits on a
    /// JS promise of the flight rather than on the shared Rust future, so it is resumed
    /// from its own promise reaction. In workerd that keeps each
    /// request's later I/O in its own request; waiting on the Rust future would resume
    /// every waiter inside the request that started the flight. Each waiter also holds a
    /// timer of its own while it waits, which tells workerd the request is not hung.
    /// If the request that started the flight ended and took the flight's I/O with it,
    /// the flight never lands: after the longest time a healthy flight can take, its
    /// promise settles anyway, and the caller abandons it and starts a new one.
    async fn join_flight(self: &Rc<Self>, refresh: bool) -> FlightResult {
        if !REQUEST_ISOLATION.load(Ordering::Relaxed) {
            // Elsewhere all callers share one context: wait on the Rust future directly,
            // which costs no JS promise or timer per caller.
            return self.client.flight(refresh).await;
        }
        let limit = self.client.longest_flight_ms();
        let _alive = runtime::KeepAlive::start(limit);
        for _ in 0..2 {
            let flight = self.client.flight(refresh);
            let _ = JsFuture::from(self.settled(&flight, limit)).await;
            if flight.is_done() {
                return flight.await;
            }
            self.client.abandon(&flight);
        }
        Err(Error::new(
            ErrorCode::Timeout,
            "the token request in flight never finished",
        ))
    }

    /// The JS promise that resolves when `flight` has its result, or after `limit_ms`,
    /// made once per flight. Its task drives the flight.
    fn settled(&self, flight: &Shared<FlightResult>, limit_ms: f64) -> Promise {
        let mut slot = self.flight.borrow_mut();
        if let Some((known, promise)) = slot.as_ref() {
            if known.same(flight) {
                return promise.clone();
            }
        }
        let (deadline, timer) = runtime::timer_promise(limit_ms);
        let driven = flight.clone();
        let landed = spawn(Box::pin(async move {
            let _ = driven.await;
            runtime::clear_timer(&timer);
            Ok(JsValue::UNDEFINED)
        }));
        let promise = Promise::race(&js_sys::Array::of2(&landed, &deadline));
        *slot = Some((flight.clone(), promise.clone()));
        promise
    }
}

/// Set once by the workerd entry; wasm32 without threads has one copy of it.
static REQUEST_ISOLATION: AtomicBool = AtomicBool::new(false);

/// Switches on request isolation, for runtimes that tie every I/O to the request that
/// started it and cancel it when that request ends (workerd). Callers that wait for a
/// token request then resume in their own request and keep it alive while they wait, and
/// a token request whose I/O was cancelled is given up. The package's workerd entry calls
/// it once, after loading the module.
#[wasm_bindgen(js_name = isolateRequests)]
pub fn isolate_requests() {
    REQUEST_ISOLATION.store(true, Ordering::Relaxed);
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
        let (raw, js) = options::read_options(&options).map_err(|e| error::to_js(&e))?;
        let config = Config::from_options(raw).map_err(|e| error::to_js(&e))?;
        let store = js
            .token_store
            .map(|s| Rc::new(JsTokenStore::new(s)) as Rc<dyn TokenStore>);
        let client = TokenClient::new(config, JsClock, JsTransport::new(Fetcher::new(js.fetch)), store);
        Ok(CedatoAuth {
            inner: Rc::new(Inner {
                client,
                memo: RefCell::new(None),
                flight: RefCell::new(None),
            }),
        })
    }

    /// The access token: from memory while it is valid outside the refresh window, else
    /// fetched (one request however many callers ask at once).
    #[wasm_bindgen(js_name = getToken, unchecked_return_type = "Promise<string>")]
    pub fn get_token(&self) -> Promise {
        self.inner.token_promise(false, false)
    }

    /// `"Bearer <token>"`, for the `Authorization` header.
    #[wasm_bindgen(js_name = getAuthorizationHeader, unchecked_return_type = "Promise<string>")]
    pub fn get_authorization_header(&self) -> Promise {
        self.inner.token_promise(true, false)
    }

    /// A new token now, joining a request already in flight. Rejects on failure even
    /// while the old token is still valid.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn refresh(&self) -> Promise {
        self.inner.token_promise(false, true)
    }

    /// Forgets the cached token. A request already in flight is not cancelled.
    pub fn clear(&self) {
        self.inner.client.clear();
        self.inner.memo.borrow_mut().take();
    }

    /// When the cached token expires, in ms since the epoch; `undefined` when none is cached.
    #[wasm_bindgen(getter, js_name = expiresAt)]
    pub fn expires_at(&self) -> Option<f64> {
        self.inner.client.expires_at()
    }

    /// Whether a token is cached and outside the refresh window.
    #[wasm_bindgen(getter, js_name = hasValidToken)]
    pub fn has_valid_token(&self) -> bool {
        self.inner.client.fresh_token().is_some()
    }

    /// `fetch` with the token: a relative URL is resolved against `baseUrl`; an absolute
    /// one must share its origin. A 401 or 419 answer gets one retry with a new token
    /// (when the body can be sent again). Resolves with the `Response`, like `fetch`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RequestInit")] init: JsValue,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        spawn(Box::pin(async move {
            let url = resolve(inner.client.config(), &input)?;
            let (response, _deadline) = authed_fetch(&inner, &url, &init, None).await?;
            Ok(response.into())
        }))
    }

    /// A JSON call through `fetch`: resolves with the parsed body of a 2xx answer
    /// (`undefined` when empty), rejects with `http` on another status.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn request(
        &self,
        path: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RequestOptions")] options: JsValue,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        spawn(Box::pin(async move { json_request(&inner, &path, &options).await }))
    }

    /// `CedatoAuth(<baseUrl>)`: never a credential.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_string_js(&self) -> String {
        ["CedatoAuth(", self.inner.client.config().base_url.as_str(), ")"].concat()
    }

    /// What `JSON.stringify` shows: the base URL and the token's state, never a credential.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "{ baseUrl: string; hasValidToken: boolean; expiresAt?: number }")]
    pub fn to_json(&self) -> JsValue {
        let out = Object::new();
        let _ = Reflect::set(
            &out,
            &"baseUrl".into(),
            &self.inner.client.config().base_url.as_str().into(),
        );
        let _ = Reflect::set(&out, &"hasValidToken".into(), &self.has_valid_token().into());
        if let Some(at) = self.expires_at() {
            let _ = Reflect::set(&out, &"expiresAt".into(), &at.into());
        }
        out.into()
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = URL)]
    type Url;

    #[wasm_bindgen(constructor, js_class = "URL", catch)]
    fn new(input: &str, base: &str) -> Result<Url, JsValue>;

    #[wasm_bindgen(method, getter)]
    fn origin(this: &Url) -> String;

    #[wasm_bindgen(method, getter)]
    fn href(this: &Url) -> String;

    #[wasm_bindgen(method, getter, js_name = searchParams)]
    fn search_params(this: &Url) -> SearchParams;

    #[wasm_bindgen(js_name = URLSearchParams)]
    type SearchParams;

    #[wasm_bindgen(method)]
    fn append(this: &SearchParams, name: &str, value: &str);

    /// `Headers`, constructed from any `HeadersInit`.
    #[wasm_bindgen(js_name = Headers)]
    type HeaderList;

    #[wasm_bindgen(constructor, js_class = "Headers", catch)]
    fn new(init: &JsValue) -> Result<HeaderList, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn has(this: &HeaderList, name: &str) -> Result<bool, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn set(this: &HeaderList, name: &str, value: &str) -> Result<(), JsValue>;

    /// `String(value)`.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;

    #[wasm_bindgen(js_name = ReadableStream)]
    type ReadableStream;
}

/// Runs a call's future as a promise. One boxed signature keeps a single copy of the
/// executor glue in the wasm.
fn spawn(future: LocalFuture<Result<JsValue, JsValue>>) -> Promise {
    future_to_promise(future)
}

/// The absolute URL for `input`: relative ones resolve against `baseUrl`; the result
/// must have `baseUrl`'s origin, so the token never leaves it.
fn resolve(config: &Config, input: &JsValue) -> Result<Url, JsValue> {
    let text = match input.as_string() {
        Some(s) => s,
        None if input.is_instance_of::<Url>() => input.unchecked_ref::<Url>().href(),
        None => return Err(error::invalid_request("the URL must be a string or a URL object")),
    };
    let url = Url::new(&text, &config.base_url)
        .map_err(|e| error::with_cause(ErrorCode::InvalidRequest, "the URL cannot be parsed", &e))?;
    if url.origin() != config.origin {
        return Err(error::invalid_request(
            &[
                "refused to send the token outside ",
                config.origin.as_str(),
                " (the origin of baseUrl)",
            ]
            .concat(),
        ));
    }
    Ok(url)
}

/// Whether `body` could be sent a second time (a stream is used up by the first send).
fn resendable(body: &JsValue) -> bool {
    body.is_undefined() || body.is_null() || body.is_string() || !body.is_instance_of::<ReadableStream>()
}

/// Fetches `url` with the caller's `init` plus the token, retrying once on 401/419.
/// With `timeout_ms`, each attempt (body included, as long as the returned deadline is
/// kept) is aborted after that time.
async fn authed_fetch(
    inner: &Rc<Inner>,
    url: &Url,
    init: &JsValue,
    timeout_ms: Option<f64>,
) -> Result<(Response, Option<Deadline>), JsValue> {
    if !(init.is_undefined() || init.is_null() || init.is_object()) {
        return Err(error::invalid_request("init must be an object"));
    }
    let base = Object::new();
    if init.is_object() {
        Object::assign(&base, init.unchecked_ref());
    }
    let headers = Reflect::get(&base, &"headers".into())
        .and_then(|h| HeaderList::new(&h))
        .map_err(|e| {
            error::with_cause(
                ErrorCode::InvalidRequest,
                "init.headers is not a valid set of headers",
                &e,
            )
        })?;
    let config = inner.client.config();
    for (name, value) in [
        ("api-version", config.api_version.as_str()),
        ("accept", "application/json"),
    ] {
        if !headers.has(name).unwrap_or(true) {
            let _ = headers.set(name, value);
        }
    }
    let retry_allowed = resendable(&Reflect::get(&base, &"body".into()).unwrap_or(JsValue::UNDEFINED));
    let fetcher = inner.client.transport().fetcher().clone();
    let href = JsValue::from(url.href());
    let mut retried = false;
    loop {
        let token = inner.token(false).await.map_err(|e| error::to_js(&e))?;
        headers
            .set("authorization", &token.authorization)
            .map_err(|e| error::with_cause(ErrorCode::InvalidRequest, "cannot set the Authorization header", &e))?;
        let attempt_init = Object::assign(&Object::new(), &base);
        let _ = Reflect::set(&attempt_init, &"headers".into(), &headers);
        let deadline = match timeout_ms {
            Some(ms) => Some(Deadline::start(ms).ok_or_else(|| error::invalid_request("no AbortController here"))?),
            None => None,
        };
        if let Some(d) = &deadline {
            let _ = Reflect::set(&attempt_init, &"signal".into(), &d.signal());
        }
        let sent = JsFuture::from(fetcher.call(&href, &attempt_init)).await;
        let response: Response = match sent.and_then(|r| r.dyn_into()) {
            Ok(r) => r,
            Err(e) => return Err(fetch_failure(&e, deadline.as_ref(), &token)),
        };
        let status = response.status();
        if (status == 401 || status == 419) && retry_allowed && !retried {
            inner.client.invalidate(token.id).await;
            retried = true;
            // Free the connection of the refused answer before the retry.
            if let Ok(p) = response.text() {
                let _ = JsFuture::from(p).await;
            }
            continue;
        }
        return Ok((response, deadline));
    }
}

/// The `CedatoError` for a fetch that threw: `timeout` when a time limit (ours, or an
/// `AbortSignal.timeout()` of the caller) ended it, else `network`.
fn fetch_failure(e: &JsValue, deadline: Option<&Deadline>, token: &CachedToken) -> JsValue {
    let name = Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    let (code, text) = if deadline.is_some_and(Deadline::expired) {
        (ErrorCode::Timeout, "the API did not answer within timeoutMs".to_owned())
    } else if name == "TimeoutError" {
        (ErrorCode::Timeout, "the request timed out (init.signal)".to_owned())
    } else if name == "AbortError" {
        (ErrorCode::Network, "the request was aborted (init.signal)".to_owned())
    } else {
        let detail = runtime::redact(&describe(e), &[&token.authorization, &token.access_token]);
        (
            ErrorCode::Network,
            ["the API request failed: ", detail.as_str()].concat(),
        )
    };
    error::with_cause(code, &text, e)
}

/// `auth.request(path, options)`.
async fn json_request(inner: &Rc<Inner>, path: &JsValue, options: &JsValue) -> Result<JsValue, JsValue> {
    let Some(path) = path.as_string() else {
        return Err(error::invalid_request("request() takes a path string"));
    };
    if !(options.is_undefined() || options.is_null() || options.is_object()) {
        return Err(error::invalid_request("request() options must be an object"));
    }
    let config = inner.client.config();
    let url = resolve(config, &JsValue::from(path.as_str()))?;
    let field = |k: &str| {
        if options.is_object() {
            Reflect::get(options, &k.into()).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        }
    };
    add_query(&url, &field("query"))?;
    let method = match field("method") {
        m if m.is_undefined() || m.is_null() => "GET".to_owned(),
        m => m
            .as_string()
            .ok_or_else(|| error::invalid_request("options.method must be a string"))?,
    };
    let headers = Object::new();
    let given = field("headers");
    if given.is_object() {
        Object::assign(&headers, given.unchecked_ref());
    } else if !(given.is_undefined() || given.is_null()) {
        return Err(error::invalid_request("options.headers must be an object"));
    }
    let init = Object::new();
    let _ = Reflect::set(&init, &"method".into(), &method.as_str().into());
    let body = field("body");
    if !body.is_undefined() {
        let text = JSON::stringify(&body)
            .ok()
            .and_then(|t| t.as_string())
            .ok_or_else(|| error::invalid_request("options.body cannot be encoded as JSON"))?;
        let _ = Reflect::set(&init, &"body".into(), &text.into());
        let has_type = Object::keys(&headers)
            .iter()
            .any(|k| k.as_string().is_some_and(|k| k.eq_ignore_ascii_case("content-type")));
        if !has_type {
            let _ = Reflect::set(&headers, &"content-type".into(), &"application/json".into());
        }
    }
    let _ = Reflect::set(&init, &"headers".into(), &headers);
    let (response, deadline) = authed_fetch(inner, &url, &init.into(), Some(config.timeout_ms)).await?;
    let status = response.status();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await,
        Err(e) => Err(e),
    };
    let text = match text {
        Ok(t) => t.as_string().unwrap_or_default(),
        Err(e) => {
            let code = if deadline.as_ref().is_some_and(Deadline::expired) {
                ErrorCode::Timeout
            } else {
                ErrorCode::Network
            };
            return Err(error::with_cause(code, "reading the API answer failed", &e));
        }
    };
    drop(deadline);
    // "GET reports/… answered HTTP 404", the start of either error below.
    let mut message = [method.as_str(), " ", path.as_str(), " answered HTTP "].concat();
    push_int(&mut message, u64::from(status));
    if !(200..300).contains(&status) {
        let mut e = Error::new(ErrorCode::Http, message).with_status(status);
        e.body = Some(truncate_utf8(&text, ERROR_BODY_LIMIT).to_owned());
        e.retry_after = response
            .headers()
            .get("retry-after")
            .ok()
            .flatten()
            .and_then(|v| parse_retry_after(&v, js_sys::Date::now()));
        return Err(error::to_js(&e));
    }
    if text.is_empty() {
        return Ok(JsValue::UNDEFINED);
    }
    JSON::parse(&text).map_err(|cause| {
        message.push_str(" with a body that is not JSON");
        let js = error::to_js(&Error::new(ErrorCode::InvalidResponse, message).with_status(status));
        let _ = Reflect::set(&js, &"cause".into(), &cause);
        js
    })
}

/// Appends `query` (string, number or boolean values; `undefined`/`null` skipped).
fn add_query(url: &Url, query: &JsValue) -> Result<(), JsValue> {
    if query.is_undefined() || query.is_null() {
        return Ok(());
    }
    if !query.is_object() {
        return Err(error::invalid_request("options.query must be an object"));
    }
    let params = url.search_params();
    for entry in Object::entries(query.unchecked_ref()).iter() {
        let key = Reflect::get_u32(&entry, 0)
            .ok()
            .and_then(|k| k.as_string())
            .unwrap_or_default();
        let value = Reflect::get_u32(&entry, 1).unwrap_or(JsValue::UNDEFINED);
        let text = if let Some(s) = value.as_string() {
            s
        } else if value.as_f64().is_some() || value.as_bool().is_some() {
            js_string(&value)
        } else if value.is_undefined() || value.is_null() {
            continue;
        } else {
            return Err(error::invalid_request(
                "options.query values must be strings, numbers or booleans",
            ));
        };
        params.append(&key, &text);
    }
    Ok(())
}
