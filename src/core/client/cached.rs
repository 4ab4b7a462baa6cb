//! The cache read with this client's clock, options and redaction: fresh hits, landing a
//! token, grace, a stored token's worth, and new entries remembered for redaction.

use std::rc::Rc;

use super::TokenClient;
use crate::core::cache::{store_entry, CachedToken};
use crate::core::events::{bump, Event};
use crate::core::flight::FlightResult;
use crate::core::platform::{Runtime, Transport};
use crate::core::store::StoredToken;
use crate::core::token::Token;

impl<R: Runtime, T: Transport> TokenClient<R, T> {
    /// The cached token if it can be served now, without any I/O: outside its refresh
    /// window, and not waiting for the store to be read once more. Not counted as a cache
    /// hit (what a native front publishes for its own fast path).
    #[inline]
    pub fn fresh_token(&self) -> Option<Rc<CachedToken>> {
        self.cache.borrow().fresh_token(self.runtime.now_ms())
    }

    /// The id of the cached token if it is fresh, counted as a cache hit: what a front
    /// that keeps its own answer per token (the JS class's settled promises) asks first,
    /// without taking a handle to the token.
    #[inline]
    pub fn fresh_hit_id(&self) -> Option<u64> {
        let id = self.cache.borrow().fresh_id(self.runtime.now_ms())?;
        bump(&self.events.stats.cache_hits);
        Some(id)
    }

    /// The cached token if it is fresh, counted as a cache hit.
    #[inline]
    pub(super) fn fresh_hit(&self) -> Option<Rc<CachedToken>> {
        let token = self.fresh_token()?;
        bump(&self.events.stats.cache_hits);
        Some(token)
    }

    /// Caches a token that a token request ended with (not after `free()`); one with
    /// `expires_in: 0` is handed to its waiters and never kept.
    pub(super) fn land(&self, token: &Rc<CachedToken>) {
        if !self.wiped.get() {
            self.cache.borrow_mut().land(token);
        }
    }

    /// Grace: a failed refresh gives way to the cached token while it has not expired.
    pub(super) fn with_grace(&self, result: FlightResult) -> FlightResult {
        let error = match result {
            Err(error) => error,
            ok => return ok,
        };
        let Some(token) = self.cache.borrow().unexpired_token(self.runtime.now_ms()) else {
            return Err(error);
        };
        self.events.emit(Event::Grace { code: error.code });
        Ok(token)
    }

    /// A token from the shared store that is usable and outside its refresh window now
    /// (see [`TokenCache::accept_stored`](crate::core::cache::TokenCache::accept_stored)), with `left_ms` the time left as the store
    /// measured it.
    pub fn accept_stored(&self, stored: StoredToken, left_ms: Option<f64>) -> Option<Rc<CachedToken>> {
        let token = self.cache.borrow_mut().accept_stored(
            stored,
            left_ms,
            self.runtime.now_ms(),
            self.config.refresh_skew_seconds,
        )?;
        self.hold(&token);
        Some(token)
    }

    /// What to write to the shared store for a fetched token, and for how many seconds;
    /// `None` for a token that should not be shared (use-once, or about to expire).
    pub(super) fn store_entry(&self, token: &CachedToken) -> Option<(StoredToken, f64)> {
        store_entry(token, self.runtime.now_ms())
    }

    /// A new cache entry for `token`, refreshed `skew_seconds` before it expires, and
    /// remembered for redaction.
    pub(super) fn cache_entry(&self, token: Token, skew_seconds: f64) -> Rc<CachedToken> {
        let token = self.cache.borrow_mut().entry(token, skew_seconds);
        self.hold(&token);
        token
    }

    /// Remembers `token` for redaction (after `free()` nothing is added to what is
    /// overwritten).
    fn hold(&self, token: &CachedToken) {
        if !self.wiped.get() {
            self.held.borrow_mut().remember(&token.access_token);
        }
    }
}
