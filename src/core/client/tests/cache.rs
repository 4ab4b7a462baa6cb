//! What is cached and for how long: the request sent, the skew window, use-once tokens.

use super::*;

#[test]
fn sends_the_documented_request() {
    let (c, _, t) = client();
    assert_eq!(token(&c).unwrap(), "tok-1");
    let sent = t.sent.borrow();
    let req = &sent[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://api.cedato.com/api/token");
    assert_eq!(req.body.as_deref(), Some("grant_type=client_credentials"));
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (k.as_ref(), v.as_str())).collect();
    assert_eq!(
        headers,
        vec![
            ("accept", "application/json"),
            ("api-version", "1"),
            ("authorization", "Basic aWQ6czNjcmV0"),
            ("content-type", "application/x-www-form-urlencoded"),
        ]
    );
}

#[test]
fn caches_until_the_skew_window() {
    let (c, clock, t) = client();
    let first = run(Rc::clone(&c).get_token()).unwrap();
    assert_eq!(first.expires_at, T0 + 3_600_000.0);
    assert_eq!(first.authorization, "Bearer tok-1");
    assert_eq!(c.expires_at(), Some(T0 + 3_600_000.0));
    clock.advance(3_600_000.0 - 60_001.0);
    assert_eq!(token(&c).unwrap(), "tok-1");
    assert!(c.fresh_token().is_some());
    clock.advance(1.0); // now exactly expires_at - skew: refreshed
    assert!(c.fresh_token().is_none());
    assert_eq!(token(&c).unwrap(), "tok-2");
    assert_eq!(t.count(), 2);
}

#[test]
fn skew_is_at_most_half_the_lifetime() {
    let (c, clock, t) = client();
    t.push(Ok(token_answer("short", 10)));
    assert_eq!(token(&c).unwrap(), "short");
    clock.advance(4_999.0);
    assert_eq!(token(&c).unwrap(), "short");
    clock.advance(1.0);
    assert_eq!(token(&c).unwrap(), "tok-2");
}

#[test]
fn zero_skew_still_caches() {
    let (c, clock, t) = options().with(|o| o.refresh_skew_seconds = Some(0.0)).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    clock.advance(3_599_999.0);
    assert_eq!(token(&c).unwrap(), "tok-1");
    clock.advance(1.0);
    assert_eq!(token(&c).unwrap(), "tok-2");
    assert_eq!(t.count(), 2);
}

#[test]
fn zero_lifetime_tokens_are_used_once() {
    let (c, _, t) = client();
    t.push(Ok(token_answer("once", 0)));
    assert_eq!(token(&c).unwrap(), "once");
    assert_eq!(c.expires_at(), None);
    assert_eq!(token(&c).unwrap(), "tok-2");
}

#[test]
fn expires_at_counts_from_the_send_time() {
    struct SlowTransport(FakeClock);
    impl Transport for SlowTransport {
        fn send(&self, _: &HttpRequest, _: f64) -> LocalFuture<Outcome> {
            self.0.advance(5_000.0); // the answer takes 5 s
            Box::pin(async { Ok(token_answer("slow", 100)) })
        }
    }
    let options = options();
    let slow = SlowTransport(options.clock.clone());
    let c = options.build_over(slow);
    let t = run(Rc::clone(&c).get_token()).unwrap();
    assert_eq!(t.expires_at, T0 + 100_000.0);
    assert_eq!(t.refresh_at, T0 + 50_000.0);
}
