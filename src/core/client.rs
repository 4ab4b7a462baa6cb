//! The token client: cache with expiry and skew, single flight, grace, retries, the shared
//! store. One async driver over small traits: [`Runtime`] (time, waiting, background
//! tasks), [`Transport`] (one HTTP attempt) and [`TokenStore`]. Native tests drive it with
//! a fake clock and a scripted transport; the wasm build with `Date.now`, `setTimeout`,
//! `wasm-bindgen-futures` and web-sys `fetch`.

use std::cell::{Cell, Ref, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::Poll;

use zeroize::{Zeroize, Zeroizing};

use super::config::Config;
use super::error::{Error, ErrorCode};
use super::events::{bump, Event, Events, StoreOp, StoreOutcome, TokenSource};
use super::http::HttpResponse;
use super::platform::{Latch, LocalFuture, Runtime, TokenStore, Transport, TransportError};
use super::redact::{clean, Field, Secret};
use super::retry::{backoff_ms, parse_retry_after, MAX_RETRY_AFTER_SECONDS};
use super::seal::{self, KeyMaterial, Sealer, SealingKey};
use super::store::{SealedEntry, StoreAnswer, StoredToken, MAX_STORED_TOKEN_LEN};
use super::token::{is_visible_ascii, oauth_error_fields, process_token_response, token_request, MAX_EXPIRES_IN};
use super::token::{Token, TokenAnswer};

pub use super::redact::ERROR_BODY_LIMIT;

/// The message of an error that settles after `free()`: no text of the server's is kept.
pub const FREED_WHILE_PENDING: &str =
    "this instance was freed (free() was called) while the call was pending; the answer's details were dropped";

/// What to do after an attempt of the token request.
#[derive(Debug)]
pub enum Next {
    /// A token (not cached yet: see [`TokenClient::land`]).
    Token(Rc<CachedToken>),
    /// Wait this many ms after this error, then try again.
    Wait(f64, Error),
    /// Give up with this error.
    Fail(Error),
}

/// A token held by the client; the token and its header are overwritten in memory when
/// the last holder drops it.
#[derive(Debug, PartialEq)]
pub struct CachedToken {
    /// Identifies this token among all the client fetched (for invalidation and memos).
    pub id: u64,
    /// The access token.
    pub access_token: Secret,
    /// `Bearer <access_token>`.
    pub authorization: Secret,
    /// Its lifetime in seconds, as granted (0: use once, never cache).
    pub expires_in: f64,
    /// When it expires, in ms since the epoch.
    pub expires_at: f64,
    /// From this time on it is refreshed before use: `expires_at - min(skew, lifetime / 2)`.
    pub refresh_at: f64,
}

impl CachedToken {
    /// Whether it is served as it is at `now_ms`: before its refresh point. The one
    /// freshness rule, for the client and for the snapshots a native front publishes.
    #[inline]
    pub fn fresh_at(&self, now_ms: f64) -> bool {
        now_ms < self.refresh_at
    }
}

/// What a token request ends with.
pub type FlightResult = Result<Rc<CachedToken>, Error>;

/// A token request in the air: its waiters await the latch, then read the result.
pub struct Flight<L> {
    latch: L,
    result: Rc<RefCell<Option<FlightResult>>>,
}

impl<L: Clone> Clone for Flight<L> {
    fn clone(&self) -> Self {
        Flight {
            latch: self.latch.clone(),
            result: Rc::clone(&self.result),
        }
    }
}

impl<L: Latch> Flight<L> {
    /// Whether `self` and `other` are the same token request.
    pub fn same(&self, other: &Flight<L>) -> bool {
        Rc::ptr_eq(&self.result, &other.result)
    }

    /// Its result, once it lands.
    pub async fn wait(self) -> FlightResult {
        self.latch.wait().await;
        let result = self.result.borrow().clone();
        result.unwrap_or_else(|| Err(Error::new(ErrorCode::Network, "the token request was abandoned")))
    }
}

struct State<L> {
    cached: Option<Rc<CachedToken>>,
    /// The token the API refused last ([`TokenClient::forget`]): a store may still hold it
    /// (a store without `delete`, a delete that failed, an eventually consistent store),
    /// and it is not taken from there again.
    refused: Option<Rc<CachedToken>>,
    /// When a refused token was last dropped for a new one ([`TokenClient::refused`]).
    replaced_refused_at: Option<f64>,
    /// The stored token seen last (named by its writer's `expires_at`) and when this
    /// instance first saw it ([`TokenClient::accept_stored`]).
    first_seen: Option<(f64, f64)>,
    /// The id of the cached token when it was fetched from the endpoint because the store
    /// failed: the next read reads the store once more (see
    /// [`TokenClient::flight`]).
    recheck: Option<u64>,
    flight: Option<Flight<L>>,
}

/// How a flight uses the store before the endpoint.
enum Read {
    /// Reads it; on a miss asks the endpoint.
    Store,
    /// Does not read it (a refresh).
    Skip,
    /// Reads it once more for a token better than this cached one, fetched from the
    /// endpoint after the store failed; never asks the endpoint.
    Recheck(Rc<CachedToken>),
}

/// A `tokenStore` and what seals the values it keeps.
pub struct SharedStore {
    /// Where the fleet's token is kept.
    pub store: Rc<dyn TokenStore>,
    /// Derives the store key's fingerprint and the sealing key from the credentials.
    pub sealer: Rc<dyn Sealer>,
}

/// The store key and the sealing key, derived at the first store use.
struct StoreKeys {
    key: String,
    sealing: Rc<dyn SealingKey>,
}

/// What opening a stored entry gives.
enum Opened {
    /// A token usable now.
    Token(Rc<CachedToken>),
    /// An entry that opened but is not to be used now (in its refresh window, expired,
    /// the token the API refused): a miss.
    Unusable,
    /// An entry that does not open: another client's, altered, not of this form.
    Invalid,
}

/// Fetches and caches Cedato access tokens.
pub struct TokenClient<R: Runtime, T> {
    config: Config,
    runtime: R,
    transport: T,
    store: Option<SharedStore>,
    /// Derived lazily: workerd allows no cryptography at module scope, where a
    /// `new CedatoAuth` may run.
    store_keys: RefCell<Option<Rc<StoreKeys>>>,
    token_url: String,
    state: RefCell<State<R::Latch>>,
    next_id: Cell<u64>,
    /// The access tokens this client has held, newest last (at most [`HELD_TOKENS`]):
    /// what [`redact`](Self::redact) removes besides the credentials.
    held: RefCell<VecDeque<Secret>>,
    /// Set by [`wipe`](Self::wipe): no token lands and no token request is sent after it.
    wiped: Cell<bool>,
    /// Calls not settled yet ([`PendingCall`]): the secrets that redaction needs stay
    /// until the last of them settles, after `free()` too.
    pending: Cell<u32>,
    /// The counters and the `onEvent` sink.
    events: Events,
}

/// The secrets of a client, borrowed ([`TokenClient::secrets`]).
struct Secrets<'a> {
    basic: Ref<'a, str>,
    secret: Ref<'a, str>,
    held: Ref<'a, VecDeque<Secret>>,
}

