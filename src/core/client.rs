//! The token client: cache with expiry and skew, single flight, grace, retries.
//!
//! Time and I/O come in through [`Clock`] and [`Transport`], so every rule here runs in
//! native tests with a fake clock and a scripted transport.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use super::config::Config;
use super::error::{truncate_utf8, Error, ErrorCode};
use super::retry::{backoff_ms, parse_retry_after, MAX_RETRY_AFTER_SECONDS};
use super::shared::LocalFuture;
use super::store::{StoredToken, TokenStore};
use super::text::{ceil, floor, push_int};
use super::token::is_visible_ascii;
use super::token::{oauth_error_fields, process_token_response, token_request, HttpRequest, HttpResponse, Token};
#[cfg(feature = "std")]
use super::{shared::Shared, store::with_timeout};

/// Most of an error answer's body that an error keeps.
pub const ERROR_BODY_LIMIT: usize = 1024;

/// Wall-clock time and randomness for jitter: all the decisions need.
pub trait Clock {
    /// Milliseconds since the epoch, read anew at every check (`Date.now()` in JS).
    fn now_ms(&self) -> f64;
    /// A random number in `[0, 1)`, for backoff jitter.
    fn jitter(&self) -> f64;
}

/// Waiting, for the async driver (`TokenClient::get_token` and friends, `std` only).
pub trait Timer: Clock {
    /// Resolves after `ms` milliseconds.
    fn sleep(&self, ms: f64) -> LocalFuture<()>;
}

/// What to do after an attempt of the token request.
#[derive(Debug)]
pub enum Next {
    /// A token (not cached yet: see [`TokenClient::land`]).
    Token(Rc<CachedToken>),
    /// Wait this many ms, then try again.
    Wait(f64),
    /// Give up with this error.
    Fail(Error),
}

/// Why an attempt produced no answer.
#[derive(Clone, Debug, PartialEq)]
pub enum TransportError {
    /// The request could not be made; a short description without secrets.
    Network(String),
    /// The attempt, body included, took longer than its time limit.
    Timeout,
}

/// Sends one HTTP request and reads the whole answer, within `timeout_ms`.
pub trait Transport {
    /// One attempt.
    fn send(&self, request: &HttpRequest, timeout_ms: f64) -> LocalFuture<Result<HttpResponse, TransportError>>;
}

/// A token held by the client.
#[derive(Debug, PartialEq)]
pub struct CachedToken {
    /// Identifies this token among all the client fetched (for invalidation and memos).
    pub id: u64,
    /// The access token.
    pub access_token: String,
    /// `Bearer <access_token>`.
    pub authorization: String,
    /// Its lifetime in seconds, as granted (0: use once, never cache).
    pub expires_in: f64,
    /// When it expires, in ms since the epoch.
    pub expires_at: f64,
    /// From this time on it is refreshed before use: `expires_at - min(skew, lifetime / 2)`.
    pub refresh_at: f64,
}

/// What a token request ends with.
pub type FlightResult = Result<Rc<CachedToken>, Error>;

#[derive(Default)]
struct State {
    cached: Option<Rc<CachedToken>>,
    /// The token the API refused last ([`TokenClient::forget`]): a store may still hold it
    /// (a store without `delete`, a delete that failed, an eventually consistent store),
    /// and it is not taken from there again.
    refused: Option<Rc<CachedToken>>,
    #[cfg(feature = "std")]
    flight: Option<Shared<FlightResult>>,
}

/// Fetches and caches Cedato access tokens.
pub struct TokenClient<C, T> {
    config: Config,
    clock: C,
    // Only the async driver sends; the wasm build's JS half is its transport.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    transport: T,
    store: Option<Rc<dyn TokenStore>>,
    store_key: String,
    request: HttpRequest,
    state: RefCell<State>,
    next_id: Cell<u64>,
}

