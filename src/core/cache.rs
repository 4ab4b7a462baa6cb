//! The token cache: the token held, the one the API refused, and their decisions (fresh,
//! land, what a stored token is worth on this clock, what to share, the 401 cool-down).
//! Pure: the time is a parameter; the driver ([`TokenClient`](super::TokenClient)) holds it.

use std::rc::Rc;

use super::config::MAX_EXPIRES_IN;
use super::http::is_visible_ascii;
use super::redact::Secret;
use super::store::{StoredToken, MAX_STORED_TOKEN_LEN};
use super::token::Token;

/// A token held by the client; the token and its header are overwritten in memory when
/// the last holder drops it.
#[derive(Clone, Debug, PartialEq)]
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
    /// Whether it is outside its refresh window at `now`.
    #[inline]
    pub fn fresh_at(&self, now: f64) -> bool {
        now < self.refresh_at
    }
}

/// What the API's refusal of a token (401/419) leads to ([`TokenCache::refuse`]).
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// It is not the cached token (a newer one is): retry with the cached one.
    AlreadyReplaced,
    /// A refused token was dropped less than the cool-down ago: keep this one, the
    /// refusal is the answer.
    CoolingDown,
    /// Dropped: retry with a new token (and drop it from the shared store too).
    Dropped,
}

/// The cached token and what the cache remembers besides.
#[derive(Default)]
pub struct TokenCache {
    cached: Option<Rc<CachedToken>>,
    /// The token the API refused last: a store may still hold it (a store without
    /// `delete`, a delete that failed, an eventually consistent store), and it is not
    /// taken from there again.
    refused: Option<Rc<CachedToken>>,
    /// When a refused token was last dropped for a new one ([`refuse`](Self::refuse)).
    replaced_refused_at: Option<f64>,
    /// The stored token seen last (named by its writer's `expires_at`) and when this
    /// instance first saw it ([`accept_stored`](Self::accept_stored)).
    first_seen: Option<(f64, f64)>,
    /// The id of the cached token when it was fetched from the endpoint because the store
    /// failed: the next read reads the store once more ([`take_recheck`](Self::take_recheck)).
    recheck: Option<u64>,
    /// The id the next token gets (from 1).
    last_id: u64,
}

impl TokenCache {
    /// The cached token if it can be served now without I/O: outside its refresh window,
    /// and not waiting for the store to be read once more.
    #[inline]
    pub fn fresh_token(&self, now: f64) -> Option<Rc<CachedToken>> {
        self.fresh(now).cloned()
    }

    /// The id of [`fresh_token`](Self::fresh_token)'s token, without taking a handle to it.
    #[inline]
    pub fn fresh_id(&self, now: f64) -> Option<u64> {
        self.fresh(now).map(|t| t.id)
    }

    /// The one freshness rule of both.
    #[inline]
    fn fresh(&self, now: f64) -> Option<&Rc<CachedToken>> {
        self.cached
            .as_ref()
            .filter(|t| t.fresh_at(now) && self.recheck != Some(t.id))
    }

    /// Whether a token is cached and outside its refresh window at `now`.
    pub fn has_fresh_token(&self, now: f64) -> bool {
        self.cached.as_ref().is_some_and(|t| t.fresh_at(now))
    }

    /// The cached token while it has not expired at `now`, refresh window or not: what
    /// grace serves after a failed refresh.
    pub fn unexpired_token(&self, now: f64) -> Option<Rc<CachedToken>> {
        self.cached.clone().filter(|t| now < t.expires_at)
    }

    /// When the cached token expires (ms since the epoch), if one is cached.
    pub fn expires_at(&self) -> Option<f64> {
        self.cached.as_ref().map(|t| t.expires_at)
    }

    /// Caches a token that a token request ended with; one with `expires_in: 0` is handed
    /// to its waiters and never kept.
    pub fn land(&mut self, token: &Rc<CachedToken>) {
        if token.expires_in > 0.0 {
            self.cached = Some(Rc::clone(token));
        }
    }

    /// Drops the cached token (`clear()`); the refused one stays remembered.
    pub fn drop_cached(&mut self) {
        self.cached = None;
    }

    /// Drops the cached token and the refused one (`free()`).
    pub fn drop_all(&mut self) {
        self.cached = None;
        self.refused = None;
    }

    /// Drops the cached token if it is the one with `id` (the API refused it), remembering
    /// it as refused; a newer one another caller may already have fetched is kept. True
    /// when it was the cached one.
    pub fn drop_refused(&mut self, id: u64) -> bool {
        let current = self.cached.as_ref().is_some_and(|t| t.id == id);
        if current {
            self.refused = self.cached.take();
        }
        current
    }

