//! The Rust front over the core's fakes (fake clock, scripted transport): options, the
//! call loop's origin rule, headers, redirects, the 401/419 retry, errors and redaction.

use std::time::Duration;

use super::whatwg::parse_url;
use super::*;
use crate::core::client::tests::{answer, run, token_answer, FakeClock, FakeTransport};
use crate::core::http::HttpResponse;
use crate::core::{Clock, ErrorCode, TransportError};

impl ParseUrl for FakeClock {
    fn parse(&self, input: &str, base: &str, query: &[(String, String)]) -> Option<ParsedUrl> {
        parse_url(input, base, query)
    }
}

const BASE: &str = "https://api.example.com/api/";

fn options() -> Options {
    Options {
        base_url: Some(BASE.into()),
        ..Options::new("id", "s3cret")
    }
}

fn client_with(options: Options) -> (LocalClient<FakeClock, FakeTransport>, FakeClock, FakeTransport) {
    let (clock, transport) = (FakeClock::new(), FakeTransport::default());
    let client = LocalClient::new(options, clock.clone(), transport.clone()).unwrap();
    (client, clock, transport)
}

fn client() -> (LocalClient<FakeClock, FakeTransport>, FakeClock, FakeTransport) {
    client_with(options())
}

fn redirect(status: u16, location: &str) -> HttpResponse {
    HttpResponse {
        headers: vec![("location".into(), location.into())],
        ..answer(status, "")
    }
}

/// The URL and a header of each request the transport was given.
fn sent(transport: &FakeTransport, header: &str) -> Vec<(String, Option<String>)> {
    let sent = transport.sent.borrow();
    sent.iter()
        .map(|r| {
            let value = r.headers.iter().find(|(n, _)| *n == header).map(|(_, v)| v.to_string());
            (r.url.clone(), value)
        })
        .collect()
}

#[test]
fn options_take_the_cores_defaults_and_validation() {
    let (c, _, _) = client_with(Options::new("id", "s3cret"));
    let config = c.config();
    assert_eq!(config.base_url, "https://api.cedato.com/api/");
    assert_eq!((config.timeout_ms, config.max_retries), (10_000.0, 2));
    assert_eq!(
        (config.refresh_skew_seconds, config.unauthorized_cooldown_ms),
        (60.0, 5_000.0)
    );
    assert_eq!(config.api_version, "1");

    let (c, _, _) = client_with(Options {
        timeout: Some(Duration::from_millis(1500)),
        refresh_skew: Some(Duration::from_secs(5)),
        max_retries: Some(0),
        unauthorized_cooldown: Some(Duration::ZERO),
        base_url: Some("https://API.example.com/api".into()),
        ..Options::new("id", "s3cret")
    });
    let config = c.config();
    assert_eq!((config.timeout_ms, config.refresh_skew_seconds), (1500.0, 5.0));
    assert_eq!((config.max_retries, config.unauthorized_cooldown_ms), (0, 0.0));
    assert_eq!(config.base_url, BASE);

    let refused = |options: Options| {
        let error = LocalClient::new(options, FakeClock::new(), FakeTransport::default())
            .err()
            .unwrap();
        assert_eq!(error.code, ErrorCode::InvalidConfig);
        assert!(!error.to_string().contains("s3cret"), "{error}");
        error
    };
    refused(Options::new("a:b", "s3cret"));
    refused(Options::new("id", ""));
    refused(Options {
        timeout: Some(Duration::ZERO),
        ..options()
    });
    refused(Options {
        max_retries: Some(11),
        ..options()
    });
    refused(Options {
        base_url: Some("http://api.example.com/api/".into()),
        ..options()
    });
    let insecure = Options {
        base_url: Some("http://api.example.com/api/".into()),
        allow_insecure_http: true,
        ..options()
    };
    assert!(LocalClient::new(insecure, FakeClock::new(), FakeTransport::default()).is_ok());
}

#[test]
fn the_secret_never_shows_in_debug() {
    let options = options();
    let printed = format!("{options:?}");
    assert!(
        printed.contains("[redacted]") && !printed.contains("s3cret"),
        "{printed}"
    );
    let (c, _, _) = client();
    let token = run(c.token()).unwrap();
    assert_eq!(format!("{token:?}"), "[redacted]");
    assert_eq!(&*token, "tok-1");
}

