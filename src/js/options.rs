//! Reads the constructor options from a JS object into the core's `RawOptions`.

#[allow(unused_imports)]
use crate::prelude::*;

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::core::{Error, ErrorCode, OptionValue, RawOptions};

/// Reads one field by its JS name, naming only the value's type when it is unusable.
fn read(options: &JsValue, key: &str) -> OptionValue {
    let Ok(v) = Reflect::get(options, &key.into()) else {
        return OptionValue::Other("unreadable");
    };
    if v.is_undefined() || v.is_null() {
        OptionValue::Missing
    } else if let Some(s) = v.as_string() {
        OptionValue::Str(s)
    } else if let Some(n) = v.as_f64() {
        OptionValue::Num(n)
    } else if v.is_function() {
        OptionValue::Function
    } else if v.as_bool().is_some() {
        OptionValue::Other("a boolean")
    } else if v.is_bigint() {
        OptionValue::Other("a bigint")
    } else if v.is_symbol() {
        OptionValue::Other("a symbol")
    } else {
        OptionValue::Object
    }
}

fn has_method(object: &JsValue, name: &str) -> bool {
    Reflect::get(object, &name.into()).is_ok_and(|f| f.is_function())
}

/// The options object field by field (`tokenStore` checked to have `get` and `set`).
pub fn read_options(options: &JsValue) -> Result<RawOptions, Error> {
    if !options.is_object() || options.is_function() {
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            "options must be an object with clientId and clientSecret",
        ));
    }
    let raw = RawOptions {
        client_id: read(options, "clientId"),
        client_secret: read(options, "clientSecret"),
        base_url: read(options, "baseUrl"),
        api_version: read(options, "apiVersion"),
        refresh_skew_seconds: read(options, "refreshSkewSeconds"),
        timeout_ms: read(options, "timeoutMs"),
        max_retries: read(options, "maxRetries"),
        fetch: read(options, "fetch"),
        token_store: read(options, "tokenStore"),
    };
    if raw.token_store == OptionValue::Object {
        let store = Reflect::get(options, &"tokenStore".into()).unwrap_or(JsValue::UNDEFINED);
        if !(has_method(&store, "get") && has_method(&store, "set")) {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                "tokenStore must have get(key) and set(key, token, ttlSeconds) methods",
            ));
        }
    }
    Ok(raw)
}
