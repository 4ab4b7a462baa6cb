//! What the Rust half reads of the JavaScript platform: `Date.now()`, `Math.random()`,
//! and the values a `tokenStore` hands back.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::core::text;
use crate::core::{Clock, StoredToken};

/// Reads `Date.now()` at every call, so fake timers drive the token lifetime.
pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn jitter(&self) -> f64 {
        js_sys::Math::random()
    }
}

/// Replaces every occurrence of each secret in `text` (fetch errors may quote headers).
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = text::replace_all(&out, s, "[redacted]");
    }
    out
}

/// Reads `{ accessToken, tokenType, expiresAt, expiresIn? }`; a token type other than
/// bearer, or fields of the wrong type, make it unusable (an `expiresIn` that is not a
/// number is left out).
pub fn stored_token(value: &JsValue) -> Option<StoredToken> {
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
        expires_in: field("expiresIn").and_then(|v| v.as_f64()),
    })
}
