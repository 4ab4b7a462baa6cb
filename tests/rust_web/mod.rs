//! The Rust API on the `web` transport (`cedato_auth::Client`: web-sys `fetch`,
//! `setTimeout`, the engine's `URL`), without the JS class, against the real mock server:
//! the native suite's scenario (tests/native.rs) in Node (`rust_web_node.rs`) and headless
//! browsers (`rust_web_browser.rs`). Single flight, retries with Retry-After, the 401/419
//! retry, redirects, timeouts, errors without secrets.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cedato_auth::{ApiRequest, Client, ErrorCode, Event, Options};
use futures::future::join_all;
use js_sys::Promise;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// The mock's base URL (`…/api/`), baked in at compile time by tools/run-tests.sh.
const MOCK: &str = match option_env!("CEDATO_MOCK_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787/api/",
};

const REPORT: &str = "reports/supplies/extended";

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(input: &str, init: &JsValue) -> Promise;
}

fn origin() -> &'static str {
    MOCK.trim_end_matches("/api/")
}

/// A client id no other test (nor an earlier run against the same mock) uses.
fn unique(tag: &str) -> String {
    format!("t-rw-{tag}-{}", (js_sys::Math::random() * 1e9) as u64)
}

fn options(client: &str) -> Options {
    Options {
        base_url: Some(MOCK.to_owned()),
        ..Options::new(client, format!("{client}-secret"))
    }
}

fn client_for(id: &str) -> Client {
    Client::from_options(options(id)).unwrap()
}

fn report() -> ApiRequest {
    ApiRequest::get(REPORT)
        .query("start", "2026-01-01")
        .query("end", "2026-01-31")
        .query("limit", 2)
}

/// Sends `body` (JSON) to a control endpoint of the mock, with the engine's own `fetch`.
async fn control(client: &str, what: &str, body: Value) {
    let init = js_sys::Object::new();
    js_sys::Reflect::set(&init, &"method".into(), &"POST".into()).unwrap();
    js_sys::Reflect::set(&init, &"body".into(), &body.to_string().into()).unwrap();
    let url = format!("{}/__mock/clients/{client}/{what}", origin());
    let response: web_sys::Response = JsFuture::from(fetch_with_init(&url, &init))
        .await
        .unwrap()
        .unchecked_into();
    assert!(response.ok(), "control {what}");
}

/// The mock's counters for `client` (tokenRequests, apiRequests, apiUnauthorized, …).
async fn stats(client: &str) -> Value {
    let url = format!("{}/__mock/clients/{client}/stats", origin());
    let response: web_sys::Response = JsFuture::from(fetch_with_init(&url, &JsValue::UNDEFINED))
        .await
        .unwrap()
        .unchecked_into();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap();
    serde_json::from_str(&text.as_string().unwrap()).unwrap()
}

/// Events as JSON, recorded from the callback.
fn recorder() -> (Arc<Mutex<Vec<Value>>>, cedato_auth::rust::EventCallback) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let callback = Arc::new(move |event: &Event<'_>| sink.lock().unwrap().push(serde_json::to_value(event).unwrap()));
    (seen, callback)
}

#[wasm_bindgen_test]
async fn a_thousand_callers_share_one_token_request() {
    let id = unique("flight");
    // A slow token answer, so every caller asks while it is in flight.
    control(&id, "token-script", json!([{ "ok": true, "delayMs": 300 }])).await;
    let client = client_for(&id);
    let tokens = join_all((0..1000).map(|_| client.token())).await;
    let mut tokens: Vec<String> = tokens.into_iter().map(|t| t.unwrap().to_string()).collect();
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller got the same token");
    assert_eq!(stats(&id).await["tokenRequests"], 1);
    // Now cached: no request, no await on the network.
    for _ in 0..1000 {
        assert_eq!(client.token().await.unwrap().as_str(), tokens[0]);
    }
    assert!(client.has_valid_token());
    let ours = client.stats();
    assert_eq!(ours.token_requests.get(), 1);
    assert!(ours.cache_hits.get() >= 1000, "{ours:?}");
    assert_eq!(stats(&id).await["tokenRequests"], 1);
}

