//! A Cloudflare Worker in Rust (workers-rs) that reads the Cedato Platform API with
//! cedato-auth's Rust API on the `web` transport: the token exchange, its cache and single
//! flight, retries and the 401 retry are the library's; the worker only routes.
//!
//! - `GET /report?start=YYYY-MM-DD&end=YYYY-MM-DD[&limit=N]`: the supplies report, read
//!   into typed rows and answered as JSON;
//! - `GET /stats`: the client's counters (token requests, cache hits, API calls), which
//!   show that the isolate's requests share one token.
//!
//! Secrets: `CEDATO_CLIENT_ID`, `CEDATO_CLIENT_SECRET`; variable `CEDATO_BASE_URL`
//! (optional, the Cedato API by default). A failure is `{"error":{"code","message"}}`.

use std::cell::RefCell;
use std::rc::Rc;

use cedato_auth::{ApiRequest, Client, ErrorCode, Options};
use serde::{Deserialize, Serialize};
use worker::{event, Context, Env, Request, Response, Result, Url};

thread_local! {
    // One client per isolate, made on the first request (`env` arrives with it), so every
    // request of the isolate shares the cached token, and concurrent requests one token
    // request. wasm has one thread: the client is `!Send`, and a `thread_local!` is where
    // it lives.
    static CLIENT: RefCell<Option<Rc<Client>>> = const { RefCell::new(None) };
}

/// The isolate's client, made from `env` the first time.
fn client(env: &Env) -> std::result::Result<Rc<Client>, cedato_auth::Error> {
    if let Some(client) = CLIENT.with_borrow(Option::clone) {
        return Ok(client);
    }
    let text = |name: &str| env.secret(name).or_else(|_| env.var(name)).ok().map(|v| v.to_string());
    let options = Options {
        base_url: text("CEDATO_BASE_URL"),
        ..Options::new(
            text("CEDATO_CLIENT_ID").unwrap_or_default(),
            text("CEDATO_CLIENT_SECRET").unwrap_or_default(),
        )
    };
    let client = Rc::new(Client::from_options(options)?);
    CLIENT.with_borrow_mut(|slot| *slot = Some(Rc::clone(&client)));
    Ok(client)
}

/// The report's envelope, as far as this worker reads it.
#[derive(Deserialize)]
struct Page {
    data: Supplies,
}

#[derive(Deserialize)]
struct Supplies {
    supplies: Vec<Supply>,
}

/// One row, typed: what the worker answers with.
#[derive(Deserialize, Serialize)]
struct Supply {
    supply_id: u64,
    supply_name: String,
    impressions: u64,
    revenue: f64,
}

#[derive(Serialize)]
struct Stats {
    token_requests: u32,
    cache_hits: u32,
    api_calls: u32,
    api_retries: u32,
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let url = request.url()?;
    match (request.method().as_ref(), url.path()) {
        ("GET", "/report") => answer(report(&url, &env).await),
        ("GET", "/stats") => answer(client(&env).map(|client| {
            let stats = client.stats();
            Stats {
                token_requests: stats.token_requests.get(),
                cache_hits: stats.cache_hits.get(),
                api_calls: stats.api_calls.get(),
                api_retries: stats.api_retries.get(),
            }
        })),
        _ => Response::error("GET /report?start=YYYY-MM-DD&end=YYYY-MM-DD or GET /stats", 404),
    }
}

/// The supplies report for the request's `start`, `end` and `limit`.
async fn report(url: &Url, env: &Env) -> std::result::Result<Vec<Supply>, cedato_auth::Error> {
    let mut call = ApiRequest::get("reports/supplies/extended");
    for (name, value) in url.query_pairs() {
        if matches!(name.as_ref(), "start" | "end" | "limit") {
            call = call.query(name, value);
        }
    }
    let page: Page = client(env)?.json(call).await?;
    Ok(page.data.supplies)
}

/// `value` as JSON, or the library's error as `{"error":{"code","message"}}` with a status
/// that says whose fault it was.
fn answer<T: Serialize>(value: std::result::Result<T, cedato_auth::Error>) -> Result<Response> {
    let error = match value {
        Ok(value) => return Response::from_json(&value),
        Err(error) => error,
    };
    let status = match error.code {
        ErrorCode::InvalidConfig => 500,
        ErrorCode::Timeout => 504,
        ErrorCode::RateLimited => 503,
        _ => 502,
    };
    // The message never holds a secret or a token (the library redacts it).
    let body = Failure {
        error: Problem {
            code: error.code.as_str(),
            message: &error.message,
        },
    };
    Ok(Response::from_json(&body)?.with_status(status))
}

#[derive(Serialize)]
struct Failure<'a> {
    error: Problem<'a>,
}

#[derive(Serialize)]
struct Problem<'a> {
    code: &'static str,
    message: &'a str,
}
