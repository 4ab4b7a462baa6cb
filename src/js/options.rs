//! The constructor's and `request()`'s options, read with serde-wasm-bindgen into Rust
//! structs, then validated by the SPEC rules.

use js_sys::Function;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::engine::own_properties;
use super::seal::WebCrypto;
use super::store::JsStore;
use crate::core::config::WhatwgUrl;
use crate::core::{Config, Error, ErrorCode, OptionValue, RawOptions, SharedStore};
use web_sys::Url;

/// Validated options and the JavaScript objects among them.
pub struct Options {
    pub config: Config,
    pub fetch: Option<Function>,
    pub store: Option<SharedStore>,
    pub on_event: Option<Function>,
}

fn config_error(message: &str) -> Error {
    Error::new(ErrorCode::InvalidConfig, message)
}

/// Reads and validates `new CedatoAuth(options)`'s argument.
pub fn read(options: &JsValue) -> Result<Options, Error> {
    if !options.is_object() {
        return Err(config_error("options must be an object with clientId and clientSecret"));
    }
    let unreadable = |_| config_error("options could not be read");
    let options = own_properties(options).ok_or_else(|| config_error("options could not be read"))?;
    let mut raw: RawOptions = serde_wasm_bindgen::from_value(options.clone()).map_err(unreadable)?;
    // The two options that hold JavaScript objects are taken as they are (serde reads them
    // as a kind of value only), from the same own-properties copy.
    let object = |key: &str| js_sys::Reflect::get(&options, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let (fetch, token_store, on_event) = (object("fetch"), object("tokenStore"), object("onEvent"));
    let kind = |v: &JsValue, raw: OptionValue| {
        if v.is_undefined() || v.is_null() {
            OptionValue::Missing
        } else if v.is_function() {
            OptionValue::Function
        } else if v.is_object() {
            OptionValue::Object
        } else {
            raw
        }
    };
    raw.fetch = kind(&fetch, raw.fetch);
    raw.token_store = kind(&token_store, raw.token_store);
    raw.on_event = kind(&on_event, raw.on_event);
    let config = Config::from_options(raw, whatwg_url)?;
    let store = match config.token_store {
        true => Some(shared_store(token_store)?),
        false => None,
    };
    Ok(Options {
        config,
        fetch: fetch.dyn_into::<Function>().ok(),
        store,
        on_event: on_event.dyn_into::<Function>().ok(),
    })
}

/// `text` as the engine's WHATWG `URL` reads it (the core's [`ParseUrl`]).
fn whatwg_url(text: &str) -> Option<WhatwgUrl> {
    let url = Url::new(text).ok()?;
    Some(WhatwgUrl {
        href: url.href(),
        origin: url.origin(),
    })
}

/// The `tokenStore` option and the engine's Web Crypto, which seals what it keeps.
fn shared_store(store: JsValue) -> Result<SharedStore, Error> {
    let store = JsStore::new(store)?;
    let crypto = WebCrypto::detect().ok_or_else(|| {
        config_error(
            "tokenStore needs the engine's Web Crypto (crypto.subtle) to seal the tokens it shares, \
             and this runtime has none (browsers offer it only on https pages and localhost)",
        )
    })?;
    Ok(SharedStore {
        store: std::rc::Rc::new(store),
        sealer: std::rc::Rc::new(crypto),
    })
}

/// `request()`'s query: its entries in order, or why it cannot be used.
#[derive(Default)]
pub enum Query {
    /// No query.
    #[default]
    Missing,
    /// `key=value` pairs (`None` values, from `undefined` and `null`, are skipped).
    Entries(Vec<(String, Option<QueryValue>)>),
    /// Not an object, or a value that is not a string, number or boolean.
    Invalid(&'static str),
}

/// A query value.
pub enum QueryValue {
    /// A string, as is.
    Str(String),
    /// A number, written as JavaScript's `String(n)` writes it.
    Num(f64),
    /// `true` / `false`.
    Bool(bool),
}

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use crate::core::Scalar;
        use serde::de::{MapAccess, Visitor};
        struct QueryVisitor;
        impl<'de> Visitor<'de> for QueryVisitor {
            type Value = Query;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_unit<E>(self) -> Result<Query, E> {
                Ok(Query::Missing)
            }
            fn visit_none<E>(self) -> Result<Query, E> {
                Ok(Query::Missing)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Query, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Scalar>()? {
                    let value = match value {
                        Scalar::Null => None,
                        Scalar::String(s) => Some(QueryValue::Str(s)),
                        Scalar::Number(n) => Some(QueryValue::Num(n)),
                        Scalar::Bool(b) => Some(QueryValue::Bool(b)),
                        Scalar::Composite => return Ok(Query::Invalid(INVALID)),
                    };
                    entries.push((key, value));
                }
                Ok(Query::Entries(entries))
            }
        }
        const INVALID: &str = "options.query must be an object of strings, numbers or booleans";
        Ok(match deserializer.deserialize_any(QueryVisitor) {
            Ok(query) => query,
            // Not an object, or a function or a symbol among the values.
            Err(_) => Query::Invalid(INVALID),
        })
    }
}

/// `auth.request(path, options)`'s options.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestOptions {
    /// Default `GET`.
    pub method: OptionValue,
    /// Appended to the URL.
    pub query: Query,
    /// JSON-encoded when present. Taken as it is from the own-properties copy, like
    /// `headers` (serde-wasm-bindgen's `preserve` for the two cost 1098 B gzip).
    #[serde(skip)]
    pub body: JsValue,
    /// Extra headers (anything `new Headers()` takes).
    #[serde(skip)]
    pub headers: JsValue,
    /// `"json"` (default), `"text"` or `"auto"`: what a 2xx body becomes.
    #[serde(rename = "responseType")]
    pub response_type: OptionValue,
}

impl RequestOptions {
    /// Reads `options` (`undefined` and `null` mean none).
    pub fn read(options: &JsValue) -> Result<RequestOptions, Error> {
        if options.is_undefined() || options.is_null() {
            return Ok(RequestOptions::default());
        }
        let invalid = || Error::new(ErrorCode::InvalidRequest, "request() options must be an object");
        if !options.is_object() {
            return Err(invalid());
        }
        let own = own_properties(options).ok_or_else(invalid)?;
        // The query's entries are read too: copied out the same way first.
        let field = |key: &str| js_sys::Reflect::get(&own, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let query = field("query");
        if query.is_object() {
            // A query that cannot be read becomes one that is not an object: invalid.
            let copy = own_properties(&query).unwrap_or_else(|| "unreadable".into());
            let _ = js_sys::Reflect::set(&own, &"query".into(), &copy);
        }
        let (body, headers) = (field("body"), field("headers"));
        let options: RequestOptions = serde_wasm_bindgen::from_value(own).map_err(|_| invalid())?;
        Ok(RequestOptions {
            body,
            headers,
            ..options
        })
    }
}