impl Secrets<'_> {
    fn list(&self) -> Vec<&str> {
        let encoded = self.basic.strip_prefix("Basic ").unwrap_or_default();
        let mut all = vec![&*self.basic, encoded.trim_end_matches('='), &*self.secret];
        all.extend(self.held.iter().map(Secret::as_str));
        all
    }
}

/// A call of the client's that has not settled yet ([`TokenClient::pending_call`]).
pub struct PendingCall<R: Runtime, T: Transport>(Rc<TokenClient<R, T>>);

impl<R: Runtime, T: Transport> Drop for PendingCall<R, T> {
    fn drop(&mut self) {
        let client = &self.0;
        client.pending.set(client.pending.get().saturating_sub(1));
        client.erase_when_idle();
    }
}

/// How many of the latest tokens [`TokenClient::redact`] knows; older ones expired long ago.
pub const HELD_TOKENS: usize = 32;

/// The state and the decisions, without I/O.
impl<R: Runtime, T: Transport> TokenClient<R, T> {
    /// A client with nothing cached; it does no I/O until a token is asked for. With a
    /// `store`, tokens are looked up there before the endpoint is asked, and shared there,
    /// sealed. What it does is counted in `events` and reported to its sink.
    pub fn new(config: Config, runtime: R, transport: T, store: Option<SharedStore>, events: Events) -> Rc<Self> {
        Rc::new(TokenClient {
            events,
            token_url: config.token_url(),
            store_keys: RefCell::default(),
            store,
            config,
            runtime,
            transport,
            state: RefCell::new(State {
                cached: None,
                refused: None,
                replaced_refused_at: None,
                first_seen: None,
                recheck: None,
                flight: None,
            }),
            next_id: Cell::new(1),
            held: RefCell::default(),
            wiped: Cell::new(false),
            pending: Cell::new(0),
        })
    }

