//! The Rust API's scenario against the real mock server, written once and run by both
//! clients: the native `Client` (feature `reqwest`, tests/native.rs) and the `web` one
//! (tests/rust_web, in Node and headless browsers). Each suite implements [`Harness`]
//! for its way of reaching the mock, building a client and reading the clock; the
//! scenarios are `async fn`s over it (no `Send` bound: the web client is `!Send`).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cedato_auth::{ApiRequest, Client, Error, ErrorCode, Event, Options};
use serde_json::{json, Value};

pub const REPORT: &str = "reports/supplies/extended";

/// What a suite gives the scenarios: the mock, a client, the clock.
#[allow(async_fn_in_trait)]
pub trait Harness {
    /// The mock's base URL (`…/api/`).
    fn base_url(&self) -> String;
    /// A client id for `tag` that no other test against the same mock uses.
    fn id(&self, tag: &str) -> String;
    /// A client built the suite's way (`Client::new` natively, `from_options` on the web).
    fn client(&self, options: Options) -> Result<Client, Error>;
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> f64;
    /// Sends `body` (JSON) to the mock's control endpoint `what` for client `id`.
    async fn control(&self, id: &str, what: &str, body: Value);
    /// The mock's counters for client `id` (tokenRequests, apiRequests, apiUnauthorized, …).
    async fn stats(&self, id: &str) -> Value;
    /// `n` concurrent `token()` calls on `client` (tasks natively, futures on the web).
    async fn tokens(&self, client: &Client, n: usize) -> Vec<String>;
    /// Whether the client runs in a page, whose `fetch` hides redirects.
    fn in_browser(&self) -> bool {
        false
    }

    /// The mock's origin (`http://127.0.0.1:port`).
    fn origin(&self) -> String {
        self.base_url().trim_end_matches("/api/").to_owned()
    }

    /// Options for the mock's client `id` (secret `<id>-secret`).
    fn options(&self, id: &str) -> Options {
        Options {
            base_url: Some(self.base_url()),
            ..Options::new(id, format!("{id}-secret"))
        }
    }

    fn client_for(&self, id: &str) -> Client {
        self.client(self.options(id)).unwrap()
    }
}

pub fn report() -> ApiRequest {
    ApiRequest::get(REPORT)
        .query("start", "2026-01-01")
        .query("end", "2026-01-31")
        .query("limit", 2)
}

/// Events as JSON, recorded from the callback.
pub fn recorder() -> (Arc<Mutex<Vec<Value>>>, cedato_auth::rust::EventCallback) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let callback = Arc::new(move |event: &Event<'_>| sink.lock().unwrap().push(serde_json::to_value(event).unwrap()));
    (seen, callback)
}

pub async fn a_thousand_callers_share_one_token_request(h: &impl Harness) {
    let id = h.id("flight");
    // A slow token answer, so every caller asks while it is in flight.
    h.control(&id, "token-script", json!([{ "ok": true, "delayMs": 300 }]))
        .await;
    let client = h.client_for(&id);
    let mut tokens = h.tokens(&client, 1000).await;
    assert_eq!(tokens.len(), 1000);
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every caller got the same token");
    assert_eq!(h.stats(&id).await["tokenRequests"], 1);
    // Now cached: served by the fast path, still one request.
    for _ in 0..1000 {
        assert_eq!(client.token().await.unwrap().as_str(), tokens[0]);
    }
    assert!(client.has_valid_token());
    let ours = client.stats();
    assert_eq!(ours.token_requests.get(), 1);
    assert!(ours.cache_hits.get() >= 1000, "{ours:?}");
    assert_eq!(h.stats(&id).await["tokenRequests"], 1);
}

