//! The wasm-bindgen-test suite shared by `tests/browser.rs` and `tests/node.rs`: the
//! `CedatoAuth` itself, driven from Rust, against the mock server through the engine's
//! real global `fetch` (Node, headless Chromium and Firefox). The package as JS users
//! install it is tested in tests/js and tests/package.

use cedato_auth::CedatoAuth;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[path = "../support/web_mock.rs"]
mod web_mock;

use web_mock::{control, MOCK};

/// A client id no other test uses, so per-client mock state is private to the test.
fn unique_client(tag: &str) -> String {
    web_mock::unique("t", tag)
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

async fn stat(client: &str, name: &str) -> f64 {
    web_mock::stats(client).await[name].as_f64().unwrap()
}

/// A test object from `(key, value)` pairs.
fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

async fn token(auth: &CedatoAuth) -> Result<String, JsValue> {
    settle(auth.get_token()).await.map(|t| t.as_string().unwrap())
}

#[wasm_bindgen_test]
async fn gets_and_caches_a_token() {
    let client = unique_client("cache");
    let auth = auth_for(&client, &[]);
    assert!(!auth.has_valid_token());
    assert!(auth.expires_at().is_none());
    let first = token(&auth).await.unwrap();
    assert!(first.starts_with("ct_"), "{first}");
    assert_eq!(token(&auth).await.unwrap(), first);
    let header = settle(auth.get_authorization_header()).await.unwrap();
    assert_eq!(header, format!("Bearer {first}").as_str());
    assert!(auth.has_valid_token());
    let left = auth.expires_at().unwrap() - js_sys::Date::now();
    assert!(left > 3_590_000.0 && left <= 3_600_000.0, "{left}");
    // A cached token is answered with the same settled promise.
    assert_eq!(JsValue::from(auth.get_token()), JsValue::from(auth.get_token()));
    auth.clear();
    assert!(!auth.has_valid_token() && auth.expires_at().is_none());
    assert_eq!(stat(&client, "tokenRequests").await, 1.0);
    assert_ne!(token(&auth).await.unwrap(), first);
    assert_eq!(stat(&client, "tokenRequests").await, 2.0);
}

#[wasm_bindgen_test]
async fn concurrent_callers_share_one_token_request() {
    let client = unique_client("flight");
    control(&client, "token-script", r#"[{"ok":true,"delayMs":100}]"#).await;
    let auth = auth_for(&client, &[]);
    let calls: Vec<Promise> = (0..50)
        .map(|i| {
            if i % 2 == 0 {
                auth.get_token()
            } else {
                auth.get_authorization_header()
            }
        })
        .collect();
    let all = settle(Promise::all(&calls.iter().collect::<js_sys::Array>()))
        .await
        .unwrap();
    let all = js_sys::Array::from(&all);
    let first = all.get(0).as_string().unwrap();
    for (i, v) in all.iter().enumerate() {
        let want = if i % 2 == 0 {
            first.clone()
        } else {
            format!("Bearer {first}")
        };
        assert_eq!(v.as_string().unwrap(), want);
    }
    assert_eq!(stat(&client, "tokenRequests").await, 1.0);
}

#[wasm_bindgen_test]
async fn the_token_opens_the_api() {
    let client = unique_client("api");
    let auth = auth_for(&client, &[]);
    let query = object(&[
        ("start", "2024-01-01".into()),
        ("end", "2024-01-07".into()),
        ("limit", 10.into()),
    ]);
    let options = object(&[("query", query)]);
    let report = settle(auth.request("reports/supplies/extended".into(), Some(options.into())))
        .await
        .unwrap();
    let data = field(&report, "data");
    assert_eq!(js_sys::Array::from(&field(&data, "supplies")).length(), 10);
    // auth.fetch: the Response as fetch gives it.
    let r: web_sys::Response = settle(auth.fetch("reports/supplies/extended?limit=2".into(), None))
        .await
        .unwrap()
        .unchecked_into();
    assert_eq!(r.status(), 200);
    assert_eq!(stat(&client, "tokenRequests").await, 1.0);
    assert_eq!(stat(&client, "apiRequests").await, 2.0);
}

#[wasm_bindgen_test]
async fn a_revoked_token_is_replaced_once() {
    let client = unique_client("revoke");
    let auth = auth_for(&client, &[]);
    let first = token(&auth).await.unwrap();
    control(&client, "revoke", "{}").await;
    let report = settle(auth.request("reports/supplies/extended".into(), None))
        .await
        .unwrap();
    assert!(field(&report, "data").is_object());
    assert_ne!(token(&auth).await.unwrap(), first);
    assert_eq!(stat(&client, "tokenRequests").await, 2.0);
    assert_eq!(stat(&client, "apiUnauthorized").await, 1.0);
}

#[wasm_bindgen_test]
async fn the_token_never_leaves_the_origin() {
    let auth = auth_for(&unique_client("origin"), &[]);
    for url in ["https://evil.example/api/x", "//evil.example/x"] {
        let e = settle(auth.fetch(url.into(), None)).await.unwrap_err();
        assert_eq!(field(&e, "code"), "invalid_request", "{url}");
    }
    let e = settle(auth.request(JsValue::from(5), None)).await.unwrap_err();
    assert_eq!(field(&e, "code"), "invalid_request");
    assert!(!auth.has_valid_token(), "nothing was fetched");
}

#[wasm_bindgen_test]
async fn wrong_secret_is_token_rejected_and_the_instance_keeps_working() {
    let client = unique_client("reject");
    let auth = CedatoAuth::new(options(&client, "wrong-secret", &[])).unwrap();
    let e = token(&auth).await.unwrap_err();
    assert_eq!(field(&e, "name"), "CedatoError");
    assert!(e.is_instance_of::<js_sys::Error>());
    assert_eq!(field(&e, "code"), "token_rejected");
    assert_eq!(field(&e, "status").as_f64(), Some(401.0));
    assert_eq!(field(&e, "retryable"), JsValue::FALSE);
    assert_eq!(field(&e, "oauthError"), "invalid_client");
    assert!(!field(&e, "message").as_string().unwrap().contains("wrong-secret"));
    let again = token(&auth).await.unwrap_err();
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
    let auth = auth_for(&client, &[]);
    let started = js_sys::Date::now();
    assert!(token(&auth).await.unwrap().starts_with("ct_"));
    // Retry-After: 1 is waited for.
    assert!(js_sys::Date::now() - started >= 1000.0);
    assert_eq!(stat(&client, "tokenRequests").await, 3.0);
}

#[wasm_bindgen_test]
async fn spent_retries_end_with_server_error() {
    let client = unique_client("spent");
    control(&client, "token-script", r#"[{"status":503}]"#).await;
    let auth = auth_for(&client, &[("maxRetries", 0.into())]);
    let e = token(&auth).await.unwrap_err();
    assert_eq!(field(&e, "code"), "server_error");
    assert_eq!(field(&e, "retryable"), JsValue::TRUE);
    assert!(token(&auth).await.unwrap().starts_with("ct_"));
}

#[wasm_bindgen_test]
async fn a_hung_attempt_times_out() {
    let client = unique_client("hang");
    control(&client, "token-script", r#"[{"stallBody":true}]"#).await;
    let auth = auth_for(&client, &[("maxRetries", 0.into()), ("timeoutMs", 300.into())]);
    let e = token(&auth).await.unwrap_err();
    assert_eq!(field(&e, "code"), "timeout");
    assert!(token(&auth).await.unwrap().starts_with("ct_"));
}

#[wasm_bindgen_test]
async fn after_free_calls_reject_and_pending_ones_settle() {
    let client = unique_client("free");
    control(&client, "token-script", r#"[{"ok":true,"delayMs":100}]"#).await;
    let auth = auth_for(&client, &[]);
    let pending = auth.get_token();
    auth.dispose();
    // The call settles: its request had not been sent yet, and a freed instance sends none.
    let e = settle(pending).await.unwrap_err();
    assert_eq!(field(&e, "code"), "invalid_request");
    assert_eq!(stat(&client, "tokenRequests").await, 0.0);
    for p in [auth.get_token(), auth.refresh(), auth.request("x".into(), None)] {
        let e = settle(p).await.unwrap_err();
        assert_eq!(field(&e, "code"), "invalid_request");
        assert!(field(&e, "message").as_string().unwrap().contains("freed"));
    }
}

#[wasm_bindgen_test]
async fn bad_options_throw_invalid_config() {
    let e = CedatoAuth::new(options("a:b", "s", &[])).err().unwrap();
    assert_eq!(field(&e, "code"), "invalid_config");
    assert!(e.is_instance_of::<js_sys::Error>());
    let e = CedatoAuth::new(JsValue::from(5)).err().unwrap();
    assert_eq!(field(&e, "code"), "invalid_config");
    let e = CedatoAuth::new(options("id", "s", &[("tokenStore", object(&[("get", 1.into())]))]))
        .err()
        .unwrap();
    assert_eq!(field(&e, "code"), "invalid_config");
    let auth = auth_for(&unique_client("json"), &[]);
    assert_eq!(auth.to_string_js(), format!("CedatoAuth({MOCK})"));
}

/// Issue 18: `auth.fetch()` never resolves with an answer from another origin. In Node the
/// library sees the 302 itself and hands it back (its URL is the API's); a browser hides
/// the redirect and follows it (without `Authorization`), and the answer it ends with comes
/// from another origin (`localhost` instead of `127.0.0.1`): that rejects.
#[wasm_bindgen_test]
async fn fetch_never_resolves_with_another_origins_answer() {
    let client = unique_client("away");
    let elsewhere = MOCK.replace("127.0.0.1", "localhost");
    let entry = format!(r#"{{"status":302,"headers":{{"location":"{elsewhere}echo"}}}}"#);
    control(&client, "api-script", &format!("[{entry},{entry}]")).await;
    let auth = auth_for(&client, &[]);
    let in_browser = Reflect::has(&js_sys::global(), &"document".into()).unwrap();
    match settle(auth.fetch("reports/supplies/extended".into(), None)).await {
        Ok(answer) => {
            let answer: web_sys::Response = answer.unchecked_into();
            assert!(
                !in_browser,
                "a browser handed over {} from {}",
                answer.status(),
                answer.url()
            );
            assert_eq!(answer.status(), 302);
            assert!(answer.url().starts_with(web_mock::origin()), "{}", answer.url());
        }
        Err(e) => {
            assert!(in_browser, "rejected outside a browser: {:?}", field(&e, "message"));
            assert_eq!(field(&e, "code"), "invalid_request", "{:?}", field(&e, "message"));
            let message = field(&e, "message").as_string().unwrap();
            assert!(message.contains("another origin"), "{message}");
        }
    }
}
