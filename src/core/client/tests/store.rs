//! The shared token store: read before the endpoint, written after, released, deleted on
//! refusal; a broken, hanging or failing store degrades to the endpoint.

use super::*;

#[test]
fn the_store_is_read_before_the_endpoint_and_written_after() {
    let store = MemoryStore::default();
    let (c, _, t) = options().store(&store).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    let key = key();
    assert_eq!(
        *store.calls.borrow(),
        vec![format!("get {key}"), format!("set {key} 3600")]
    );
    // A second instance sharing the store makes no token request.
    let (c2, _, t2) = options().store(&store).build();
    assert_eq!(token(&c2).unwrap(), "tok-1");
    assert_eq!((t.count(), t2.count()), (1, 0));
    // and serves it from memory afterwards
    assert_eq!(token(&c2).unwrap(), "tok-1");
    assert_eq!(store.calls.borrow().len(), 3);
}

#[test]
fn stored_tokens_obey_the_skew_and_bad_ones_are_ignored() {
    let store = MemoryStore::default();
    let (c, clock, t) = options().store(&store).build();
    let put = |tok: &str, at: f64, refresh_at: f64| {
        let stored = StoredToken {
            access_token: tok.into(),
            expires_at: at,
            expires_in: Some(3600.0),
            refresh_at: Some(refresh_at),
        };
        store.map.borrow_mut().insert(key(), (seal_for(&c, &stored), 1.0));
    };
    put("fresh", T0 + 90_000.0, T0 + 30_000.0); // 30 s before its refresh point
    assert_eq!(token(&c).unwrap(), "fresh");
    assert_eq!(c.expires_at(), Some(T0 + 90_000.0));
    clock.advance(30_000.0); // now at its refresh point: memory and store are both too old
    assert_eq!(token(&c).unwrap(), "tok-1");
    c.clear();
    let now = clock.now.get();
    put("past-refresh-point", now + 59_000.0, now - 1.0);
    assert_eq!(token(&c).unwrap(), "tok-2");
    c.clear();
    put("bad token", T0 + 3_600_000.0, T0 + 3_500_000.0);
    assert_eq!(token(&c).unwrap(), "tok-3");
    c.clear();
    put("nan", f64::NAN, f64::NAN);
    assert_eq!(token(&c).unwrap(), "tok-4");
    assert_eq!(t.count(), 4);
}

#[test]
fn a_broken_or_hanging_store_degrades_to_the_endpoint() {
    let store = MemoryStore::default();
    store.broken.set(true);
    let (c, _, t) = options().store(&store).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    let store = MemoryStore::default();
    store.hang.set(true);
    let (c, clock, _) = options().timeout_ms(500.0).store(&store).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    // The read gave up after timeoutMs; the caller did not wait for the write, which
    // gives up after timeoutMs in the background.
    assert_eq!(*clock.sleeps.borrow(), vec![500.0]);
    stall();
    assert_eq!(*clock.sleeps.borrow(), vec![500.0, 500.0]);
    assert_eq!(t.count(), 1);
}

#[test]
fn refresh_skips_the_store_read_and_a_refusal_deletes() {
    let store = MemoryStore::default();
    let (c, _, _) = options().store(&store).build();
    let first = run(Rc::clone(&c).get_token()).unwrap();
    let second = run(Rc::clone(&c).refresh()).unwrap();
    assert_eq!(second.access_token, "tok-2");
    // The store holds the new token: another instance gets it without a request.
    let (reader, _, t) = options().store(&store).build();
    assert_eq!((token(&reader).unwrap(), t.count()), ("tok-2".into(), 0));
    let key = key();
    assert!(c.replace_refused(first.id)); // an old token: nothing deleted
    assert!(store.map.borrow().contains_key(&key));
    let current = c.fresh_token().unwrap();
    assert!(c.replace_refused(current.id));
    assert!(!store.map.borrow().contains_key(&key));
    assert!(c.fresh_token().is_none());
}

#[test]
fn a_request_that_followed_a_miss_releases_the_store_when_it_has_nothing_to_share() {
    let store = MemoryStore::default();
    let (c, _, t) = options().max_retries(0.0).store(&store).build();
    t.push(Ok(answer(503, "")));
    assert_eq!(token(&c).unwrap_err().code, ErrorCode::ServerError);
    stall();
    assert_eq!(
        *store.calls.borrow(),
        vec![format!("get {}", key()), format!("release {}", key())]
    );
    // A use-once token: nothing to set, the store is released.
    store.calls.borrow_mut().clear();
    t.push(Ok(token_answer("once", 0)));
    assert_eq!(token(&c).unwrap(), "once");
    stall();
    assert_eq!(
        *store.calls.borrow(),
        vec![format!("get {}", key()), format!("release {}", key())]
    );
    // refresh() skips the read: no miss, nothing to release.
    store.calls.borrow_mut().clear();
    t.push(Ok(answer(503, "")));
    assert!(run(Rc::clone(&c).refresh()).is_err());
    stall();
    assert!(store.calls.borrow().is_empty(), "{:?}", store.calls.borrow());
}

