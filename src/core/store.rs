//! Shared token stores: one token for a fleet of isolates or processes.
//!
//! Lookup order is memory, then the store, then the token endpoint. A store is only an
//! optimisation: one that fails or is slow degrades to the endpoint, never fails a call.

use super::client::LocalFuture;
use super::error::Error;

/// A token as a store keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredToken {
    /// The access token.
    pub access_token: String,
    /// When it expires, in ms since the epoch.
    pub expires_at: f64,
    /// Its whole lifetime in seconds (`expires_in`), when the store kept it: the refresh
    /// window of a short-lived token is then `min(refreshSkewSeconds, expires_in / 2)`,
    /// as for a token from the endpoint. Without it, the whole `refreshSkewSeconds`.
    pub expires_in: Option<f64>,
    /// From when on the token is refreshed before use, in ms since the epoch, as the
    /// instance that fetched it decided (its refresh window): every reader of the store
    /// (the library and the shipped stores) uses this one point, so a fleet whose
    /// instances or stores are configured with different skews still shares one token.
    pub refresh_at: Option<f64>,
}

/// A stored token longer than this is not used (a header that large is refused by
/// servers; a real one is well under 1 KB).
pub const MAX_STORED_TOKEN_LEN: usize = 4096;

/// What a store answers a lookup with.
#[derive(Debug)]
pub enum StoreAnswer {
    /// A token (the client still checks it is usable).
    Token(StoredToken),
    /// Nothing usable: the client asks the endpoint (after a store that locks on a miss
    /// chose it to).
    Miss,
    /// The fleet's shared token request failed (a broker's, with its `retryAfter`): the
    /// client ends with this error (or its grace token) instead of asking the endpoint
    /// itself, so a failing endpoint is not asked by every instance.
    Failed(Error),
    /// The store failed (threw, rejected): like a miss, but reported as an error.
    Unavailable,
}

/// The token is overwritten in memory when it is dropped.
impl Drop for StoredToken {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.access_token);
    }
}

/// Where tokens are shared. Implementations turn their own failures into
/// [`StoreAnswer::Unavailable`] / `false`;
/// the client bounds every call with `timeoutMs`, and a call it gave up on is dropped
/// (the wasm store then aborts the signal it handed the call).
pub trait TokenStore {
    /// The token under `key`, if the store has a usable one.
    fn get(&self, key: &str) -> LocalFuture<StoreAnswer>;
    /// Keeps `token` under `key` for `ttl_seconds`; `false` when the store failed.
    fn set(&self, key: &str, token: &StoredToken, ttl_seconds: f64) -> LocalFuture<bool>;
    /// Drops the token under `key` (the API refused it); `false` when the store failed.
    fn delete(&self, key: &str) -> LocalFuture<bool>;
    /// The token request that followed a miss (`get` found nothing usable) ended
    /// without a token to `set`: it failed, or its token is not to be shared (use-once).
    /// A store that locks on a miss unlocks here, so nobody waits for that token.
    /// `false` when the store failed.
    fn release(&self, key: &str) -> LocalFuture<bool>;
}
