//! `free()` (`wipe`) while calls are pending: what they settle with and what is kept.

use super::*;

#[test]
fn free_during_a_call_keeps_the_redaction_set_until_it_settles() {
    let (c, _, t) = options().max_retries(0.0).build();
    let call = c.pending_call();
    let gate = t.push_later();
    let got: Rc<RefCell<Option<FlightResult>>> = Rc::default();
    let (c2, g) = (Rc::clone(&c), Rc::clone(&got));
    spawn(async move {
        let result = Rc::clone(&c2).get_token().await;
        *g.borrow_mut() = Some(result.map_err(|e| c2.settled_error(e).into_error()));
    });
    stall();
    c.wipe();
    assert_eq!(&*c.config().client_secret(), "s3cret", "kept while a call is pending");
    gate.send(Ok(answer(401, r#"{"error":"Basic aWQ6czNjcmV0 s3cret"}"#)))
        .unwrap();
    stall();
    let e = got.borrow_mut().take().unwrap().unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::InvalidRequest, None));
    assert_eq!(e.message, FREED_WHILE_PENDING);
    assert_eq!((e.oauth_error, e.body), (None, None));
    // Redaction still knows the secret until the call settles.
    assert_eq!(c.redact("s3cret"), "[redacted]");
    drop(call);
    assert_eq!(
        &*c.config().client_secret(),
        "",
        "overwritten when the last call settled"
    );
    assert_eq!(&*c.config().basic_authorization(), "");
}

#[test]
fn an_error_that_settles_after_free_keeps_no_server_text() {
    let (c, _, t) = options().max_retries(0.0).build();
    t.push(Ok(HttpResponse {
        retry_after: Some("7".into()),
        ..answer(429, r#"{"error":"slow down"}"#)
    }));
    let e = token(&c).unwrap_err();
    assert_eq!(c.settled_error(e.clone()).into_error(), e, "unchanged before free()");
    c.wipe();
    let freed = c.settled_error(e).into_error();
    assert_eq!(
        (freed.code, freed.status, freed.retry_after),
        (ErrorCode::RateLimited, Some(429), Some(7.0))
    );
    assert_eq!(freed.message, FREED_WHILE_PENDING);
}

#[test]
fn a_token_that_lands_after_free_is_not_kept() {
    let (c, _, t) = client();
    let gate = t.push_later();
    let got = spawn_callers(&c, 2, false);
    stall();
    c.wipe();
    gate.send(Ok(token_answer("late-token", 3600))).unwrap();
    stall();
    for result in got.borrow().iter() {
        let e = result.clone().unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }
    assert_eq!(c.expires_at(), None);
    assert_eq!(c.redact("late-token"), "late-token", "not among the tokens held");
}
