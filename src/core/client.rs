//! The token client: its public token API ([`TokenClient::token_now`], `get_token`,
//! `refresh`, `clear`, ...) and the one async driver (single flight, retries, the store).
//!
//! The driver is generic over the platform traits ([`Runtime`], [`Transport`],
//! [`TokenStore`](super::TokenStore)): native tests drive it with a fake clock and a
//! scripted transport, the wasm build with `Date.now`, `setTimeout`,
//! `wasm-bindgen-futures` and web-sys `fetch`. Its pieces, each an `impl` block of
//! [`TokenClient`] over the same fields, are in `client/`: `pending` (what asking for a
//! token gives: fresh, or pending with grace), `cached` (the cache on this client's
//! clock), `attempt` (what one attempt of the token request leads to), `shared` (the store
//! steps) and `secrets` (redaction, and erasure after `free()`). What needs no client is
//! below it: [`super::cache`] (the cache's decisions), the crate-private `flight` (a token
//! request's handle), [`super::platform`].

mod attempt;
mod cached;
mod pending;
mod secrets;
mod shared;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use zeroize::Zeroize;

use super::cache::{CachedToken, Refusal, TokenCache};
use super::config::Config;
use super::error::{Error, ErrorCode};
use super::events::{bump, Event, Events, StoreOp, StoreOutcome, TokenSource};
use super::flight::{Flight, FlightResult};
use super::platform::{with_timeout, Runtime, Transport};
use super::retry::MAX_RETRY_AFTER_SECONDS;
use super::token::token_request;

use attempt::AfterAttempt;
pub use pending::{PendingToken, TokenNow};
use secrets::HeldTokens;
pub use secrets::{PendingCall, FREED_WHILE_PENDING, HELD_TOKENS};
pub use shared::SharedStore;
use shared::StoreKeys;

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
    cache: RefCell<TokenCache>,
    flight: RefCell<Option<Flight<R::Latch>>>,
    /// The access tokens this client has held: what [`redact`](Self::redact) removes
    /// besides the credentials.
    held: RefCell<HeldTokens>,
    /// Set by [`wipe`](Self::wipe): no token lands and no token request is sent after it.
    wiped: Cell<bool>,
    /// Calls not settled yet ([`PendingCall`]): the secrets that redaction needs stay
    /// until the last of them settles, after `free()` too.
    pending: Cell<u32>,
    /// The counters and the `onEvent` sink.
    events: Events,
}

/// Construction, what the client holds, and the public token API.
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
            cache: RefCell::default(),
            flight: RefCell::default(),
            held: RefCell::default(),
            wiped: Cell::new(false),
            pending: Cell::new(0),
        })
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

    /// Whether a token is cached and outside its refresh window.
    pub fn has_fresh_token(&self) -> bool {
        self.cache.borrow().has_fresh_token(self.runtime.now_ms())
    }

    /// When the cached token expires (ms since the epoch), if one is cached.
    pub fn expires_at(&self) -> Option<f64> {
        self.cache.borrow().expires_at()
    }

    /// Forgets the cached token (`clear()`). A token request already in flight goes on,
    /// and its result is cached when it lands (its waiters asked for it).
    pub fn clear(&self) {
        self.cache.borrow_mut().drop_cached();
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
        self.cache.borrow_mut().drop_all();
        self.erase_when_idle();
    }

    /// A usable token: from memory while outside the skew window, else fetched (joining
    /// a request already in flight). When the refresh fails but the old token has not
    /// expired yet, the old token is returned. [`token_now`](Self::token_now), awaited.
    pub async fn get_token(self: Rc<Self>) -> FlightResult {
        match self.token_now() {
            TokenNow::Fresh(token) => Ok(token),
            TokenNow::Pending(pending) => pending.wait().await,
        }
    }

    /// The one token path, split where a caller may answer at once: the cached token
    /// while it is fresh (counted as a cache hit), else the token request to await (one
    /// in flight for every caller of the moment, started when there is none; grace and the
    /// isolated runtime's rule included). A JS promise per [`TokenNow::Fresh`] token and
    /// per [`PendingToken::same_request`] is all a binding adds.
    #[inline]
    pub fn token_now(self: &Rc<Self>) -> TokenNow<R, T> {
        if let Some(token) = self.fresh_hit() {
            return TokenNow::Fresh(token);
        }
        // Where the runtime isolates requests, each caller waits in its own request.
        let flight = (!self.runtime.isolates_requests()).then(|| self.flight(false));
        TokenNow::Pending(PendingToken {
            client: Rc::clone(self),
            flight,
        })
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
    pub fn replace_refused(self: &Rc<Self>, id: u64) -> bool {
        let now = self.runtime.now_ms();
        let refusal = self
            .cache
            .borrow_mut()
            .refuse(id, now, self.config.unauthorized_cooldown_ms);
        match refusal {
            Refusal::AlreadyReplaced => true,
            Refusal::CoolingDown => false,
            Refusal::Dropped => {
                if let (Some(shared), Some(key)) = (&self.store, self.store_key()) {
                    self.in_background(StoreOp::Delete, shared.store.delete(&key));
                }
                true
            }
        }
    }
}

