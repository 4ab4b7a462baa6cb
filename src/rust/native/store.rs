//! The shared token store of the native [`Client`](super::Client): the
//! [`SharedTokenStore`] trait a service backs with anything (Redis, a database, a
//! broker), [`MemoryStore`] (one process), and [`NativeSealer`], which seals what a store
//! keeps exactly as the wasm's Web Crypto does (HKDF-SHA-256, AES-256-GCM; layout in
//! [`crate::core::seal`]), so a Node or browser instance and a Rust service share one
//! token through one store.
//!
//! ```no_run
//! # fn demo() -> Result<(), cedato_auth::Error> {
//! use std::sync::Arc;
//! use cedato_auth::{Client, MemoryStore, Options};
//! let store = Arc::new(MemoryStore::new());
//! let options = Options::new("my-client-id", "my-client-secret");
//! let a = Client::with_store(options.clone(), store.clone())?;
//! let b = Client::with_store(options, store)?; // takes a's token from the store
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::future::{ready, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::core::seal::{FINGERPRINT_LEN, NONCE_LEN};
use crate::core::{Derived, KeyMaterial, LocalFuture, SealedEntry, Sealer, SealingKey, StoreAnswer, TokenStore};

/// What a [`SharedTokenStore`] call returns: a boxed future that may cross threads.
pub type StoreFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Where a fleet's token is shared, for the native [`Client`](super::Client): `Send +
/// Sync`, as the client calls it from its own thread. The values are [`SealedEntry`]s:
/// keep them under their key for `ttl_seconds`; `sealed` is opaque, `expires_at` and
/// `refresh_at` say until when to hand the entry out ([`SealedEntry::current_at`]).
/// Turn your own failures into [`StoreAnswer::Unavailable`] / `false`: the client then
/// asks the token endpoint. Each call is bounded by the `timeout` option; a call the
/// client gave up on is dropped.
pub trait SharedTokenStore: Send + Sync + 'static {
    /// The entry under `key` ([`StoreAnswer::Entry`]), or [`StoreAnswer::Miss`].
    fn get(&self, key: &str) -> StoreFuture<StoreAnswer>;
    /// Keeps `entry` under `key` for `ttl_seconds`; `false` when the store failed.
    fn set(&self, key: &str, entry: &SealedEntry, ttl_seconds: f64) -> StoreFuture<bool>;
    /// Drops the entry under `key` (the API refused its token); `false` when the store failed.
    fn delete(&self, key: &str) -> StoreFuture<bool>;
    /// The token request after a miss ended without a token to `set`: a store that locks
    /// on a miss unlocks here. By default nothing to do.
    fn release(&self, _key: &str) -> StoreFuture<bool> {
        Box::pin(ready(true))
    }
}

/// A [`SharedTokenStore`] as the core's [`TokenStore`], on the client's thread.
pub(super) struct OnCoreThread(pub(super) Arc<dyn SharedTokenStore>);

impl TokenStore for OnCoreThread {
    fn get(&self, key: &str) -> LocalFuture<StoreAnswer> {
        self.0.get(key)
    }

    fn set(&self, key: &str, entry: &SealedEntry, ttl_seconds: f64) -> LocalFuture<bool> {
        self.0.set(key, entry, ttl_seconds)
    }

    fn delete(&self, key: &str) -> LocalFuture<bool> {
        self.0.delete(key)
    }

    fn release(&self, key: &str) -> LocalFuture<bool> {
        self.0.release(key)
    }
}

/// A [`SharedTokenStore`] in this process's memory: clients of one process (or tests)
/// share it through an `Arc`. Entries are dropped `ttl_seconds` after they were set.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, (SealedEntry, Instant)>>,
}