    /// Every secret of this client, borrowed for a moment: the Basic value, its Base64
    /// (without padding, which an echo may drop), the client secret (in `id:secret` too),
    /// and every access token it has held.
    fn secrets(&self) -> Secrets<'_> {
        Secrets {
            basic: self.config.basic_authorization(),
            secret: self.config.client_secret(),
            held: self.held.borrow(),
        }
    }

    /// `text` made fit for an error field (`field`): every secret of this client
    /// redacted, as written or encoded (JSON escapes, percent-encoding), then control
    /// characters escaped and the text cut to the field's limit. The one redaction rule:
    /// every error the library makes goes through [`redact_error`](Self::redact_error).
    pub fn clean(&self, text: &str, field: Field) -> String {
        clean(text, &self.secrets().list(), field)
    }

    /// `text` with every secret of this client replaced by `[redacted]` (a path, for
    /// events).
    pub fn redact(&self, text: &str) -> String {
        super::redact::redact(text, &self.secrets().list())
    }

    /// `error` with [`clean`](Self::clean) applied to every field that may carry text
    /// from outside: the message, the OAuth fields and the body (whose answer was read
    /// whole). The text replaced is overwritten in memory.
    pub fn redact_error(&self, error: Error) -> Error {
        self.redact_answer_error(error, false)
    }

    /// [`redact_error`](Self::redact_error) for an error whose body is the start of a
    /// longer answer (`body_cut`).
    pub fn redact_answer_error(&self, mut error: Error, body_cut: bool) -> Error {
        let fields = [
            (Some(&mut error.message), Field::Message),
            (error.oauth_error.as_mut(), Field::OAuth),
            (error.oauth_error_description.as_mut(), Field::OAuth),
            (error.body.as_mut(), Field::Body { cut: body_cut }),
        ];
        for (text, field) in fields {
            if let Some(text) = text {
                let clean = self.clean(text, field);
                drop(Zeroizing::new(std::mem::replace(text, clean)));
            }
        }
        error
    }

    /// The error a call settles with: after `free()`, its code, status and `retryAfter`
    /// only, with a fixed message (no text of the server's: no body, OAuth fields or cause).
    pub fn settled_error(&self, error: Error) -> Error {
        if !self.wiped.get() {
            return error;
        }
        let mut freed = Error::new(error.code, FREED_WHILE_PENDING);
        freed.status = error.status;
        freed.retry_after = error.retry_after;
        freed
    }

    /// Counts a call as pending until the returned guard is dropped (when it settled).
    pub fn pending_call(self: &Rc<Self>) -> PendingCall<R, T> {
        self.pending.set(self.pending.get() + 1);
        PendingCall(Rc::clone(self))
    }

    /// Overwrites the secrets and the tokens held for redaction, once `free()` was called
    /// and no call is pending.
    fn erase_when_idle(&self) {
        if self.wiped.get() && self.pending.get() == 0 {
            self.config.wipe();
            self.held.borrow_mut().clear();
        }
    }

    /// The counters and the `onEvent` sink.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// The runtime: its clock, timers and task spawner.
    pub fn runtime(&self) -> &R {
        &self.runtime
    }

    /// The transport: what token requests go through (and the Rust front's API calls).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The cached token if it can be served now, without any I/O: outside its refresh
    /// window, and not waiting for the store to be read once more (see
    /// [`flight`](Self::flight)).
    pub fn fresh_token(&self) -> Option<Rc<CachedToken>> {
        let state = self.state.borrow();
        state
            .cached
            .clone()
            .filter(|t| self.fresh(t) && state.recheck != Some(t.id))
    }

    /// Whether a token is cached and outside its refresh window.
    pub fn has_fresh_token(&self) -> bool {
        self.state.borrow().cached.as_ref().is_some_and(|t| self.fresh(t))
    }

    fn fresh(&self, token: &CachedToken) -> bool {
        token.fresh_at(self.runtime.now_ms())
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
        if token.expires_in > 0.0 && !self.wiped.get() {
            self.state.borrow_mut().cached = Some(Rc::clone(token));
        }
    }

    /// The error of a token request that `free()` stopped.
    fn freed_error(&self) -> Error {
        Error::new(ErrorCode::InvalidRequest, "this instance was freed (free() was called)")
    }

    /// Whether [`wipe`](Self::wipe) was called (`free()`).
    pub fn wiped(&self) -> bool {
        self.wiped.get()
    }

    /// Forgets every token and overwrites the secret, the Basic value and the tokens this
    /// client holds (`free()`), or, while calls are pending, as soon as the last of them
    /// settles (their errors are redacted until then); token requests fail.
    pub fn wipe(&self) {
        self.wiped.set(true);
        self.store_keys.borrow_mut().take();
        {
            let mut state = self.state.borrow_mut();
            state.cached = None;
            state.refused = None;
        }
        self.erase_when_idle();
    }

    /// The key of this client's token in a shared store, once derived (at the first
    /// store use).
    pub fn store_key(&self) -> Option<String> {
        self.store_keys.borrow().as_ref().map(|k| k.key.clone())
    }

    /// The cached token while it has not expired, refresh window or not: what grace
    /// serves after a failed refresh.
    pub fn unexpired_token(&self) -> Option<Rc<CachedToken>> {
        let now = self.runtime.now_ms();
        self.state.borrow().cached.clone().filter(|t| now < t.expires_at)
    }

    /// Grace: a failed refresh gives way to the cached token while it has not expired.
    pub fn with_grace(&self, result: FlightResult) -> FlightResult {
        let error = match result {
            Err(error) => error,
            ok => return ok,
        };
        let Some(token) = self.unexpired_token() else {
            return Err(error);
        };
        self.events.emit(Event::Grace { code: error.code });
        Ok(token)
    }

    /// The id of the cached token, if one is cached.
    pub fn cached_id(&self) -> Option<u64> {
        self.state.borrow().cached.as_ref().map(|t| t.id)
    }

    /// The longest a healthy token request can take, in ms: every attempt at its time
    /// limit, the longest wait between attempts (a `Retry-After` of 60 s), the store's
    /// read (its write goes on in the background), and a second of slack for the timers.
    pub fn longest_flight_ms(&self) -> f64 {
        let timeout = self.config.timeout_ms;
        let attempts = f64::from(self.config.max_retries + 1);
        let waits = f64::from(self.config.max_retries) * MAX_RETRY_AFTER_SECONDS * 1000.0;
        let store = if self.store.is_some() { timeout } else { 0.0 };
        attempts * timeout + waits + store + 1000.0
    }

    /// What attempt number `attempt` (from 1; 0 counts as 1 for the backoff), sent at
    /// `sent_at`, leads to.
    pub fn next(&self, outcome: Result<HttpResponse, TransportError>, sent_at: f64, attempt: u32) -> Next {
        // A token answer's text holds the token: overwritten once it is read.
        // So is an error answer's, once redacted.
        let (outcome, body) = match outcome {
            Ok(mut response) => {
                let body = Zeroizing::new(std::mem::take(&mut response.body));
                (Ok(response), body)
            }
            Err(e) => (Err(e), Zeroizing::new(String::new())),
        };
        let error = match outcome {
            Ok(response) if (200..300).contains(&response.status) && response.oversized => {
                let message = "the token endpoint answered with more than 64 KB";
                return Next::Fail(Error::new(ErrorCode::InvalidResponse, message).with_status(response.status));
            }
            Ok(response) if (200..300).contains(&response.status) => {
                let answer = self.transport.parse_json::<TokenAnswer>(&body);
                return match process_token_response(response.status, answer, sent_at, |s| {
                    self.transport.parse_number(s)
                }) {
                    Ok(token) => {
                        let skew_seconds = self.config.refresh_skew_seconds.min(token.expires_in / 2.0);
                        Next::Token(self.cache_entry(token, skew_seconds))
                    }
                    Err(e) => Next::Fail(self.redact_error(e)),
                };
            }
            Ok(response) => self.redact_answer_error(self.answer_error(&response, &body, attempt), response.oversized),
            Err(e) => self.redact_error(self.transport_error(e, attempt)),
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
            Some(seconds) => Next::Wait(seconds * 1000.0, error),
            None => Next::Wait(backoff_ms(attempt.saturating_sub(1), self.runtime.jitter()), error),
        }
    }

    /// A token from the shared store that is usable and outside its refresh window now;
    /// anything else (malformed, about to expire) is `None`.
    ///
    /// Its time left is judged on this instance's clock, not on the writer's (fleets have
    /// skew): `left_ms`, the time left as the store measured it (a store's TTL, a broker's
    /// clock), else `expires_at - now`; either way never longer than the token's own
    /// lifetime (`expires_in`) after this instance first saw it, which bounds a writer
    /// whose clock is ahead, or a store that lies. A bound is a clamp, not a refusal: the
    /// token stays shared. The token is then cached with its times on this clock.
    ///
    /// The refresh window is the writer's `expires_at - refresh_at` (a length: the same on
    /// every clock), so every reader refreshes at the one point the fleet shares; without
    /// a `refresh_at`, the rule for a token from the endpoint, `min(refreshSkewSeconds,
    /// expires_in / 2)`, or the whole `refreshSkewSeconds` when the lifetime is unknown.
    pub fn accept_stored(&self, mut stored: StoredToken, left_ms: Option<f64>) -> Option<Rc<CachedToken>> {
        let now = self.runtime.now_ms();
        if !is_visible_ascii(&stored.access_token) || stored.access_token.len() > MAX_STORED_TOKEN_LEN {
            return None;
        }
        let lifetime = stored.expires_in.filter(|s| s.is_finite() && *s > 0.0);
        let first_seen = self.first_seen(stored.expires_at, now);
        // A stored value is not trusted more than an answer of the endpoint.
        let bound_ms = lifetime.unwrap_or(MAX_EXPIRES_IN).min(MAX_EXPIRES_IN) * 1000.0 - (now - first_seen);
        let left_ms = left_ms
            .filter(|ms| ms.is_finite())
            .unwrap_or(stored.expires_at - now)
            .min(bound_ms);
        if !(left_ms.is_finite() && left_ms > 0.0) {
            return None;
        }
        if self
            .state
            .borrow()
            .refused
            .as_ref()
            .is_some_and(|t| *t.access_token == stored.access_token)
        {
            return None;
        }
        let skew_seconds = match (stored.refresh_at.filter(|r| r.is_finite()), lifetime) {
            // The refresh point its writer decided, for every reader alike.
            (Some(refresh_at), _) => ((stored.expires_at - refresh_at) / 1000.0).max(0.0),
            (None, Some(lifetime)) => self.config.refresh_skew_seconds.min(lifetime / 2.0),
            (None, None) => self.config.refresh_skew_seconds,
        };
        if left_ms <= skew_seconds * 1000.0 {
            return None;
        }
        let token = Token {
            access_token: std::mem::take(&mut stored.access_token).into(),
            expires_in: lifetime.unwrap_or(left_ms / 1000.0),
            expires_at: now + left_ms,
        };
        Some(self.cache_entry(token, skew_seconds))
    }

    /// When this instance first saw the stored token that expires at `expires_at` (the
    /// writer's time names the token: one write per token): `now` for a new one.
    fn first_seen(&self, expires_at: f64, now: f64) -> f64 {
        let mut state = self.state.borrow_mut();
        match state.first_seen {
            Some((seen, at)) if seen == expires_at => at,
            _ => {
                state.first_seen = Some((expires_at, now));
                now
            }
        }
    }

    /// What to write to the shared store for a fetched token, and for how many seconds;
    /// `None` for a token that should not be shared (use-once, or about to expire).
    pub fn store_entry(&self, token: &CachedToken) -> Option<(StoredToken, f64)> {
        let ttl_seconds = ((token.expires_at - self.runtime.now_ms()) / 1000.0).floor();
        (token.expires_in > 0.0 && ttl_seconds >= 1.0).then(|| {
            let stored = StoredToken {
                access_token: token.access_token.to_string(),
                expires_at: token.expires_at,
                expires_in: Some(token.expires_in),
                refresh_at: Some(token.refresh_at),
            };
            (stored, ttl_seconds)
        })
    }

    /// A new id and the `Bearer` header for `token`, refreshed `skew_seconds` before it
    /// expires.
    fn cache_entry(&self, token: Token, skew_seconds: f64) -> Rc<CachedToken> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        // After free() nothing is added to what is overwritten.
        if !self.wiped.get() {
            let mut held = self.held.borrow_mut();
            if !held.iter().any(|t| *t == token.access_token) {
                if held.len() == HELD_TOKENS {
                    held.pop_front();
                }
                held.push_back(token.access_token.clone());
            }
        }
        let skew_ms = skew_seconds * 1000.0;
        Rc::new(CachedToken {
            id,
            authorization: ["Bearer ", token.access_token.as_str()].concat().into(),
            access_token: token.access_token,
            expires_in: token.expires_in,
            expires_at: token.expires_at,
            refresh_at: token.expires_at - skew_ms,
        })
    }

    /// The error for a non-2xx answer of the token endpoint.
    fn answer_error(&self, response: &HttpResponse, body: &str, attempts: u32) -> Error {
        let status = response.status;
        if status == 0 {
            // A browser hides a redirect's status (an "opaqueredirect" answer).
            return Error::new(
                ErrorCode::Http,
                "the token endpoint answered with a redirect; check baseUrl",
            );
        }
        let (code, text): (ErrorCode, [&str; 2]) = match status {
            400 | 401 | 403 => (
                ErrorCode::TokenRejected,
                [
                    "the token endpoint refused the credentials (HTTP ",
                    "); check clientId and clientSecret",
                ],
            ),
            429 => (
                ErrorCode::RateLimited,
                ["the token endpoint is rate limiting (HTTP ", ")"],
            ),
            500..=599 => (ErrorCode::ServerError, ["the token endpoint failed (HTTP ", ")"]),
            _ => (
                ErrorCode::Http,
                ["the token endpoint answered HTTP ", "; check baseUrl"],
            ),
        };
        let [before, after] = text;
        let mut message = [before, status.to_string().as_str(), after].concat();
        let mut error = Error::new(code, String::new()).with_status(status);
        if code == ErrorCode::TokenRejected {
            let answer = self.transport.parse_json::<TokenAnswer>(body);
            // Redacted and cut before the message quotes it.
            let (oauth_error, description) = oauth_error_fields(answer);
            let oauth_error = oauth_error.map(|e| self.clean(&e, Field::OAuth));
            if let Some(e) = &oauth_error {
                message.push_str(" [");
                message.push_str(e);
                message.push(']');
            }
            error.oauth_error = oauth_error;
            error.oauth_error_description = description.map(|d| self.clean(&d, Field::OAuth));
        }
        if code == ErrorCode::Http {
            error.body = Some(body.to_owned());
        }
        if matches!(code, ErrorCode::RateLimited | ErrorCode::ServerError) {
            push_attempts(&mut message, attempts);
        }
        if let Some(seconds) = response
            .retry_after
            .as_deref()
            .and_then(|v| parse_retry_after(v, self.runtime.now_ms(), |d| self.runtime.parse_http_date(d)))
        {
            error.retry_after = Some(seconds);
            message.push_str(&["; retry after ", &(seconds as u64).to_string(), "s"].concat());
        }
        error.message = message;
        error
    }

    fn transport_error(&self, error: TransportError, attempts: u32) -> Error {
        let mut message;
        let code = match error {
            TransportError::Timeout => {
                message = [
                    "the token endpoint did not answer within ",
                    &(self.config.timeout_ms.ceil() as u64).to_string(),
                    " ms (timeoutMs)",
                ]
                .concat();
                ErrorCode::Timeout
            }
            TransportError::Network(detail) => {
                // What the engine threw may quote the request: overwritten once used.
                let detail = Zeroizing::new(detail);
                message = ["could not reach the token endpoint ", &self.token_url, ": ", &detail].concat();
                ErrorCode::Network
            }
        };
        push_attempts(&mut message, attempts);
        Error::new(code, message)
    }
}

