//! What the library did, as events for the `onEvent` option and as counters for
//! `auth.stats`: the token requests, their retries and failures, grace, the shared store
//! and the authenticated calls. Events carry codes, statuses, counts and times only:
//! never the secret, the Basic value, a token or a query string.

use std::cell::Cell;

use serde::Serialize;

/// One thing the library did. Serialized as `{ type: "<variant in lower case>", … }` with
/// camelCase fields; an absent `status` or `retryAfter` is `undefined`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", rename_all_fields = "camelCase")]
pub enum Event<'a> {
    /// A token obtained: from the shared store (`attempts` 0) or the endpoint.
    Token {
        /// `store` or `endpoint`.
        source: &'static str,
        /// Token requests this flight sent.
        attempts: u32,
        /// From the start of the flight to the token, in ms.
        ms: f64,
        /// When the token expires, in ms since the epoch.
        expires_at: f64,
    },
    /// A token request failed and another attempt follows after `wait_ms`.
    Retry {
        /// The attempt that failed (from 1).
        attempt: u32,
        /// Its error code.
        code: &'static str,
        /// Its HTTP status, when an answer came.
        status: Option<u16>,
        /// The wait before the next attempt, in ms.
        wait_ms: f64,
        /// The server's `Retry-After`, in seconds, when it sent one.
        retry_after: Option<f64>,
    },
    /// A refresh failed and its callers got the cached token, which has not expired yet.
    Grace {
        /// The failure's code.
        code: &'static str,
    },
    /// A token request gave up (or the store shared the fleet's failure: `attempts` 0).
    Failure {
        /// Its error code.
        code: &'static str,
        /// Its HTTP status, when an answer came.
        status: Option<u16>,
        /// Token requests this flight sent.
        attempts: u32,
        /// From the start of the flight to the failure, in ms.
        ms: f64,
    },
    /// An authenticated call (`auth.fetch` / `auth.request`) answered.
    Api {
        /// The request method.
        method: &'a str,
        /// The URL's path, without the query.
        path: &'a str,
        /// The final answer's status.
        status: u16,
        /// From the call to the answer's headers, in ms.
        ms: f64,
        /// Whether a 401/419 answer was retried with a new token.
        retried: bool,
        /// Whether a 401/419 answer is the result because a refused token was replaced
        /// less than `unauthorizedCooldownMs` ago (no new token until then).
        cooldown: bool,
    },
    /// A `tokenStore` call ended.
    Store {
        /// `get`, `set`, `delete` or `release`.
        op: &'static str,
        /// `hit` / `miss` / `invalid` / `failure` (get; `invalid`: a value that does not
        /// open under this client's credentials, a miss; `failure`: the store shared the
        /// fleet's failed token request), `written` (set, delete, release), `error`,
        /// `timeout`.
        outcome: &'static str,
        /// How long it took, in ms.
        ms: f64,
    },
}

/// Counters since construction (`auth.stats`).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Requests sent to the token endpoint (every attempt).
    pub token_requests: Cell<u32>,
    /// Tokens taken from the shared store.
    pub store_hits: Cell<u32>,
    /// `getToken()` / `getAuthorizationHeader()` answered from memory.
    pub cache_hits: Cell<u32>,
    /// Token request attempts that failed and were retried.
    pub retries: Cell<u32>,
    /// Token requests that gave up.
    pub failures: Cell<u32>,
    /// Answers served with the cached token after a failed refresh (callers that waited
    /// for the same refresh share one).
    pub grace_served: Cell<u32>,
    /// Authenticated calls answered.
    pub api_calls: Cell<u32>,
    /// Of those, retried after a 401/419 with a new token.
    pub api_retries: Cell<u32>,
}

/// Adds one to a counter.
pub fn bump(counter: &Cell<u32>) {
    counter.set(counter.get().saturating_add(1));
}

/// The `onEvent` callback, as the core sees it.
pub type Sink = Box<dyn Fn(&Event)>;

/// Where events go: the counters, then the `onEvent` callback when there is one.
#[derive(Default)]
pub struct Events {
    /// The counters.
    pub stats: Stats,
    sink: Option<Sink>,
}

impl Events {
    /// Counters only, and `sink` for every event when given.
    pub fn new(sink: Option<Sink>) -> Events {
        Events {
            stats: Stats::default(),
            sink,
        }
    }

    /// Counts `event` and hands it to the sink. The sink must not hold a borrow of the
    /// client's state (callers call this with none held: the sink runs user code).
    pub fn emit(&self, event: Event) {
        let stats = &self.stats;
        match &event {
            Event::Retry { .. } => bump(&stats.retries),
            Event::Grace { .. } => bump(&stats.grace_served),
            Event::Failure { .. } => bump(&stats.failures),
            Event::Store { outcome: "hit", .. } => bump(&stats.store_hits),
            Event::Api { retried, .. } => {
                bump(&stats.api_calls);
                if *retried {
                    bump(&stats.api_retries);
                }
            }
            _ => {}
        }
        if let Some(sink) = &self.sink {
            sink(&event);
        }
    }
}
