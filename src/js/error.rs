//! Rust errors as JavaScript `CedatoError`s: an `Error` whose `name` is `"CedatoError"`,
//! with `code`, `status`, `retryable`, and the other fields of the SPEC's errors table.

use wasm_bindgen::JsValue;

pub use super::engine::set;

use crate::core::{Error, ErrorCode};

/// Builds the JS error for `error`.
pub fn to_js(error: &Error) -> JsValue {
    let js: JsValue = js_sys::Error::new(&error.message).into();
    set(&js, "name", &"CedatoError".into());
    set(&js, "code", &error.code.as_str().into());
    set(&js, "retryable", &error.retryable().into());
    if let Some(status) = error.status {
        set(&js, "status", &status.into());
    }
    if let Some(seconds) = error.retry_after {
        set(&js, "retryAfter", &seconds.into());
    }
    if let Some(e) = &error.oauth_error {
        set(&js, "oauthError", &e.as_str().into());
    }
    if let Some(d) = &error.oauth_error_description {
        set(&js, "oauthErrorDescription", &d.as_str().into());
    }
    if let Some(body) = &error.body {
        set(&js, "body", &body.as_str().into());
    }
    js
}

/// A `CedatoError` with a code and a message and nothing else.
pub fn js_error(code: ErrorCode, message: &str) -> JsValue {
    to_js(&Error::new(code, message))
}
