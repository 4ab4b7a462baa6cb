//! The mock Cedato server (`tests/mock/server.mjs`) for Rust: started with node on a free
//! port of 127.0.0.1, driven through its control endpoints, stopped when dropped. Shared
//! by the native integration tests and the native bench.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cedato_auth::{Client, Options};
use serde_json::Value;

/// The mock server on a free port of 127.0.0.1, stopped when dropped.
pub struct Mock {
    child: Child,
    pub base_url: String,
    control: reqwest::Client,
}

impl Mock {
    pub fn start() -> Mock {
        let dir = std::env::temp_dir().join(format!(
            "cedato-native-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url_file = dir.join("mock-url");
        let _ = std::fs::remove_file(&url_file);
        let child = Command::new("node")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mock/server.mjs"))
            .args(["--port", "0", "--url-file"])
            .arg(&url_file)
            .stdout(Stdio::null())
            .spawn()
            .expect("node runs the mock server");
        let started = Instant::now();
        let base_url = loop {
            if let Ok(url) = std::fs::read_to_string(&url_file) {
                if !url.trim().is_empty() {
                    break url.trim().to_owned();
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the mock server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Mock {
            child,
            base_url,
            control: reqwest::Client::new(),
        }
    }

    pub fn origin(&self) -> String {
        self.base_url.trim_end_matches("/api/").to_owned()
    }

    pub async fn post(&self, id: &str, action: &str, payload: Value) {
        let url = format!("{}/__mock/clients/{id}/{action}", self.origin());
        let body = serde_json::to_string(&payload).unwrap();
        let answer = self.control.post(url).body(body).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{action}");
    }

    pub async fn stats(&self, id: &str) -> Value {
        let url = format!("{}/__mock/clients/{id}/stats", self.origin());
        let text = self.control.get(url).send().await.unwrap().text().await.unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Options for the mock's client `id` (secret `<id>-secret`).
    pub fn options(&self, id: &str) -> Options {
        Options {
            base_url: Some(self.base_url.clone()),
            ..Options::new(id, format!("{id}-secret"))
        }
    }

    pub fn client(&self, id: &str) -> Client {
        Client::new(self.options(id)).unwrap()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
