//! Answers read only as far as they are used: the stream read chunk by chunk, then
//! cancelled, so no answer can grow the wasm memory beyond its limit.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};

/// The body's first `limit` bytes as text (invalid UTF-8 replaced), and whether there was
/// more (the rest is not read: the stream is cancelled).
pub async fn read_limited(response: &Response, limit: usize) -> Result<(String, bool), JsValue> {
    let Some(stream) = response.body() else {
        return Ok((String::new(), false));
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
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
        if value.length() > room {
            bytes.extend(value.subarray(0, room).to_vec());
            more = true;
            // The rest is not wanted; cancelling frees the connection.
            let _ = reader.cancel();
            break;
        }
        bytes.extend(value.to_vec());
    }
    reader.release_lock();
    Ok((String::from_utf8_lossy(&bytes).into_owned(), more))
}