impl std::fmt::Debug for MemoryStore {
    /// How many entries it holds (their keys and values are not printed).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("len", &self.len()).finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// The entries it holds now (sealed: no token in them), with their keys.
    pub fn entries(&self) -> Vec<(String, SealedEntry)> {
        let now = Instant::now();
        self.entries.lock().map_or_else(
            |_| Vec::new(),
            |entries| {
                entries
                    .iter()
                    .filter(|(_, (_, until))| *until > now)
                    .map(|(key, (entry, _))| (key.clone(), entry.clone()))
                    .collect()
            },
        )
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        let now = Instant::now();
        let entries = self.entries.lock();
        entries.map_or(0, |entries| entries.values().filter(|(_, until)| *until > now).count())
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SharedTokenStore for MemoryStore {
    fn get(&self, key: &str) -> StoreFuture<StoreAnswer> {
        let answer = match self.entries.lock() {
            Ok(mut entries) => match entries.get(key) {
                Some((entry, until)) if *until > Instant::now() => StoreAnswer::Entry(entry.clone()),
                Some(_) => {
                    entries.remove(key);
                    StoreAnswer::Miss
                }
                None => StoreAnswer::Miss,
            },
            Err(_) => StoreAnswer::Unavailable,
        };
        Box::pin(ready(answer))
    }

    /// Kept at once (before the future is polled), so a client's callers get the token
    /// after it is in the store.
    fn set(&self, key: &str, entry: &SealedEntry, ttl_seconds: f64) -> StoreFuture<bool> {
        let ttl = Duration::try_from_secs_f64(ttl_seconds)
            .ok()
            .filter(|ttl| !ttl.is_zero());
        let kept = match (ttl, self.entries.lock()) {
            (Some(ttl), Ok(mut entries)) => {
                entries.insert(key.to_owned(), (entry.clone(), Instant::now() + ttl));
                true
            }
            _ => false,
        };
        Box::pin(ready(kept))
    }

    fn delete(&self, key: &str) -> StoreFuture<bool> {
        let deleted = self.entries.lock().map(|mut entries| entries.remove(key)).is_ok();
        Box::pin(ready(deleted))
    }
}

/// The core's [`Sealer`] in Rust (RustCrypto's `hkdf`, `sha2`, `aes-gcm`): the same keys
/// and the same sealed bytes as the wasm's Web Crypto, so a value one seals the other
/// opens.
#[derive(Clone, Copy, Debug, Default)]
pub struct NativeSealer;

impl NativeSealer {
    /// The fingerprint and the AES-256 key of `material` (HKDF-SHA-256 expands of one
    /// extract, as Web Crypto's `deriveBits` and `deriveKey`).
    fn keys(material: &KeyMaterial) -> Option<(Vec<u8>, Aes256Gcm)> {
        let hkdf = Hkdf::<Sha256>::new(Some(material.salt), &material.secret);
        let mut fingerprint = vec![0; FINGERPRINT_LEN];
        hkdf.expand(&material.fingerprint_info, &mut fingerprint).ok()?;
        let mut key = Zeroizing::new([0u8; 32]);
        hkdf.expand(&material.seal_info, &mut key[..]).ok()?;
        let cipher = Aes256Gcm::new_from_slice(&key[..]).ok()?;
        Some((fingerprint, cipher))
    }
}

impl Sealer for NativeSealer {
    fn derive(&self, material: KeyMaterial) -> LocalFuture<Option<Derived>> {
        let derived = NativeSealer::keys(&material).map(|(fingerprint, cipher)| Derived {
            fingerprint,
            key: Rc::new(AesGcmKey(cipher)),
        });
        Box::pin(ready(derived))
    }
}

/// An AES-256-GCM key (overwritten in memory when dropped).
struct AesGcmKey(Aes256Gcm);

impl SealingKey for AesGcmKey {
    fn seal(&self, plaintext: Zeroizing<Vec<u8>>, associated: Vec<u8>) -> LocalFuture<Option<Vec<u8>>> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: &plaintext,
            aad: &associated,
        };
        let sealed = self
            .0
            .encrypt(&nonce, payload)
            .ok()
            .map(|ciphertext| [&nonce[..], &ciphertext].concat());
        Box::pin(ready(sealed))
    }