/// The state and the decisions: no I/O. The async driver below and the JS driver of the
/// wasm build (`src/js/driver.mjs`) both run on these.
impl<C: Clock, T> TokenClient<C, T> {
    /// A client with nothing cached; it does no I/O until a token is asked for. With a
    /// `store`, tokens are looked up there before the endpoint is asked, and shared there.
    pub fn new(config: Config, clock: C, transport: T, store: Option<Rc<dyn TokenStore>>) -> Rc<Self> {
        Rc::new(TokenClient {
            request: token_request(&config),
            store_key: config.store_key(),
            store,
            config,
            clock,
            transport,
            state: RefCell::default(),
            next_id: Cell::new(1),
        })
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The cached token if it can be served now, without any I/O.
    pub fn fresh_token(&self) -> Option<Rc<CachedToken>> {
        let now = self.clock.now_ms();
        self.state
            .borrow()
            .cached
            .as_ref()
            .filter(|t| now < t.refresh_at)
            .cloned()
    }

    /// When the cached token expires (ms since the epoch), if one is cached.
    pub fn expires_at(&self) -> Option<f64> {
        self.state.borrow().cached.as_ref().map(|t| t.expires_at)
    }

    /// Forgets the cached token. A token request already in flight goes on, and its
    /// result is cached when it lands (its waiters asked for it).
    pub fn clear(&self) {
        self.state.borrow_mut().cached = None;
    }

    /// Forgets the cached token if it is the one with `id` (the API refused it) and keeps
    /// a newer one another caller may already have fetched. True when it was the cached
    /// one (then the shared store should drop it too).
    pub fn forget(&self, id: u64) -> bool {
        let mut state = self.state.borrow_mut();
        let current = state.cached.as_ref().is_some_and(|t| t.id == id);
        if current {
            state.refused = state.cached.take();
        }
        current
    }

    /// Caches a token that a token request ended with; one with `expires_in: 0` is handed
    /// to its waiters and never kept.
    pub fn land(&self, token: &Rc<CachedToken>) {
        if token.expires_in > 0.0 {
            self.state.borrow_mut().cached = Some(Rc::clone(token));
        }
    }

    /// The token request, made once from the options.
    pub fn request(&self) -> &HttpRequest {
        &self.request
    }

    /// The key of this client's token in a shared store.
    pub fn store_key(&self) -> &str {
        &self.store_key
    }

    /// The cached token while it has not expired, refresh window or not: what grace
    /// serves after a failed refresh.
    pub fn unexpired_token(&self) -> Option<Rc<CachedToken>> {
        let now = self.clock.now_ms();
        self.state.borrow().cached.clone().filter(|t| now < t.expires_at)
    }

    /// Grace: a failed refresh gives way to the cached token while it has not expired.
    pub fn with_grace(&self, result: FlightResult) -> FlightResult {
        result.or_else(|error| self.unexpired_token().ok_or(error))
    }

    /// The longest a healthy token request can take, in ms: every attempt at its time
    /// limit, the longest wait between attempts (a `Retry-After` of 60 s), the store's
    /// read and write, and a second of slack for the timers themselves.
    pub fn longest_flight_ms(&self) -> f64 {
        let timeout = self.config.timeout_ms;
        let attempts = f64::from(self.config.max_retries + 1);
        let waits = f64::from(self.config.max_retries) * MAX_RETRY_AFTER_SECONDS * 1000.0;
        let store = if self.store.is_some() || self.config.token_store {
            2.0 * timeout
        } else {
            0.0
        };
        attempts * timeout + waits + store + 1000.0
    }

    /// What attempt number `attempt` (from 1; 0 counts as 1 for the backoff), sent at
    /// `sent_at`, leads to.
    pub fn next(&self, outcome: Result<HttpResponse, TransportError>, sent_at: f64, attempt: u32) -> Next {
        let error = match outcome {
            Ok(response) if (200..300).contains(&response.status) => {
                return match process_token_response(response.status, &response.body, sent_at) {
                    Ok(token) => {
                        let skew_seconds = self.config.refresh_skew_seconds.min(token.expires_in / 2.0);
                        Next::Token(self.cache_entry(token, skew_seconds))
                    }
                    Err(e) => Next::Fail(e),
                };
            }
            Ok(response) => self.answer_error(response, attempt),
            Err(e) => self.transport_error(e, attempt),
        };
        let retry_allowed = matches!(
            error.code,
            ErrorCode::Network | ErrorCode::Timeout | ErrorCode::RateLimited | ErrorCode::ServerError
        );
        if !retry_allowed || attempt > self.config.max_retries {
            return Next::Fail(error);
        }
        match error.retry_after {
            Some(seconds) if seconds > MAX_RETRY_AFTER_SECONDS => Next::Fail(error),
            Some(seconds) => Next::Wait(seconds * 1000.0),
            None => Next::Wait(backoff_ms(attempt.saturating_sub(1), self.clock.jitter())),
        }
    }

    /// A token from the shared store that is usable and outside its refresh window now;
    /// anything else (malformed, about to expire) is `None`. The window follows the same
    /// rule as for a token from the endpoint, `min(refreshSkewSeconds, expires_in / 2)`,
    /// when the store kept `expires_in` (this library writes it); without it the token's
    /// lifetime is unknown, and the whole `refreshSkewSeconds` applies.
    pub fn accept_stored(&self, stored: StoredToken) -> Option<Rc<CachedToken>> {
        let now = self.clock.now_ms();
        let remaining_s = (stored.expires_at - now) / 1000.0;
        if !is_visible_ascii(&stored.access_token) || !remaining_s.is_finite() || remaining_s <= 0.0 {
            return None;
        }
        if self
            .state
            .borrow()
            .refused
            .as_ref()
            .is_some_and(|t| t.access_token == stored.access_token)
        {
            return None;
        }
        let expires_in = stored.expires_in.filter(|s| s.is_finite() && *s > 0.0);
        let skew_seconds = match expires_in {
            Some(lifetime) => self.config.refresh_skew_seconds.min(lifetime / 2.0),
            None => self.config.refresh_skew_seconds,
        };
        if now >= stored.expires_at - skew_seconds * 1000.0 {
            return None;
        }
        let token = Token {
            access_token: stored.access_token,
            expires_in: expires_in.unwrap_or(remaining_s),
            expires_at: stored.expires_at,
        };
        Some(self.cache_entry(token, skew_seconds))
    }

    /// What to write to the shared store for a fetched token, and for how many seconds;
    /// `None` for a token that should not be shared (use-once, or about to expire).
    pub fn store_entry(&self, token: &CachedToken) -> Option<(StoredToken, f64)> {
        let ttl_seconds = floor((token.expires_at - self.clock.now_ms()) / 1000.0);
        (token.expires_in > 0.0 && ttl_seconds >= 1.0).then(|| {
            let stored = StoredToken {
                access_token: token.access_token.clone(),
                expires_at: token.expires_at,
                expires_in: Some(token.expires_in),
            };
            (stored, ttl_seconds)
        })
    }

    /// A new id and the `Bearer` header for `token`, refreshed `skew_seconds` before it
    /// expires.
    fn cache_entry(&self, token: Token, skew_seconds: f64) -> Rc<CachedToken> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let skew_ms = skew_seconds * 1000.0;
        Rc::new(CachedToken {
            id,
            authorization: ["Bearer ", token.access_token.as_str()].concat(),
            access_token: token.access_token,
            expires_in: token.expires_in,
            expires_at: token.expires_at,
            refresh_at: token.expires_at - skew_ms,
        })
    }

