//! Owns the core's [`Sealer`] on the engine's Web Crypto (`crypto.subtle`): HKDF-SHA-256
//! for the fingerprint and the key, AES-256-GCM to seal and open stored values.
//!
//! The AES key is non-extractable; the wasm carries no cryptography of its own.

use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, SubtleCrypto};
use zeroize::Zeroizing;

use crate::core::seal::{FINGERPRINT_LEN, NONCE_LEN};
use crate::core::{Derived, KeyMaterial, LocalFuture, Sealer, SealingKey};

/// The global `crypto` and its `subtle`.
#[derive(Clone)]
pub struct WebCrypto {
    crypto: Crypto,
    subtle: SubtleCrypto,
}

impl WebCrypto {
    /// The engine's Web Crypto, if it has one. Only looks: workerd allows no cryptography
    /// at module scope, where a `new CedatoAuth` may run, so keys are derived later.
    pub fn detect() -> Option<WebCrypto> {
        let crypto = Reflect::get(&js_sys::global(), &"crypto".into())
            .ok()
            .filter(JsValue::is_object)?;
        let subtle = Reflect::get(&crypto, &"subtle".into())
            .ok()
            .filter(JsValue::is_object)?;
        Some(WebCrypto {
            crypto: crypto.unchecked_into(),
            subtle: subtle.unchecked_into(),
        })
    }
}

/// `{ key: value, ... }` for Web Crypto's algorithm parameters.
fn params(entries: &[(&str, &JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object
}

/// The bytes as a JS `Uint8Array` (a copy).
fn bytes(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

/// What the promise Web Crypto returned resolves to; `None` when it threw or rejected.
async fn settled(promise: Result<Promise, JsValue>) -> Option<JsValue> {
    JsFuture::from(promise.ok()?).await.ok()
}

/// The bytes of an `ArrayBuffer` Web Crypto resolved with, overwritten there once copied.
fn buffer_bytes(buffer: JsValue) -> Option<Zeroizing<Vec<u8>>> {
    let view = Uint8Array::new(buffer.dyn_ref::<ArrayBuffer>()?);
    let copy = Zeroizing::new(view.to_vec());
    view.fill(0, 0, view.length());
    Some(copy)
}

impl Sealer for WebCrypto {
    fn derive(&self, material: KeyMaterial) -> LocalFuture<Option<Derived>> {
        let web = self.clone();
        Box::pin(async move {
            let usages =
                |names: &[&str]| -> JsValue { names.iter().map(|n| JsValue::from(*n)).collect::<Array>().into() };
            let secret = Uint8Array::from(&material.secret[..]);
            let imported =
                web.subtle
                    .import_key_with_str("raw", &secret, "HKDF", false, &usages(&["deriveBits", "deriveKey"]));
            // Web Crypto copied the secret when called: the JS copy is overwritten.
            secret.fill(0, 0, secret.length());
            let base: CryptoKey = settled(imported).await?.unchecked_into();
            let hkdf = |info: &[u8]| {
                params(&[
                    ("name", &"HKDF".into()),
                    ("hash", &"SHA-256".into()),
                    ("salt", &bytes(material.salt)),
                    ("info", &bytes(info)),
                ])
            };
            let bits = web.subtle.derive_bits_with_object(
                &hkdf(&material.fingerprint_info),
                &base,
                (FINGERPRINT_LEN * 8) as u32,
            );
            let fingerprint = buffer_bytes(settled(bits).await?)?.to_vec();
            let aes = params(&[("name", &"AES-GCM".into()), ("length", &256.into())]);
            let key = web.subtle.derive_key_with_object_and_object(
                &hkdf(&material.seal_info),
                &base,
                &aes,
                false,
                &usages(&["encrypt", "decrypt"]),
            );
            let key: CryptoKey = settled(key).await?.unchecked_into();
            Some(Derived {
                fingerprint,
                key: Rc::new(AesGcmKey { web, key }),
            })
        })
    }
}

/// A non-extractable AES-256-GCM key.
struct AesGcmKey {
    web: WebCrypto,
    key: CryptoKey,
}

impl AesGcmKey {
    fn params(nonce: &[u8], associated: &[u8]) -> Object {
        params(&[
            ("name", &"AES-GCM".into()),
            ("iv", &bytes(nonce)),
            ("additionalData", &bytes(associated)),
        ])
    }
}

impl SealingKey for AesGcmKey {
    fn seal(&self, plaintext: Zeroizing<Vec<u8>>, associated: Vec<u8>) -> LocalFuture<Option<Vec<u8>>> {
        let mut nonce = [0u8; NONCE_LEN];
        if self.web.crypto.get_random_values_with_u8_array(&mut nonce).is_err() {
            return Box::pin(async { None });
        }
        // Web Crypto copies the plaintext when called.
        let sealed =
            self.web
                .subtle
                .encrypt_with_object_and_u8_array(&Self::params(&nonce, &associated), &self.key, &plaintext);
        drop(plaintext);
        Box::pin(async move {
            let ciphertext = buffer_bytes(settled(sealed).await?)?;
            Some([&nonce[..], &ciphertext].concat())
        })
    }

    fn open(&self, sealed: Vec<u8>, associated: Vec<u8>) -> LocalFuture<Option<Zeroizing<Vec<u8>>>> {
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN.min(sealed.len()));
        let opened =
            self.web
                .subtle
                .decrypt_with_object_and_u8_array(&Self::params(nonce, &associated), &self.key, ciphertext);
        Box::pin(async move { buffer_bytes(settled(opened).await?) })
    }
}