/// The async driver: single flight, retries with waits, grace, the shared store.
impl<R: Runtime, T: Transport> TokenClient<R, T> {
    /// A usable token: from memory while outside the skew window, else fetched (joining
    /// a request already in flight). When the refresh fails but the old token has not
    /// expired yet, the old token is returned.
    pub async fn get_token(self: Rc<Self>) -> FlightResult {
        if let Some(token) = self.fresh_token() {
            bump(&self.events.stats.cache_hits);
            return Ok(token);
        }
        let result = self.join(false).await;
        self.with_grace(result)
    }

    /// A new token now (joining a request already in flight); no grace on failure. The
    /// shared store is not read (it may hold the very token being replaced), only written.
    pub async fn refresh(self: Rc<Self>) -> FlightResult {
        self.join(true).await
    }

    /// The API refused the token with `id` (401/419): whether the call may be retried
    /// with a new token. The cached token is dropped, here and, in the background, in
    /// the shared store, unless a refused token was dropped less than
    /// `unauthorizedCooldownMs` ago: an API that refuses every token (a permission
    /// problem, a revoked client, a node that does not know new tokens yet) then gets the
    /// token it refused instead of a token request per call. A newer token, which
    /// another caller may already have fetched, is kept, and the call retries with it.
    pub fn refused(self: &Rc<Self>, id: u64) -> bool {
        let now = self.runtime.now_ms();
        {
            let mut state = self.state.borrow_mut();
            if state.cached.as_ref().is_none_or(|t| t.id != id) {
                return true;
            }
            let cooling = state
                .replaced_refused_at
                .is_some_and(|at| now - at < self.config.unauthorized_cooldown_ms);
            if cooling {
                return false;
            }
            state.replaced_refused_at = Some(now);
        }
        if let (true, Some(shared), Some(key)) = (self.forget(id), &self.store, self.store_key()) {
            self.in_background(StoreOp::Delete, shared.store.delete(&key));
        }
        true
    }