    /// The error for a non-2xx answer of the token endpoint.
    fn answer_error(&self, response: HttpResponse, attempts: u32) -> Error {
        let status = response.status;
        if status == 0 {
            // A browser hides a redirect's status (an "opaqueredirect" answer).
            return Error::new(
                ErrorCode::Http,
                "the token endpoint answered with a redirect; check baseUrl",
            );
        }
        let (code, text): (ErrorCode, &[&str]) = match status {
            400 | 401 | 403 => (
                ErrorCode::TokenRejected,
                &[
                    "the token endpoint refused the credentials (HTTP ",
                    "); check clientId and clientSecret",
                ],
            ),
            429 => (
                ErrorCode::RateLimited,
                &["the token endpoint is rate limiting (HTTP ", ")"],
            ),
            500..=599 => (ErrorCode::ServerError, &["the token endpoint failed (HTTP ", ")"]),
            _ => (
                ErrorCode::Http,
                &["the token endpoint answered HTTP ", "; check baseUrl"],
            ),
        };
        let mut message = String::from(text.first().copied().unwrap_or_default());
        push_int(&mut message, u64::from(status));
        message.push_str(text.get(1).copied().unwrap_or_default());
        let mut error = Error::new(code, String::new()).with_status(status);
        if code == ErrorCode::TokenRejected {
            let (oauth_error, description) = oauth_error_fields(&response.body);
            if let Some(e) = &oauth_error {
                message.push_str(" [");
                message.push_str(e);
                message.push(']');
            }
            error.oauth_error = oauth_error;
            error.oauth_error_description = description;
        }
        if code == ErrorCode::Http {
            error.body = Some(truncate_utf8(&response.body, ERROR_BODY_LIMIT).to_owned());
        }
        if matches!(code, ErrorCode::RateLimited | ErrorCode::ServerError) {
            push_attempts(&mut message, attempts);
        }
        if let Some(seconds) = response
            .retry_after
            .as_deref()
            .and_then(|v| parse_retry_after(v, self.clock.now_ms()))
        {
            error.retry_after = Some(seconds);
            message.push_str("; retry after ");
            push_int(&mut message, seconds as u64);
            message.push('s');
        }
        error.message = message;
        error
    }

