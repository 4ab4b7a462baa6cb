//! The JavaScript platform under the core: `Date.now()`, timers, and the global `fetch`.
//!
//! Everything is bound through the global scope (never `window`), so the same module
//! runs in pages, workers, workerd, Node.js and Deno.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Response};

use crate::core::shared::LocalFuture;
use crate::core::text;
use crate::core::{Clock, HttpRequest, HttpResponse, StoredToken, TokenStore, Transport, TransportError};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &JsValue, init: &JsValue) -> Promise;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Reads `Date.now()` at every call, so fake timers drive the token lifetime.
pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn sleep(&self, ms: f64) -> LocalFuture<()> {
        let (promise, timer) = timer_promise(ms);
        Box::pin(Sleep {
            done: JsFuture::from(promise),
            timer,
        })
    }

    fn jitter(&self) -> f64 {
        js_sys::Math::random()
    }
}

/// A timer as a future. Dropping it clears the timer, so a wait that lost a race (a store
/// that answered before its time limit) does not keep a Node.js process alive.
struct Sleep {
    done: JsFuture,
    timer: JsValue,
}

impl core::future::Future for Sleep {
    type Output = ();

    fn poll(mut self: core::pin::Pin<&mut Self>, cx: &mut core::task::Context<'_>) -> core::task::Poll<()> {
        core::pin::Pin::new(&mut self.done).poll(cx).map(|_| ())
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        clear_timeout(&self.timer);
    }
}

/// A promise that resolves after `ms`, and its timer (for [`clear_timer`]).
pub fn timer_promise(ms: f64) -> (Promise, JsValue) {
    let mut timer = JsValue::UNDEFINED;
    let promise = Promise::new(&mut |resolve, _reject| {
        timer = set_timeout(&resolve, ms);
    });
    (promise, timer)
}

/// Clears a timer made by [`timer_promise`].
pub fn clear_timer(timer: &JsValue) {
    clear_timeout(timer);
}

/// A pending timer owned by the current caller, cleared on drop. It costs one
/// `setTimeout` (no promise, no closure): its callback is `clearTimeout`, which does
/// nothing when called without an id. workerd counts it as the waiting request's own
/// pending work.
pub struct KeepAlive(Option<JsValue>);

impl KeepAlive {
    /// Holds a timer for at most `ms`.
    pub fn start(ms: f64) -> KeepAlive {
        let noop = Reflect::get(&js_sys::global(), &"clearTimeout".into())
            .ok()
            .and_then(|f| f.dyn_into().ok());
        KeepAlive(noop.map(|f: Function| set_timeout(&f, ms)))
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        if let Some(timer) = &self.0 {
            clear_timeout(timer);
        }
    }
}

/// The caller's `fetch` option, or the global `fetch`.
#[derive(Clone)]
pub struct Fetcher(Option<Function>);

impl Fetcher {
    /// Uses `custom` when given.
    pub fn new(custom: Option<Function>) -> Self {
        Fetcher(custom)
    }

    /// Calls fetch; a synchronous throw becomes a rejected promise, as `fetch` does.
    pub fn call(&self, input: &JsValue, init: &JsValue) -> Promise {
        match &self.0 {
            None => global_fetch(input, init),
            Some(f) => match f.call2(&JsValue::UNDEFINED, input, init) {
                Ok(p) => p.dyn_into::<Promise>().unwrap_or_else(|value| Promise::resolve(&value)),
                Err(e) => Promise::reject(&e),
            },
        }
    }
}

/// An `AbortController` that aborts itself after a time limit, until dropped.
pub struct Deadline {
    controller: AbortController,
    timer: JsValue,
}

impl Deadline {
    /// Starts the timer. `None` if the platform has no `AbortController`.
    pub fn start(ms: f64) -> Option<Deadline> {
        let controller = AbortController::new().ok()?;
        // The timer calls `controller.abort()` directly: no Rust closure to outlive.
        let abort: Function = Reflect::get(&controller, &"abort".into()).ok()?.dyn_into().ok()?;
        let timer = set_timeout(&abort.bind0(&controller), ms);
        Some(Deadline { controller, timer })
    }

    /// The signal to hand to `fetch`.
    pub fn signal(&self) -> web_sys::AbortSignal {
        self.controller.signal()
    }

    /// Whether the time limit has passed (nothing else aborts this controller).
    pub fn expired(&self) -> bool {
        self.controller.signal().aborted()
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        clear_timeout(&self.timer);
    }
}

/// Sends token requests through fetch, body included within the time limit.
pub struct JsTransport {
    fetcher: Fetcher,
}

impl JsTransport {
    /// A transport over `fetcher`.
    pub fn new(fetcher: Fetcher) -> Self {
        JsTransport { fetcher }
    }

    /// The fetch function in use.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }
}

impl Transport for JsTransport {
    fn send(&self, request: &HttpRequest, timeout_ms: f64) -> LocalFuture<Result<HttpResponse, TransportError>> {
        let fetcher = self.fetcher.clone();
        let request = request.clone();
        Box::pin(async move {
            let Some(deadline) = Deadline::start(timeout_ms) else {
                return Err(TransportError::Network("this platform has no AbortController".into()));
            };
            let result = exchange(&fetcher, &request, &deadline).await;
            result.map_err(|e| {
                if deadline.expired() {
                    TransportError::Timeout
                } else {
                    TransportError::Network(redact(&describe(&e), &credentials(&request)))
                }
            })
        })
    }
}