pub async fn retries_wait_as_retry_after_says(h: &impl Harness) {
    let id = h.id("retry");
    h.control(
        &id,
        "token-script",
        json!([
            { "status": 503, "headers": { "retry-after": "1" } },
            { "status": 429, "headers": { "retry-after": "0" } }
        ]),
    )
    .await;
    let (events, on_event) = recorder();
    let client = h
        .client(Options {
            on_event: Some(on_event),
            ..h.options(&id)
        })
        .unwrap();
    let started = h.now_ms();
    client.token().await.unwrap();
    let took = h.now_ms() - started;
    assert!((1000.0..5000.0).contains(&took), "{took} ms");
    assert_eq!(h.stats(&id).await["tokenRequests"], 3);
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
    let spent = h.id("retry2");
    h.control(
        &spent,
        "token-script",
        json!([{ "status": 503 }, { "status": 503 }, { "status": 503, "headers": { "retry-after": "120" } }]),
    )
    .await;
    let error = h.client_for(&spent).token().await.unwrap_err();
    assert_eq!(
        (error.code, error.status, error.retry_after),
        (ErrorCode::ServerError, Some(503), Some(120.0))
    );
    assert!(error.retryable());
}

pub async fn a_revoked_token_is_replaced_once_and_the_call_retried(h: &impl Harness) {
    let id = h.id("revoke");
    let client = h.client_for(&id);
    let first = client.token().await.unwrap().to_string();
    h.control(&id, "revoke", json!(null)).await;
    let page: Value = client.json(report()).await.unwrap();
    assert_eq!(page["data"]["supplies"].as_array().unwrap().len(), 2);
    assert_ne!(
        client.token().await.unwrap().as_str(),
        first,
        "a new token replaced the revoked one"
    );
    let seen = h.stats(&id).await;
    assert_eq!(
        (&seen["tokenRequests"], &seen["apiUnauthorized"]),
        (&json!(2), &json!(1))
    );
    let ours = client.stats();
    assert_eq!((ours.api_calls.get(), ours.api_retries.get()), (1, 1));

    // Within unauthorizedCooldownMs (5 s) a refused token is not replaced again: the 419
    // is the answer.
    h.control(&id, "api-script", json!([{ "status": 419 }])).await;
    let cooling = client.send_ok(report()).await.unwrap_err();
    assert_eq!((cooling.code, cooling.status), (ErrorCode::Http, Some(419)));
    assert_eq!(h.stats(&id).await["tokenRequests"], 2);

    // Without a cool-down: 419 retried too, and a second refusal is the answer.
    let eager = h
        .client(Options {
            unauthorized_cooldown: Some(Duration::ZERO),
            ..h.options(&id)
        })
        .unwrap();
    h.control(&id, "api-script", json!([{ "status": 419 }])).await;
    assert_eq!(eager.send(report()).await.unwrap().status, 200);
    h.control(
        &id,
        "api-script",
        json!([{ "status": 401 }, { "status": 401, "body": "still no" }]),
    )
    .await;
    let refused = eager.send_ok(report()).await.unwrap_err();
    assert_eq!((refused.code, refused.status), (ErrorCode::Http, Some(401)));
    assert_eq!(refused.body.as_deref(), Some("still no"));
}

pub async fn redirects_are_followed_inside_the_origin_only(h: &impl Harness) {
    let id = h.id("hop");
    let client = h.client_for(&id);
    let origin = h.origin();
    // Each entry answers one send, whatever its path: two redirects in a row outside a
    // page (the library follows the first to the second), the hidden one and the one the
    // browser follows in a page; three authenticated requests either way.
    let inside = "/api/reports/supplies/extended?start=2026-01-01&end=2026-01-31&limit=1";
    let hop = json!({ "status": 302, "headers": { "location": inside } });
    h.control(&id, "api-script", json!([hop, hop])).await;
    let response = client.send_ok(ApiRequest::get("anything")).await.unwrap();
    let report: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(report["data"]["supplies"].as_array().unwrap().len(), 1);
    assert_eq!(response.url, format!("{origin}{inside}"));
    assert_eq!(h.stats(&id).await["apiRequests"], 3);

    // Same server, another origin (localhost is not 127.0.0.1): the token does not go
    // there, and no answer from there is handed out.
    let outside = format!("{}/api/echo", origin.replace("127.0.0.1", "localhost"));
    let away = json!({ "status": 307, "headers": { "location": outside } });
    h.control(&id, "api-script", json!([away, away])).await;
    match client.send(ApiRequest::get("anything")).await {
        Ok(response) => {
            assert!(
                !h.in_browser(),
                "a browser handed over {} from {}",
                response.status,
                response.url
            );
            assert_eq!(
                (response.status, response.header("location")),
                (307, Some(outside.as_str()))
            );
            assert_eq!(h.stats(&id).await["apiRequests"], 4, "the other origin got nothing");
        }
        Err(error) => {
            assert!(h.in_browser(), "failed outside a browser: {error}");
            assert_eq!(error.code, ErrorCode::InvalidRequest, "{error}");
            assert!(error.message.contains("another origin"), "{error}");
            // The hidden redirect and the send the browser followed (without the token).
            assert_eq!(h.stats(&id).await["apiRequests"], 5);
        }
    }
    let sent = h.stats(&id).await["apiRequests"].clone();

    // And never sent there directly.
    let error = client.send(ApiRequest::get(outside)).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_eq!(h.stats(&id).await["apiRequests"], sent);
}

