//! The client's steps with the shared store: derive the keys, read and open an entry, seal
//! and write one, and run a store call in the background, each reported as a `store` event.

use std::rc::Rc;

use super::TokenClient;
use crate::core::cache::CachedToken;
use crate::core::events::{Event, StoreOp, StoreOutcome};
use crate::core::flight::FlightResult;
use crate::core::platform::{with_timeout, LocalFuture, Runtime, TokenStore, Transport};
use crate::core::seal::{self, KeyMaterial, Sealer, SealingKey};
use crate::core::store::{SealedEntry, StoreAnswer, StoredToken};

/// A `tokenStore` and what seals the values it keeps.
pub struct SharedStore {
    /// Where the fleet's token is kept.
    pub store: Rc<dyn TokenStore>,
    /// Derives the store key's fingerprint and the sealing key from the credentials.
    pub sealer: Rc<dyn Sealer>,
}

/// The store key and the sealing key, derived at the first store use.
pub(super) struct StoreKeys {
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

impl<R: Runtime, T: Transport> TokenClient<R, T> {
    /// The key of this client's token in a shared store, once derived (at the first
    /// store use).
    pub fn store_key(&self) -> Option<String> {
        self.store_keys.borrow().as_ref().map(|k| k.key.clone())
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
    pub(super) async fn read_store(&self, shared: &SharedStore) -> (StoreOutcome, Option<FlightResult>) {
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
    pub(super) async fn seal(&self, shared: &SharedStore, stored: &StoredToken) -> Option<(String, SealedEntry)> {
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
    pub(super) fn in_background(self: &Rc<Self>, op: StoreOp, work: LocalFuture<bool>) {
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

    /// Emits the `store` event of a store call started at `started`.
    pub(super) fn report_store(&self, op: StoreOp, outcome: StoreOutcome, started: f64) {
        let ms = self.runtime.now_ms() - started;
        self.events.emit(Event::Store { op, outcome, ms });
    }
}
