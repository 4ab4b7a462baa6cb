//! The native `Client` (feature `reqwest`) against the real mock server
//! (`tests/mock/server.mjs`, started with node on 127.0.0.1 by each test): single flight
//! with 1000 tasks, retries with Retry-After, the 401 retry, redirects, timeouts, errors.
#![cfg(all(feature = "reqwest", not(target_arch = "wasm32")))]

#[path = "support/mock.rs"]
mod mock;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cedato_auth::{ApiRequest, Client, ErrorCode, Event, Options};
use mock::Mock;
use serde_json::{json, Value};

const REPORT: &str = "reports/supplies/extended";

fn report() -> ApiRequest {
    ApiRequest::get(REPORT)
        .query("start", "2026-01-01")
        .query("end", "2026-01-31")
        .query("limit", 2)
}

/// Events as JSON, recorded from the callback (which runs on the client's thread).
fn recorder() -> (Arc<Mutex<Vec<Value>>>, cedato_auth::rust::EventCallback) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let callback = Arc::new(move |event: &Event<'_>| sink.lock().unwrap().push(serde_json::to_value(event).unwrap()));
    (seen, callback)
}

#[test]
fn the_client_is_send_sync_and_clone() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Client>();
    shareable::<cedato_auth::Error>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_share_one_token_request() {
    let mock = Mock::start();
    // A slow token answer, so every task asks while it is in flight.
    mock.post("t-flight", "token-script", json!([{ "ok": true, "delayMs": 300 }]))
        .await;
    let client = mock.client("t-flight");
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.token().await.map(|t| t.to_string()) })
        })
        .collect();
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every task got the same token");
    assert_eq!(mock.stats("t-flight").await["tokenRequests"], 1);
    // Now cached: served by the fast path, still one request.
    for _ in 0..1000 {
        assert_eq!(client.token().await.unwrap().as_str(), tokens[0]);
    }
    assert!(client.has_valid_token());
    let stats = client.stats();
    assert_eq!(stats.token_requests.get(), 1);
    assert!(stats.cache_hits.get() >= 1000, "{stats:?}");
    assert_eq!(mock.stats("t-flight").await["tokenRequests"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_wait_as_retry_after_says() {
    let mock = Mock::start();
    mock.post(
        "t-retry",
        "token-script",
        json!([
            { "status": 503, "headers": { "retry-after": "1" } },
            { "status": 429, "headers": { "retry-after": "0" } }
        ]),
    )
    .await;
    let (events, on_event) = recorder();
    let client = Client::new(Options {
        on_event: Some(on_event),
        ..mock.options("t-retry")
    })
    .unwrap();
    let started = Instant::now();
    client.token().await.unwrap();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1000) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(mock.stats("t-retry").await["tokenRequests"], 3);
    let retries: Vec<Value> = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "retry")
        .cloned()
        .collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert_eq!(
        (retries[0]["status"].clone(), retries[0]["retryAfter"].clone()),
        (json!(503), json!(1.0))
    );
    assert_eq!(retries[0]["code"], "server_error");
    assert_eq!(retries[1]["code"], "rate_limited");

    // Spent retries: the last error, with its status and retryAfter.
    mock.post(
        "t-retry2",
        "token-script",
        json!([{ "status": 503 }, { "status": 503 }, { "status": 503, "headers": { "retry-after": "120" } }]),
    )
    .await;
    let error = mock.client("t-retry2").token().await.unwrap_err();
    assert_eq!(
        (error.code, error.status, error.retry_after),
        (ErrorCode::ServerError, Some(503), Some(120.0))
    );
    assert!(error.retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_replaced_once_and_the_call_retried() {
    let mock = Mock::start();
    let client = mock.client("t-revoke");
    let first = client.token().await.unwrap().to_string();
    mock.post("t-revoke", "revoke", json!(null)).await;
    let page: Value = client.json(report()).await.unwrap();
    assert_eq!(page["data"]["supplies"].as_array().unwrap().len(), 2);
    assert_ne!(
        client.token().await.unwrap().as_str(),
        first,
        "a new token replaced the revoked one"
    );
    let stats = mock.stats("t-revoke").await;
    assert_eq!(
        (stats["tokenRequests"].clone(), stats["apiUnauthorized"].clone()),
        (json!(2), json!(1))
    );
    let ours = client.stats();
    assert_eq!((ours.api_calls.get(), ours.api_retries.get()), (1, 1));

    // Within unauthorizedCooldownMs (5 s) a refused token is not replaced again: the
    // 401 is the answer.
    mock.post("t-revoke", "api-script", json!([{ "status": 419 }])).await;
    let cooling = client.send_ok(report()).await.unwrap_err();
    assert_eq!((cooling.code, cooling.status), (ErrorCode::Http, Some(419)));
    assert_eq!(mock.stats("t-revoke").await["tokenRequests"], 2);

    // Without a cool-down: 419 retried too, and a second refusal is the answer.
    let eager = Client::new(Options {
        unauthorized_cooldown: Some(Duration::ZERO),
        ..mock.options("t-revoke")
    })
    .unwrap();
    mock.post("t-revoke", "api-script", json!([{ "status": 419 }])).await;
    assert_eq!(eager.send(report()).await.unwrap().status, 200);
    mock.post(
        "t-revoke",
        "api-script",
        json!([{ "status": 401 }, { "status": 401, "body": "still no" }]),
    )
    .await;
    let refused = eager.send_ok(report()).await.unwrap_err();
    assert_eq!((refused.code, refused.status), (ErrorCode::Http, Some(401)));
    assert_eq!(refused.body.as_deref(), Some("still no"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_inside_the_origin_only() {
    let mock = Mock::start();
    let client = mock.client("t-hop");
    let inside = "/api/reports/supplies/extended?start=2026-01-01&end=2026-01-31&limit=1";
    mock.post(
        "t-hop",
        "api-script",
        json!([{ "status": 302, "headers": { "location": inside } }]),
    )
    .await;
    let report: Value = client.json(ApiRequest::get("anything")).await.unwrap();
    assert_eq!(report["data"]["supplies"].as_array().unwrap().len(), 1);
    assert_eq!(mock.stats("t-hop").await["apiRequests"], 2);

    // Same server, another origin (localhost is not 127.0.0.1): not followed.
    let outside = format!("{}/api/echo", mock.origin().replace("127.0.0.1", "localhost"));
    mock.post(
        "t-hop",
        "api-script",
        json!([{ "status": 307, "headers": { "location": outside } }]),
    )
    .await;
    let response = client.send(ApiRequest::get("anything")).await.unwrap();
    assert_eq!(
        (response.status, response.header("location")),
        (307, Some(outside.as_str()))
    );
    assert_eq!(
        mock.stats("t-hop").await["apiRequests"],
        3,
        "the other origin got nothing"
    );

    // And never sent there directly.
    let error = client.send(ApiRequest::get(outside)).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidRequest);
    assert_eq!(mock.stats("t-hop").await["apiRequests"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_time_out() {
    let mock = Mock::start();
    let quick = |id: &str| {
        Client::new(Options {
            timeout: Some(Duration::from_millis(300)),
            max_retries: Some(1),
            ..mock.options(id)
        })
        .unwrap()
    };
    // A token answer that never comes, then one whose body never ends: both time out.
    mock.post(
        "t-slow",
        "token-script",
        json!([{ "ok": true, "delayMs": 5000 }, { "stallBody": true }]),
    )
    .await;
    let started = Instant::now();
    let error = quick("t-slow").token().await.unwrap_err();
    assert_eq!(error.code, ErrorCode::Timeout, "{error}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(mock.stats("t-slow").await["tokenRequests"], 2);

    // An API call that hangs.
    mock.post("t-slow-api", "api-script", json!([{ "delayMs": 5000 }]))
        .await;
    let client = quick("t-slow-api");
    let error = client.send(report()).await.unwrap_err();
    assert_eq!(error.code, ErrorCode::Timeout);
    // The instance keeps working.
    assert_eq!(client.send(report()).await.unwrap().status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_and_errors_hold_no_secret() {
    let mock = Mock::start();
    let client = Client::new(Options {
        base_url: Some(mock.base_url.clone()),
        ..Options::new("t-wrong", "not-the-secret")
    })
    .unwrap();
    let error = client.token().await.unwrap_err();
    assert_eq!((error.code, error.status), (ErrorCode::TokenRejected, Some(401)));
    assert_eq!(error.oauth_error.as_deref(), Some("invalid_client"));
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("not-the-secret") && !shown.contains("Basic"), "{shown}");
    assert!(!client.has_valid_token());

    // Nothing listens there: network, after the retries.
    let closed = Client::new(Options {
        base_url: Some("http://127.0.0.1:9/api/".into()),
        max_retries: Some(0),
        ..Options::new("t-x", "t-x-secret")
    })
    .unwrap();
    assert_eq!(closed.token().await.unwrap_err().code, ErrorCode::Network);

    let bad = Client::new(Options::new("a:b", "s")).unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidConfig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_refresh_and_text_reports() {
    let mock = Mock::start();
    let client = mock.client("t-life");
    let first = client.authorization_header().await.unwrap();
    assert!(first.starts_with("Bearer "));
    let at = client.expires_at().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    assert!((at - now - 3_600_000.0).abs() < 5_000.0, "{at} {now}");
    let refreshed = client.refresh().await.unwrap();
    assert_ne!(format!("Bearer {}", refreshed.as_str()), first.as_str());
    client.clear();
    assert_eq!((client.expires_at(), client.has_valid_token()), (None, false));
    client.token().await.unwrap();
    assert_eq!(mock.stats("t-life").await["tokenRequests"], 3);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_is_seen_at_once_and_a_flight_in_the_air_still_lands() {
    let mock = Mock::start();
    let client = mock.client("t-clear");
    client.token().await.unwrap();
    assert!(client.has_valid_token());
    client.clear();
    // The fast path never serves a cleared token, even before the core thread hears of it.
    assert_eq!((client.has_valid_token(), client.expires_at()), (false, None));
    mock.post("t-clear", "token-script", json!([{ "ok": true, "delayMs": 300 }]))
        .await;
    let asking = tokio::spawn({
        let client = client.clone();
        async move { client.token().await.map(|t| t.to_string()) }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.clear(); // the request in flight is not cancelled ...
    let token = asking.await.unwrap().unwrap();
    // ... and its token is cached when it lands (its caller asked for it).
    assert!(client.has_valid_token());
    assert_eq!(client.token().await.unwrap().as_str(), token);
    assert_eq!(mock.stats("t-clear").await["tokenRequests"], 2);
}

#[test]
fn the_local_client_runs_on_a_local_set_too() {
    use cedato_auth::rust::native::{ReqwestTransport, TokioRuntime};
    use cedato_auth::LocalClient;
    use std::rc::Rc;

    let mock = Mock::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, async {
        mock.post("t-local", "token-script", json!([{ "ok": true, "delayMs": 100 }]))
            .await;
        let transport = ReqwestTransport::new().unwrap();
        let client = Rc::new(LocalClient::new(mock.options("t-local"), TokioRuntime::new(), transport).unwrap());
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let client = Rc::clone(&client);
                tokio::task::spawn_local(async move { client.token().await.map(|t| t.to_string()) })
            })
            .collect();
        let mut tokens = Vec::new();
        for task in tasks {
            tokens.push(task.await.unwrap().unwrap());
        }
        tokens.dedup();
        assert_eq!(tokens.len(), 1);
        let page: Value = client.json(report()).await.unwrap();
        assert_eq!(page["data"]["navigation"]["total"], 57);
        assert_eq!(mock.stats("t-local").await["tokenRequests"], 1);
    });
}

#[test]
fn the_example_gets_a_token_and_a_report() {
    let mock = Mock::start();
    // `cargo run` builds it if needed (nothing when `cargo test` already did).
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "run",
            "--quiet",
            "--features",
            "reqwest",
            "--example",
            "rust-native",
            "--manifest-path",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .env("CEDATO_BASE_URL", &mock.base_url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("token: ok, expires in 3600 s"), "{stdout}");
    assert!(stdout.contains("Homepage Outstream"), "{stdout}");
    assert!(stdout.contains("stats: 1 token request(s)"), "{stdout}");
}
