//! The plumbing of one `fetch`: the call itself ([`send`]: the `fetch` option or the
//! global one), its [`Deadline`], and answers read only as far as they are used (the
//! stream read chunk by chunk, then cancelled, so no answer can grow the wasm memory
//! beyond its limit). Used by the token request's transport and by `auth.fetch` alike.

use std::cell::OnceCell;

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader, Response};
use zeroize::Zeroizing;

use super::runtime::Sleep;
use crate::core::http::reserve_zeroized;

#[wasm_bindgen]
extern "C" {
    /// A `ReadableStream`, for a `getReader` that may throw.
    type Stream;
    // `getReader` throws when the body is locked or used (a `fetch` option that read it):
    // `catch` makes that an error instead of an exception through the wasm.
    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn try_get_reader(this: &Stream) -> Result<ReadableStreamDefaultReader, JsValue>;

    // `fetch` of the global scope (a worker, Node and Deno have no `window`); `catch`
    // turns a synchronous throw into an error like a rejection.
    #[wasm_bindgen(js_name = fetch, catch)]
    fn global_fetch(input: &JsValue, init: &JsValue) -> Result<JsValue, JsValue>;
}

/// Calls the `fetch` option, or the global `fetch`, and waits for a `Response`. A value
/// that is not a `Response` counts as thrown.
pub async fn send(custom: Option<&Function>, input: &JsValue, init: &JsValue) -> Result<Response, JsValue> {
    let returned = match custom {
        Some(f) => f.call2(&JsValue::UNDEFINED, input, init),
        None => global_fetch(input, init),
    }?;
    let settled = JsFuture::from(Promise::resolve(&returned)).await?;
    settled
        .dyn_into::<Response>()
        .map_err(|_| js_sys::Error::new("the fetch option did not resolve with a Response").into())
}

/// An `AbortController` that aborts after `ms`; dropping it clears the timer.
pub struct Deadline {
    controller: Option<AbortController>,
    timer: Option<Sleep>,
}

impl Deadline {
    /// A deadline `ms` from now, or none.
    pub fn new(ms: Option<f64>) -> Deadline {
        let controller = ms.and_then(|_| AbortController::new().ok());
        Deadline {
            timer: ms.filter(|_| controller.is_some()).map(Sleep::new),
            controller,
        }
    }

    /// The signal to hand to `fetch`.
    pub fn signal(&self) -> Option<web_sys::AbortSignal> {
        self.controller.as_ref().map(AbortController::signal)
    }

    /// Whether it fired (or was aborted).
    pub fn fired(&self) -> bool {
        self.signal().is_some_and(|s| s.aborted())
    }

    /// Waits for the deadline, then aborts; pending forever without one.
    pub async fn expire(&mut self) {
        match self.timer.as_mut() {
            Some(timer) => timer.await,
            None => std::future::pending().await,
        }
        self.abort();
    }

    /// Aborts now.
    pub fn abort(&self) {
        if let Some(c) = &self.controller {
            c.abort();
        }
    }
}

thread_local! {
    static IGNORE: OnceCell<Closure<dyn FnMut(JsValue)>> = const { OnceCell::new() };
}

/// Lets `promise` settle on its own: a rejection is handled (never an unhandled one).
pub fn ignore(promise: &Promise) {
    IGNORE.with(|ignore| {
        let _ = promise.catch(ignore.get_or_init(|| Closure::new(|_| {})));
    });
}

/// Stops reading `response`'s body and frees its connection, without waiting.
pub fn discard(response: &Response) {
    if let Some(body) = response.body() {
        ignore(&body.cancel());
    }
}

/// The body's first `limit` bytes as text (what decodes as UTF-8), overwritten when
/// dropped, and whether there was more (the rest is not read: the stream is cancelled).
pub async fn read_limited(response: &Response, limit: usize) -> Result<(Zeroizing<String>, bool), JsValue> {
    let Some(stream) = response.body() else {
        return Ok((Zeroizing::default(), false));
    };
    let reader = stream.unchecked_ref::<Stream>().try_get_reader()?;
    // Overwritten when dropped, on every path; grown by `reserve_zeroized`, which overwrites the
    // buffer it leaves (growing in place would leave copies of a token answer behind).
    let mut bytes = Zeroizing::new(Vec::new());
    let mut more = false;
    loop {
        let chunk = JsFuture::from(reader.read()).await?;
        if Reflect::get(&chunk, &"done".into())?.is_truthy() {
            break;
        }
        let Ok(value) = Reflect::get(&chunk, &"value".into())?.dyn_into::<Uint8Array>() else {
            continue;
        };
        let room = (limit - bytes.len()) as u32;
        let take = value.length().min(room);
        let start = bytes.len();
        reserve_zeroized(&mut bytes, take as usize);
        bytes.resize(start + take as usize, 0);
        if let Some(into) = bytes.get_mut(start..) {
            value.subarray(0, take).copy_to(into);
        }
        if value.length() > room {
            more = true;
            // The rest is not wanted; cancelling frees the connection.
            ignore(&reader.cancel());
            break;
        }
    }
    // Cut at the limit, the end may split a character: the text keeps what decodes.
    let valid = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(e) => bytes
            .get(..e.valid_up_to())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or(""),
    };
    Ok((Zeroizing::new(valid.to_owned()), more))
}