    /// The result of the token request in flight (started when there is none). Where
    /// the runtime isolates requests, a waiter gives up a request that has not landed in
    /// the longest time a healthy one takes (the request that started it ended and took
    /// its I/O along) and starts another one, once.
    pub async fn join(self: &Rc<Self>, refresh: bool) -> FlightResult {
        if !self.runtime.isolates_requests() {
            return self.flight(refresh).wait().await;
        }
        for _ in 0..2 {
            let flight = self.flight(refresh);
            let limit = self.runtime.sleep(self.longest_flight_ms());
            if let Some(result) = with_timeout(flight.clone().wait(), limit).await {
                return result;
            }
            let mut state = self.state.borrow_mut();
            if state.flight.as_ref().is_some_and(|f| f.same(&flight)) {
                state.flight = None;
            }
        }
        Err(Error::new(
            ErrorCode::Timeout,
            "the token request in flight never finished",
        ))
    }

    /// The token request in flight, started as a task of its own when there is none
    /// (`skip_store_read` for a new token: see [`refresh`](Self::refresh)).
    ///
    /// A token fetched from the endpoint because the store failed (a broker reset, a
    /// refused connection; not a timeout) is not the fleet's: the next read that is not a refresh
    /// reads the store once more, as a flight every caller of the moment joins. The store's
    /// token then replaces it; on a miss it is shared (written) instead; otherwise it is
    /// kept, and served from memory until its refresh window. So the cost is bounded: one
    /// store read per such token, none on a healthy cached path.
    pub fn flight(self: &Rc<Self>, skip_store_read: bool) -> Flight<R::Latch> {
        let mut state = self.state.borrow_mut();
        if let Some(flight) = state.flight.clone() {
            return flight;
        }
        let pending = state.recheck.take();
        let recheck = match (&state.cached, pending) {
            (Some(cached), Some(id)) if cached.id == id && self.fresh(cached) && !skip_store_read => {
                Some(Rc::clone(cached))
            }
            _ => None,
        };
        let read = match (skip_store_read, recheck) {
            (true, _) => Read::Skip,
            (false, Some(own)) => Read::Recheck(own),
            (false, None) => Read::Store,
        };
        let flight = Flight {
            latch: self.runtime.latch(),
            result: Rc::default(),
        };
        state.flight = Some(flight.clone());
        drop(state);
        let (client, landing) = (Rc::clone(self), flight.clone());
        self.runtime.spawn(Box::pin(async move {
            let started = client.runtime.now_ms();
            let (mut result, source, attempts) = client.obtain(read).await;
            if result.is_ok() && client.wiped.get() {
                // Landed after free(): dropped (and so overwritten) at once.
                result = Err(client.freed_error());
            }
            {
                let mut state = client.state.borrow_mut();
                if state.flight.as_ref().is_some_and(|f| f.same(&landing)) {
                    state.flight = None;
                }
            }
            if let Ok(token) = &result {
                client.land(token);
            }
            // Reported before the callers hear of it (no borrow is held: the sink runs
            // user code, which may call back into the client).
            let ms = client.runtime.now_ms() - started;
            let event = match (&result, source) {
                (Ok(token), Some(source)) => Some(Event::Token {
                    source,
                    attempts,
                    ms,
                    expires_at: token.expires_at,
                }),
                // A recheck that kept the cached token: no new token.
                (Ok(_), None) => None,
                (Err(error), _) => Some(Event::Failure {
                    code: error.code,
                    status: error.status,
                    attempts,
                    ms,
                }),
            };
            if let Some(event) = event {
                client.events.emit(event);
            }
            *landing.result.borrow_mut() = Some(result);
            landing.latch.open();
        }));
        flight
    }