    fn open(&self, sealed: Vec<u8>, associated: Vec<u8>) -> LocalFuture<Option<Zeroizing<Vec<u8>>>> {
        let opened = sealed.split_at_checked(NONCE_LEN).and_then(|(nonce, ciphertext)| {
            let payload = Payload {
                msg: ciphertext,
                aad: &associated,
            };
            self.0
                .decrypt(Nonce::from_slice(nonce), payload)
                .ok()
                .map(Zeroizing::new)
        });
        Box::pin(ready(opened))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    fn material(id: &str, secret: &str) -> KeyMaterial {
        let options = crate::core::config::Options {
            client_id: Some(id.into()),
            client_secret: Some(secret.to_owned().into()),
            ..Default::default()
        };
        KeyMaterial::of(&options.validate(crate::core::config::whatwg).unwrap())
    }

    fn derive(id: &str, secret: &str) -> Derived {
        block_on(NativeSealer.derive(material(id, secret))).unwrap()
    }

    /// RFC 5869's test case 1 through the same expand as the keys (HKDF-SHA-256).
    #[test]
    fn hkdf_is_rfc_5869() {
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let mut okm = [0u8; 42];
        Hkdf::<Sha256>::new(Some(&salt), &ikm).expand(&info, &mut okm).unwrap();
        let expected = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865";
        let hex: String = okm.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_associated_data_only() {
        let keys = derive("client-1", "secret-1");
        assert_eq!(keys.fingerprint.len(), FINGERPRINT_LEN);
        let sealed = block_on(keys.key.seal(Zeroizing::new(b"the token".to_vec()), b"ad".to_vec())).unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 9 + 16, "nonce || ciphertext || tag");
        assert!(!sealed.windows(9).any(|w| w == b"the token"));
        let opened = block_on(keys.key.open(sealed.clone(), b"ad".to_vec())).unwrap();
        assert_eq!(&opened[..], b"the token");
        assert!(block_on(keys.key.open(sealed.clone(), b"other".to_vec())).is_none());
        let mut altered = sealed.clone();
        altered[NONCE_LEN] ^= 1;
        assert!(block_on(keys.key.open(altered, b"ad".to_vec())).is_none());
        assert!(block_on(keys.key.open(sealed[..5].to_vec(), b"ad".to_vec())).is_none());
        // Another secret, or another clientId: another key and another fingerprint.
        for other in [derive("client-1", "secret-2"), derive("client-2", "secret-1")] {
            assert_ne!(other.fingerprint, keys.fingerprint);
            assert!(block_on(other.key.open(sealed.clone(), b"ad".to_vec())).is_none());
        }
        // Same credentials, same keys: a fleet's other instance opens it.
        let again = derive("client-1", "secret-1");
        assert_eq!(again.fingerprint, keys.fingerprint);
        assert!(block_on(again.key.open(sealed, b"ad".to_vec())).is_some());
    }

    /// The fingerprints of tests/fixtures/store-keys.json, which the wasm (Web Crypto)
    /// and node:crypto derive too: the native HKDF gives the same keys.
    #[test]
    fn fingerprints_are_the_wasm_ones_of_the_shared_fixtures() {
        use base64::Engine;
        let fixtures: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../../tests/fixtures/store-keys.json")).unwrap();
        assert!(fixtures.len() >= 4);
        for f in fixtures {
            let (id, secret) = (f["clientId"].as_str().unwrap(), f["clientSecret"].as_str().unwrap());
            let (_, fingerprint) = f["key"].as_str().unwrap().rsplit_once(':').unwrap();
            let derived = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(derive(id, secret).fingerprint);
            assert_eq!(derived, fingerprint, "{}", f["name"]);
        }
    }

    #[test]
    fn the_memory_store_keeps_entries_for_their_ttl() {
        let store = MemoryStore::new();
        let entry = SealedEntry {
            sealed: "x".into(),
            expires_at: 2.0,
            refresh_at: 1.0,
            expires_in_ms: None,
        };
        assert!(matches!(block_on(store.get("k")), StoreAnswer::Miss));
        assert!(block_on(store.set("k", &entry, 60.0)));
        assert!(matches!(block_on(store.get("k")), StoreAnswer::Entry(e) if e == entry));
        assert_eq!(store.len(), 1);
        assert!(!block_on(store.set("bad", &entry, f64::NAN)));
        assert!(!block_on(store.set("bad", &entry, 0.0)));
        assert!(block_on(store.set("short", &entry, 0.001)));
        std::thread::sleep(Duration::from_millis(5));
        assert!(matches!(block_on(store.get("short")), StoreAnswer::Miss));
        assert!(block_on(store.delete("k")));
        assert!(store.is_empty());
        assert!(block_on(store.release("k")));
    }
}
