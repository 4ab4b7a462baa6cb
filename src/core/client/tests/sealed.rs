//! Stored entries are sealed under keys derived from the credentials: the key's
//! fingerprint, values that do not open, and key derivation that fails or never ends.

use super::*;

#[test]
fn the_store_keeps_a_sealed_entry_under_a_key_with_the_credentials_fingerprint() {
    let store = MemoryStore::default();
    let (c, _, _) = options().store(&store).build();
    assert_eq!(c.store_key(), None, "nothing derived before the first store use");
    let held = run(Rc::clone(&c).get_token()).unwrap();
    let key = c.store_key().unwrap();
    assert!(
        key.starts_with("cedato-auth:v2:https://api.cedato.com/api/:id:"),
        "{key}"
    );
    assert_eq!(key.len(), "cedato-auth:v2:https://api.cedato.com/api/:id:".len() + 43);
    let (entry, _) = store.map.borrow().get(&key).cloned().unwrap();
    assert_eq!((entry.expires_at, entry.refresh_at), (held.expires_at, held.refresh_at));
    let sealed = seal::sealed_bytes(&entry.sealed).unwrap();
    assert!(!entry.sealed.contains("tok-1") && !sealed.windows(5).any(|w| w == b"tok-1"));
    // Another secret, clientId or baseUrl is another key.
    assert_ne!(key_of("other"), key);
    let (by_id, _, _) = options()
        .with(|o| o.client_id = Some("id2".into()))
        .store(&store)
        .build();
    let (by_url, _, _) = options()
        .with(|o| o.base_url = Some("https://eu.example.com/api/".into()))
        .store(&store)
        .build();
    for other in [by_id, by_url] {
        token(&other).unwrap();
        assert_ne!(other.store_key().unwrap(), key);
    }
}

#[test]
fn another_secret_never_gets_the_stored_token() {
    let store = MemoryStore::default();
    let (owner, _, _) = options().store(&store).build();
    assert_eq!(token(&owner).unwrap(), "tok-1");
    // Same clientId and baseUrl, wrong secret: its own key, so its own token request.
    let (intruder, _, t) = options().secret("guess").store(&store).build();
    assert_eq!(
        token(&intruder).unwrap(),
        "tok-1",
        "the intruder's own transport's first token"
    );
    assert_eq!(t.count(), 1, "it asked the endpoint");
    assert_eq!(store.map.borrow().len(), 2);
    // Even the owner's entry copied under the intruder's key does not open.
    let (owner_entry, _) = store.map.borrow().get(&key()).cloned().unwrap();
    store.map.borrow_mut().insert(key_of("guess"), (owner_entry, 1.0));
    intruder.clear();
    assert_eq!(token(&intruder).unwrap(), "tok-2");
    assert_eq!(t.count(), 2);
}

#[test]
fn values_that_do_not_open_are_invalid_misses_and_get_replaced() {
    let store = MemoryStore::default();
    let ((c, _, t), events) = options().store(&store).build_recording();
    let stored = StoredToken {
        access_token: "stored".into(),
        expires_at: T0 + 3_600_000.0,
        expires_in: Some(3600.0),
        refresh_at: Some(T0 + 3_540_000.0),
    };
    let good = seal_for(&c, &stored);
    let mut tampered = good.clone();
    let last = if tampered.sealed.ends_with('A') { "B" } else { "A" };
    tampered.sealed.replace_range(tampered.sealed.len() - 1.., last);
    let later = SealedEntry {
        expires_at: good.expires_at + 1000.0,
        ..good.clone()
    };
    let earlier_refresh = SealedEntry {
        refresh_at: good.refresh_at - 1000.0,
        ..good.clone()
    };
    let not_base64 = SealedEntry {
        sealed: "not base64!".into(),
        ..good.clone()
    };
    let short = SealedEntry {
        sealed: "AAAA".into(),
        ..good.clone()
    };
    let (intruder, _, _) = options().secret("x").store(&store).build();
    let others = seal_for(&intruder, &stored);
    let bad = [tampered, later, earlier_refresh, not_base64, short, others];
    let n = bad.len();
    for (i, entry) in bad.into_iter().enumerate() {
        store.map.borrow_mut().insert(key(), (entry, 1.0));
        c.clear();
        events.borrow_mut().clear();
        assert_eq!(token(&c).unwrap(), format!("tok-{}", i + 1), "entry {i}");
        stall();
        assert_eq!(
            store_events(&events),
            [
                r#"{"type":"store","op":"get","outcome":"invalid","ms":0.0}"#,
                r#"{"type":"store","op":"set","outcome":"written","ms":0.0}"#,
            ],
            "entry {i}"
        );
    }
    assert_eq!(t.count(), n, "one token request per bad value, no more");
    // The last write replaced the bad value: the next instance has a hit.
    let (next, _, t2) = options().store(&store).build();
    assert_eq!(token(&next).unwrap(), format!("tok-{n}"));
    assert_eq!(t2.count(), 0);
    // The untouched entry opens.
    store.map.borrow_mut().insert(key(), (good, 1.0));
    c.clear();
    assert_eq!(token(&c).unwrap(), "stored");
    // A value of another form (a plain token, as v1 stored it) is invalid too.
    store.plain.set(true);
    c.clear();
    events.borrow_mut().clear();
    assert_eq!(token(&c).unwrap(), format!("tok-{}", n + 1));
    assert_eq!(
        store_events(&events)[0],
        r#"{"type":"store","op":"get","outcome":"invalid","ms":0.0}"#
    );
}

#[test]
fn keys_are_derived_once_at_the_first_store_use_and_a_failed_derivation_skips_the_store() {
    let store = MemoryStore::default();
    let sealer = FakeSealer::default();
    let derivations = Rc::clone(&sealer.derivations);
    let (c, clock, t) = options().store_sealed_by(&store, sealer).build();
    assert_eq!(derivations.get(), 0, "nothing derived by the constructor");
    token(&c).unwrap();
    clock.advance(3_600_000.0);
    token(&c).unwrap();
    let _ = run(Rc::clone(&c).refresh());
    assert_eq!(derivations.get(), 1);
    // free(): the keys go with the secret, and are not derived again.
    c.wipe();
    assert_eq!(c.store_key(), None);
    // No Web Crypto: the store is skipped, the endpoint still serves.
    let sealer = FakeSealer::default();
    sealer.fails.set(true);
    let ((c, _, _), recorded) = options()
        .store_sealed_by(&store, sealer)
        .on(&clock, &t)
        .build_recording();
    store.calls.borrow_mut().clear();
    assert!(token(&c).is_ok());
    stall();
    assert!(store.calls.borrow().is_empty(), "{:?}", store.calls.borrow());
    assert_eq!(store_events(&recorded), read_and_write("error", 0.0));
}

#[test]
fn a_derivation_that_never_ends_costs_timeout_ms_at_most_and_the_caller_gets_its_token() {
    let store = MemoryStore::default();
    let sealer = FakeSealer::default();
    sealer.hangs.set(true);
    let ((c, clock, _), recorded) = options()
        .timeout_ms(500.0)
        .store_sealed_by(&store, sealer)
        .build_recording();
    assert_eq!(token(&c).unwrap(), "tok-1");
    assert_eq!(
        *clock.sleeps.borrow(),
        vec![500.0, 500.0],
        "the read, then the seal, each gave up"
    );
    assert_eq!(store_events(&recorded), read_and_write("timeout", 500.0));
    assert!(store.calls.borrow().is_empty());
}
