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
use crate::core::{self, Config, Error, ErrorCode, Scalar, SharedStore};
use web_sys::Url;

/// One option as serde-wasm-bindgen reads it from the JavaScript object: its kind, and
/// its value when the core takes it.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum OptionValue {
    /// `undefined` or `null`: take the default.
    #[default]
    Missing,
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
    /// A function (only `fetch` and `onEvent` take one).
    Function,
    /// An object or an array, not a function (only `tokenStore` takes an object).
    Object,
    /// A boolean (only `allowInsecureHttp` takes one).
    Bool(bool),
    /// Anything else; the name of its type, for the message.
    Other(&'static str),
}

/// Reads any value as a [`Scalar`] (the token answer's reader), keeping only what
/// validation needs: a value the reader cannot represent (a function or a symbol) is
/// [`OptionValue::Other`].
impl<'de> Deserialize<'de> for OptionValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Scalar::deserialize(deserializer) {
            Ok(Scalar::Null) => OptionValue::Missing,
            Ok(Scalar::String(s)) => OptionValue::Str(s),
            Ok(Scalar::Number(n)) => OptionValue::Num(n),
            Ok(Scalar::Bool(b)) => OptionValue::Bool(b),
            Ok(Scalar::Composite) => OptionValue::Object,
            Err(_) => OptionValue::Other("a function or a symbol"),
        })
    }
}

impl OptionValue {
    /// Names the value's type for a message, never its content.
    fn type_name(&self) -> &'static str {
        match self {
            OptionValue::Missing => "missing",
            OptionValue::Str(_) => "a string",
            OptionValue::Num(_) => "a number",
            OptionValue::Function => "a function",
            OptionValue::Object => "an object or an array",
            OptionValue::Bool(_) => "a boolean",
            OptionValue::Other(t) => t,
        }
    }

    /// `field must be {wanted}, got {type}`.
    fn wrong_type(&self, field: &str, wanted: &str) -> Error {
        config_error(&format!("{field} must be {wanted}, got {}", self.type_name()))
    }

    /// A string option (`None` when missing); `wanted` names the type in the message.
    fn string(self, field: &str, wanted: &str) -> Result<Option<String>, Error> {
        match self {
            OptionValue::Missing => Ok(None),
            OptionValue::Str(s) => Ok(Some(s)),
            other => Err(other.wrong_type(field, wanted)),
        }
    }

    /// A number option (`None` when missing).
    fn number(self, field: &str) -> Result<Option<f64>, Error> {
        match self {
            OptionValue::Missing => Ok(None),
            OptionValue::Num(n) => Ok(Some(n)),
            other => Err(other.wrong_type(field, "a number")),
        }
    }
}

/// The options object of `new CedatoAuth(options)`, field by field, as JavaScript gave it.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RawOptions {
    client_id: OptionValue,
    client_secret: OptionValue,
    base_url: OptionValue,
    api_version: OptionValue,
    refresh_skew_seconds: OptionValue,
    timeout_ms: OptionValue,
    max_retries: OptionValue,
    unauthorized_cooldown_ms: OptionValue,
    fetch: OptionValue,
    token_store: OptionValue,
    on_event: OptionValue,
    allow_insecure_http: OptionValue,
}

impl RawOptions {
    /// The core's typed options, when each value has the type its option takes.
    fn typed(self) -> Result<core::config::Options, Error> {
        let string = "a non-empty string";
        let max_retries = match self.max_retries.number("maxRetries")? {
            Some(n) => Some(core::config::max_retries(n)?),
            None => None,
        };
        let allow_insecure_http = match self.allow_insecure_http {
            OptionValue::Missing => false,
            OptionValue::Bool(b) => b,
            other => return Err(other.wrong_type("allowInsecureHttp", "a boolean")),
        };
        Ok(core::config::Options {
            client_id: self.client_id.string("clientId", string)?,
            client_secret: self.client_secret.string("clientSecret", string)?.map(Into::into),
            base_url: self.base_url.string("baseUrl", "a string")?,
            api_version: self.api_version.string("apiVersion", "a string")?,
            refresh_skew_seconds: self.refresh_skew_seconds.number("refreshSkewSeconds")?,
            timeout_ms: self.timeout_ms.number("timeoutMs")?,
            max_retries,
            unauthorized_cooldown_ms: self.unauthorized_cooldown_ms.number("unauthorizedCooldownMs")?,
            allow_insecure_http,
        })
    }
}

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
    // The options that hold JavaScript objects are taken as they are (serde reads them
    // as a kind of value only), from the same own-properties copy.
    let object = |key: &str| js_sys::Reflect::get(&options, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let (fetch, token_store, on_event) = (object("fetch"), object("tokenStore"), object("onEvent"));
    let kinds = [&mut raw.fetch, &mut raw.on_event, &mut raw.token_store].map(std::mem::take);
    let config = raw.typed()?.validate(whatwg_url)?;
    let [fetch_kind, on_event_kind, store_kind] = kinds;
    let function = |name: &str, value: JsValue, raw: OptionValue| match value {
        v if v.is_undefined() || v.is_null() => Ok(None),
        v if v.is_function() => Ok(Some(v.unchecked_into::<Function>())),
        v if v.is_object() => Err(OptionValue::Object.wrong_type(name, "a function")),
        _ => Err(raw.wrong_type(name, "a function")),
    };
    let fetch = function("fetch", fetch, fetch_kind)?;
    let on_event = function("onEvent", on_event, on_event_kind)?;
    let store = if token_store.is_undefined() || token_store.is_null() {
        None
    } else if token_store.is_object() && !token_store.is_function() {
        Some(shared_store(token_store)?)
    } else {
        let kind = if token_store.is_function() {
            OptionValue::Function
        } else {
            store_kind
        };
        return Err(kind.wrong_type("tokenStore", "an object with get and set methods"));
    };
    Ok(Options {
        config,
        fetch,
        store,
        on_event,
    })
}

/// `text` as the engine's WHATWG `URL` reads it: the core's base-URL parser in the wasm.
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
