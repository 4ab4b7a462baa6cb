//! The native `Client` (feature `reqwest`) on the mock server: what a cached `token()`
//! costs per call (one task, and four threads at once), and what 1000 concurrent
//! `token()` calls on a cold client send. `std::time`, medians of several rounds.
//!
//!     cargo bench --features reqwest --bench native     (make bench-rust)
//!
//! Prints a table; a figure to report, not a timed test (the machine is shared).

#[path = "../tests/support/mock.rs"]
mod mock;

use std::time::Instant;

use cedato_auth::Client;
use mock::Mock;

const CALLS: u32 = 200_000;
const ROUNDS: usize = 7;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// ns per cached `token()` on one task.
async fn cached_one_task(client: &Client) -> f64 {
    let started = Instant::now();
    for _ in 0..CALLS {
        std::hint::black_box(client.token().await.unwrap());
    }
    started.elapsed().as_nanos() as f64 / f64::from(CALLS)
}

/// ns per cached `token()`, wall time over all calls, four tasks on four threads at once.
async fn cached_four_threads(client: &Client) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..CALLS / 4 {
                    std::hint::black_box(client.token().await.unwrap());
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed().as_nanos() as f64 / f64::from(CALLS)
}

/// 1000 concurrent `token()` on a new client: token requests the mock saw, and ms to the
/// last answer.
async fn cold_thousand(mock: &Mock, round: usize) -> (u64, f64) {
    let id = format!("t-bench-{round}");
    let client = mock.client(&id);
    let started = Instant::now();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.token().await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let requests = mock.stats(&id).await["tokenRequests"].as_u64().unwrap_or(u64::MAX);
    (requests, ms)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mock = Mock::start();
        let client = mock.client("t-bench");
        client.token().await.unwrap();
        // Warm up.
        cached_one_task(&client).await;
        let mut one = Vec::new();
        let mut four = Vec::new();
        for _ in 0..ROUNDS {
            one.push(cached_one_task(&client).await);
            four.push(cached_four_threads(&client).await);
        }
        let mut requests = Vec::new();
        let mut cold_ms = Vec::new();
        for round in 0..ROUNDS {
            let (sent, ms) = cold_thousand(&mock, round).await;
            requests.push(sent);
            cold_ms.push(ms);
        }
        let stats = client.stats();
        println!("native Client (reqwest + tokio), medians of {ROUNDS} rounds");
        println!("{:<52} {:>12}", "measure", "value");
        println!("{:<52} {:>9.0} ns", "cached token(), one task (per call)", median(one));
        println!(
            "{:<52} {:>9.0} ns",
            "cached token(), 4 threads at once (wall per call)",
            median(four)
        );
        let sent: Vec<String> = requests.iter().map(u64::to_string).collect();
        println!(
            "{:<52} {:>12}",
            "1000 concurrent cold token(): token requests sent",
            sent.join(" ")
        );
        println!(
            "{:<52} {:>9.1} ms",
            "1000 concurrent cold token(): time to the last",
            median(cold_ms)
        );
        println!(
            "{:<52} {:>12}",
            "token requests of the cached client",
            stats.token_requests.get()
        );
        assert!(requests.iter().all(|&n| n == 1), "single flight broke: {requests:?}");
    });
}