    /// The API refused the token with `id` at `now`: it is dropped unless it is not the
    /// cached one, or a refused token was dropped less than `cooldown_ms` ago (an API
    /// that refuses every token then gets the token it refused, not a token request per
    /// call).
    pub fn refuse(&mut self, id: u64, now: f64, cooldown_ms: f64) -> Refusal {
        if self.cached.as_ref().is_none_or(|t| t.id != id) {
            return Refusal::AlreadyReplaced;
        }
        if self.replaced_refused_at.is_some_and(|at| now - at < cooldown_ms) {
            return Refusal::CoolingDown;
        }
        self.replaced_refused_at = Some(now);
        self.drop_refused(id);
        Refusal::Dropped
    }

    /// Marks the cached token `id` as fetched after the store failed: the next read that
    /// is not a refresh reads the store once more.
    pub fn recheck_later(&mut self, id: u64) {
        self.recheck = Some(id);
    }

    /// The cached token to check against the store once more, if one was marked, is
    /// still cached and fresh at `now`; the mark is used up either way.
    pub fn take_recheck(&mut self, now: f64) -> Option<Rc<CachedToken>> {
        let id = self.recheck.take()?;
        self.cached.clone().filter(|t| t.id == id && t.fresh_at(now))
    }

    /// A token from the shared store that is usable and outside its refresh window `now`;
    /// anything else (malformed, about to expire, the refused token) is `None`.
    /// `refresh_skew_seconds` is the option, for a stored token without a refresh point.
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
    pub fn accept_stored(
        &mut self,
        mut stored: StoredToken,
        left_ms: Option<f64>,
        now: f64,
        refresh_skew_seconds: f64,
    ) -> Option<Rc<CachedToken>> {
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
            .refused
            .as_ref()
            .is_some_and(|t| *t.access_token == stored.access_token)
        {
            return None;
        }
        let skew_seconds = match (stored.refresh_at.filter(|r| r.is_finite()), lifetime) {
            // The refresh point its writer decided, for every reader alike.
            (Some(refresh_at), _) => ((stored.expires_at - refresh_at) / 1000.0).max(0.0),
            (None, Some(lifetime)) => refresh_skew_seconds.min(lifetime / 2.0),
            (None, None) => refresh_skew_seconds,
        };
        if left_ms <= skew_seconds * 1000.0 {
            return None;
        }
        let token = Token {
            access_token: std::mem::take(&mut stored.access_token).into(),
            expires_in: lifetime.unwrap_or(left_ms / 1000.0),
            expires_at: now + left_ms,
        };
        Some(self.entry(token, skew_seconds))
    }

    /// When this instance first saw the stored token that expires at `expires_at` (the
    /// writer's time names the token: one write per token): `now` for a new one.
    fn first_seen(&mut self, expires_at: f64, now: f64) -> f64 {
        match self.first_seen {
            Some((seen, at)) if seen == expires_at => at,
            _ => {
                self.first_seen = Some((expires_at, now));
                now
            }
        }
    }

    /// A new id and the `Bearer` header for `token`, refreshed `skew_seconds` before it
    /// expires (not cached: see [`land`](Self::land)).
    pub fn entry(&mut self, token: Token, skew_seconds: f64) -> Rc<CachedToken> {
        self.last_id += 1;
        Rc::new(CachedToken {
            id: self.last_id,
            authorization: ["Bearer ", token.access_token.as_str()].concat().into(),
            access_token: token.access_token,
            expires_in: token.expires_in,
            expires_at: token.expires_at,
            refresh_at: token.expires_at - skew_seconds * 1000.0,
        })
    }
}

