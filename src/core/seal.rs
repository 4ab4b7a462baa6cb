//! Owns the layout of sealed stored tokens: the store key, the key material, the associated
//! data and the plaintext; the cryptography is behind the [`Sealer`] trait (the wasm's).
//!
//! What a shared store keeps grants nothing the credentials don't. Two keys are derived from the credentials with HKDF-SHA-256 (RFC 5869): the client
//! secret is the input keying material, [`KDF_SALT`] the salt, and each key's info is its
//! purpose, a NUL byte and the clientId ([`KeyMaterial`]).
//! - The **fingerprint** (32 bytes, base64url) ends the store key
//!   (`cedato-auth:v2:<baseUrl>:<clientId>:<fingerprint>`): another secret, clientId or
//!   baseUrl is another key, and the key reveals nothing of the secret.
//! - The **sealing key** (AES-256-GCM) seals the token and its lifetime ([`plaintext`]);
//!   the store key, `expiresAt` and `refreshAt` are the associated data
//!   ([`associated_data`]), so a value moved to another key, or given other times, does
//!   not open.
//!
//! The core only lays out the bytes; the [`Sealer`] does the cryptography (the engine's
//! Web Crypto in the wasm, a fake in the native tests).

use std::rc::Rc;

use base64::Engine;
use zeroize::Zeroizing;

use super::config::Config;
use super::platform::LocalFuture;
use super::store::{SealedEntry, StoredToken};

/// The version of the stored form, in every store key: keys of other versions (`v1`
/// held plain tokens) are never read.
pub const STORE_KEY_PREFIX: &str = "cedato-auth:v2:";
/// HKDF's salt: fixed, so the same credentials give the same keys in every instance.
pub const KDF_SALT: &[u8] = b"cedato-auth token store v2";
/// The purpose in the fingerprint's HKDF info.
pub const FINGERPRINT_PURPOSE: &[u8] = b"store key fingerprint";
/// The purpose in the sealing key's HKDF info.
pub const SEAL_PURPOSE: &[u8] = b"store value seal";
/// The fingerprint's length in bytes (HKDF-SHA-256's output block).
pub const FINGERPRINT_LEN: usize = 32;
/// AES-GCM's nonce (IV) length in bytes, at the start of a sealed value.
pub const NONCE_LEN: usize = 12;

/// What both keys are derived from (HKDF-SHA-256): the secret is the input keying
/// material; `info` is `purpose || 0x00 || clientId` (the purposes hold no NUL, so the
/// clientId is unambiguous).
pub struct KeyMaterial {
    /// The client secret's UTF-8 bytes (overwritten when dropped).
    pub secret: Zeroizing<Vec<u8>>,
    /// [`KDF_SALT`].
    pub salt: &'static [u8],
    /// The fingerprint's info.
    pub fingerprint_info: Vec<u8>,
    /// The sealing key's info.
    pub seal_info: Vec<u8>,
}

impl KeyMaterial {
    /// The material of `config`'s credentials.
    pub fn of(config: &Config) -> KeyMaterial {
        let info = |purpose: &[u8]| [purpose, b"\0", config.client_id.as_bytes()].concat();
        KeyMaterial {
            secret: Zeroizing::new(config.client_secret().as_bytes().to_vec()),
            salt: KDF_SALT,
            fingerprint_info: info(FINGERPRINT_PURPOSE),
            seal_info: info(SEAL_PURPOSE),
        }
    }
}

/// The keys derived from a [`KeyMaterial`].
pub struct Derived {
    /// [`FINGERPRINT_LEN`] bytes for the store key.
    pub fingerprint: Vec<u8>,
    /// The AEAD key stored values are sealed with.
    pub key: Rc<dyn SealingKey>,
}

/// Derives the keys: HKDF-SHA-256 with the engine's Web Crypto in the wasm.
pub trait Sealer {
    /// Both keys, or `None` when they cannot be derived.
    fn derive(&self, material: KeyMaterial) -> LocalFuture<Option<Derived>>;
}

/// An AEAD key (AES-256-GCM in the wasm).
pub trait SealingKey {
    /// `nonce || ciphertext || tag` of `plaintext` under a fresh random nonce.
    fn seal(&self, plaintext: Zeroizing<Vec<u8>>, associated: Vec<u8>) -> LocalFuture<Option<Vec<u8>>>;
    /// The plaintext of `sealed`, or `None` when it does not open (another key, other
    /// associated data, altered bytes).
    fn open(&self, sealed: Vec<u8>, associated: Vec<u8>) -> LocalFuture<Option<Zeroizing<Vec<u8>>>>;
}

/// The store key of `config`'s credentials, ending with their `fingerprint`.
pub fn store_key(config: &Config, fingerprint: &[u8]) -> String {
    let fingerprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(fingerprint);
    // concat, not format!: measured 16 B (wasm gzip) smaller.
    [
        STORE_KEY_PREFIX,
        config.base_url.as_str(),
        ":",
        config.client_id.as_str(),
        ":",
        &fingerprint,
    ]
    .concat()
}

/// The associated data of a stored value: `expiresAt` and `refreshAt` as big-endian
/// IEEE 754 doubles (fixed length), then the store key's UTF-8 bytes.
pub fn associated_data(key: &str, expires_at: f64, refresh_at: f64) -> Vec<u8> {
    [&expires_at.to_be_bytes()[..], &refresh_at.to_be_bytes(), key.as_bytes()].concat()
}

