//! Owns what the library reports: the `onEvent` events ([`Event`]), the `auth.stats`
//! counters ([`Stats`]) and where both go ([`Events`]). Uses `error` (the codes).
//!
//! Events cover the token requests, their retries and failures, grace, the shared store
//! and the authenticated calls. They carry codes, statuses, counts and times only: never
//! the secret, the Basic value, a token or a query string.

use std::cell::Cell;

use serde::Serialize;

use super::error::{string_enum, ErrorCode};

/// What `onEvent` receives: one thing the library did, as `{ type: "<variant in lower
/// case>", … }` with camelCase fields; `type` tells which. Times are in ms; an absent
/// `status` or `retryAfter` is `undefined`.
#[derive(Debug, Serialize)]
#[cfg_attr(
    all(target_arch = "wasm32", feature = "js-class"),
    derive(tsify::Tsify),
    tsify(type_prefix = "Cedato")
)]
#[serde(tag = "type", rename_all = "lowercase", rename_all_fields = "camelCase")]
pub enum Event<'a> {
    /// A token obtained: from the shared store (`attempts` 0) or the endpoint.
    Token {
        /// Where the token came from.
        source: TokenSource,
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
        code: ErrorCode,
        /// Its HTTP status, when an answer came.
        #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(optional))]
        status: Option<u16>,
        /// The wait before the next attempt, in ms.
        wait_ms: f64,
        /// The server's `Retry-After`, in seconds, when it sent one.
        #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(optional))]
        retry_after: Option<f64>,
    },
    /// A refresh failed and its callers got the cached token, which has not expired yet.
    Grace {
        /// The failure's code.
        code: ErrorCode,
    },
    /// A token request gave up (or the store shared the fleet's failure: `attempts` 0).
    Failure {
        /// Its error code.
        code: ErrorCode,
        /// Its HTTP status, when an answer came.
        #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(optional))]
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
        /// The call.
        op: StoreOp,
        /// How it ended.
        outcome: StoreOutcome,
        /// How long it took, in ms.
        ms: f64,
    },
}

// The events' enum fields are written as their lower-case variant names, the way
// `ErrorCode` is (see `string_enum`).

string_enum! {
    "lowercase",
    /// Where a `token` event's token came from.
    pub enum TokenSource {
        /// The shared `tokenStore`.
        Store,
        /// The token endpoint.
        Endpoint,
    }
}

string_enum! {
    "lowercase",
    /// The `tokenStore` call a `store` event reports.
    pub enum StoreOp {
        /// Reading the shared token.
        Get,
        /// Writing a fetched token.
        Set,
        /// Removing the shared token.
        Delete,
        /// Unlocking after a miss with nothing to share.
        Release,
    }
}

string_enum! {
    "lowercase",
    /// How a `tokenStore` call ended.
    pub enum StoreOutcome {
        /// `get`: a token usable now.
        Hit,
        /// `get`: nothing usable.
        Miss,
        /// `get`: a value that does not open under this client's credentials (a miss).
        Invalid,
        /// `get`: the store shared the fleet's failed token request.
        Failure,
        /// `set`, `delete`, `release`: done.
        Written,
        /// The store failed.
        Error,
        /// The store did not answer within `timeoutMs`.
        Timeout,
    }
}

/// `auth.stats`: counters since construction.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(
    all(target_arch = "wasm32", feature = "js-class"),
    derive(tsify::Tsify),
    tsify(rename = "CedatoAuthStats")
)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Requests sent to the token endpoint (every attempt).
    #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(type = "number"))]
    pub token_requests: Cell<u32>,
    /// Tokens taken from the shared store.
    #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(type = "number"))]
    pub store_hits: Cell<u32>,
    /// Token lookups answered from memory (`getToken()`, `getAuthorizationHeader()`,
    /// each call's token).
    #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(type = "number"))]
    pub cache_hits: Cell<u32>,
    /// Token request attempts that failed and were retried.
    #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(type = "number"))]
    pub retries: Cell<u32>,
    /// Token requests that gave up.
    #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(type = "number"))]
    pub failures: Cell<u32>,
    /// Answers served with the cached token after a failed refresh (callers that waited
    /// for the same refresh share one).
    #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(type = "number"))]
    pub grace_served: Cell<u32>,
    /// Authenticated calls answered.
    #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(type = "number"))]
    pub api_calls: Cell<u32>,
    /// Of those, retried once after a 401/419 with a new token.
    #[cfg_attr(all(target_arch = "wasm32", feature = "js-class"), tsify(type = "number"))]
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
            Event::Store {
                outcome: StoreOutcome::Hit,
                ..
            } => bump(&stats.store_hits),
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