    /// From the store when it has a token usable now, else from the endpoint; a fetched
    /// token is sealed, handed to its callers, and written to the store in the background.
    /// Also says where the token came from (`None`: a recheck kept the cached token) and
    /// how many token requests were sent.
    async fn obtain(self: &Rc<Self>, read: Read) -> (FlightResult, Option<TokenSource>, u32) {
        let mut outcome = None;
        if let (Some(shared), false) = (&self.store, matches!(read, Read::Skip)) {
            let started = self.runtime.now_ms();
            let deadline = self.runtime.sleep(self.config.timeout_ms);
            let (read_outcome, result) = with_timeout(self.read_store(shared), deadline)
                .await
                .unwrap_or((StoreOutcome::Timeout, None));
            self.report_store(StoreOp::Get, read_outcome, started);
            match result {
                Some(Ok(token)) => return (Ok(token), Some(TokenSource::Store), 0),
                Some(Err(error)) if !matches!(read, Read::Recheck(_)) => {
                    return (Err(error), Some(TokenSource::Store), 0)
                }
                _ => outcome = Some(read_outcome),
            }
        }
        let missed = outcome.is_some();
        let (fetched, attempts, source) = match read {
            // The store has no better token: this one stays, and is shared on a miss.
            Read::Recheck(own) if outcome != Some(StoreOutcome::Miss) => return (Ok(own), None, 0),
            Read::Recheck(own) => (Ok(own), 0, None),
            Read::Store | Read::Skip => {
                let (fetched, attempts) = self.fetch_with_retries().await;
                (fetched, attempts, Some(TokenSource::Endpoint))
            }
        };
        let Some(shared) = &self.store else {
            return (fetched, source, attempts);
        };
        // The store failed (a broker reset, a refused connection): the next read reads it
        // once more. Not after a timeout: a store that hangs would cost that read another
        // timeoutMs.
        if let (Ok(token), Some(StoreOutcome::Error)) = (&fetched, outcome) {
            self.state.borrow_mut().recheck = Some(token.id);
        }
        match fetched.as_ref().ok().and_then(|token| self.store_entry(token)) {
            Some((stored, ttl_seconds)) => {
                // Sealed before the callers get the token, so a store's `set` has run
                // (synchronously, up to its first await) by the time they do.
                let started = self.runtime.now_ms();
                let deadline = self.runtime.sleep(self.config.timeout_ms);
                match with_timeout(self.seal(shared, &stored), deadline).await {
                    Some(Some((key, entry))) => {
                        self.in_background(StoreOp::Set, shared.store.set(&key, &entry, ttl_seconds))
                    }
                    Some(None) => self.report_store(StoreOp::Set, StoreOutcome::Error, started),
                    None => self.report_store(StoreOp::Set, StoreOutcome::Timeout, started),
                }
            }
            // Nothing to share after a miss: a store that locked for this request unlocks.
            None if missed => {
                if let Some(key) = self.store_key() {
                    self.in_background(StoreOp::Release, shared.store.release(&key));
                }
            }
            None => {}
        }
        (fetched, source, attempts)
    }