#[test]
fn a_failure_the_store_shares_ends_the_request_without_asking_the_endpoint() {
    let store = MemoryStore::default();
    let (c, clock, t) = options().store(&store).build();
    let mut shared = Error::new(ErrorCode::ServerError, "the broker's token request failed").with_status(503);
    shared.retry_after = Some(61.0);
    *store.failure.borrow_mut() = Some(shared);
    let e = token(&c).unwrap_err();
    assert_eq!(
        (e.code, e.status, e.retry_after),
        (ErrorCode::ServerError, Some(503), Some(61.0))
    );
    assert_eq!(t.count(), 0, "the endpoint was not asked");
    // With a token that has not expired yet, grace serves it instead.
    *store.failure.borrow_mut() = None;
    assert_eq!(token(&c).unwrap(), "tok-1");
    clock.advance(3_590_000.0); // inside the refresh window
    *store.failure.borrow_mut() = Some(Error::new(ErrorCode::ServerError, "failed"));
    assert_eq!(token(&c).unwrap(), "tok-1");
    assert_eq!(t.count(), 1);
}

#[test]
fn zero_lifetime_tokens_are_not_stored() {
    let store = MemoryStore::default();
    let (c, _, t) = options().store(&store).build();
    t.push(Ok(token_answer("once", 0)));
    assert_eq!(token(&c).unwrap(), "once");
    assert!(store.map.borrow().is_empty());
}

#[test]
fn a_token_fetched_while_the_store_was_unavailable_gives_way_to_the_stores_at_the_next_read() {
    let store = MemoryStore::default();
    let (shared_writer, _, wt) = options().store(&store).build();
    wt.push(Ok(token_answer("the-fleets", 3600)));
    store.broken.set(true);
    let (c, _, t) = options().store(&store).build();
    assert_eq!(token(&c).unwrap(), "tok-1", "the store failed: its own token");
    store.broken.set(false);
    assert_eq!(token(&shared_writer).unwrap(), "the-fleets");
    let reads = || store.calls.borrow().iter().filter(|c| c.starts_with("get")).count();
    let before = reads();
    // The next read asks the store once more, and takes the fleet's token.
    assert!(c.fresh_token().is_none() && c.has_fresh_token());
    assert_eq!(token(&c).unwrap(), "the-fleets");
    assert_eq!(reads(), before + 1);
    // From then on, memory: no store round trip on the healthy cached path.
    assert_eq!(token(&c).unwrap(), "the-fleets");
    assert_eq!((reads(), t.count()), (before + 1, 1));

    // Still unavailable at the next read: the own token is kept, and the store is read
    // once more, no more (bounded).
    let store = MemoryStore::default();
    store.broken.set(true);
    let (c, _, t) = options().store(&store).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    let before = store.calls.borrow().len();
    for _ in 0..3 {
        assert_eq!(token(&c).unwrap(), "tok-1");
    }
    assert_eq!(store.calls.borrow()[before..], [format!("get {}", key())]);
    assert_eq!(t.count(), 1);

    // A store that timed out is not read again: that would cost another timeoutMs.
    let store = MemoryStore::default();
    store.hang.set(true);
    let (c, _, _) = options().timeout_ms(500.0).store(&store).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    let before = store.calls.borrow().len();
    assert_eq!(token(&c).unwrap(), "tok-1");
    assert_eq!(store.calls.borrow().len(), before);

    // Back and empty: the own token is shared (written), not replaced.
    let store = MemoryStore::default();
    store.broken.set(true);
    let (c, _, t) = options().store(&store).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    store.broken.set(false);
    let before = store.calls.borrow().len();
    assert_eq!(token(&c).unwrap(), "tok-1");
    stall();
    let key = key();
    assert_eq!(
        store.calls.borrow()[before..],
        [format!("get {key}"), format!("set {key} 3600")]
    );
    let (reader, _, rt) = options().store(&store).build();
    assert_eq!((token(&reader).unwrap(), rt.count(), t.count()), ("tok-1".into(), 0, 1));
}
