//! The `tokenStore` option as the core's [`TokenStore`]: its methods called through
//! js-sys, what they return awaited, stored values read with serde-wasm-bindgen.

use js_sys::{Array, Function, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

use crate::core::{Error, ErrorCode, LocalFuture, Scalar, StoreAnswer, StoredToken, TokenStore};

/// What a store's `get` hands back: a token (the `StoredToken` of the typings), or the
/// failure of the fleet's shared token request (a broker's), `{ failure: "<code>",
/// message, status?, retryAfter? }`.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct StoredValue {
    access_token: Scalar,
    token_type: Scalar,
    expires_at: Scalar,
    expires_in: Scalar,
    refresh_at: Scalar,
    failure: Scalar,
    message: Scalar,
    status: Scalar,
    retry_after: Scalar,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_at: Option<f64>,
}

/// The user's store object and its methods.
pub struct JsStore {
    store: JsValue,
    get: Function,
    set: Function,
    delete: Option<Function>,
    release: Option<Function>,
}

/// Aborts its controller when dropped before `done`: a store call the library gave up
/// on (timeoutMs) sees its signal abort, so it can stop.
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

impl JsStore {
    /// Checks that `store` has `get` and `set` methods, and `delete` and `release` are
    /// methods when present.
    pub fn new(store: JsValue) -> Result<JsStore, Error> {
        let method = |name: &str| Reflect::get(&store, &name.into()).unwrap_or(JsValue::UNDEFINED);
        let (get, set) = (method("get"), method("set"));
        let invalid = |message| Error::new(ErrorCode::InvalidConfig, message);
        let (Ok(get), Ok(set)) = (get.dyn_into::<Function>(), set.dyn_into::<Function>()) else {
            return Err(invalid(
                "tokenStore must have get(key) and set(key, token, ttlSeconds) methods",
            ));
        };
        let optional = |name: &str, message| match method(name) {
            m if m.is_undefined() || m.is_null() => Ok(None),
            m => m.dyn_into::<Function>().map(Some).map_err(|_| invalid(message)),
        };
        let delete = optional(
            "delete",
            "tokenStore.delete must be a method (delete(key)) when present",
        )?;
        let release = optional(
            "release",
            "tokenStore.release must be a method (release(key)) when present",
        )?;
        Ok(JsStore {
            store,
            get,
            set,
            delete,
            release,
        })
    }

    /// Calls `method` with `args` and `{ signal }` last, and awaits what it returns; a
    /// throw or a rejection is `None`. Dropping the future before it settles (the
    /// library gave up on the call) aborts the signal.
    fn call(&self, method: &Function, args: &[JsValue]) -> LocalFuture<Option<JsValue>> {
        let controller = AbortController::new().ok();
        let options = Object::new();
        if let Some(controller) = &controller {
            let _ = Reflect::set(&options, &"signal".into(), &controller.signal());
        }
        let args: Array = args.iter().chain([&options.into()]).collect();
        let returned = method.apply(&self.store, &args);
        Box::pin(async move {
            let mut pending = AbortOnDrop(controller);
            let settled = JsFuture::from(Promise::resolve(&returned.ok()?)).await.ok();
            pending.0 = None;
            settled
        })
    }

    /// Calls an optional method and waits for it (`false`: it threw or rejected);
    /// nothing when the store lacks it.
    fn call_optional(&self, method: &Option<Function>, key: &str) -> LocalFuture<bool> {
        let Some(method) = method else {
            return Box::pin(async { true });
        };
        let done = self.call(method, &[key.into()]);
        Box::pin(async move { done.await.is_some() })
    }
}

/// Reads `{ accessToken, tokenType?, expiresAt, expiresIn?, refreshAt? }` (a token type
/// other than bearer, or fields of the wrong type, make it a miss; an `expiresIn` or
/// `refreshAt` that is not a number is left out), or `{ failure }`.
fn stored_answer(value: JsValue) -> StoreAnswer {
    if !value.is_object() {
        return StoreAnswer::Miss;
    }
    // A copy as plain data first (getters run, and may throw, here, where it is caught).
    let data = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|text| super::api::parse_json(&text).ok());
    let Some(stored) = data.and_then(|data| serde_wasm_bindgen::from_value::<StoredValue>(data).ok()) else {
        return StoreAnswer::Miss;
    };
    if let Scalar::String(code) = &stored.failure {
        return StoreAnswer::Failed(shared_failure(code, &stored));
    }
    let bearer = match &stored.token_type {
        Scalar::Null => true,
        Scalar::String(t) => t.eq_ignore_ascii_case("bearer"),
        _ => false,
    };
    match (stored.access_token, number(&stored.expires_at)) {
        (Scalar::String(access_token), Some(expires_at)) if bearer => StoreAnswer::Token(StoredToken {
            access_token,
            expires_at,
            expires_in: number(&stored.expires_in),
            refresh_at: number(&stored.refresh_at),
        }),
        _ => StoreAnswer::Miss,
    }
}

/// The error of a failure the store shares: its code (`server_error` when unknown), its
/// message, status and `retryAfter`.
fn shared_failure(code: &str, stored: &StoredValue) -> Error {
    let code = ErrorCode::from_code(code).unwrap_or(ErrorCode::ServerError);
    let detail = stored.message.as_str().unwrap_or("no detail");
    let mut error = Error::new(code, ["the fleet's shared token request failed: ", detail].concat());
    error.status = number(&stored.status)
        .filter(|s| (100.0..600.0).contains(s))
        .map(|s| s as u16);
    error.retry_after = number(&stored.retry_after).filter(|s| s.is_finite() && *s >= 0.0);
    error
}

/// A number field, when it is one.
fn number(value: &Scalar) -> Option<f64> {
    match value {
        Scalar::Number(n) => Some(*n),
        _ => None,
    }
}

impl TokenStore for JsStore {
    fn get(&self, key: &str) -> LocalFuture<StoreAnswer> {
        let read = self.call(&self.get, &[key.into()]);
        Box::pin(async move { read.await.map_or(StoreAnswer::Unavailable, stored_answer) })
    }

    fn set(&self, key: &str, token: &StoredToken, ttl_seconds: f64) -> LocalFuture<bool> {
        let value = StoredValueOut {
            access_token: &token.access_token,
            token_type: "bearer",
            expires_at: token.expires_at,
            expires_in: token.expires_in,
            refresh_at: token.refresh_at,
        };
        let Ok(value) = serde_wasm_bindgen::to_value(&value) else {
            return Box::pin(async { false });
        };
        let write = self.call(&self.set, &[key.into(), value, ttl_seconds.into()]);
        Box::pin(async move { write.await.is_some() })
    }

    fn delete(&self, key: &str) -> LocalFuture<bool> {
        self.call_optional(&self.delete, key)
    }

    fn release(&self, key: &str) -> LocalFuture<bool> {
        self.call_optional(&self.release, key)
    }
}
