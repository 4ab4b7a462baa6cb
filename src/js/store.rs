//! Owns the `tokenStore` option as the core's [`TokenStore`]: its methods called through
//! js-sys and awaited, stored values read (own properties only) into the core's form.
//!
//! Values are read with serde-wasm-bindgen into [`StoredValue`], written as the
//! [`SealedEntry`] serialized.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

use super::engine::own_properties;
use crate::core::{Error, ErrorCode, LocalFuture, SealedEntry, StoreAnswer, StoredValue, TokenStore};

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

/// What a store's `get` resolved with, read from its own properties only (a polluted
/// `Object.prototype` adds nothing): `null` or `undefined` is a miss; anything that is
/// not a stored value (a plain token, a getter that throws) is [`StoreAnswer::Invalid`].
fn stored_answer(value: JsValue) -> StoreAnswer {
    if value.is_undefined() || value.is_null() {
        return StoreAnswer::Miss;
    }
    let stored = match value.is_object() {
        true => own_properties(&value).and_then(|own| serde_wasm_bindgen::from_value::<StoredValue>(own).ok()),
        false => None,
    };
    stored.map_or(StoreAnswer::Invalid, StoredValue::into_answer)
}

impl TokenStore for JsStore {
    fn get(&self, key: &str) -> LocalFuture<StoreAnswer> {
        let read = self.call(&self.get, &[key.into()]);
        Box::pin(async move { read.await.map_or(StoreAnswer::Unavailable, stored_answer) })
    }

    fn set(&self, key: &str, entry: &SealedEntry, ttl_seconds: f64) -> LocalFuture<bool> {
        let Ok(value) = serde_wasm_bindgen::to_value(entry) else {
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
