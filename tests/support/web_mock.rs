//! The mock server (`tests/mock/server.mjs`) from wasm tests: the one tools/run-tests.sh
//! started (its URL baked in at compile time), reached with the engine's own `fetch`.
//! Shared by the JS-class suite (tests/common) and the Rust API's `web` one (tests/rust_web).
#![allow(dead_code)]

use js_sys::{Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The mock's base URL (`…/api/`), baked in at compile time by tools/run-tests.sh.
pub const MOCK: &str = match option_env!("CEDATO_MOCK_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787/api/",
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(input: &str, init: &JsValue) -> Promise;
}

/// The mock's origin (`http://127.0.0.1:port`).
pub fn origin() -> &'static str {
    MOCK.trim_end_matches("/api/")
}

/// A client id for `tag` that no other test (nor an earlier run against the same mock)
/// uses, so per-client mock state is private to the test.
pub fn unique(prefix: &str, tag: &str) -> String {
    format!("{prefix}-{tag}-{}", (js_sys::Math::random() * 1e9) as u64)
}

async fn send(url: &str, init: &JsValue) -> web_sys::Response {
    JsFuture::from(fetch_with_init(url, init))
        .await
        .unwrap()
        .unchecked_into()
}

/// POSTs `body` (JSON text) to the mock's control endpoint `what` for client `id`.
pub async fn control(id: &str, what: &str, body: &str) {
    let init = Object::new();
    Reflect::set(&init, &"method".into(), &"POST".into()).unwrap();
    Reflect::set(&init, &"body".into(), &body.into()).unwrap();
    let response = send(&format!("{}/__mock/clients/{id}/{what}", origin()), &init).await;
    assert!(response.ok(), "control {what}");
}

/// The mock's counters for client `id` (tokenRequests, apiRequests, apiUnauthorized, …).
pub async fn stats(id: &str) -> Value {
    let response = send(&format!("{}/__mock/clients/{id}/stats", origin()), &JsValue::UNDEFINED).await;
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    serde_json::from_str(&text.as_string().unwrap()).unwrap()
}
