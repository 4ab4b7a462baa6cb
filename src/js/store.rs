//! The `tokenStore` option as the core's [`TokenStore`]: its methods called through
//! js-sys, what they return awaited, stored values read with serde-wasm-bindgen.

use js_sys::{Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::core::{Error, ErrorCode, LocalFuture, Scalar, StoredToken, TokenStore};

/// A token as a store hands it back (the `StoredToken` of the typings).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredValue {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    expires_at: f64,
    #[serde(default)]
    expires_in: Option<Scalar>,
}

/// A token as the library hands it to `set`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoredValueOut<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<f64>,
}

/// The user's store object and its methods.
pub struct JsStore {
    store: JsValue,
    get: Function,
    set: Function,
    delete: Option<Function>,
}

impl JsStore {
    /// Checks that `store` has `get` and `set` methods, and `delete` is one when present.
    pub fn new(store: JsValue) -> Result<JsStore, Error> {
        let method = |name: &str| Reflect::get(&store, &name.into()).unwrap_or(JsValue::UNDEFINED);
        let (get, set, delete) = (method("get"), method("set"), method("delete"));
        let invalid = |message| Err(Error::new(ErrorCode::InvalidConfig, message));
        let (Ok(get), Ok(set)) = (get.dyn_into::<Function>(), set.dyn_into::<Function>()) else {
            return invalid("tokenStore must have get(key) and set(key, token, ttlSeconds) methods");
        };
        let delete = match delete {
            d if d.is_undefined() || d.is_null() => None,
            d => match d.dyn_into::<Function>() {
                Ok(f) => Some(f),
                Err(_) => return invalid("tokenStore.delete must be a method (delete(key)) when present"),
            },
        };
        Ok(JsStore {
            store,
            get,
            set,
            delete,
        })
    }

    /// Calls `method` with `args` and awaits what it returns; a throw or a rejection is
    /// `None`.
    fn call(&self, method: &Function, args: &[JsValue]) -> LocalFuture<Option<JsValue>> {
        let returned = method.apply(&self.store, &args.iter().collect());
        Box::pin(async move { JsFuture::from(Promise::resolve(&returned.ok()?)).await.ok() })
    }
}

/// Reads `{ accessToken, tokenType, expiresAt, expiresIn? }`; a token type other than
/// bearer, or fields of the wrong type, make it unusable (an `expiresIn` that is not a
/// number is left out).
fn stored_token(value: JsValue) -> Option<StoredToken> {
    if !value.is_object() {
        return None;
    }
    let stored: StoredValue = serde_wasm_bindgen::from_value(value).ok()?;
    let bearer = stored
        .token_type
        .as_deref()
        .is_none_or(|t| t.eq_ignore_ascii_case("bearer"));
    bearer.then_some(StoredToken {
        access_token: stored.access_token,
        expires_at: stored.expires_at,
        expires_in: match stored.expires_in {
            Some(Scalar::Number(n)) => Some(n),
            _ => None,
        },
    })
}

impl TokenStore for JsStore {
    fn get(&self, key: &str) -> LocalFuture<Option<StoredToken>> {
        let read = self.call(&self.get, &[key.into()]);
        Box::pin(async move { stored_token(read.await?) })
    }

    fn set(&self, key: &str, token: &StoredToken, ttl_seconds: f64) -> LocalFuture<()> {
        let value = StoredValueOut {
            access_token: &token.access_token,
            token_type: "bearer",
            expires_at: token.expires_at,
            expires_in: token.expires_in,
        };
        let Ok(value) = serde_wasm_bindgen::to_value(&value) else {
            return Box::pin(async {});
        };
        let write = self.call(&self.set, &[key.into(), value, ttl_seconds.into()]);
        Box::pin(async move {
            write.await;
        })
    }

    fn delete(&self, key: &str) -> LocalFuture<()> {
        let Some(delete) = &self.delete else {
            return Box::pin(async {});
        };
        let done = self.call(delete, &[key.into()]);
        Box::pin(async move {
            done.await;
        })
    }
}
