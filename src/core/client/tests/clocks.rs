//! A fleet whose clocks disagree: a stored token lives no longer than its lifetime, and the
//! time left the store measured wins over every clock.

use super::*;

/// A 30 s token with a 15 s refresh window, written by an instance whose clock is
/// `writer_offset_ms` off this one's, `age_ms` after it was fetched.
fn written_by(writer_offset_ms: f64, age_ms: f64) -> StoredToken {
    let expires_at = T0 + writer_offset_ms + 30_000.0 - age_ms;
    StoredToken {
        access_token: "shared".into(),
        expires_at,
        expires_in: Some(30.0),
        refresh_at: Some(expires_at - 15_000.0),
    }
}

#[test]
fn a_stored_token_lives_at_most_its_own_lifetime_after_it_was_first_seen() {
    // Issue 19: a writer 10 min ahead made a 30 s token look good for 10 more minutes.
    let (c, clock, _) = client();
    let token = c.accept_stored(written_by(600_000.0, 0.0), None).unwrap();
    assert_eq!((token.expires_at, token.refresh_at), (T0 + 30_000.0, T0 + 15_000.0));
    assert_eq!(token.expires_in, 30.0);
    // Read again later (another flight, the same stored value): the clock of the first
    // sighting still counts, so it is never served past its real expiry.
    clock.advance(10_000.0);
    let again = c.accept_stored(written_by(600_000.0, 0.0), None).unwrap();
    assert_eq!((again.expires_at, again.refresh_at), (T0 + 30_000.0, T0 + 15_000.0));
    clock.advance(5_000.0);
    assert!(
        c.accept_stored(written_by(600_000.0, 0.0), None).is_none(),
        "in its refresh window"
    );
    // A new token (another writer's time) is a new first sighting.
    assert!(c.accept_stored(written_by(600_000.0, 1.0), None).is_some());
    // A writer behind: the stored times say less than the truth; this reader refreshes
    // early, never late.
    let (c, _, _) = client();
    let behind = c.accept_stored(written_by(-10_000.0, 0.0), None).unwrap();
    assert_eq!((behind.expires_at, behind.refresh_at), (T0 + 20_000.0, T0 + 5_000.0));
    assert!(c.accept_stored(written_by(-15_000.0, 0.0), None).is_none());
}

#[test]
fn the_time_left_the_store_measured_wins_over_both_clocks_within_the_lifetime() {
    for offset in [-600_000.0, -60_000.0, 0.0, 60_000.0, 600_000.0] {
        let (c, _, _) = client();
        // 12 s into its life by the store's clock: 18 s left, 3 s before the refresh point.
        let token = c.accept_stored(written_by(offset, 12_000.0), Some(18_000.0)).unwrap();
        assert_eq!(
            (token.expires_at, token.refresh_at),
            (T0 + 18_000.0, T0 + 3_000.0),
            "offset {offset}"
        );
        assert!(c.accept_stored(written_by(offset, 15_000.0), Some(15_000.0)).is_none());
    }
    // A store that claims more than the token's lifetime is clamped to it; one that says
    // nothing usable (NaN) is ignored for the stored times.
    let (c, _, _) = client();
    let lying = c.accept_stored(written_by(0.0, 0.0), Some(3_600_000.0)).unwrap();
    assert_eq!(lying.expires_at, T0 + 30_000.0);
    let (c, _, _) = client();
    let nan = c.accept_stored(written_by(0.0, 5_000.0), Some(f64::NAN)).unwrap();
    assert_eq!(nan.expires_at, T0 + 25_000.0);
    assert!(c.accept_stored(written_by(0.0, 0.0), Some(0.0)).is_none());
}

#[test]
fn readers_with_skewed_clocks_share_one_token_and_its_refresh_point() {
    // One store, whose entries carry the time left as it measures it (a Redis PTTL):
    // writer and readers 10 min and 1 min apart each way take the token and refresh it at
    // the one point, however their clocks read its stored times.
    let store = MemoryStore::default();
    let (writer, _, wt) = options().store(&store).build();
    wt.push(Ok(token_answer("short", 30)));
    assert_eq!(token(&writer).unwrap(), "short");
    let key = key();
    let mut entry = store.map.borrow().get(&key).unwrap().0.clone();
    entry.expires_in_ms = Some(20_000.0); // 10 s later by the store's clock
    store.map.borrow_mut().insert(key.clone(), (entry.clone(), 1.0));
    for offset in [-600_000.0, -60_000.0, 60_000.0, 600_000.0] {
        let (reader, clock, t) = options().store(&store).build();
        clock.advance(offset);
        assert_eq!(token(&reader).unwrap(), "short", "offset {offset}");
        assert_eq!(t.count(), 0, "offset {offset}: no token request");
        let now = clock.now.get();
        assert_eq!(reader.expires_at(), Some(now + 20_000.0));
        assert_eq!(reader.fresh_token().map(|t| t.refresh_at), Some(now + 5_000.0));
    }
    // The same entry without the store's measure: the reader 10 min ahead finds it past
    // its refresh point (a miss, its own request), the one 10 min behind takes it for
    // no longer than its lifetime.
    entry.expires_in_ms = None;
    store.map.borrow_mut().insert(key, (entry, 1.0));
    let (ahead, clock, t) = options().store(&store).build();
    clock.advance(600_000.0);
    assert_eq!((token(&ahead).unwrap(), t.count()), ("tok-1".into(), 1));
    let store = MemoryStore::default();
    let (writer, wclock, wt) = options().store(&store).build();
    wclock.advance(600_000.0);
    wt.push(Ok(token_answer("from-the-future", 30)));
    token(&writer).unwrap();
    let (behind, _, t) = options().store(&store).build();
    assert_eq!(token(&behind).unwrap(), "from-the-future");
    assert_eq!((behind.expires_at(), t.count()), (Some(T0 + 30_000.0), 0));
}