pub async fn attempts_time_out(h: &impl Harness) {
    let quick = |id: &str| {
        h.client(Options {
            timeout: Some(Duration::from_millis(300)),
            max_retries: Some(1),
            ..h.options(id)
        })
        .unwrap()
    };
    // A token answer that never comes, then one whose body never ends: both time out.
    let id = h.id("slow");
    h.control(
        &id,
        "token-script",
        json!([{ "ok": true, "delayMs": 5000 }, { "stallBody": true }]),
    )
    .await;
    let started = h.now_ms();
    let error = quick(&id).token().await.unwrap_err();
    assert_eq!(error.code, ErrorCode::Timeout, "{error}");
    let took = h.now_ms() - started;
    assert!(took < 3000.0, "{took} ms");
    assert_eq!(h.stats(&id).await["tokenRequests"], 2);

    // An API call that hangs; the client keeps working.
    let id = h.id("slow-api");
    h.control(&id, "api-script", json!([{ "delayMs": 5000 }])).await;
    let client = quick(&id);
    assert_eq!(client.send(report()).await.unwrap_err().code, ErrorCode::Timeout);
    assert_eq!(client.send(report()).await.unwrap().status, 200);
}

pub async fn refused_credentials_and_errors_hold_no_secret(h: &impl Harness) {
    let client = h
        .client(Options {
            base_url: Some(h.base_url()),
            ..Options::new(h.id("wrong"), "not-the-secret")
        })
        .unwrap();
    let error = client.token().await.unwrap_err();
    assert_eq!((error.code, error.status), (ErrorCode::TokenRejected, Some(401)));
    assert_eq!(error.oauth_error.as_deref(), Some("invalid_client"));
    let shown = format!("{error} {error:?} {client:?}");
    assert!(!shown.contains("not-the-secret") && !shown.contains("Basic"), "{shown}");
    assert!(!client.has_valid_token());

    // Nothing listens there: network, after the retries.
    let closed = h
        .client(Options {
            base_url: Some("http://127.0.0.1:9/api/".into()),
            max_retries: Some(0),
            ..Options::new("t-x", "t-x-secret")
        })
        .unwrap();
    assert_eq!(closed.token().await.unwrap_err().code, ErrorCode::Network);

    let bad = h.client(Options::new("a:b", "s")).unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidConfig);
}

pub async fn clear_refresh_and_text_reports(h: &impl Harness) {
    let id = h.id("life");
    let client = h.client_for(&id);
    let first = client.authorization_header().await.unwrap();
    assert!(first.starts_with("Bearer "));
    let left = client.expires_at().unwrap() - h.now_ms();
    assert!((left - 3_600_000.0).abs() < 5_000.0, "{left}");
    let refreshed = client.refresh().await.unwrap();
    assert_ne!(format!("Bearer {}", refreshed.as_str()), first.as_str());
    client.clear();
    assert_eq!((client.expires_at(), client.has_valid_token()), (None, false));
    client.token().await.unwrap();
    assert_eq!(h.stats(&id).await["tokenRequests"], 3);

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
