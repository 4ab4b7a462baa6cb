//! Reads the constructor options from a JS object into the core's `RawOptions`.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

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
        OptionValue::Other("an object")
    }
}

/// The options object field by field, and the `fetch` function when one was given.
pub fn read_options(options: &JsValue) -> Result<(RawOptions, Option<Function>), Error> {
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
    };
    let fetch = match raw.fetch {
        OptionValue::Function => Reflect::get(options, &"fetch".into())
            .ok()
            .and_then(|f| f.dyn_into().ok()),
        _ => None,
    };
    Ok((raw, fetch))
}