    /// The store key and the sealing key, derived from the credentials at the first call;
    /// `None` when they cannot be (no Web Crypto, or `free()` was called).
    async fn keys(&self, shared: &SharedStore) -> Option<Rc<StoreKeys>> {
        if let Some(keys) = self.store_keys.borrow().clone() {
            return Some(keys);
        }
        if self.wiped.get() {
            return None;
        }
        let derived = shared.sealer.derive(KeyMaterial::of(&self.config)).await?;
        let keys = Rc::new(StoreKeys {
            key: seal::store_key(&self.config, &derived.fingerprint),
            sealing: derived.key,
        });
        if self.wiped.get() {
            return None;
        }
        *self.store_keys.borrow_mut() = Some(Rc::clone(&keys));
        Some(keys)
    }

    /// Derives the keys (the first time), reads the store and opens what it holds: the
    /// `store` event's outcome, and the result when the store settled the request (a
    /// token, or the fleet's failure). The caller bounds it with `timeoutMs`.
    async fn read_store(&self, shared: &SharedStore) -> (StoreOutcome, Option<FlightResult>) {
        let Some(keys) = self.keys(shared).await else {
            return (StoreOutcome::Error, None);
        };
        let entry = match shared.store.get(&keys.key).await {
            StoreAnswer::Entry(entry) => entry,
            // Shared back-off: the fleet's token request failed just now.
            StoreAnswer::Failed(error) => return (StoreOutcome::Failure, Some(Err(self.redact_error(error)))),
            StoreAnswer::Miss => return (StoreOutcome::Miss, None),
            StoreAnswer::Invalid => return (StoreOutcome::Invalid, None),
            StoreAnswer::Unavailable => return (StoreOutcome::Error, None),
        };
        match self.open(&keys, entry).await {
            Opened::Token(token) => (StoreOutcome::Hit, Some(Ok(token))),
            Opened::Unusable => (StoreOutcome::Miss, None),
            Opened::Invalid => (StoreOutcome::Invalid, None),
        }
    }

