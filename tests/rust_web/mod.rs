//! The Rust API on the `web` transport (`cedato_auth::Client`: web-sys `fetch`,
//! `setTimeout`, the engine's `URL`), without the JS class, against the real mock server:
//! the native suite's scenario (tests/native.rs) in Node (`rust_web_node.rs`) and headless
//! browsers (`rust_web_browser.rs`). Single flight, retries with Retry-After, the 401/419
//! retry, redirects, timeouts, errors without secrets. The scenarios are tests/scenarios's,
//! shared with the native suite; this file gives them the engine's way to the mock.

use cedato_auth::{Client, Error, Options};
use futures::future::join_all;
use serde_json::Value;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::scenarios::{self, Harness};

#[path = "../support/web_mock.rs"]
mod web_mock;

/// The mock that tools/run-tests.sh started, reached with the engine's own `fetch`.
struct Web;

impl Harness for Web {
    fn base_url(&self) -> String {
        web_mock::MOCK.to_owned()
    }

    fn id(&self, tag: &str) -> String {
        web_mock::unique("t-rw", tag)
    }

    fn client(&self, options: Options) -> Result<Client, Error> {
        Client::from_options(options)
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn control(&self, id: &str, what: &str, body: Value) {
        web_mock::control(id, what, &body.to_string()).await;
    }

    async fn stats(&self, id: &str) -> Value {
        web_mock::stats(id).await
    }

    /// One future per call, joined (the engine has one thread).
    async fn tokens(&self, client: &Client, n: usize) -> Vec<String> {
        let tokens = join_all((0..n).map(|_| client.token())).await;
        tokens.into_iter().map(|t| t.unwrap().to_string()).collect()
    }

    /// A browser hides redirects from `redirect: "manual"`: the library then sends again
    /// and lets the browser follow, which drops the token on a hop to another origin.
    fn in_browser(&self) -> bool {
        js_sys::Reflect::has(&js_sys::global(), &"document".into()).unwrap()
    }
}

#[wasm_bindgen_test]
async fn a_thousand_callers_share_one_token_request() {
    scenarios::a_thousand_callers_share_one_token_request(&Web).await;
}

#[wasm_bindgen_test]
async fn retries_wait_as_retry_after_says() {
    scenarios::retries_wait_as_retry_after_says(&Web).await;
}

#[wasm_bindgen_test]
async fn a_revoked_token_is_replaced_once_and_the_call_retried() {
    scenarios::a_revoked_token_is_replaced_once_and_the_call_retried(&Web).await;
}

#[wasm_bindgen_test]
async fn redirects_are_followed_inside_the_origin_only() {
    scenarios::redirects_are_followed_inside_the_origin_only(&Web).await;
}

#[wasm_bindgen_test]
async fn attempts_time_out() {
    scenarios::attempts_time_out(&Web).await;
}

#[wasm_bindgen_test]
async fn refused_credentials_and_errors_hold_no_secret() {
    scenarios::refused_credentials_and_errors_hold_no_secret(&Web).await;
    // The web client's Debug names the origin (and nothing secret: the scenario checks).
    let debug = format!("{:?}", Web.client_for(&Web.id("debug")));
    assert!(debug.contains("127.0.0.1"), "{debug}");
}

#[wasm_bindgen_test]
async fn clear_refresh_and_text_reports() {
    scenarios::clear_refresh_and_text_reports(&Web).await;
}
