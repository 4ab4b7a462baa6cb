//! The wasm-bindgen-test suite shared by `tests/browser.rs` and `tests/node.rs`: the
//! exported `CedatoCore` (the Rust half of `CedatoAuth`) against the mock server, its
//! token requests sent through the real global `fetch` as the JS half sends them. The
//! JS half itself is tested over the built package (tests/js, tests/package).

use cedato_auth::{cedato_error, CedatoCore};
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

fn core_for(client: &str, extra: &[(&str, JsValue)]) -> CedatoCore {
    CedatoCore::new(options(client, &format!("{client}-secret"), extra)).unwrap()
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

/// One attempt of the token request, sent as the JS half sends it: the answer's
/// outcome (a handle, a wait in ms, or the thrown `CedatoError`).
async fn attempt(core: &CedatoCore, n: u32) -> Result<JsValue, JsValue> {
    let settings = core.settings();
    let url = settings.get(0).as_string().unwrap();
    let sent_at = js_sys::Date::now();
    let r: web_sys::Response = settle(fetch_with_init(&url, &settings.get(1)))
        .await
        .unwrap()
        .unchecked_into();
    let retry_after = r.headers().get("retry-after").unwrap();
    let body = settle(r.text().unwrap()).await.unwrap().as_string().unwrap();
    core.answer(r.status(), retry_after, body, sent_at, n)
}

fn handle(v: &JsValue) -> (f64, String, String) {
    let a: &js_sys::Array = v.unchecked_ref();
    (
        a.get(0).as_f64().unwrap(),
        a.get(1).as_string().unwrap(),
        a.get(2).as_string().unwrap(),
    )
}

#[wasm_bindgen_test]
async fn gets_and_caches_a_token() {
    let client = unique_client("cache");
    let core = core_for(&client, &[]);
    assert!(!core.has_valid_token());
    assert!(core.expires_at().is_none());
    assert!(core.memo().is_undefined());
    let (_, token, header) = handle(&attempt(&core, 1).await.unwrap());
    assert!(token.starts_with("ct_"));
    assert_eq!(header, format!("Bearer {token}"));
    assert!(core.has_valid_token());
    let left = core.expires_at().unwrap() - js_sys::Date::now();
    assert!(left > 3_590_000.0 && left <= 3_600_000.0, "{left}");
    // The memo: settled promises of the token and the header, and when to stop using them.
    let memo: js_sys::Array = core.memo().unchecked_into();
    assert_eq!(memo.get(0).as_f64(), Some(core.expires_at().unwrap() - 60_000.0));
    assert_eq!(settle(memo.get(1).unchecked_into()).await.unwrap(), token.as_str());
    assert_eq!(settle(memo.get(2).unchecked_into()).await.unwrap(), header.as_str());
    core.clear();
    assert!(core.memo().is_undefined() && !core.has_valid_token());
    assert_eq!(stat(&client, "tokenRequests").await, 1.0);
}

#[wasm_bindgen_test]
async fn the_token_opens_the_api() {
    let client = unique_client("api");
    let core = core_for(&client, &[]);
    let (_, _, header) = handle(&attempt(&core, 1).await.unwrap());
    let init = Object::new();
    let headers = Object::new();
    Reflect::set(&headers, &"authorization".into(), &header.into()).unwrap();
    Reflect::set(&init, &"headers".into(), &headers).unwrap();
    let url = format!("{MOCK}reports/supplies/extended?start=2024-01-01&end=2024-01-07&limit=10");
    let r: web_sys::Response = settle(fetch_with_init(&url, &init)).await.unwrap().unchecked_into();
    assert_eq!(r.status(), 200);
    let report = settle(r.json().unwrap()).await.unwrap();
    let data = field(&report, "data");
    assert_eq!(js_sys::Array::from(&field(&data, "supplies")).length(), 10);
}

#[wasm_bindgen_test]
async fn wrong_secret_is_token_rejected_and_the_instance_keeps_working() {
    let client = unique_client("reject");
    let core = CedatoCore::new(options(&client, "wrong-secret", &[])).unwrap();
    let e = attempt(&core, 1).await.unwrap_err();
    assert_eq!(field(&e, "name"), "CedatoError");
    assert!(e.is_instance_of::<js_sys::Error>());
    assert_eq!(field(&e, "code"), "token_rejected");
    assert_eq!(field(&e, "status").as_f64(), Some(401.0));
    assert_eq!(field(&e, "retryable"), JsValue::FALSE);
    assert_eq!(field(&e, "oauthError"), "invalid_client");
    assert!(!field(&e, "message").as_string().unwrap().contains("wrong-secret"));
    let again = attempt(&core, 1).await.unwrap_err();
    assert_eq!(field(&again, "code"), "token_rejected");
    assert_eq!(stat(&client, "tokenRequests").await, 2.0);
}

#[wasm_bindgen_test]
async fn server_errors_wait_then_succeed() {
    let client = unique_client("retry");
    control(
        &client,
        "token-script",
        r#"[{"status":503},{"status":429,"headers":{"retry-after":"1"}}]"#,
    )
    .await;
    let core = core_for(&client, &[]);
    // Full jitter: a first wait of at most 250 ms.
    let first = attempt(&core, 1).await.unwrap().as_f64().unwrap();
    assert!((0.0..=250.0).contains(&first), "{first}");
    // Retry-After: 1 is waited for exactly.
    assert_eq!(attempt(&core, 2).await.unwrap().as_f64(), Some(1000.0));
    let (_, token, _) = handle(&attempt(&core, 3).await.unwrap());
    assert!(token.starts_with("ct_"));
    assert_eq!(stat(&client, "tokenRequests").await, 3.0);
}

#[wasm_bindgen_test]
async fn spent_retries_end_with_server_error() {
    let client = unique_client("spent");
    control(&client, "token-script", r#"[{"status":503}]"#).await;
    let core = core_for(&client, &[("maxRetries", 0.into())]);
    let e = attempt(&core, 1).await.unwrap_err();
    assert_eq!(field(&e, "code"), "server_error");
    assert_eq!(field(&e, "retryable"), JsValue::TRUE);
    assert!(handle(&attempt(&core, 1).await.unwrap()).1.starts_with("ct_"));
}

#[wasm_bindgen_test]
async fn failures_without_an_answer() {
    let core = core_for(&unique_client("failed"), &[("maxRetries", 0.into())]);
    let e = core.failed(true, "aborted", 1).unwrap_err();
    assert_eq!(field(&e, "code"), "timeout");
    // The credentials ("id:s3cret" in Base64) never reach a message, even when the
    // platform quotes them.
    let secret_core = CedatoCore::new(options("id", "s3cret", &[("maxRetries", 0.into())])).unwrap();
    let e = secret_core
        .failed(false, "connect refused while sending Basic aWQ6czNjcmV0", 1)
        .unwrap_err();
    assert_eq!(field(&e, "code"), "network");
    let message = field(&e, "message").as_string().unwrap();
    assert!(
        message.contains("[redacted]") && !message.contains("aWQ6czNjcmV0"),
        "{message}"
    );
}

#[wasm_bindgen_test]
async fn stored_tokens_and_forget() {
    let core = core_for(&unique_client("stored"), &[]);
    let value = Object::new();
    Reflect::set(&value, &"accessToken".into(), &"shared-token".into()).unwrap();
    Reflect::set(&value, &"tokenType".into(), &"bearer".into()).unwrap();
    Reflect::set(&value, &"expiresAt".into(), &(js_sys::Date::now() + 3_600_000.0).into()).unwrap();
    let (id, token, _) = handle(&core.stored(&value));
    assert_eq!(token, "shared-token");
    assert!(core.has_valid_token());
    assert!(core.forget(id));
    assert!(!core.has_valid_token());
    assert!(!core.forget(id));
    // Inside the refresh window, malformed, or not bearer: unusable.
    Reflect::set(&value, &"expiresAt".into(), &(js_sys::Date::now() + 30_000.0).into()).unwrap();
    assert!(core.stored(&value).is_undefined());
    assert!(core.stored(&JsValue::from("shared-token")).is_undefined());
}

#[wasm_bindgen_test]
async fn api_errors_carry_status_body_and_retry_after() {
    let body = "x".repeat(3000);
    let e = cedato_error(
        "http",
        "GET a answered HTTP 503".into(),
        Some(503),
        Some(body),
        Some("7".into()),
    );
    assert_eq!(field(&e, "code"), "http");
    assert_eq!(field(&e, "status").as_f64(), Some(503.0));
    assert_eq!(field(&e, "body").as_string().unwrap().len(), 1024);
    assert_eq!(field(&e, "retryAfter").as_f64(), Some(7.0));
    assert_eq!(field(&e, "retryable"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn bad_options_throw_invalid_config() {
    let e = CedatoCore::new(options("a:b", "s", &[])).err().unwrap();
    assert_eq!(field(&e, "code"), "invalid_config");
    assert!(e.is_instance_of::<js_sys::Error>());
    let e = CedatoCore::new(JsValue::from(5)).err().unwrap();
    assert_eq!(field(&e, "code"), "invalid_config");
    let core = core_for(&unique_client("json"), &[]);
    assert_eq!(core.to_string_js(), format!("CedatoAuth({MOCK})"));
}