#[wasm_bindgen_test]
async fn retries_wait_as_retry_after_says() {
    let id = unique("retry");
    control(
        &id,
        "token-script",
        json!([
            { "status": 503, "headers": { "retry-after": "1" } },
            { "status": 429, "headers": { "retry-after": "0" } }
        ]),
    )
    .await;
    let (events, on_event) = recorder();
    let client = Client::from_options(Options {
        on_event: Some(on_event),
        ..options(&id)
    })
    .unwrap();
    let started = js_sys::Date::now();
    client.token().await.unwrap();
    let took = js_sys::Date::now() - started;
    assert!((1000.0..5000.0).contains(&took), "{took} ms");
    assert_eq!(stats(&id).await["tokenRequests"], 3);
    let retries: Vec<Value> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "retry")
        .cloned()
        .collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert_eq!(
        (&retries[0]["status"], &retries[0]["retryAfter"]),
        (&json!(503), &json!(1.0))
    );
    assert_eq!(retries[0]["code"], "server_error");
    assert_eq!(retries[1]["code"], "rate_limited");

    // Spent retries: the last error, with its status and retryAfter.
    let spent = unique("retry2");
    control(
        &spent,
        "token-script",
        json!([{ "status": 503 }, { "status": 503 }, { "status": 503, "headers": { "retry-after": "120" } }]),
    )
    .await;
    let error = client_for(&spent).token().await.unwrap_err();
    assert_eq!(
        (error.code, error.status, error.retry_after),
        (ErrorCode::ServerError, Some(503), Some(120.0))
    );
    assert!(error.retryable());
}

#[wasm_bindgen_test]
async fn a_revoked_token_is_replaced_once_and_the_call_retried() {
    let id = unique("revoke");
    let client = client_for(&id);
    let first = client.token().await.unwrap().to_string();
    control(&id, "revoke", json!(null)).await;
    let page: Value = client.json(report()).await.unwrap();
    assert_eq!(page["data"]["supplies"].as_array().unwrap().len(), 2);
    assert_ne!(
        client.token().await.unwrap().as_str(),
        first,
        "a new token replaced the revoked one"
    );
    let seen = stats(&id).await;
    assert_eq!(
        (&seen["tokenRequests"], &seen["apiUnauthorized"]),
        (&json!(2), &json!(1))
    );
    let ours = client.stats();
    assert_eq!((ours.api_calls.get(), ours.api_retries.get()), (1, 1));

    // Within the cool-down (5 s) a refused token is not replaced again: the 419 is the answer.
    control(&id, "api-script", json!([{ "status": 419 }])).await;
    let cooling = client.send_ok(report()).await.unwrap_err();
    assert_eq!((cooling.code, cooling.status), (ErrorCode::Http, Some(419)));
    assert_eq!(stats(&id).await["tokenRequests"], 2);

    // Without a cool-down: 419 retried too, and a second refusal is the answer.
    let eager = Client::from_options(Options {
        unauthorized_cooldown: Some(Duration::ZERO),
        ..options(&id)
    })
    .unwrap();
    control(&id, "api-script", json!([{ "status": 419 }])).await;
    assert_eq!(eager.send(report()).await.unwrap().status, 200);
    control(
        &id,
        "api-script",
        json!([{ "status": 401 }, { "status": 401, "body": "still no" }]),
    )
    .await;
    let refused = eager.send_ok(report()).await.unwrap_err();
    assert_eq!((refused.code, refused.status), (ErrorCode::Http, Some(401)));
    assert_eq!(refused.body.as_deref(), Some("still no"));
}

/// Whether the tests run in a page (a browser hides redirects from `redirect: "manual"`:
/// the library then sends again and lets the browser follow, which drops the token on a
/// hop to another origin).
fn in_browser() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &"document".into()).unwrap()
}

#[wasm_bindgen_test]
async fn redirects_are_followed_inside_the_origin_only() {
    let id = unique("hop");
    let client = client_for(&id);
    // Each entry answers one send, whatever its path: two redirects in a row in Node (the
    // library follows the first to the second), the hidden one and the one the browser
    // follows in a page; three authenticated requests either way.
    let inside = "/api/reports/supplies/extended?start=2026-01-01&end=2026-01-31&limit=1";
    let hop = json!({ "status": 302, "headers": { "location": inside } });
    control(&id, "api-script", json!([hop, hop])).await;
    let response = client.send_ok(ApiRequest::get("anything")).await.unwrap();
    let report: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(report["data"]["supplies"].as_array().unwrap().len(), 1);
    assert_eq!(response.url, format!("{}{inside}", origin()));
    assert_eq!(stats(&id).await["apiRequests"], 3);

    // Same server, another origin (localhost is not 127.0.0.1): the token does not go
    // there, and no answer from there is handed out.
    let outside = format!("{}/api/echo", origin().replace("127.0.0.1", "localhost"));
    let away = json!({ "status": 307, "headers": { "location": outside } });
    control(&id, "api-script", json!([away, away])).await;
    match client.send(ApiRequest::get("anything")).await {
        Ok(response) => {
            assert!(
                !in_browser(),
                "a browser handed over {} from {}",
                response.status,
                response.url
            );
            assert_eq!(
                (response.status, response.header("location")),
                (307, Some(outside.as_str()))
            );
            assert_eq!(stats(&id).await["apiRequests"], 4, "the other origin got nothing");
        }
        Err(error) => {
            assert!(in_browser(), "failed outside a browser: {error}");
            assert_eq!(error.code, ErrorCode::InvalidRequest, "{error}");
            assert!(error.message.contains("another origin"), "{error}");
            // The hidden redirect and the send the browser followed (without the token).
            assert_eq!(stats(&id).await["apiRequests"], 5);
        }
    }
    let sent = stats(&id).await["apiRequests"].clone();

    // And never sent there directly.
    let error = client.send(ApiRequest::get(outside)).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_eq!(stats(&id).await["apiRequests"], sent);
}

