//! Owns the stored form of a fleet's shared token ([`SealedEntry`]), the rule for when a
//! store hands it out ([`current`]) and the reading of a store's answer ([`StoredValue`]).
//!
//! Shared token stores: one token for a fleet of isolates or processes. Lookup order is memory, then the store, then the token endpoint. A store is only an
//! optimisation: one that fails or is slow degrades to the endpoint, never fails a call.
//! What a store keeps is a [`SealedEntry`] (see [`super::seal`]): it learns when the
//! token expires, and nothing usable.

use serde::{Deserialize, Serialize};

use super::error::{Error, ErrorCode};
use super::json::Scalar;

/// A token as a store shares it, once opened.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredToken {
    /// The access token.
    pub access_token: String,
    /// When it expires, in ms since the epoch.
    pub expires_at: f64,
    /// Its whole lifetime in seconds (`expires_in`), when known: the refresh window of a
    /// short-lived token is then `min(refreshSkewSeconds, expires_in / 2)`, as for a
    /// token from the endpoint. Without it, the whole `refreshSkewSeconds`.
    pub expires_in: Option<f64>,
    /// From when on the token is refreshed before use, in ms since the epoch, as the
    /// instance that fetched it decided (its refresh window): every reader of the store
    /// (the library and the shipped stores) uses this one point, so a fleet whose
    /// instances are configured with different skews still shares one token.
    pub refresh_at: Option<f64>,
}

/// The one definition of the stored form: what CedatoAuth hands to a store's `set`
/// (`{ sealed, expiresAt, refreshAt }`) and takes back from its `get`, where the answer
/// may add `expiresInMs`, the time left as the store itself measures it. A store reads
/// only the times (to expire the entry); `sealed` is opaque to it. (Its TypeScript is
/// `StoredTokenAnswer`; `StoredToken` is the same without `expiresInMs`.)
///
/// `expiresAt` and `refreshAt` are on the writer's clock. Clocks differ across a fleet
/// (containers without NTP, VMs after suspend), so a reader judges the time left on its
/// own clock: from `expiresInMs` when the store gives it (the shipped Redis store reads
/// the key's PTTL with the value, the Durable Object broker answers from its clock), else
/// from `expiresAt`; never longer than the token's own lifetime after the reader first
/// saw it. The refresh window, `expiresAt - refreshAt`, is a length and the same on every
/// clock: the fleet's refresh point is `expiresInMs - (expiresAt - refreshAt)` from now,
/// and a store hands the value out while `expiresInMs > expiresAt - refreshAt`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(
    all(target_arch = "wasm32", feature = "js-class"),
    derive(tsify::Tsify),
    tsify(rename = "StoredTokenAnswer")
)]
#[serde(rename_all = "camelCase")]
pub struct SealedEntry {
    /// The token and its lifetime sealed with AES-256-GCM: nonce, ciphertext and tag,
    /// base64url without padding.
    pub sealed: String,
    /// When the token expires, in ms since the epoch.
    pub expires_at: f64,
    /// From when on the fleet refreshes it (ms since the epoch): a store hands the entry
    /// out until then.
    pub refresh_at: f64,
    /// In a `get` answer only: how many ms the token has left until `expiresAt`, as the
    /// store measured it when it read the entry (its own clock or TTL, not the writer's).
    /// The library never writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<f64>,
}

impl SealedEntry {
    /// Whether a store may still hand the entry out at `now` (see [`current`]).
    pub fn current_at(&self, now: f64) -> bool {
        current(self.expires_at, self.refresh_at, self.expires_in_ms, now)
    }
}

/// The one rule for whether a stored value is handed out at `now` (the shipped stores
/// apply it too, held to it by tests/fixtures/stored-values.json): with the store's
/// `expires_in_ms`, while that is longer than the refresh window `expires_at -
/// refresh_at` (whatever `now` says: the writer's clock may be ahead or behind);
/// without it, before both times.
pub fn current(expires_at: f64, refresh_at: f64, expires_in_ms: Option<f64>, now: f64) -> bool {
    if !(expires_at.is_finite() && refresh_at.is_finite()) {
        return false;
    }
    match expires_in_ms.filter(|ms| ms.is_finite()) {
        Some(left) => left > 0.0 && left > expires_at - refresh_at,
        None => now < refresh_at && now < expires_at,
    }
}

/// A value as a store's `get` hands it back (in the wasm, read from its own properties
/// only): a [`SealedEntry`], or the failure of the fleet's shared token request (a
/// broker's) `{ failure: "<code>", message, status?, retryAfter? }`.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct StoredValue {
    sealed: Scalar,
    expires_at: Scalar,
    refresh_at: Scalar,
    expires_in_ms: Scalar,
    failure: Scalar,
    message: Scalar,
    status: Scalar,
    retry_after: Scalar,
}