/// What is sealed: the token's lifetime (`expires_in`, a big-endian double), then the
/// access token's bytes.
pub fn plaintext(expires_in: f64, access_token: &str) -> Zeroizing<Vec<u8>> {
    Zeroizing::new([&expires_in.to_be_bytes()[..], access_token.as_bytes()].concat())
}

/// The token of an opened `entry`, or `None` when the plaintext is not one.
pub fn opened_token(plaintext: &[u8], entry: &SealedEntry) -> Option<StoredToken> {
    let (lifetime, token) = plaintext.split_first_chunk::<8>()?;
    Some(StoredToken {
        access_token: String::from_utf8(token.to_vec()).ok()?,
        expires_at: entry.expires_at,
        expires_in: Some(f64::from_be_bytes(*lifetime)),
        refresh_at: Some(entry.refresh_at),
    })
}

/// The bytes of a stored value's `sealed` text (base64url without padding), when they
/// can hold a nonce and a tag.
pub fn sealed_bytes(sealed: &str) -> Option<Vec<u8>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).ok()?;
    (bytes.len() > NONCE_LEN + 16).then_some(bytes)
}

/// The text of sealed bytes in a stored value.
pub fn sealed_text(sealed: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Options;

    fn config(id: &str, secret: &str, base_url: Option<&str>) -> Config {
        let options = Options {
            client_id: Some(id.into()),
            client_secret: Some(secret.to_owned().into()),
            base_url: base_url.map(str::to_owned),
            ..Options::default()
        };
        options.validate(crate::core::config::whatwg).unwrap()
    }

    #[test]
    fn key_material_is_the_secret_a_fixed_salt_and_purpose_nul_client_id() {
        let m = KeyMaterial::of(&config("client-1", "s3cret-ü", None));
        assert_eq!(&**m.secret, "s3cret-ü".as_bytes());
        assert_eq!(m.salt, b"cedato-auth token store v2");
        assert_eq!(m.fingerprint_info, b"store key fingerprint\0client-1");
        assert_eq!(m.seal_info, b"store value seal\0client-1");
        // Another secret changes only the keying material; another clientId only the infos.
        let other = KeyMaterial::of(&config("client-1", "other", None));
        assert_ne!(other.secret, m.secret);
        assert_eq!(other.seal_info, m.seal_info);
        let other = KeyMaterial::of(&config("client-2", "s3cret-ü", None));
        assert_eq!(other.secret, m.secret);
        assert_ne!(other.fingerprint_info, m.fingerprint_info);
        assert_ne!(m.fingerprint_info, m.seal_info, "the two keys differ");
    }

    #[test]
    fn the_store_key_carries_the_base_url_the_client_id_and_the_fingerprint() {
        let c = config("id", "s", Some("https://example.com/api"));
        assert_eq!(
            store_key(&c, &[0xfb; 32]),
            "cedato-auth:v2:https://example.com/api/:id:-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_v7-_s"
        );
    }

    /// The fixtures the JavaScript side is fed too (tests/fleet/stored-values.test.mjs: the
    /// wasm's key, the Durable Object broker's prefix rule, node:crypto's HKDF). Natively
    /// the layout: each key is `store_key` of its configuration and its own fingerprint.
    #[test]
    fn the_store_keys_of_the_shared_fixtures_have_the_library_layout() {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Fixture {
            name: String,
            base_url: String,
            client_id: String,
            client_secret: String,
            key: String,
        }
        let fixtures: Vec<Fixture> =
            serde_json::from_str(include_str!("../../tests/fixtures/store-keys.json")).unwrap();
        assert!(fixtures.len() >= 4);
        for f in fixtures {
            let (_, fingerprint) = f.key.rsplit_once(':').unwrap();
            let fingerprint = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(fingerprint)
                .unwrap();
            assert_eq!(fingerprint.len(), FINGERPRINT_LEN, "{}", f.name);
            let c = config(&f.client_id, &f.client_secret, Some(&f.base_url));
            assert_eq!(store_key(&c, &fingerprint), f.key, "{}", f.name);
        }
    }

    #[test]
    fn associated_data_binds_both_times_and_the_key() {
        let ad = associated_data("k", 1.0, 2.0);
        assert_eq!(ad, [&1f64.to_be_bytes()[..], &2f64.to_be_bytes(), b"k"].concat());
        assert_ne!(ad, associated_data("k", 2.0, 1.0));
        assert_ne!(ad, associated_data("k2", 1.0, 2.0));
    }

    #[test]
    fn plaintext_round_trips_and_short_or_bad_ones_are_none() {
        let entry = SealedEntry {
            sealed: String::new(),
            expires_at: 5.0,
            refresh_at: 4.0,
            expires_in_ms: None,
        };
        let token = opened_token(&plaintext(3600.0, "tok"), &entry).unwrap();
        assert_eq!(
            (
                token.access_token.as_str(),
                token.expires_in,
                token.expires_at,
                token.refresh_at
            ),
            ("tok", Some(3600.0), 5.0, Some(4.0))
        );
        assert!(opened_token(b"short", &entry).is_none());
        assert!(opened_token(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff], &entry).is_none());
    }

    #[test]
    fn sealed_text_round_trips_and_too_short_or_not_base64url_is_none() {
        let bytes = vec![7u8; NONCE_LEN + 17];
        assert_eq!(sealed_bytes(&sealed_text(&bytes)), Some(bytes));
        assert_eq!(sealed_bytes(&sealed_text(&[7u8; NONCE_LEN + 16])), None);
        assert_eq!(sealed_bytes("not base64url!"), None);
        assert_eq!(sealed_bytes("a+b/"), None, "standard base64 is not the form");
    }
}
