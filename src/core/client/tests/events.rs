//! The events `onEvent` sees and the stats, and a sink that calls back into the client.

use super::*;

fn stats_json(c: &Rc<Client>) -> String {
    serde_json::to_string(&c.events().stats).unwrap()
}

#[test]
fn events_of_a_retried_token_request_and_nothing_for_cached_calls() {
    let ((c, _, t), events) = options().build_recording();
    t.push(Ok(retry_after(429, "2")));
    t.push(Ok(answer(503, "")));
    assert_eq!(token(&c).unwrap(), "tok-3");
    assert_eq!(
        *events.borrow(),
        [
            r#"{"type":"retry","attempt":1,"code":"rate_limited","status":429,"waitMs":2000.0,"retryAfter":2.0}"#,
            r#"{"type":"retry","attempt":2,"code":"server_error","status":503,"waitMs":250.0,"retryAfter":null}"#,
            r#"{"type":"token","source":"endpoint","attempts":3,"ms":2250.0,"expiresAt":1800003602250.0}"#,
        ]
    );
    // Served from memory: counted, not reported.
    assert_eq!(token(&c).unwrap(), "tok-3");
    assert_eq!(token(&c).unwrap(), "tok-3");
    assert_eq!(events.borrow().len(), 3);
    assert_eq!(
        stats_json(&c),
        r#"{"tokenRequests":3,"storeHits":0,"cacheHits":2,"retries":2,"failures":0,"graceServed":0,"apiCalls":0,"apiRetries":0}"#
    );
}

#[test]
fn events_of_a_failure_and_of_grace() {
    let ((c, clock, t), events) = options().max_retries(0.0).build_recording();
    t.push(Err(TransportError::Network("refused".into())));
    assert_eq!(token(&c).unwrap_err().code, ErrorCode::Network);
    assert_eq!(
        events.borrow().last().unwrap(),
        r#"{"type":"failure","code":"network","status":null,"attempts":1,"ms":0.0}"#
    );
    assert_eq!(token(&c).unwrap(), "tok-2");
    clock.advance(3_590_000.0); // inside the refresh window, not expired
    t.push(Ok(answer(401, r#"{"error":"invalid_client"}"#)));
    let got = spawn_callers(&c, 2, false);
    stall();
    assert_eq!(got.borrow().len(), 2);
    let tail: Vec<String> = events.borrow()[2..].to_vec();
    assert_eq!(
        tail,
        [
            r#"{"type":"failure","code":"token_rejected","status":401,"attempts":1,"ms":0.0}"#,
            r#"{"type":"grace","code":"token_rejected"}"#,
            r#"{"type":"grace","code":"token_rejected"}"#,
        ]
    );
    let stats = stats_json(&c);
    assert!(stats.contains(r#""failures":2,"graceServed":2"#), "{stats}");
    // No event carries the secret, the Basic value or a token.
    for e in events.borrow().iter() {
        assert!(
            !e.contains("s3cret") && !e.contains("aWQ6czNjcmV0") && !e.contains("tok-"),
            "{e}"
        );
    }
}

#[test]
fn store_events_say_how_each_call_ended() {
    let store = MemoryStore::default();
    let ((c, _, _), events) = options().store(&store).build_recording();
    assert_eq!(token(&c).unwrap(), "tok-1");
    stall();
    assert_eq!(
        *events.borrow(),
        [
            r#"{"type":"store","op":"get","outcome":"miss","ms":0.0}"#,
            r#"{"type":"token","source":"endpoint","attempts":1,"ms":0.0,"expiresAt":1800003600000.0}"#,
            r#"{"type":"store","op":"set","outcome":"written","ms":0.0}"#,
        ]
    );
    // Another instance finds it there.
    let ((other, _, t), other_events) = options().store(&store).build_recording();
    assert_eq!(token(&other).unwrap(), "tok-1");
    assert_eq!(t.count(), 0);
    assert_eq!(
        *other_events.borrow(),
        [
            r#"{"type":"store","op":"get","outcome":"hit","ms":0.0}"#,
            r#"{"type":"token","source":"store","attempts":0,"ms":0.0,"expiresAt":1800003600000.0}"#,
        ]
    );
    assert!(stats_json(&other).contains(r#""tokenRequests":0,"storeHits":1"#));
    // A broken store: errors; a hanging one: timeouts.
    store.broken.set(true);
    let ((broken, _, _), events) = options().store(&store).build_recording();
    assert_eq!(token(&broken).unwrap(), "tok-1");
    stall();
    assert_eq!(store_events(&events), read_and_write("error", 0.0));
    store.broken.set(false);
    store.hang.set(true);
    let ((hung, _, _), events) = options().timeout_ms(500.0).store(&store).build_recording();
    assert_eq!(token(&hung).unwrap(), "tok-1");
    stall();
    assert_eq!(store_events(&events), read_and_write("timeout", 500.0));
}

#[test]
fn a_sink_that_calls_back_into_the_client_changes_nothing() {
    // The sink runs user code: it may ask for the token (re-entrancy), with no borrow held.
    let client: Rc<RefCell<Option<Rc<Client>>>> = Rc::default();
    let seen: Recorded = Rc::default();
    let (inner, log) = (Rc::clone(&client), Rc::clone(&seen));
    let (c, _, t) = options()
        .on_event(move |e| {
            let c = inner.borrow().clone().unwrap();
            c.clear();
            let _ = c.fresh_token();
            c.events().stats.cache_hits.get();
            log.borrow_mut().push(serde_json::to_string(e).unwrap());
        })
        .build();
    *client.borrow_mut() = Some(Rc::clone(&c));
    t.push(Ok(answer(500, "")));
    assert_eq!(token(&c).unwrap(), "tok-2");
    assert_eq!(seen.borrow().len(), 2);
    client.borrow_mut().take();
}
