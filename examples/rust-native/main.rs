//! A tokio program that gets a Cedato token and a report, with the native `Client`.
//!
//! `make report-rust` runs it against the local mock server. Against the real API:
//!
//! ```sh
//! CEDATO_BASE_URL=https://api.cedato.com/api/ CEDATO_CLIENT_ID=… CEDATO_CLIENT_SECRET=… \
//!   cargo run --release --features reqwest --example rust-native
//! ```

use std::env;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cedato_auth::{ApiRequest, Client, Options};
use serde::Deserialize;

#[derive(Deserialize)]
struct Report {
    data: Supplies,
}

#[derive(Deserialize)]
struct Supplies {
    supplies: Vec<Supply>,
}

#[derive(Deserialize)]
struct Supply {
    supply_name: String,
    impressions: u64,
    revenue: f64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = Options {
        base_url: env::var("CEDATO_BASE_URL").ok(),
        timeout: Some(Duration::from_secs(10)),
        on_event: Some(std::sync::Arc::new(|event| {
            if let cedato_auth::Event::Token {
                source, attempts, ms, ..
            } = event
            {
                let source: &str = source.into();
                eprintln!("event: token from the {source} after {attempts} request(s), {ms:.0} ms");
            }
        })),
        ..Options::new(
            env::var("CEDATO_CLIENT_ID").unwrap_or_else(|_| "demo-client".into()),
            env::var("CEDATO_CLIENT_SECRET").unwrap_or_else(|_| "demo-secret".into()),
        )
    };
    // Clone + Send + Sync: share it in an Arc, an axum state, or by cloning.
    let client = Client::new(options)?;

    // Fifty tasks ask at once: one token request.
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.token().await })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as f64;
    let left = client.expires_at().map_or(0.0, |at| (at - now_ms) / 1000.0);
    println!("token: ok, expires in {left:.0} s (never printed)");

    let report: Report = client
        .json(
            ApiRequest::get("reports/supplies/extended")
                .query("start", "2026-01-01")
                .query("end", "2026-01-31")
                .query("limit", 5),
        )
        .await?;
    println!("{:<28} {:>12} {:>10}", "supply", "impressions", "revenue");
    for row in &report.data.supplies {
        println!("{:<28} {:>12} {:>10.2}", row.supply_name, row.impressions, row.revenue);
    }
    let stats = client.stats();
    println!(
        "stats: {} token request(s), {} cache hits, {} API call(s)",
        stats.token_requests.get(),
        stats.cache_hits.get(),
        stats.api_calls.get()
    );
    Ok(())
}