/// What to write to the shared store for a fetched token at `now`, and for how many
/// seconds; `None` for a token that should not be shared (use-once, or about to expire).
pub fn store_entry(token: &CachedToken, now: f64) -> Option<(StoredToken, f64)> {
    let ttl_seconds = ((token.expires_at - now) / 1000.0).floor();
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_800_000_000_000.0;

    fn token(cache: &mut TokenCache, access_token: &str, expires_in: f64, skew: f64) -> Rc<CachedToken> {
        let token = Token {
            access_token: access_token.to_owned().into(),
            expires_in,
            expires_at: NOW + expires_in * 1000.0,
        };
        cache.entry(token, skew)
    }

    fn stored(access_token: &str, expires_in: Option<f64>, refresh_at: Option<f64>) -> StoredToken {
        StoredToken {
            access_token: access_token.into(),
            expires_at: NOW + 3_600_000.0,
            expires_in,
            refresh_at,
        }
    }

    #[test]
    fn entries_get_new_ids_and_land_unless_use_once() {
        let mut cache = TokenCache::default();
        let a = token(&mut cache, "a", 3600.0, 30.0);
        let once = token(&mut cache, "b", 0.0, 0.0);
        assert_eq!((a.id, once.id), (1, 2));
        assert_eq!(a.authorization.as_str(), "Bearer a");
        assert_eq!(a.refresh_at, NOW + 3_570_000.0);
        assert!(cache.fresh_token(NOW).is_none(), "nothing cached before it lands");
        cache.land(&a);
        cache.land(&once);
        assert_eq!(
            cache.fresh_token(NOW).map(|t| t.id),
            Some(a.id),
            "a use-once token never lands"
        );
        assert_eq!(cache.expires_at(), Some(NOW + 3_600_000.0));
    }

    #[test]
    fn fresh_unexpired_and_recheck_by_time() {
        let mut cache = TokenCache::default();
        let a = token(&mut cache, "a", 100.0, 30.0);
        cache.land(&a);
        let refresh_at = NOW + 70_000.0;
        assert!(cache.has_fresh_token(refresh_at - 1.0));
        assert!(
            !cache.has_fresh_token(refresh_at),
            "the refresh window starts at refresh_at"
        );
        assert!(cache.fresh_token(refresh_at).is_none());
        assert_eq!(cache.fresh_id(refresh_at - 1.0), Some(a.id));
        assert_eq!(cache.fresh_id(refresh_at), None, "fresh_id follows fresh_token's rule");
        assert!(
            cache.unexpired_token(refresh_at).is_some(),
            "grace serves it until it expires"
        );
        assert!(cache.unexpired_token(NOW + 100_000.0).is_none());
        // A token to check against the store once more is not served from memory, once.
        cache.recheck_later(a.id);
        assert!(cache.fresh_token(NOW).is_none());
        assert_eq!(cache.fresh_id(NOW), None);
        assert!(cache.has_fresh_token(NOW));
        assert_eq!(cache.take_recheck(NOW).map(|t| t.id), Some(a.id));
        assert!(cache.take_recheck(NOW).is_none(), "used up");
        assert!(cache.fresh_token(NOW).is_some());
        cache.recheck_later(a.id);
        assert!(
            cache.take_recheck(refresh_at).is_none(),
            "not when it is no longer fresh"
        );
    }

    #[test]
    fn refusals_drop_once_per_cooldown() {
        let mut cache = TokenCache::default();
        let a = token(&mut cache, "a", 3600.0, 30.0);
        cache.land(&a);
        assert_eq!(cache.refuse(a.id + 1, NOW, 1000.0), Refusal::AlreadyReplaced);
        assert_eq!(cache.refuse(a.id, NOW, 1000.0), Refusal::Dropped);
        assert!(cache.expires_at().is_none());
        let b = token(&mut cache, "b", 3600.0, 30.0);
        cache.land(&b);
        assert_eq!(cache.refuse(b.id, NOW + 999.0, 1000.0), Refusal::CoolingDown);
        assert!(cache.fresh_token(NOW).is_some(), "kept while cooling down");
        assert_eq!(cache.refuse(b.id, NOW + 1000.0, 1000.0), Refusal::Dropped);
        // The refused token is not taken from a store that still holds it.
        assert!(cache
            .accept_stored(stored("b", Some(3600.0), None), None, NOW, 30.0)
            .is_none());
        assert!(cache
            .accept_stored(stored("c", Some(3600.0), None), None, NOW, 30.0)
            .is_some());
        cache.drop_all();
        assert!(cache
            .accept_stored(stored("b", Some(3600.0), None), None, NOW, 30.0)
            .is_some());
    }

    #[test]
    fn stored_tokens_are_judged_on_this_clock() {
        let mut cache = TokenCache::default();
        // The writer's refresh point is kept as a window length.
        let t = cache
            .accept_stored(stored("a", Some(3600.0), Some(NOW + 3_000_000.0)), None, NOW, 30.0)
            .unwrap();
        assert_eq!((t.expires_at, t.refresh_at), (NOW + 3_600_000.0, NOW + 3_000_000.0));
        // The store's own time left wins over the writer's expires_at, bounded by the
        // lifetime since this instance first saw it.
        let t = cache
            .accept_stored(stored("a", Some(3600.0), None), Some(60_000.0), NOW, 30.0)
            .unwrap();
        assert_eq!(t.expires_at, NOW + 60_000.0);
        let t = cache
            .accept_stored(stored("a", Some(3600.0), None), Some(1e12), NOW + 3_000_000.0, 30.0)
            .unwrap();
        assert_eq!(
            t.expires_at,
            NOW + 3_600_000.0,
            "bounded by the lifetime since first seen"
        );
        // Inside its refresh window, expired, or not visible ASCII: not usable.
        assert!(cache
            .accept_stored(stored("a", None, None), Some(30_000.0), NOW, 30.0)
            .is_none());
        assert!(cache
            .accept_stored(stored("a", None, None), Some(-1.0), NOW, 30.0)
            .is_none());
        assert!(cache
            .accept_stored(stored("a b", None, None), None, NOW, 30.0)
            .is_none());
    }

    #[test]
    fn store_entries_skip_use_once_and_expiring_tokens() {
        let mut cache = TokenCache::default();
        let a = token(&mut cache, "a", 3600.0, 30.0);
        let (entry, ttl) = store_entry(&a, NOW).unwrap();
        assert_eq!((entry.refresh_at, ttl), (Some(a.refresh_at), 3600.0));
        assert!(store_entry(&a, NOW + 3_599_001.0).is_none(), "less than a second left");
        assert!(store_entry(&token(&mut cache, "b", 0.0, 0.0), NOW).is_none());
    }
}