async fn exchange(fetcher: &Fetcher, request: &HttpRequest, deadline: &Deadline) -> Result<HttpResponse, JsValue> {
    let headers = Object::new();
    for (name, value) in &request.headers {
        Reflect::set(&headers, &(*name).into(), &value.into())?;
    }
    let init = Object::new();
    Reflect::set(&init, &"method".into(), &request.method.into())?;
    Reflect::set(&init, &"headers".into(), &headers)?;
    Reflect::set(&init, &"body".into(), &request.body.as_str().into())?;
    Reflect::set(&init, &"signal".into(), &deadline.signal())?;
    // A redirect of the token request is reported (`http`), not followed with the
    // credentials to wherever it points.
    Reflect::set(&init, &"redirect".into(), &"manual".into())?;
    let response: Response = JsFuture::from(fetcher.call(&request.url.as_str().into(), &init))
        .await?
        .dyn_into()?;
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let body = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
    Ok(HttpResponse {
        status: response.status(),
        retry_after,
        body,
    })
}

/// A short description of a thrown JS value: its message and its cause's.
pub fn describe(error: &JsValue) -> String {
    let field = |v: &JsValue, k: &str| Reflect::get(v, &k.into()).ok().and_then(|m| m.as_string());
    let mut text = field(error, "message")
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into());
    if let Ok(cause) = Reflect::get(error, &"cause".into()) {
        if let Some(more) = field(&cause, "message").or_else(|| field(&cause, "code")) {
            text.push_str(" (");
            text.push_str(&more);
            text.push(')');
        }
    }
    text
}

/// The credential parts of a request's `authorization` header.
fn credentials(request: &HttpRequest) -> Vec<&str> {
    let value = request
        .headers
        .iter()
        .find(|(n, _)| *n == "authorization")
        .map_or("", |(_, v)| v.as_str());
    vec![value, text::split_once(value, " ").map_or(value, |(_, c)| c)]
}

/// Replaces every occurrence of each secret in `text` (fetch errors may quote headers).
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = text::replace_all(&out, s, "[redacted]");
    }
    out
}

/// A `tokenStore` object from JS. A method that throws or rejects counts as "nothing
/// there" / "not written": the store never fails a call.
pub struct JsTokenStore {
    object: JsValue,
}

impl JsTokenStore {
    /// Wraps an object already checked to have `get` and `set` methods.
    pub fn new(object: JsValue) -> Self {
        JsTokenStore { object }
    }

    /// `object[name](...args)` as a promise; `None` when there is no such method or it
    /// threw synchronously.
    fn call(&self, name: &str, args: &[JsValue]) -> Option<Promise> {
        let method: Function = Reflect::get(&self.object, &name.into()).ok()?.dyn_into().ok()?;
        let this = &self.object;
        let result = match args {
            [a] => method.call1(this, a),
            [a, b, c] => method.call3(this, a, b, c),
            _ => return None,
        };
        result.ok().map(|v| Promise::resolve(&v))
    }
}

/// Waits for a store call to settle, whatever its outcome: a write that fails is only
/// a token not shared.
async fn settle(pending: Option<Promise>) {
    if let Some(p) = pending {
        let _ = JsFuture::from(p).await;
    }
}

/// Reads `{ accessToken, tokenType, expiresAt }`; a token type other than bearer, or
/// fields of the wrong type, make it unusable.
fn stored_token(value: &JsValue) -> Option<StoredToken> {
    let field = |k: &str| Reflect::get(value, &k.into()).ok();
    if !value.is_object() {
        return None;
    }
    let token_type = field("tokenType")?;
    let bearer = token_type.is_undefined()
        || token_type.is_null()
        || token_type.as_string().is_some_and(|t| t.eq_ignore_ascii_case("bearer"));
    if !bearer {
        return None;
    }
    Some(StoredToken {
        access_token: field("accessToken")?.as_string()?,
        expires_at: field("expiresAt")?.as_f64()?,
    })
}

impl TokenStore for JsTokenStore {
    fn get(&self, key: &str) -> LocalFuture<Option<StoredToken>> {
        let pending = self.call("get", &[key.into()]);
        Box::pin(async move { stored_token(&JsFuture::from(pending?).await.ok()?) })
    }

    fn set(&self, key: &str, token: &StoredToken, ttl_seconds: f64) -> LocalFuture<()> {
        let value = Object::new();
        let _ = Reflect::set(&value, &"accessToken".into(), &token.access_token.as_str().into());
        let _ = Reflect::set(&value, &"tokenType".into(), &"bearer".into());
        let _ = Reflect::set(&value, &"expiresAt".into(), &token.expires_at.into());
        let pending = self.call("set", &[key.into(), value.into(), ttl_seconds.into()]);
        Box::pin(settle(pending))
    }

    fn delete(&self, key: &str) -> LocalFuture<()> {
        let pending = self.call("delete", &[key.into()]);
        Box::pin(settle(pending))
    }
}
