//! The wasm-bindgen-test suite shared by `tests/browser.rs` and `tests/node.rs`: the
//! exported `CedatoAuth` against the mock server, through the real global `fetch`.

use cedato_auth::CedatoAuth;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// The mock's base URL (`…/api/`), baked in at compile time by the test runner script.
const MOCK: &str = match option_env!("CEDATO_MOCK_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787/api/",
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_init(input: &str, init: &JsValue) -> Promise;
}

fn origin() -> &'static str {
    MOCK.trim_end_matches("/api/")
}

/// A client id no other test uses, so per-client mock state is private to the test.
fn unique_client(tag: &str) -> String {
    let n = (js_sys::Math::random() * 1e9) as u64;
    format!("t-{tag}-{n}")
}

fn options(client: &str, secret: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    Reflect::set(&o, &"clientId".into(), &client.into()).unwrap();
    Reflect::set(&o, &"clientSecret".into(), &secret.into()).unwrap();
    Reflect::set(&o, &"baseUrl".into(), &MOCK.into()).unwrap();
    for (k, v) in extra {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn auth_for(client: &str, extra: &[(&str, JsValue)]) -> CedatoAuth {
    CedatoAuth::new(options(client, &format!("{client}-secret"), extra)).unwrap()
}

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

fn field(v: &JsValue, k: &str) -> JsValue {
    Reflect::get(v, &k.into()).unwrap()
}

/// POSTs JSON to a control endpoint of the mock.
async fn control(client: &str, what: &str, body: &str) {
    let init = Object::new();
    Reflect::set(&init, &"method".into(), &"POST".into()).unwrap();
    Reflect::set(&init, &"body".into(), &body.into()).unwrap();
    let url = format!("{}/__mock/clients/{client}/{what}", origin());
    let r: web_sys::Response = settle(fetch_with_init(&url, &init)).await.unwrap().unchecked_into();
    assert!(r.ok(), "control {what}");
}

async fn stat(client: &str, name: &str) -> f64 {
    let url = format!("{}/__mock/clients/{client}/stats", origin());
    let r: web_sys::Response = settle(fetch_with_init(&url, &JsValue::UNDEFINED))
        .await
        .unwrap()
        .unchecked_into();
    let json = settle(r.json().unwrap()).await.unwrap();
    field(&json, name).as_f64().unwrap()
}

#[wasm_bindgen_test]
async fn gets_and_caches_a_token() {
    let client = unique_client("cache");
    let auth = auth_for(&client, &[]);
    assert!(!auth.has_valid_token());
    assert!(auth.expires_at().is_none());
    let token = settle(auth.get_token()).await.unwrap().as_string().unwrap();
    assert!(token.starts_with("ct_"));
    assert!(auth.has_valid_token());
    let left = auth.expires_at().unwrap() - js_sys::Date::now();
    assert!(left > 3_590_000.0 && left <= 3_600_000.0, "{left}");
    let header = settle(auth.get_authorization_header())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(header, format!("Bearer {token}"));
    assert_eq!(stat(&client, "tokenRequests").await, 1.0);
}

#[wasm_bindgen_test]
async fn fifty_concurrent_callers_make_one_token_request() {
    let client = unique_client("flight");
    let auth = auth_for(&client, &[]);
    let promises = js_sys::Array::new();
    for _ in 0..50 {
        promises.push(&auth.get_token());
    }
    let all = settle(Promise::all(&promises)).await.unwrap();
    let all: js_sys::Array = all.unchecked_into();
    let first = all.get(0);
    assert!(all.iter().all(|t| t == first));
    assert_eq!(stat(&client, "tokenRequests").await, 1.0);
}

#[wasm_bindgen_test]
async fn wrong_secret_is_token_rejected_and_the_instance_keeps_working() {
    let client = unique_client("reject");
    let auth = CedatoAuth::new(options(&client, "wrong-secret", &[])).unwrap();
    let e = settle(auth.get_token()).await.unwrap_err();
    assert_eq!(field(&e, "name"), "CedatoError");
    assert_eq!(field(&e, "code"), "token_rejected");
    assert_eq!(field(&e, "status").as_f64(), Some(401.0));
    assert_eq!(field(&e, "retryable"), JsValue::FALSE);
    assert_eq!(field(&e, "oauthError"), "invalid_client");
    assert!(!field(&e, "message").as_string().unwrap().contains("wrong-secret"));
    // The same instance answers the next call normally (and fails the same way).
    let again = settle(auth.get_token()).await.unwrap_err();
    assert_eq!(field(&again, "code"), "token_rejected");
    assert_eq!(stat(&client, "tokenRequests").await, 2.0);
}

#[wasm_bindgen_test]
async fn server_errors_are_retried() {
    let client = unique_client("retry");
    control(&client, "token-script", r#"[{"status":503},{"status":502}]"#).await;
    let auth = auth_for(&client, &[]);
    assert!(settle(auth.get_token()).await.is_ok());
    assert_eq!(stat(&client, "tokenRequests").await, 3.0);
}

#[wasm_bindgen_test]
async fn slow_token_endpoint_times_out() {
    let client = unique_client("timeout");
    control(&client, "token-script", r#"[{"delayMs":1500,"ok":true}]"#).await;
    let auth = auth_for(&client, &[("timeoutMs", 200.into()), ("maxRetries", 0.into())]);
    let e = settle(auth.get_token()).await.unwrap_err();
    assert_eq!(field(&e, "code"), "timeout");
    assert_eq!(field(&e, "retryable"), JsValue::TRUE);
    assert!(settle(auth.get_token()).await.is_ok());
}

#[wasm_bindgen_test]
async fn request_reads_a_report() {
    let client = unique_client("report");
    let auth = auth_for(&client, &[]);
    let opts = Object::new();
    let query = Object::new();
    Reflect::set(&query, &"start".into(), &"2024-01-01".into()).unwrap();
    Reflect::set(&query, &"end".into(), &"2024-01-07".into()).unwrap();
    Reflect::set(&query, &"limit".into(), &10.into()).unwrap();
    Reflect::set(&opts, &"query".into(), &query).unwrap();
    let report = settle(auth.request("reports/supplies/extended".into(), opts.into()))
        .await
        .unwrap();
    let data = field(&report, "data");
    assert_eq!(js_sys::Array::from(&field(&data, "supplies")).length(), 10);
    assert_eq!(field(&field(&data, "navigation"), "total").as_f64(), Some(57.0));
}

#[wasm_bindgen_test]
async fn a_401_from_the_api_gets_a_new_token_and_one_retry() {
    let client = unique_client("api401");
    let auth = auth_for(&client, &[]);
    let first = settle(auth.get_token()).await.unwrap();
    control(&client, "api-script", r#"[{"status":401}]"#).await;
    let r: web_sys::Response = settle(auth.fetch("demand/7001".into(), JsValue::UNDEFINED))
        .await
        .unwrap()
        .unchecked_into();
    assert_eq!(r.status(), 200);
    assert_ne!(settle(auth.get_token()).await.unwrap(), first);
    assert_eq!(stat(&client, "tokenRequests").await, 2.0);
}

#[wasm_bindgen_test]
async fn other_origins_never_see_the_token() {
    let client = unique_client("origin");
    let auth = auth_for(&client, &[]);
    let e = settle(auth.fetch("https://example.invalid/api/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(field(&e, "code"), "invalid_request");
    assert_eq!(stat(&client, "tokenRequests").await, 0.0);
}

#[wasm_bindgen_test]
async fn bad_options_throw_invalid_config() {
    let e = CedatoAuth::new(options("a:b", "s", &[])).err().unwrap();
    assert_eq!(field(&e, "code"), "invalid_config");
    assert!(e.is_instance_of::<js_sys::Error>());
    let e = CedatoAuth::new(JsValue::from(5)).err().unwrap();
    assert_eq!(field(&e, "code"), "invalid_config");
}

#[wasm_bindgen_test]
async fn free_while_in_flight_settles() {
    let client = unique_client("free");
    control(&client, "token-script", r#"[{"delayMs":100,"ok":true}]"#).await;
    let auth = auth_for(&client, &[]);
    let pending = auth.get_token();
    drop(auth); // what free() does
    assert!(settle(pending).await.unwrap().as_string().unwrap().starts_with("ct_"));
}
