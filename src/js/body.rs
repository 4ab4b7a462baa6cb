//! Answers read only as far as they are used: the stream read chunk by chunk, then
//! cancelled, so no answer can grow the wasm memory beyond its limit.

use std::cell::OnceCell;

use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};
use zeroize::Zeroizing;

use crate::core::http::reserve_zeroized;

#[wasm_bindgen]
extern "C" {
    /// A `ReadableStream`, for a `getReader` that may throw.
    type Stream;
    // `getReader` throws when the body is locked or used (a `fetch` option that read it):
    // `catch` makes that an error instead of an exception through the wasm.
    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn try_get_reader(this: &Stream) -> Result<ReadableStreamDefaultReader, JsValue>;
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
