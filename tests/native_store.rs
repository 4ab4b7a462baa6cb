//! The native `Client`'s shared store (feature `reqwest`) against the real mock server
//! (`tests/mock/server.mjs`): clients sharing a `MemoryStore` make one token request
//! between them, the store holds the token sealed, and a value sealed for one credential
//! set does not open for another.
#![cfg(all(feature = "reqwest", not(target_arch = "wasm32")))]

#[path = "support/mock.rs"]
mod mock;

use std::sync::{Arc, Mutex};

use cedato_auth::core::{SealedEntry, StoreAnswer};
use cedato_auth::rust::native::StoreFuture;
use cedato_auth::{Client, Event, MemoryStore, Options, SharedTokenStore};
use mock::Mock;

/// The `store` events' `op/outcome`, recorded from the callback.
fn store_events(options: Options) -> (Options, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let options = Options {
        on_event: Some(Arc::new(move |event: &Event<'_>| {
            if let Event::Store { op, outcome, .. } = event {
                sink.lock().unwrap().push(format!("{op:?}/{outcome:?}"));
            }
        })),
        ..options
    };
    (options, seen)
}

#[test]
fn the_store_and_its_trait_object_are_send_sync() {
    fn shareable<T: Send + Sync + ?Sized + 'static>() {}
    shareable::<MemoryStore>();
    shareable::<dyn SharedTokenStore>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_sharing_a_memory_store_make_one_token_request() {
    let mock = Mock::start();
    let store = Arc::new(MemoryStore::new());
    let first = Client::with_store(mock.options("t-store"), store.clone()).unwrap();
    let (options, events) = store_events(mock.options("t-store"));
    let second = Client::with_store(options, store.clone()).unwrap();

    let token = first.token().await.unwrap();
    assert_eq!(store.len(), 1, "the first client shared its token");
    let shared = second.token().await.unwrap();
    assert_eq!(shared.as_str(), token.as_str(), "the second took it from the store");
    assert_eq!(mock.stats("t-store").await["tokenRequests"], 1);
    assert_eq!(first.stats().token_requests.get(), 1);
    assert_eq!(second.stats().token_requests.get(), 0);
    assert_eq!(second.stats().store_hits.get(), 1);
    assert_eq!(events.lock().unwrap().as_slice(), ["Get/Hit"]);

    // The token is usable for calls, and the store holds it sealed only.
    let report = second
        .send_ok(cedato_auth::ApiRequest::get("reports/supplies/extended"))
        .await;
    assert!(report.is_ok(), "{report:?}");
    let (key, entry) = store.entries().pop().unwrap();
    assert!(
        key.starts_with(&format!("cedato-auth:v2:{}:t-store:", mock.base_url)),
        "{key}"
    );
    assert!(!key.contains("secret"));
    assert!(!entry.sealed.contains(token.as_str()));
    assert!(!format!("{entry:?}").contains(token.as_str()));
    assert!(entry.expires_at > entry.refresh_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_sealed_for_other_credentials_does_not_open() {
    let mock = Mock::start();
    let store = Arc::new(MemoryStore::new());
    // The same client id with another (valid) secret: another store key and another key.
    let old = Client::with_store(mock.options("t-rotate"), store.clone()).unwrap();
    let rotated_options = Options {
        base_url: Some(mock.base_url.clone()),
        ..Options::new("t-rotate", "t-rotate-secret:rotated")
    };
    let rotated = Client::with_store(rotated_options.clone(), store.clone()).unwrap();
    let old_token = old.token().await.unwrap();
    let (old_key, old_entry) = store.entries().pop().unwrap();
    let rotated_token = rotated.token().await.unwrap();
    assert_ne!(old_token.as_str(), rotated_token.as_str());
    assert_eq!(
        mock.stats("t-rotate").await["tokenRequests"],
        2,
        "no token crosses credentials"
    );
    let entries = store.entries();
    assert_eq!(entries.len(), 2);
    let (rotated_key, _) = entries.iter().find(|(key, _)| *key != old_key).unwrap();

    // The old credentials' value moved under the rotated credentials' key does not open:
    // a third client of the rotated credentials reads it as invalid and asks the endpoint.
    assert!(store.set(rotated_key, &old_entry, 300.0).await);
    let (options, events) = store_events(rotated_options);
    let third = Client::with_store(options, store.clone()).unwrap();
    let token = third.token().await.unwrap();
    assert_ne!(token.as_str(), old_token.as_str());
    assert_eq!(events.lock().unwrap().first().map(String::as_str), Some("Get/Invalid"));
    assert_eq!(mock.stats("t-rotate").await["tokenRequests"], 3);
}

/// A store that fails every call: the clients degrade to the endpoint, no call fails.
struct Broken;

impl SharedTokenStore for Broken {
    fn get(&self, _key: &str) -> StoreFuture<StoreAnswer> {
        Box::pin(async { StoreAnswer::Unavailable })
    }
    fn set(&self, _key: &str, _entry: &SealedEntry, _ttl_seconds: f64) -> StoreFuture<bool> {
        Box::pin(async { false })
    }
    fn delete(&self, _key: &str) -> StoreFuture<bool> {
        Box::pin(async { false })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_degrades_to_the_endpoint() {
    let mock = Mock::start();
    let (options, events) = store_events(mock.options("t-broken"));
    let client = Client::with_store(options, Arc::new(Broken)).unwrap();
    client.token().await.unwrap();
    assert_eq!(mock.stats("t-broken").await["tokenRequests"], 1);
    assert_eq!(events.lock().unwrap().as_slice(), ["Get/Error", "Set/Error"]);
}

/// Runs `script` (an ES module) with node, `input` as its argv[1]; its stdout.
fn node(script: &str, input: &serde_json::Value) -> String {
    let sealed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/sealed.mjs");
    let script =
        format!("import {{ open, seal }} from {sealed:?}; const input = JSON.parse(process.argv[1]); {script}");
    let output = std::process::Command::new("node")
        .args(["--input-type=module", "-e", &script, &input.to_string()])
        .output()
        .expect("node runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The stored form across languages: what the native client seals, node:crypto opens
/// (tests/support/sealed.mjs, the layout the wasm's Web Crypto is held to by the Node
/// suites), and what node:crypto seals, the native client opens and uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_sealed_natively_open_in_node_and_back() {
    let mock = Mock::start();
    let store = Arc::new(MemoryStore::new());
    let client = Client::with_store(mock.options("t-cross"), store.clone()).unwrap();
    let token = client.token().await.unwrap();
    let (key, entry) = store.entries().pop().unwrap();
    let creds = serde_json::json!({ "clientId": "t-cross", "clientSecret": "t-cross-secret" });
    let input = serde_json::json!({
        "creds": creds,
        "baseUrl": mock.base_url,
        "entry": entry,
    });
    let opened = node(
        "process.stdout.write(JSON.stringify(open(input.creds, input.baseUrl, input.entry)));",
        &input,
    );
    let opened: serde_json::Value = serde_json::from_str(&opened).unwrap();
    assert_eq!(opened["accessToken"], token.as_str());
    assert!(opened["expiresIn"].as_f64().unwrap() > 0.0);
    // Under other credentials it does not open.
    let other = serde_json::json!({ "creds": { "clientId": "t-cross", "clientSecret": "other" }, "baseUrl": mock.base_url, "entry": entry });
    let refused = node(
        "try { open(input.creds, input.baseUrl, input.entry); process.stdout.write('opened'); } \
         catch { process.stdout.write('refused'); }",
        &other,
    );
    assert_eq!(refused, "refused");

    // node:crypto seals a token for the same credentials: a new client takes it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    let input = serde_json::json!({
        "creds": creds,
        "baseUrl": mock.base_url,
        "token": { "accessToken": "sealed-by-node", "expiresIn": 3600, "expiresAt": now + 3_600_000.0, "refreshAt": now + 3_000_000.0 },
    });
    let sealed = node(
        "process.stdout.write(JSON.stringify(seal(input.creds, input.baseUrl, input.token)));",
        &input,
    );
    let sealed: serde_json::Value = serde_json::from_str(&sealed).unwrap();
    let entry = SealedEntry {
        sealed: sealed["sealed"].as_str().unwrap().to_owned(),
        expires_at: sealed["expiresAt"].as_f64().unwrap(),
        refresh_at: sealed["refreshAt"].as_f64().unwrap(),
        expires_in_ms: None,
    };
    assert!(store.set(&key, &entry, 3600.0).await);
    let reader = Client::with_store(mock.options("t-cross"), store.clone()).unwrap();
    assert_eq!(reader.token().await.unwrap().as_str(), "sealed-by-node");
    assert_eq!(reader.stats().store_hits.get(), 1);
    assert_eq!(
        mock.stats("t-cross").await["tokenRequests"],
        1,
        "the first client's only"
    );
}