    /// The token of a stored entry, when it opens under this client's key and is usable
    /// now (see [`accept_stored`](Self::accept_stored)).
    async fn open(&self, keys: &StoreKeys, entry: SealedEntry) -> Opened {
        if !entry.current_at(self.runtime.now_ms()) {
            return Opened::Unusable;
        }
        let Some(sealed) = seal::sealed_bytes(&entry.sealed) else {
            return Opened::Invalid;
        };
        let associated = seal::associated_data(&keys.key, entry.expires_at, entry.refresh_at);
        let Some(plaintext) = keys.sealing.open(sealed, associated).await else {
            return Opened::Invalid;
        };
        match seal::opened_token(&plaintext, &entry) {
            Some(token) => self
                .accept_stored(token, entry.expires_in_ms)
                .map_or(Opened::Unusable, Opened::Token),
            None => Opened::Invalid,
        }
    }

    /// The store key and the sealed entry of `stored`; `None` when it cannot be sealed.
    async fn seal(&self, shared: &SharedStore, stored: &StoredToken) -> Option<(String, SealedEntry)> {
        let keys = self.keys(shared).await?;
        let refresh_at = stored.refresh_at.unwrap_or(stored.expires_at);
        let plaintext = seal::plaintext(stored.expires_in.unwrap_or(0.0), &stored.access_token);
        let associated = seal::associated_data(&keys.key, stored.expires_at, refresh_at);
        let sealed = keys.sealing.seal(plaintext, associated).await?;
        let entry = SealedEntry {
            sealed: seal::sealed_text(&sealed),
            expires_at: stored.expires_at,
            refresh_at,
            expires_in_ms: None,
        };
        Some((keys.key.clone(), entry))
    }

    /// Runs a store call on its own, within `timeoutMs`, and reports how it ended.
    fn in_background(self: &Rc<Self>, op: StoreOp, work: LocalFuture<bool>) {
        let deadline = self.runtime.sleep(self.config.timeout_ms);
        let (client, started) = (Rc::clone(self), self.runtime.now_ms());
        self.runtime.spawn(Box::pin(async move {
            let outcome = match with_timeout(work, deadline).await {
                Some(true) => StoreOutcome::Written,
                Some(false) => StoreOutcome::Error,
                None => StoreOutcome::Timeout,
            };
            client.report_store(op, outcome, started);
        }));
    }

    fn report_store(&self, op: StoreOp, outcome: StoreOutcome, started: f64) {
        let ms = self.runtime.now_ms() - started;
        self.events.emit(Event::Store { op, outcome, ms });
    }

    /// The token, or the error that ended the retries; and how many requests were sent.
    async fn fetch_with_retries(&self) -> (FlightResult, u32) {
        let mut attempt: u32 = 0;
        loop {
            if self.wiped.get() {
                // free() overwrote the credentials: nothing left to send.
                return (Err(self.freed_error()), attempt);
            }
            let sent_at = self.runtime.now_ms();
            // Built for each attempt (it holds the credentials, overwritten when dropped).
            let request = token_request(&self.config);
            bump(&self.events.stats.token_requests);
            let outcome = self.transport.send(&request, self.config.timeout_ms).await;
            drop(request);
            attempt += 1;
            if self.wiped.get() {
                // An answer after free(): its body (a token, perhaps) is overwritten unread.
                if let Ok(mut response) = outcome {
                    response.body.zeroize();
                }
                return (Err(self.freed_error()), attempt);
            }
            match self.next(outcome, sent_at, attempt) {
                Next::Token(token) => return (Ok(token), attempt),
                Next::Fail(error) => return (Err(error), attempt),
                Next::Wait(wait_ms, error) => {
                    self.events.emit(Event::Retry {
                        attempt,
                        code: error.code,
                        status: error.status,
                        wait_ms,
                        retry_after: error.retry_after,
                    });
                    self.runtime.sleep(wait_ms).await;
                }
            }
        }
    }
}

/// The output of `work`, or `None` when `deadline` resolves first.
pub async fn with_timeout<T>(work: impl Future<Output = T>, deadline: impl Future<Output = ()>) -> Option<T> {
    let (mut work, mut deadline) = (std::pin::pin!(work), std::pin::pin!(deadline));
    poll_fn(move |cx| {
        if let Poll::Ready(v) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        deadline.as_mut().poll(cx).map(|()| None)
    })
    .await
}

fn push_attempts(message: &mut String, attempts: u32) {
    let noun = if attempts == 1 { " attempt" } else { " attempts" };
    message.push_str(&[" after ", &attempts.to_string(), noun].concat());
}

#[cfg(test)]
pub(crate) mod tests;
