//! Shared token stores: one token for a fleet of isolates or processes.
//!
//! Lookup order is memory, then the store, then the token endpoint. A store is only an
//! optimisation: one that fails or is slow degrades to the endpoint, never fails a call.

#[allow(unused_imports)]
use crate::prelude::*;

#[cfg(feature = "std")]
use core::{
    future::{poll_fn, Future},
    pin::Pin,
    task::Poll,
};

use super::shared::LocalFuture;

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
}

/// Where tokens are shared. Implementations turn their own failures into `None` / `()`.
pub trait TokenStore {
    /// The token under `key`, if the store has a usable one.
    fn get(&self, key: &str) -> LocalFuture<Option<StoredToken>>;
    /// Keeps `token` under `key` for `ttl_seconds`.
    fn set(&self, key: &str, token: &StoredToken, ttl_seconds: f64) -> LocalFuture<()>;
    /// Drops the token under `key` (the API refused it).
    fn delete(&self, key: &str) -> LocalFuture<()>;
}

/// The output of `work`, or `None` when `deadline` resolves first (for the async driver,
/// `std` only).
#[cfg(feature = "std")]
pub async fn with_timeout<T>(mut work: LocalFuture<T>, mut deadline: LocalFuture<()>) -> Option<T> {
    poll_fn(move |cx| {
        if let Poll::Ready(v) = Pin::new(&mut work).as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        match deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}
