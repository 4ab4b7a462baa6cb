//! How each answer of the token endpoint ends: retries with backoff, Retry-After, the final
//! error of each kind, and the answers that are never retried.

use super::*;

#[test]
fn retries_5xx_429_network_and_timeout_with_backoff() {
    let (c, clock, t) = options().max_retries(3.0).build();
    t.push(Ok(answer(500, "")));
    t.push(Ok(answer(429, "")));
    t.push(Err(TransportError::Network("refused".into())));
    t.push(Err(TransportError::Timeout));
    let e = token(&c).unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout);
    assert!(e.retryable());
    assert!(e.message.contains("after 4 attempts"), "{}", e.message);
    // full jitter at 0.5 of 250, 500, 1000 ms
    assert_eq!(*clock.sleeps.borrow(), vec![125.0, 250.0, 500.0]);
    assert_eq!(t.count(), 4);
    assert_eq!(token(&c).unwrap(), "tok-5");
}

#[test]
fn final_errors_of_each_kind() {
    let cases: Vec<(Outcome, ErrorCode, Option<u16>)> = vec![
        (Ok(answer(503, "")), ErrorCode::ServerError, Some(503)),
        (Ok(answer(429, "")), ErrorCode::RateLimited, Some(429)),
        (Err(TransportError::Network("refused".into())), ErrorCode::Network, None),
        (Err(TransportError::Timeout), ErrorCode::Timeout, None),
    ];
    for (outcome, code, status) in cases {
        let (c, _, t) = options().max_retries(1.0).build();
        t.push(outcome.clone());
        t.push(outcome);
        let e = token(&c).unwrap_err();
        assert_eq!((e.code, e.status), (code, status));
        assert!(e.retryable());
        assert_eq!(t.count(), 2);
    }
}

#[test]
fn rejections_and_other_statuses_are_not_retried() {
    for (status, code) in [
        (400, ErrorCode::TokenRejected),
        (401, ErrorCode::TokenRejected),
        (403, ErrorCode::TokenRejected),
        (404, ErrorCode::Http),
        (302, ErrorCode::Http),
        (418, ErrorCode::Http),
    ] {
        let (c, _, t) = client();
        t.push(Ok(answer(
            status,
            r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
        )));
        let e = token(&c).unwrap_err();
        assert_eq!((e.code, e.status), (code, Some(status)));
        assert!(!e.retryable());
        assert_eq!(t.count(), 1, "{status}");
        if code == ErrorCode::TokenRejected {
            assert_eq!(e.oauth_error.as_deref(), Some("invalid_client"));
            assert_eq!(
                e.oauth_error_description.as_deref(),
                Some("Client authentication failed")
            );
            assert!(e.body.is_none());
        } else {
            assert!(e.body.as_deref().is_some_and(|b| b.contains("invalid_client")));
        }
    }
}

#[test]
fn http_error_body_is_cut_at_1kb() {
    let (c, _, t) = client();
    t.push(Ok(answer(404, &"é".repeat(2000))));
    let e = token(&c).unwrap_err();
    assert_eq!(e.body.map(|b| b.len()), Some(1024));
}

#[test]
fn retry_after_replaces_backoff() {
    let (c, clock, t) = client();
    t.push(Ok(retry_after(503, "2")));
    t.push(Ok(retry_after(429, "1")));
    assert_eq!(token(&c).unwrap(), "tok-3");
    assert_eq!(*clock.sleeps.borrow(), vec![2000.0, 1000.0]);
}

#[test]
fn retry_after_as_a_date() {
    let (c, clock, t) = client();
    clock.now.set(784_111_777_000.0); // Sun, 06 Nov 1994 08:49:37 GMT
    t.push(Ok(retry_after(503, "Sun, 06 Nov 1994 08:49:40 GMT")));
    assert_eq!(token(&c).unwrap(), "tok-2");
    assert_eq!(*clock.sleeps.borrow(), vec![3000.0]);
}

#[test]
fn long_retry_after_fails_at_once() {
    let (c, clock, t) = client();
    t.push(Ok(retry_after(429, "120")));
    let e = token(&c).unwrap_err();
    assert_eq!(
        (e.code, e.status, e.retry_after),
        (ErrorCode::RateLimited, Some(429), Some(120.0))
    );
    assert!(clock.sleeps.borrow().is_empty());
    assert_eq!(t.count(), 1);
}

#[test]
fn retry_after_is_reported_on_the_final_error() {
    let (c, _, t) = options().max_retries(0.0).build();
    t.push(Ok(retry_after(503, "5")));
    let e = token(&c).unwrap_err();
    assert_eq!((e.code, e.retry_after), (ErrorCode::ServerError, Some(5.0)));
    assert!(e.message.contains("retry after 5s"));
}

#[test]
fn invalid_answers_are_not_retried() {
    let (c, _, t) = client();
    t.push(Ok(answer(200, "<html>")));
    let e = token(&c).unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::InvalidResponse, Some(200)));
    assert_eq!(t.count(), 1);
    assert_eq!(token(&c).unwrap(), "tok-2");
}

#[test]
fn an_oversized_answer_is_invalid_response() {
    let (c, _, t) = client();
    t.push(Ok(HttpResponse {
        status: 200,
        oversized: true,
        ..HttpResponse::default()
    }));
    let e = token(&c).unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::InvalidResponse, Some(200)));
    assert_eq!(t.count(), 1, "not retried");
    assert_eq!(token(&c).unwrap(), "tok-2");
}

#[test]
fn a_hidden_redirect_is_http_without_status() {
    let (c, _, t) = client();
    t.push(Ok(answer(0, "")));
    let e = token(&c).unwrap_err();
    assert_eq!((e.code, e.status), (ErrorCode::Http, None));
    assert!(e.message.contains("redirect"));
    assert_eq!(t.count(), 1);
}
