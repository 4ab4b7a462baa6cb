//! The state's decisions called directly, with no driver: `after_attempt`, `land`,
//! `replace_refused`, `store_entry` and `accept_stored`.

use super::*;

#[test]
fn after_attempt_decides_after_each_attempt() {
    let (c, _, _) = options().max_retries(2.0).build();
    match c.after_attempt(Ok(token_answer("a", 3600)), T0, 1) {
        AfterAttempt::Token(t) => assert_eq!((t.access_token.as_str(), t.expires_at), ("a", T0 + 3_600_000.0)),
        other => panic!("{other:?}"),
    }
    // Nothing is cached until the token lands.
    assert!(c.fresh_token().is_none());
    // Full jitter (0.5 here) of 250 ms, then Retry-After, then the retries are spent.
    assert!(
        matches!(c.after_attempt(Ok(answer(503, "")), T0, 1), AfterAttempt::RetryIn { wait_ms: w, .. } if w == 125.0)
    );
    assert!(
        matches!(c.after_attempt(Ok(retry_after(429, "7")), T0, 2), AfterAttempt::RetryIn { wait_ms: w, .. } if w == 7000.0)
    );
    assert!(
        matches!(c.after_attempt(Ok(answer(503, "")), T0, 3), AfterAttempt::GiveUp(e) if e.code == ErrorCode::ServerError)
    );
    assert!(
        matches!(c.after_attempt(Ok(retry_after(503, "61")), T0, 1), AfterAttempt::GiveUp(e) if e.retry_after == Some(61.0))
    );
    assert!(
        matches!(c.after_attempt(Ok(answer(401, "")), T0, 1), AfterAttempt::GiveUp(e) if e.code == ErrorCode::TokenRejected)
    );
    assert!(matches!(
        c.after_attempt(Err(TransportError::Timeout), T0, 1),
        AfterAttempt::RetryIn { .. }
    ));
    assert!(
        matches!(c.after_attempt(Ok(answer(200, "{}")), T0, 1), AfterAttempt::GiveUp(e) if e.code == ErrorCode::InvalidResponse)
    );
    // Three attempts at 10 s, two 60 s Retry-After waits, no store, a second of slack.
    assert_eq!(c.longest_flight_ms(), 3.0 * 10_000.0 + 2.0 * 60_000.0 + 1000.0);
}

#[test]
fn after_attempt_takes_attempt_zero_without_panicking() {
    // `after_attempt` is public: attempt 0 once underflowed in `attempt - 1` (a panic natively).
    let (c, _, _) = client();
    assert!(
        matches!(c.after_attempt(Err(TransportError::Timeout), T0, 0), AfterAttempt::RetryIn { wait_ms: w, .. } if w == 125.0)
    );
    assert!(
        matches!(c.after_attempt(Ok(answer(503, "")), T0, 0), AfterAttempt::RetryIn { wait_ms: w, .. } if w == 125.0)
    );
}

#[test]
fn land_refuse_and_store_entries() {
    let (c, _, _) = client();
    let AfterAttempt::Token(token) = c.after_attempt(Ok(token_answer("a", 3600)), T0, 1) else {
        panic!("a token")
    };
    let (stored, ttl) = c.store_entry(&token).expect("shared");
    assert_eq!(
        (stored.access_token.as_str(), stored.expires_at, stored.expires_in, ttl),
        ("a", T0 + 3_600_000.0, Some(3600.0), 3600.0)
    );
    assert_eq!(
        stored.refresh_at,
        Some(token.refresh_at),
        "the store gets the refresh point"
    );
    c.land(&token);
    assert_eq!(c.fresh_token().map(|t| t.id), Some(token.id));
    assert!(c.replace_refused(token.id + 1));
    assert!(c.fresh_token().is_some(), "another token's id keeps the cached one");
    assert!(c.replace_refused(token.id));
    assert!(c.fresh_token().is_none());
    // The refused token is not taken from a store that still holds it; another one is.
    let in_store = |access_token: &str| StoredToken {
        access_token: access_token.into(),
        expires_at: T0 + 3_600_000.0,
        expires_in: Some(3600.0),
        refresh_at: None,
    };
    assert!(c.accept_stored(in_store("a"), None).is_none());
    assert!(c.accept_stored(in_store("b"), None).is_some());
    // A use-once token is neither cached nor shared.
    let AfterAttempt::Token(once) = c.after_attempt(Ok(token_answer("b", 0)), T0, 1) else {
        panic!("a token")
    };
    c.land(&once);
    assert!(c.fresh_token().is_none() && c.store_entry(&once).is_none());
    // A stored token of unknown lifetime is taken only outside the whole refresh window.
    let stored = |expires_at: f64, expires_in: Option<f64>| StoredToken {
        access_token: "s".into(),
        expires_at,
        expires_in,
        refresh_at: None,
    };
    assert!(c.accept_stored(stored(T0 + 120_000.0, None), None).is_some());
    assert!(c.accept_stored(stored(T0 + 59_000.0, None), None).is_none());
    // With its lifetime, the rule of a fetched token: a 60 s token is refreshed 30 s
    // before it expires (min(60, 60 / 2)), so 31 s left is fresh and 30 s is not.
    let short = c
        .accept_stored(stored(T0 + 31_000.0, Some(60.0)), None)
        .map(|t| t.refresh_at);
    assert_eq!(short, Some(T0 + 1_000.0));
    assert!(c.accept_stored(stored(T0 + 30_000.0, Some(60.0)), None).is_none());
    // A long-lived one keeps the whole skew; a lifetime that is not a positive number
    // counts as unknown.
    assert!(c.accept_stored(stored(T0 + 59_000.0, Some(3600.0)), None).is_none());
    assert!(c.accept_stored(stored(T0 + 31_000.0, Some(f64::NAN)), None).is_none());
    assert!(c.accept_stored(stored(T0 + 31_000.0, Some(-60.0)), None).is_none());
    // The refresh point its writer decided wins over this reader's own skew (60 s here):
    // a writer with a 65 s skew stops the token being used 65 s before it expires, one
    // with 10 s lets it be used until 10 s before.
    let with_point = |left_s: f64, refresh_before_s: f64| {
        let mut token = stored(T0 + left_s * 1000.0, Some(3600.0));
        token.refresh_at = Some(T0 + (left_s - refresh_before_s) * 1000.0);
        token
    };
    assert!(c.accept_stored(with_point(63.0, 65.0), None).is_none());
    let late = c.accept_stored(with_point(30.0, 10.0), None).map(|t| t.refresh_at);
    assert_eq!(late, Some(T0 + 20_000.0));
    // Bounds: no token larger than 4 KB; none that lives more than a year from now
    // (clamped, not refused).
    let mut large = stored(T0 + 3_600_000.0, Some(3600.0));
    large.access_token = "x".repeat(4097);
    assert!(c.accept_stored(large, None).is_none());
    let far = stored(T0 + 50.0 * 365.0 * 86_400_000.0, None);
    let year = T0 + 365.0 * 86_400_000.0;
    assert_eq!(c.accept_stored(far, None).map(|t| t.expires_at), Some(year));
    assert!(c.accept_stored(stored(year, None), None).is_some());
}