impl StoredValue {
    /// Whether a store hands this value out at `now`: finite `expiresAt` and `refreshAt`,
    /// and [`current`] by them and `expiresInMs` (a number, else ignored). The shipped
    /// stores (stores/stored-token.mjs) apply the same rule, held to this one by the
    /// fixtures in tests/fixtures/stored-values.json.
    pub fn current_at(&self, now: f64) -> bool {
        match (number(&self.expires_at), number(&self.refresh_at)) {
            (Some(expires_at), Some(refresh_at)) => current(expires_at, refresh_at, number(&self.expires_in_ms), now),
            _ => false,
        }
    }

    /// What the client makes of the value: a shared failure, an entry to open, or
    /// [`StoreAnswer::Invalid`] for anything else (a plain token of the old form, fields
    /// of the wrong type).
    pub fn into_answer(self) -> StoreAnswer {
        if let Scalar::String(code) = &self.failure {
            return StoreAnswer::Failed(self.shared_failure(code));
        }
        match (self.sealed, number(&self.expires_at), number(&self.refresh_at)) {
            (Scalar::String(sealed), Some(expires_at), Some(refresh_at)) => StoreAnswer::Entry(SealedEntry {
                sealed,
                expires_at,
                refresh_at,
                expires_in_ms: number(&self.expires_in_ms).filter(|ms| ms.is_finite()),
            }),
            _ => StoreAnswer::Invalid,
        }
    }

    /// The error of a failure the store shares: its code (`server_error` when unknown),
    /// its message, status and `retryAfter`.
    fn shared_failure(&self, code: &str) -> Error {
        let code = ErrorCode::from_code(code).unwrap_or(ErrorCode::ServerError);
        let detail = self.message.as_str().unwrap_or("no detail");
        // concat, not format!: measured 30 B (wasm gzip) smaller.
        let mut error = Error::new(code, ["the fleet's shared token request failed: ", detail].concat());
        error.status = number(&self.status)
            .filter(|s| (100.0..600.0).contains(s))
            .map(|s| s as u16);
        error.retry_after = number(&self.retry_after).filter(|s| s.is_finite() && *s >= 0.0);
        error
    }
}

/// A number field, when it is one.
fn number(value: &Scalar) -> Option<f64> {
    match value {
        Scalar::Number(n) => Some(*n),
        _ => None,
    }
}

/// A stored token longer than this is not used (a header that large is refused by
/// servers; a real one is well under 1 KB).
pub const MAX_STORED_TOKEN_LEN: usize = 4096;

/// What a store answers a lookup with.
#[derive(Debug)]
pub enum StoreAnswer {
    /// A sealed entry (the client opens it and checks the token is usable).
    Entry(SealedEntry),
    /// Nothing: the client asks the endpoint (after a store that locks on a miss chose
    /// it to).
    Miss,
    /// Something that is not a stored value of this form: a miss, reported as `invalid`.
    Invalid,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixtures the shipped stores are tested with too (tests/fleet/stored-values.test.mjs):
    /// one rule for when a value is current, and what the library makes of it.
    #[test]
    fn stored_value_fixtures() {
        #[derive(Deserialize)]
        struct Fixture {
            name: String,
            value: serde_json::Value,
            now: f64,
            current: bool,
            library: String,
        }
        let text = include_str!("../../tests/fixtures/stored-values.json");
        let fixtures: Vec<Fixture> = serde_json::from_str(text).unwrap();
        assert!(fixtures.len() >= 10);
        for f in fixtures {
            let value: StoredValue = match f.value.is_object() {
                true => serde_json::from_value(f.value).unwrap(),
                false => {
                    assert_eq!(f.library, "invalid", "{}", f.name);
                    assert!(!f.current, "{}", f.name);
                    continue;
                }
            };
            assert_eq!(value.current_at(f.now), f.current, "{}", f.name);
            let library = match value.into_answer() {
                StoreAnswer::Entry(e) if e.current_at(f.now) => "entry",
                StoreAnswer::Entry(_) => "stale",
                StoreAnswer::Failed(_) => "failure",
                StoreAnswer::Invalid => "invalid",
                other => panic!("{other:?}"),
            };
            assert_eq!(library, f.library, "{}", f.name);
        }
    }

    #[test]
    fn a_shared_failure_keeps_its_code_status_and_retry_after_within_bounds() {
        let value: StoredValue =
            serde_json::from_str(r#"{"failure":"rate_limited","message":"slow down","status":429,"retryAfter":30}"#)
                .unwrap();
        let StoreAnswer::Failed(e) = value.into_answer() else {
            panic!()
        };
        assert_eq!(
            (e.code, e.status, e.retry_after),
            (ErrorCode::RateLimited, Some(429), Some(30.0))
        );
        assert!(e.message.ends_with("slow down"));
        let value: StoredValue = serde_json::from_str(r#"{"failure":"weird","status":9999,"retryAfter":-1}"#).unwrap();
        let StoreAnswer::Failed(e) = value.into_answer() else {
            panic!()
        };
        assert_eq!((e.code, e.status, e.retry_after), (ErrorCode::ServerError, None, None));
    }
}
