//! Owns the JavaScript `CedatoError`: an `Error` named `"CedatoError"` with `code`,
//! `status`, `retryable` and the SPEC's other fields, made from a [`Redacted`] error only.

use wasm_bindgen::JsValue;

pub use super::engine::set;

use crate::core::{Error, ErrorCode, Redacted};

/// Builds the JS error for `error`: only a [`Redacted`] one (from the client's redaction,
/// or in the library's own words).
pub fn to_js(error: &Redacted) -> JsValue {
    let error = error.error();
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

/// A `CedatoError` with a code and a fixed message (the library's words only) and
/// nothing else.
pub fn js_error(code: ErrorCode, message: &'static str) -> JsValue {
    to_js(&Redacted::own(Error::new(code, message)))
}