    fn transport_error(&self, error: TransportError, attempts: u32) -> Error {
        let mut message;
        let code = match error {
            TransportError::Timeout => {
                message = String::from("the token endpoint did not answer within ");
                push_int(&mut message, ceil(self.config.timeout_ms) as u64);
                message.push_str(" ms (timeoutMs)");
                ErrorCode::Timeout
            }
            TransportError::Network(detail) => {
                message = ["could not reach the token endpoint ", &self.request.url, ": ", &detail].concat();
                ErrorCode::Network
            }
        };
        push_attempts(&mut message, attempts);
        Error::new(code, message)
    }
}

/// The async driver: single flight, retries with waits, the shared store. Natively any
/// [`Transport`] and [`Timer`] drive it; the wasm build drives the decisions from JS and
/// is built without `std`, so without this.
#[cfg(feature = "std")]
impl<C: Timer + 'static, T: Transport + 'static> TokenClient<C, T> {
    /// Forgets the cached token if it is the one with `id` (the API refused it), here
    /// and in the shared store, and keeps a newer one another caller may already have
    /// fetched.
    pub async fn invalidate(&self, id: u64) {
        if let (true, Some(store)) = (self.forget(id), &self.store) {
            with_timeout(store.delete(&self.store_key), self.clock.sleep(self.config.timeout_ms)).await;
        }
    }

    /// A usable token: from memory while outside the skew window, else fetched (joining
    /// a request already in flight). When the refresh fails but the old token has not
    /// expired yet, the old token is returned.
    pub async fn get_token(self: Rc<Self>) -> FlightResult {
        if let Some(token) = self.fresh_token() {
            return Ok(token);
        }
        let result = self.flight(false).await;
        self.with_grace(result)
    }

    /// A new token now (joining a request already in flight); no grace on failure. The
    /// shared store is not read (it may hold the very token being replaced), only written.
    pub async fn refresh(self: Rc<Self>) -> FlightResult {
        self.flight(true).await
    }

    /// The token request in flight, started when there is none (`skip_store_read` for a
    /// new one: see [`refresh`](Self::refresh)). Awaiting any clone gives its result.
    pub fn flight(self: &Rc<Self>, skip_store_read: bool) -> Shared<FlightResult> {
        if let Some(flight) = self.state.borrow().flight.clone() {
            return flight;
        }
        let client = Rc::clone(self);
        let flight = Shared::new(async move {
            let result = client.obtain(skip_store_read).await;
            client.state.borrow_mut().flight = None;
            if let Ok(token) = &result {
                client.land(token);
            }
            result
        });
        self.state.borrow_mut().flight = Some(flight.clone());
        flight
    }

    /// From the store when it has a token usable now, else from the endpoint (then
    /// shared through the store).
    async fn obtain(&self, skip_store_read: bool) -> FlightResult {
        let Some(store) = &self.store else {
            return self.fetch_with_retries().await;
        };
        if !skip_store_read {
            if let Some(token) = self.read_store(store.as_ref()).await {
                return Ok(token);
            }
        }
        let token = self.fetch_with_retries().await?;
        if let Some((stored, ttl_seconds)) = self.store_entry(&token) {
            let write = store.set(&self.store_key, &stored, ttl_seconds);
            with_timeout(write, self.clock.sleep(self.config.timeout_ms)).await;
        }
        Ok(token)
    }

    /// A stored token usable now ([`accept_stored`](Self::accept_stored)); a store that
    /// fails or is slow counts as empty.
    async fn read_store(&self, store: &dyn TokenStore) -> Option<Rc<CachedToken>> {
        let read = store.get(&self.store_key);
        let stored = with_timeout(read, self.clock.sleep(self.config.timeout_ms))
            .await
            .flatten()?;
        self.accept_stored(stored)
    }

    async fn fetch_with_retries(&self) -> FlightResult {
        let mut attempt: u32 = 0;
        loop {
            let sent_at = self.clock.now_ms();
            let outcome = self.transport.send(&self.request, self.config.timeout_ms).await;
            attempt += 1;
            match self.next(outcome, sent_at, attempt) {
                Next::Token(token) => return Ok(token),
                Next::Fail(error) => return Err(error),
                Next::Wait(ms) => self.clock.sleep(ms).await,
            }
        }
    }
}

fn push_attempts(message: &mut String, attempts: u32) {
    message.push_str(" after ");
    push_int(message, u64::from(attempts));
    message.push_str(if attempts == 1 { " attempt" } else { " attempts" });
}

#[cfg(test)]
mod tests;