/// What the driver derives from the options.
impl<R: Runtime, T: Transport> TokenClient<R, T> {
    /// The error of a token request that `free()` stopped.
    fn freed_error(&self) -> Error {
        Error::new(ErrorCode::InvalidRequest, "this instance was freed (free() was called)")
    }

    /// The longest a healthy token request can take, in ms: every attempt at its time
    /// limit, the longest wait between attempts (a `Retry-After` of 60 s), the store's
    /// read (its write goes on in the background), and a second of slack for the timers.
    fn longest_flight_ms(&self) -> f64 {
        let timeout = self.config.timeout_ms;
        let attempts = f64::from(self.config.max_retries + 1);
        let waits = f64::from(self.config.max_retries) * MAX_RETRY_AFTER_SECONDS * 1000.0;
        let store = if self.store.is_some() { timeout } else { 0.0 };
        attempts * timeout + waits + store + 1000.0
    }
}

/// The async driver: single flight, retries with waits, the shared store.
impl<R: Runtime, T: Transport> TokenClient<R, T> {
    /// The result of the token request in flight (started when there is none). Where
    /// the runtime isolates requests, a waiter gives up a request that has not landed in
    /// the longest time a healthy one takes (the request that started it ended and took
    /// its I/O along) and starts another one, once.
    async fn join(self: &Rc<Self>, refresh: bool) -> FlightResult {
        if !self.runtime.isolates_requests() {
            return self.flight(refresh).wait().await;
        }
        for _ in 0..2 {
            let flight = self.flight(refresh);
            let limit = self.runtime.sleep(self.longest_flight_ms());
            if let Some(result) = with_timeout(flight.clone().wait(), limit).await {
                return result;
            }
            let mut current = self.flight.borrow_mut();
            if current.as_ref().is_some_and(|f| f.same(&flight)) {
                *current = None;
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
    fn flight(self: &Rc<Self>, skip_store_read: bool) -> Flight<R::Latch> {
        let mut current = self.flight.borrow_mut();
        if let Some(flight) = current.clone() {
            return flight;
        }
        let recheck = self.cache.borrow_mut().take_recheck(self.runtime.now_ms());
        let read = match (skip_store_read, recheck) {
            (true, _) => Read::Skip,
            (false, Some(own)) => Read::Recheck(own),
            (false, None) => Read::Store,
        };
        let flight = Flight::new(self.runtime.latch());
        *current = Some(flight.clone());
        drop(current);
        let (client, landing) = (Rc::clone(self), flight.clone());
        self.runtime.spawn(Box::pin(async move {
            let started = client.runtime.now_ms();
            let (mut result, source, attempts) = client.obtain(read).await;
            if result.is_ok() && client.wiped.get() {
                // Landed after free(): dropped (and so overwritten) at once.
                result = Err(client.freed_error());
            }
            {
                let mut current = client.flight.borrow_mut();
                if current.as_ref().is_some_and(|f| f.same(&landing)) {
                    *current = None;
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
            landing.land(result);
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
            self.cache.borrow_mut().recheck_later(token.id);
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
            match self.after_attempt(outcome, sent_at, attempt) {
                AfterAttempt::Token(token) => return (Ok(token), attempt),
                AfterAttempt::GiveUp(error) => return (Err(error), attempt),
                AfterAttempt::RetryIn { wait_ms, error } => {
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

#[cfg(test)]
pub(crate) mod tests;
