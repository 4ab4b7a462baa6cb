//! Answers read only as far as they are used: the stream read chunk by chunk, then
//! cancelled, so no answer can grow the wasm memory beyond its limit.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};
use zeroize::Zeroize;

/// The body's first `limit` bytes as text (invalid UTF-8 replaced), and whether there was
/// more (the rest is not read: the stream is cancelled).
pub async fn read_limited(response: &Response, limit: usize) -> Result<(String, bool), JsValue> {
    let Some(stream) = response.body() else {
        return Ok((String::new(), false));
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    // Room for the whole limit from the start: growing would leave copies of a token
    // answer behind in freed memory; chunks are copied straight into it.
    let mut bytes = Vec::with_capacity(limit);
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
        bytes.resize(start + take as usize, 0);
        if let Some(into) = bytes.get_mut(start..) {
            value.subarray(0, take).copy_to(into);
        }
        if value.length() > room {
            more = true;
            // The rest is not wanted; cancelling frees the connection.
            let _ = reader.cancel();
            break;
        }
    }
    reader.release_lock();
    let text = String::from_utf8(bytes).unwrap_or_else(|invalid| {
        let mut bytes = invalid.into_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        bytes.zeroize();
        text
    });
    Ok((text, more))
}
