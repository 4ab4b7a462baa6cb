//! The Rust API on the `web` transport with a shared store
//! (`Client::from_options_with_store`, sealed by the engine's Web Crypto) in Node.js,
//! against the real mock server: two clients sharing one store make one token request,
//! and the store holds the token sealed only.
#![cfg(all(target_arch = "wasm32", feature = "web"))]

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::ready;
use std::rc::Rc;

use cedato_auth::core::{LocalFuture, SealedEntry, StoreAnswer, TokenStore};
use cedato_auth::{Client, Options};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// The mock's base URL (`…/api/`), baked in at compile time by tools/run-tests.sh.
const MOCK: &str = match option_env!("CEDATO_MOCK_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787/api/",
};

/// A store in the isolate's memory.
#[derive(Default)]
struct Memory(RefCell<HashMap<String, SealedEntry>>);

impl TokenStore for Memory {
    fn get(&self, key: &str) -> LocalFuture<StoreAnswer> {
        let answer = self
            .0
            .borrow()
            .get(key)
            .cloned()
            .map_or(StoreAnswer::Miss, StoreAnswer::Entry);
        Box::pin(ready(answer))
    }
    fn set(&self, key: &str, entry: &SealedEntry, _ttl_seconds: f64) -> LocalFuture<bool> {
        self.0.borrow_mut().insert(key.to_owned(), entry.clone());
        Box::pin(ready(true))
    }
    fn delete(&self, key: &str) -> LocalFuture<bool> {
        self.0.borrow_mut().remove(key);
        Box::pin(ready(true))
    }
    fn release(&self, _key: &str) -> LocalFuture<bool> {
        Box::pin(ready(true))
    }
}

fn options(client: &str) -> Options {
    Options {
        base_url: Some(MOCK.to_owned()),
        ..Options::new(client, format!("{client}-secret"))
    }
}

/// The mock's `tokenRequests` for `client`.
async fn token_requests(client: &str) -> f64 {
    let url = format!("{}/__mock/clients/{client}/stats", MOCK.trim_end_matches("/api/"));
    let fetch = js_sys::Reflect::get(&js_sys::global(), &"fetch".into()).unwrap();
    let promise = fetch
        .unchecked_into::<js_sys::Function>()
        .call1(&wasm_bindgen::JsValue::NULL, &url.into())
        .unwrap();
    let response: web_sys::Response = JsFuture::from(promise.unchecked_into::<js_sys::Promise>())
        .await
        .unwrap()
        .unchecked_into();
    let text = JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    let stats: serde_json::Value = serde_json::from_str(&text).unwrap();
    stats["tokenRequests"].as_f64().unwrap()
}

#[wasm_bindgen_test]
async fn two_web_clients_sharing_a_store_make_one_token_request() {
    let id = format!("t-rws-{}", (js_sys::Math::random() * 1e9) as u64);
    let store = Rc::new(Memory::default());
    let first = Client::from_options_with_store(options(&id), store.clone()).unwrap();
    let second = Client::from_options_with_store(options(&id), store.clone()).unwrap();
    let token = first.token().await.unwrap();
    assert_eq!(second.token().await.unwrap().as_str(), token.as_str());
    assert_eq!(token_requests(&id).await, 1.0);
    assert_eq!(second.stats().store_hits.get(), 1);
    let entries = store.0.borrow().clone();
    assert_eq!(entries.len(), 1);
    let (key, entry) = entries.into_iter().next().unwrap();
    assert!(key.starts_with(&format!("cedato-auth:v2:{MOCK}:{id}:")), "{key}");
    assert!(!entry.sealed.contains(token.as_str()));
}
