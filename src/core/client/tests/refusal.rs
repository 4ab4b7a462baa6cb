//! A token the API refused (401/419): replaced at most once per cool-down.

use super::*;

#[test]
fn clear_and_refused() {
    let (c, _, _) = client();
    let first = run(Rc::clone(&c).get_token()).unwrap();
    c.clear();
    assert_eq!(c.expires_at(), None);
    assert!(c.fresh_token().is_none());
    let second = run(Rc::clone(&c).get_token()).unwrap();
    assert_eq!(second.access_token, "tok-2");
    assert!(c.replace_refused(first.id), "an old token: retry with the newer one");
    assert!(c.fresh_token().is_some(), "which stays");
    assert!(c.replace_refused(second.id));
    assert!(c.fresh_token().is_none());
}

#[test]
fn a_refused_token_is_replaced_at_most_once_per_cooldown() {
    let (c, clock, transport) = options().cooldown_ms(5_000.0).build();
    let first = run(Rc::clone(&c).get_token()).unwrap();
    assert!(c.replace_refused(first.id), "the first refusal gets a new token");
    let second = run(Rc::clone(&c).get_token()).unwrap();
    assert_eq!((second.access_token.as_str(), transport.count()), ("tok-2", 2));
    // The API refuses the new token too: it is kept, the 401 is the answer, until the
    // cool-down ends, however many calls meet it.
    clock.advance(1_000.0);
    for _ in 0..50 {
        assert!(!c.replace_refused(second.id), "cooling down");
    }
    assert_eq!(c.fresh_token().map(|t| t.id), Some(second.id));
    clock.advance(3_999.0);
    assert!(!c.replace_refused(second.id), "1 ms before the end");
    clock.advance(1.0);
    assert!(c.replace_refused(second.id), "the cool-down is over");
    assert!(c.fresh_token().is_none());
    assert_eq!(run(Rc::clone(&c).get_token()).unwrap().access_token, "tok-3");
    assert_eq!(transport.count(), 3, "one token request per cool-down");
    // A refusal of a token already replaced never waits: the call retries with the new one.
    assert!(c.replace_refused(first.id));
}

#[test]
fn a_zero_cooldown_replaces_every_refused_token() {
    let (c, _, transport) = options().cooldown_ms(0.0).build();
    for n in 1..=3 {
        let token = run(Rc::clone(&c).get_token()).unwrap();
        assert!(c.replace_refused(token.id));
        assert_eq!(transport.count(), n);
    }
}
