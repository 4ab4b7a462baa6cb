//! The native `Client` (feature `reqwest`) against the real mock server
//! (`tests/mock/server.mjs`, started with node on 127.0.0.1 by each test): single flight
//! with 1000 tasks, retries with Retry-After, the 401 retry, redirects, timeouts, errors.
//! The scenarios shared with the `web` client are in tests/scenarios; the ones here need
//! threads, tokio or cargo.
#![cfg(all(feature = "reqwest", not(target_arch = "wasm32")))]

#[path = "support/mock.rs"]
mod mock;
mod scenarios;

use std::process::Command;
use std::time::Duration;

use cedato_auth::{Client, Error, Options};
use mock::Mock;
use scenarios::{report, Harness};
use serde_json::{json, Value};

impl Harness for Mock {
    fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Each test starts its own mock: the tag is id enough.
    fn id(&self, tag: &str) -> String {
        format!("t-{tag}")
    }

    fn client(&self, options: Options) -> Result<Client, Error> {
        Client::new(options)
    }

    fn now_ms(&self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
            * 1000.0
    }

    async fn control(&self, id: &str, what: &str, body: Value) {
        self.post(id, what, body).await;
    }

    async fn stats(&self, id: &str) -> Value {
        Mock::stats(self, id).await
    }

    /// One tokio task per call, on the test's worker threads.
    async fn tokens(&self, client: &Client, n: usize) -> Vec<String> {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.token().await.map(|t| t.to_string()) })
            })
            .collect();
        let mut tokens = Vec::new();
        for task in tasks {
            tokens.push(task.await.unwrap().unwrap());
        }
        tokens
    }
}

#[test]
fn the_client_is_send_sync_and_clone() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Client>();
    shareable::<cedato_auth::Error>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_share_one_token_request() {
    scenarios::a_thousand_callers_share_one_token_request(&Mock::start()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_wait_as_retry_after_says() {
    scenarios::retries_wait_as_retry_after_says(&Mock::start()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_replaced_once_and_the_call_retried() {
    scenarios::a_revoked_token_is_replaced_once_and_the_call_retried(&Mock::start()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_inside_the_origin_only() {
    scenarios::redirects_are_followed_inside_the_origin_only(&Mock::start()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_time_out() {
    scenarios::attempts_time_out(&Mock::start()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_and_errors_hold_no_secret() {
    scenarios::refused_credentials_and_errors_hold_no_secret(&Mock::start()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_refresh_and_text_reports() {
    scenarios::clear_refresh_and_text_reports(&Mock::start()).await;
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