#[test]
fn tokens_are_cached_and_cleared() {
    let (c, clock, transport) = client();
    assert_eq!(&*run(c.token()).unwrap(), "tok-1");
    assert_eq!(&*run(c.authorization_header()).unwrap(), "Bearer tok-1");
    assert_eq!(transport.count(), 1);
    assert_eq!(c.expires_at(), Some(clock.now_ms() + 3_600_000.0));
    assert!(c.has_valid_token());
    let stats = c.stats();
    assert_eq!((stats.token_requests.get(), stats.cache_hits.get()), (1, 1));
    assert_eq!(&*run(c.refresh()).unwrap(), "tok-2");
    c.clear();
    assert_eq!((c.expires_at(), c.has_valid_token()), (None, false));
    assert_eq!(&*run(c.token()).unwrap(), "tok-3");
    // The refresh point is the core's: skew min(60 s, lifetime / 2) before expiry.
    clock.advance(3_540_000.0);
    assert!(!c.has_valid_token());
    assert_eq!(&*run(c.token()).unwrap(), "tok-4");
}

#[test]
fn a_call_carries_the_token_and_the_callers_headers_but_never_their_authorization() {
    let (c, _, transport) = client();
    transport.push(Ok(token_answer("tok-a", 3600)));
    transport.push(Ok(HttpResponse {
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-total".into(), "3".into()),
        ],
        ..answer(200, r#"{"rows":3}"#)
    }));
    let request = ApiRequest::get("reports/x")
        .query("start", "2026-01-01")
        .header("Authorization", "Basic mine")
        .header("X-Request-Id", "42");
    let response = run(c.send(request)).unwrap();
    assert_eq!((response.status, response.body.as_str()), (200, r#"{"rows":3}"#));
    assert_eq!(response.header("X-Total"), Some("3"));
    let sent = transport.sent.borrow();
    let call = sent.get(1).unwrap();
    assert_eq!(call.method, "GET");
    assert_eq!(call.url, "https://api.example.com/api/reports/x?start=2026-01-01");
    let headers: Vec<(String, String)> = call
        .headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        headers,
        [
            ("x-request-id", "42"),
            ("api-version", "1"),
            ("accept", "application/json"),
            ("authorization", "Bearer tok-a")
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
    );
}

#[test]
fn the_token_never_leaves_the_origin() {
    let (c, _, transport) = client();
    for path in [
        "https://evil.example/api/x",
        "//evil.example/api/x",
        "http://api.example.com/api/x",
        "https://api.example.com:8443/api/x",
    ] {
        let error = run(c.send(ApiRequest::get(path))).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequest, "{path}");
    }
    assert_eq!(transport.count(), 0, "nothing was sent, not even a token request");
    // An absolute URL in the origin is fine.
    transport.push(Ok(token_answer("tok-a", 3600)));
    transport.push(Ok(answer(204, "")));
    let response = run(c.send(ApiRequest::get("https://api.example.com/other"))).unwrap();
    assert_eq!(response.status, 204);
}

#[test]
fn redirects_inside_the_origin_are_followed_and_others_are_the_answer() {
    let (c, _, transport) = client();
    transport.push(Ok(token_answer("tok-a", 3600)));
    transport.push(Ok(redirect(303, "/api/moved?page=2")));
    transport.push(Ok(answer(200, "here")));
    let posted = ApiRequest::post("reports").json_body("{}");
    let response = run(c.send(posted)).unwrap();
    assert_eq!(response.body, "here");
    {
        let sent = transport.sent.borrow();
        let hop = sent.get(2).unwrap();
        assert_eq!(
            (&*hop.method, hop.url.as_str()),
            ("GET", "https://api.example.com/api/moved?page=2")
        );
        assert_eq!(hop.body, None);
        assert!(
            !hop.headers.iter().any(|(n, _)| *n == "content-type"),
            "a GET drops the body's headers"
        );
    }
    transport.push(Ok(redirect(302, "https://evil.example/steal")));
    let response = run(c.send(ApiRequest::get("reports"))).unwrap();
    assert_eq!(
        (response.status, response.header("location")),
        (302, Some("https://evil.example/steal"))
    );
    assert_eq!(transport.count(), 4, "the other origin got nothing");
}

#[test]
fn a_401_or_419_gets_one_retry_with_a_new_token() {
    for status in [401, 419] {
        let (c, _, transport) = client_with(Options {
            unauthorized_cooldown: Some(Duration::ZERO),
            ..options()
        });
        transport.push(Ok(token_answer("tok-a", 3600)));
        transport.push(Ok(answer(status, "")));
        transport.push(Ok(token_answer("tok-b", 3600)));
        transport.push(Ok(answer(200, "ok")));
        let response = run(c.send(ApiRequest::get("a"))).unwrap();
        assert_eq!((response.status, response.body.as_str()), (200, "ok"));
        let auth: Vec<String> = sent(&transport, "authorization")
            .into_iter()
            .map(|(_, a)| a.unwrap())
            .collect();
        assert_eq!(
            auth,
            [
                "Basic aWQ6czNjcmV0",
                "Bearer tok-a",
                "Basic aWQ6czNjcmV0",
                "Bearer tok-b"
            ]
        );
        let stats = c.stats();
        assert_eq!((stats.api_calls.get(), stats.api_retries.get()), (1, 1));
    }
}

#[test]
fn a_second_401_is_the_answer() {
    let (c, _, transport) = client_with(Options {
        unauthorized_cooldown: Some(Duration::ZERO),
        ..options()
    });
    transport.push(Ok(token_answer("tok-a", 3600)));
    transport.push(Ok(answer(401, "no")));
    transport.push(Ok(token_answer("tok-b", 3600)));
    transport.push(Ok(answer(401, "still no")));
    let response = run(c.send(ApiRequest::get("a"))).unwrap();
    assert_eq!((response.status, response.body.as_str()), (401, "still no"));
    assert_eq!(transport.count(), 4);
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Rows {
    rows: u32,
}

#[test]
fn json_parses_2xx_bodies_and_turns_other_answers_into_errors() {
    let (c, _, transport) = client();
    transport.push(Ok(token_answer("tok-a", 3600)));
    transport.push(Ok(answer(200, r#"{"rows":3,"more":true}"#)));
    assert_eq!(run(c.json::<Rows>(ApiRequest::get("r"))).unwrap(), Rows { rows: 3 });

    transport.push(Ok(answer(204, "")));
    assert_eq!(run(c.json::<Option<Rows>>(ApiRequest::get("r"))).unwrap(), None);

    transport.push(Ok(answer(200, "not json")));
    let error = run(c.json::<Rows>(ApiRequest::get("r"))).unwrap_err();
    assert_eq!((error.code, error.status), (ErrorCode::InvalidResponse, Some(200)));

    // An error answer that echoes the token and the secret: redacted.
    transport.push(Ok(HttpResponse {
        headers: vec![("retry-after".into(), "7".into())],
        ..answer(503, r#"{"error":"busy","token":"tok-a","secret":"s3cret"}"#)
    }));
    let error = run(c.json::<Rows>(ApiRequest::get("reports/x"))).unwrap_err();
    assert_eq!(
        (error.code, error.status, error.retry_after),
        (ErrorCode::Http, Some(503), Some(7.0))
    );
    assert!(error.retryable());
    assert_eq!(error.to_string(), "GET reports/x answered HTTP 503");
    let body = error.body.unwrap();
    assert!(
        body.contains("busy") && !body.contains("tok-a") && !body.contains("s3cret"),
        "{body}"
    );
}

#[test]
fn a_failed_send_is_a_network_or_timeout_error() {
    let (c, _, transport) = client();
    transport.push(Ok(token_answer("tok-a", 3600)));
    transport.push(Err(TransportError::Timeout));
    let error = run(c.send(ApiRequest::get("r"))).unwrap_err();
    assert_eq!(error.code, ErrorCode::Timeout);
    transport.push(Err(TransportError::Network("refused, Bearer tok-a".into())));
    let error = run(c.send(ApiRequest::get("r"))).unwrap_err();
    assert_eq!(error.code, ErrorCode::Network);
    assert!(!error.to_string().contains("tok-a"), "{error}");
}

#[test]
fn an_oversized_answer_is_invalid() {
    let (c, _, transport) = client();
    transport.push(Ok(token_answer("tok-a", 3600)));
    transport.push(Ok(HttpResponse {
        oversized: true,
        ..answer(200, "")
    }));
    let error = run(c.send(ApiRequest::get("r").body_limit(10))).unwrap_err();
    assert_eq!((error.code, error.status), (ErrorCode::InvalidResponse, Some(200)));
    assert_eq!(transport.sent.borrow().get(1).unwrap().body_limit, 10);
}

#[test]
fn events_reach_the_callback() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    let (c, _, transport) = client_with(Options {
        on_event: Some(std::sync::Arc::new(move |e: &crate::core::Event<'_>| {
            sink.lock().unwrap().push(serde_json::to_string(e).unwrap());
        })),
        ..options()
    });
    transport.push(Ok(token_answer("tok-a", 3600)));
    transport.push(Ok(answer(200, "")));
    run(c.send(ApiRequest::get("reports/x?secret=1"))).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].starts_with(r#"{"type":"token","source":"endpoint","attempts":1"#),
        "{}",
        seen[0]
    );
    assert!(
        seen[1].starts_with(r#"{"type":"api","method":"GET","path":"/api/reports/x","status":200"#),
        "{}",
        seen[1]
    );
}