#[wasm_bindgen_test]
async fn attempts_time_out() {
    let quick = |id: &str| {
        Client::from_options(Options {
            timeout: Some(Duration::from_millis(300)),
            max_retries: Some(1),
            ..options(id)
        })
        .unwrap()
    };
    // A token answer that never comes, then one whose body never ends: both time out.
    let id = unique("slow");
    control(
        &id,
        "token-script",
        json!([{ "ok": true, "delayMs": 5000 }, { "stallBody": true }]),
    )
    .await;
    let started = js_sys::Date::now();
    let error = quick(&id).token().await.unwrap_err();
    assert_eq!(error.code, ErrorCode::Timeout, "{error}");
    let took = js_sys::Date::now() - started;
    assert!(took < 3000.0, "{took} ms");
    assert_eq!(stats(&id).await["tokenRequests"], 2);

    // An API call that hangs; the client keeps working.
    let id = unique("slow-api");
    control(&id, "api-script", json!([{ "delayMs": 5000 }])).await;
    let client = quick(&id);
    assert_eq!(client.send(report()).await.unwrap_err().code, ErrorCode::Timeout);
    assert_eq!(client.send(report()).await.unwrap().status, 200);
}

#[wasm_bindgen_test]
async fn refused_credentials_and_errors_hold_no_secret() {
    let client = Client::from_options(Options {
        base_url: Some(MOCK.to_owned()),
        ..Options::new(unique("wrong"), "not-the-secret")
    })
    .unwrap();
    let error = client.token().await.unwrap_err();
    assert_eq!((error.code, error.status), (ErrorCode::TokenRejected, Some(401)));
    assert_eq!(error.oauth_error.as_deref(), Some("invalid_client"));
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("not-the-secret") && !shown.contains("Basic"), "{shown}");
    assert!(!client.has_valid_token());
    let debug = format!("{client:?}");
    assert!(
        debug.contains("127.0.0.1") && !debug.contains("not-the-secret"),
        "{debug}"
    );

    // Nothing listens there: network, after the retries.
    let closed = Client::from_options(Options {
        base_url: Some("http://127.0.0.1:9/api/".into()),
        max_retries: Some(0),
        ..Options::new("t-x", "t-x-secret")
    })
    .unwrap();
    assert_eq!(closed.token().await.unwrap_err().code, ErrorCode::Network);

    let bad = Client::from_options(Options::new("a:b", "s")).unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidConfig);
}

#[wasm_bindgen_test]
async fn clear_refresh_and_text_reports() {
    let id = unique("life");
    let client = client_for(&id);
    let first = client.authorization_header().await.unwrap();
    assert!(first.starts_with("Bearer "));
    let left = client.expires_at().unwrap() - js_sys::Date::now();
    assert!((left - 3_600_000.0).abs() < 5_000.0, "{left}");
    let refreshed = client.refresh().await.unwrap();
    assert_ne!(format!("Bearer {}", refreshed.as_str()), first.as_str());
    client.clear();
    assert_eq!((client.expires_at(), client.has_valid_token()), (None, false));
    client.token().await.unwrap();
    assert_eq!(stats(&id).await["tokenRequests"], 3);

    let csv = client.send_ok(report().query("format", "csv")).await.unwrap();
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.body.starts_with("supply_id,"), "{}", csv.body);
    let empty: Option<Value> = client.json(ApiRequest::get("empty")).await.unwrap();
    assert_eq!(empty, None);
    let not_json = client.json::<Value>(ApiRequest::get("text")).await.unwrap_err();
    assert_eq!(
        (not_json.code, not_json.status),
        (ErrorCode::InvalidResponse, Some(200))
    );
    let missing = client.json::<Value>(ApiRequest::get("demand/1")).await.unwrap_err();
    assert_eq!((missing.code, missing.status), (ErrorCode::Http, Some(404)));
    assert!(missing.body.unwrap().contains("not_found"));
}
