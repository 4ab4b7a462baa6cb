//! Single flight: concurrent callers share one token request, its token or its error;
//! grace, `refresh()`, `clear()` and the workerd isolation rule.

use super::*;

#[test]
fn one_request_for_a_thousand_callers() {
    let (c, _, t) = client();
    let gate = t.push_later();
    let results = spawn_callers(&c, 1000, false);
    stall();
    assert_eq!(t.count(), 1);
    gate.send(Ok(token_answer("shared", 3600))).unwrap();
    stall();
    assert_eq!(results.borrow().len(), 1000);
    assert!(results.borrow().iter().all(|r| r.as_deref() == Ok("shared")));
    assert_eq!(t.count(), 1);
}

#[test]
fn everyone_gets_the_same_error_and_it_is_not_cached() {
    let (c, _, t) = options().max_retries(0.0).build();
    let gate = t.push_later();
    let results = spawn_callers(&c, 10, false);
    stall();
    gate.send(Ok(answer(401, r#"{"error":"invalid_client"}"#))).unwrap();
    stall();
    assert_eq!(results.borrow().len(), 10);
    assert!(results
        .borrow()
        .iter()
        .all(|r| r.as_ref().is_err_and(|e| e.code == ErrorCode::TokenRejected)));
    assert_eq!(token(&c).unwrap(), "tok-2");
}

#[test]
fn grace_serves_the_old_token_but_refresh_rejects() {
    let (c, clock, t) = options().max_retries(0.0).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    clock.advance(3_590_000.0); // inside the 60 s window, 10 s before expiry
    t.push(Ok(answer(503, "")));
    assert_eq!(token(&c).unwrap(), "tok-1");
    t.push(Ok(answer(503, "")));
    let e = run(Rc::clone(&c).refresh()).unwrap_err();
    assert_eq!(e.code, ErrorCode::ServerError);
    clock.advance(10_000.0); // really expired now: no grace
    t.push(Ok(answer(503, "")));
    assert_eq!(token(&c).unwrap_err().code, ErrorCode::ServerError);
    assert_eq!(token(&c).unwrap(), "tok-5");
}

#[test]
fn refresh_replaces_a_valid_token_and_joins_a_flight() {
    let (c, _, t) = client();
    assert_eq!(token(&c).unwrap(), "tok-1");
    assert_eq!(run(Rc::clone(&c).refresh()).unwrap().access_token, "tok-2");
    assert_eq!(token(&c).unwrap(), "tok-2");
    let gate = t.push_later();
    let got = spawn_callers(&c, 3, true);
    stall();
    gate.send(Ok(token_answer("joined", 60))).unwrap();
    stall();
    assert_eq!(*got.borrow(), vec![Ok("joined".to_string()); 3]);
    assert_eq!(t.count(), 3);
}

#[test]
fn an_isolated_waiter_gives_up_a_flight_that_never_lands_once() {
    // workerd: the request that started a token request ended and took its I/O along.
    let (c, clock, t) = client();
    clock.isolated.set(true);
    let _never = t.push_later();
    assert_eq!(token(&c).unwrap(), "tok-2");
    assert_eq!(t.count(), 2);
    assert_eq!(*clock.sleeps.borrow(), vec![c.longest_flight_ms()]);
    // Two flights in a row that never land: the waiter gives up with a timeout.
    c.clear();
    let (_a, _b) = (t.push_later(), t.push_later());
    let e = token(&c).unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout);
    assert_eq!(t.count(), 4);
    // Without isolation a waiter waits for the flight however long it takes.
    clock.isolated.set(false);
    let gate = t.push_later();
    let got = spawn_callers(&c, 1, false);
    stall();
    assert!(got.borrow().is_empty());
    gate.send(Ok(token_answer("late", 3600))).unwrap();
    stall();
    assert_eq!(*got.borrow(), vec![Ok("late".to_string())]);
}

#[test]
fn clear_does_not_cancel_a_flight() {
    let (c, _, t) = client();
    let gate = t.push_later();
    let got = Rc::new(RefCell::new(None));
    let (c2, g) = (Rc::clone(&c), Rc::clone(&got));
    spawn(async move {
        let v = c2.get_token().await.map(|t| t.access_token.to_string());
        *g.borrow_mut() = Some(v);
    });
    stall();
    c.clear();
    gate.send(Ok(token_answer("late", 3600))).unwrap();
    stall();
    assert_eq!(*got.borrow(), Some(Ok("late".to_string())));
}

/// The one token path: what `token_now` answers at once, and what its pending handle shares.
#[test]
fn token_now_answers_fresh_or_pending() {
    let (c, _, t) = client();
    let hits = || c.events().stats.cache_hits.get();
    let gate = t.push_later();
    let (TokenNow::Pending(first), TokenNow::Pending(second)) = (c.token_now(), c.token_now()) else {
        panic!("nothing cached yet")
    };
    assert!(first.same_request(&second), "one token request for both");
    assert_eq!((t.count(), hits()), (0, 0), "started as a task of its own");
    stall();
    assert_eq!(t.count(), 1);
    gate.send(Ok(token_answer("a", 3600))).unwrap();
    let token = run(first.clone().wait()).unwrap();
    assert_eq!(run(second.wait()).unwrap().id, token.id);
    let TokenNow::Fresh(fresh) = c.token_now() else {
        panic!("cached now")
    };
    assert_eq!((fresh.id, hits()), (token.id, 1), "a fresh answer is a cache hit");
    // A later token request is another request.
    c.clear();
    let TokenNow::Pending(third) = c.token_now() else {
        panic!("cleared")
    };
    assert!(!third.same_request(&first));
    assert_eq!(run(third.wait()).unwrap().access_token, "tok-2");
}

#[test]
fn isolated_callers_wait_each_in_their_own_request_and_read_the_cache_first() {
    let (c, clock, t) = client();
    clock.isolated.set(true);
    let (TokenNow::Pending(first), TokenNow::Pending(second)) = (c.token_now(), c.token_now()) else {
        panic!("nothing cached yet")
    };
    assert!(!first.same_request(&second), "no promise shared across requests");
    assert_eq!(t.count(), 0, "nothing starts until a caller waits");
    assert_eq!(run(first.wait()).unwrap().access_token, "tok-1");
    // The token landed since the second caller asked: served from memory, no request.
    assert_eq!(run(second.wait()).unwrap().access_token, "tok-1");
    assert_eq!((t.count(), c.events().stats.cache_hits.get()), (1, 1));
}

#[test]
fn a_pending_token_falls_back_on_grace() {
    let (c, clock, t) = options().max_retries(0.0).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    clock.advance(3_590_000.0); // inside the refresh window, 10 s before expiry
    t.push(Ok(answer(503, "")));
    let TokenNow::Pending(pending) = c.token_now() else {
        panic!("in the refresh window")
    };
    assert_eq!(run(pending.wait()).unwrap().access_token, "tok-1");
}

/// A token request's handle on its own.
#[test]
fn every_waiter_gets_the_result_its_flight_lands_with() {
    let (c, _, _) = client();
    let flight = Flight::new(FakeLatch::default());
    let settled = Rc::new(Cell::new(0));
    for _ in 0..3 {
        let (waiter, settled) = (flight.clone(), Rc::clone(&settled));
        spawn(async move {
            assert_eq!(waiter.wait().await.unwrap().access_token, "tok-1");
            settled.set(settled.get() + 1);
        });
    }
    stall();
    assert_eq!(settled.get(), 0, "nobody settles before it lands");
    flight.land(run(Rc::clone(&c).get_token()));
    stall();
    assert_eq!(settled.get(), 3);
    // A waiter that comes later gets the same result at once.
    assert!(run(flight.clone().wait()).is_ok());
    // A latch opened without a result: an abandoned request.
    let latch = FakeLatch::default();
    let abandoned = Flight::new(latch.clone());
    assert!(abandoned.same(&abandoned.clone()) && !abandoned.same(&flight));
    latch.open();
    assert_eq!(run(abandoned.wait()).unwrap_err().code, ErrorCode::Network);
}
