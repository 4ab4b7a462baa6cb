//! The client's rules with a fake clock and a scripted transport.

use super::*;
use crate::core::config::{OptionValue, RawOptions};
use crate::core::seal::Derived;
use crate::core::store::{SealedEntry, StoreAnswer, StoredToken, TokenStore};
use futures::channel::oneshot;
use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

thread_local! {
    // Each test runs on a thread of its own: one executor per test, which the fake
    // runtime spawns onto and the test drives.
    static POOL: RefCell<LocalPool> = RefCell::new(LocalPool::new());
    static SPAWNER: LocalSpawner = POOL.with(|p| p.borrow().spawner());
}

/// Runs `future` to its end on the test's executor (its spawned tasks run meanwhile).
fn run<F: Future>(future: F) -> F::Output {
    SPAWNER.with(|_| ()); // made before the pool is borrowed to run
    POOL.with(|p| p.borrow_mut().run_until(future))
}

/// Runs every task of the test's executor until none can make progress.
fn stall() {
    SPAWNER.with(|_| ());
    POOL.with(|p| p.borrow_mut().run_until_stalled());
}

fn spawn(task: impl Future<Output = ()> + 'static) {
    SPAWNER.with(|s| s.spawn_local(task)).unwrap();
}

/// A latch over a flag and the wakers of its waiters.
#[derive(Clone, Default)]
struct FakeLatch(Rc<RefCell<(bool, Vec<std::task::Waker>)>>);

impl Latch for FakeLatch {
    fn open(&self) {
        let wakers = {
            let mut state = self.0.borrow_mut();
            state.0 = true;
            std::mem::take(&mut state.1)
        };
        wakers.into_iter().for_each(std::task::Waker::wake);
    }
    fn wait(&self) -> LocalFuture<()> {
        let latch = self.clone();
        Box::pin(poll_fn(move |cx| {
            let mut state = latch.0.borrow_mut();
            if state.0 {
                return Poll::Ready(());
            }
            state.1.push(cx.waker().clone());
            Poll::Pending
        }))
    }
}

const T0: f64 = 1_800_000_000_000.0;

/// Time that only moves when told to; `sleep` moves it at once and records the wait.
#[derive(Clone)]
struct FakeClock {
    now: Rc<Cell<f64>>,
    sleeps: Rc<RefCell<Vec<f64>>>,
    isolated: Rc<Cell<bool>>,
}

impl FakeClock {
    fn new() -> Self {
        FakeClock {
            now: Rc::new(Cell::new(T0)),
            sleeps: Rc::default(),
            isolated: Rc::default(),
        }
    }
    fn advance(&self, ms: f64) {
        self.now.set(self.now.get() + ms);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> f64 {
        self.now.get()
    }
    fn jitter(&self) -> f64 {
        0.5
    }
    fn parse_http_date(&self, text: &str) -> Option<f64> {
        let at = httpdate::parse_http_date(text).ok()?;
        Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as f64)
    }
}

impl Runtime for FakeClock {
    type Latch = FakeLatch;
    fn sleep(&self, ms: f64) -> LocalFuture<()> {
        let clock = self.clone();
        // The waiting task yields once (the executor's other tasks run first, as they would
        // during a real wait), then time moves by the whole wait at once.
        Box::pin(async move {
            let mut yielded = false;
            poll_fn(|cx| {
                if yielded {
                    return Poll::Ready(());
                }
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            })
            .await;
            clock.sleeps.borrow_mut().push(ms);
            clock.advance(ms);
        })
    }
    fn latch(&self) -> FakeLatch {
        FakeLatch::default()
    }
    fn spawn(&self, task: LocalFuture<()>) {
        spawn(task);
    }
    fn isolates_requests(&self) -> bool {
        self.isolated.get()
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

type Outcome = Result<HttpResponse, TransportError>;

enum Step {
    Now(Outcome),
    Later(oneshot::Receiver<Outcome>),
}

/// Answers from a script; with an empty script, a fresh token `tok-N` for 3600 s.
#[derive(Clone, Default)]
struct FakeTransport {
    script: Rc<RefCell<VecDeque<Step>>>,
    sent: Rc<RefCell<Vec<HttpRequest>>>,
}

impl FakeTransport {
    fn push(&self, outcome: Outcome) {
        self.script.borrow_mut().push_back(Step::Now(outcome));
    }
    fn push_later(&self) -> oneshot::Sender<Outcome> {
        let (tx, rx) = oneshot::channel();
        self.script.borrow_mut().push_back(Step::Later(rx));
        tx
    }
    fn count(&self) -> usize {
        self.sent.borrow().len()
    }
}

impl Transport for FakeTransport {
    fn send(&self, request: &HttpRequest, _timeout_ms: f64) -> LocalFuture<Outcome> {
        self.sent.borrow_mut().push(request.clone());
        let n = self.sent.borrow().len();
        match self.script.borrow_mut().pop_front() {
            Some(Step::Now(o)) => Box::pin(async move { o }),
            Some(Step::Later(rx)) => {
                Box::pin(async move { rx.await.unwrap_or(Err(TransportError::Network("gone".into()))) })
            }
            None => Box::pin(async move { Ok(token_answer(&format!("tok-{n}"), 3600)) }),
        }
    }
    fn parse_json<T: serde::de::DeserializeOwned>(&self, text: &str) -> Option<T> {
        parse_json(text)
    }
}

fn answer(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        body: body.into(),
        ..HttpResponse::default()
    }
}

fn token_answer(token: &str, expires_in: u32) -> HttpResponse {
    answer(
        200,
        &format!(r#"{{"data":{{"access_token":"{token}","token_type":"bearer","expires_in":{expires_in}}}}}"#),
    )
}

fn retry_after(status: u16, value: &str) -> HttpResponse {
    HttpResponse {
        status,
        retry_after: Some(value.into()),
        ..HttpResponse::default()
    }
}

type Client = TokenClient<FakeClock, FakeTransport>;
type TestClient = (Rc<Client>, FakeClock, FakeTransport);

fn client_with(f: impl FnOnce(&mut RawOptions)) -> TestClient {
    client_with_store(f, None)
}

fn client_with_store(f: impl FnOnce(&mut RawOptions), store: Option<Rc<dyn TokenStore>>) -> TestClient {
    let mut raw = RawOptions {
        client_id: OptionValue::Str("id".into()),
        client_secret: OptionValue::Str("s3cret".into()),
        ..RawOptions::default()
    };
    f(&mut raw);
    let config = Config::from_options(raw).unwrap();
    let (clock, transport) = (FakeClock::new(), FakeTransport::default());
    (
        TokenClient::new(
            config,
            clock.clone(),
            transport.clone(),
            sealed(store),
            Events::default(),
        ),
        clock,
        transport,
    )
}

fn client() -> (Rc<TokenClient<FakeClock, FakeTransport>>, FakeClock, FakeTransport) {
    client_with(|_| {})
}

fn token(c: &Rc<TokenClient<FakeClock, FakeTransport>>) -> Result<String, Error> {
    run(Rc::clone(c).get_token()).map(|t| t.access_token.to_string())
}

type Got = Rc<RefCell<Vec<Result<String, Error>>>>;

/// Spawns `n` concurrent callers of `get_token` (or `refresh`) on `pool`; each pushes the
/// token it got (or its error) into the returned list when done.
fn spawn_callers(c: &Rc<TokenClient<FakeClock, FakeTransport>>, n: usize, refresh: bool) -> Got {
    let got: Got = Rc::default();
    for _ in 0..n {
        let (c, g) = (Rc::clone(c), Rc::clone(&got));
        spawn(async move {
            let result = if refresh {
                c.refresh().await
            } else {
                c.get_token().await
            };
            let v = result.map(|t| t.access_token.to_string());
            g.borrow_mut().push(v);
        });
    }
    got
}

#[test]
fn sends_the_documented_request() {
    let (c, _, t) = client();
    assert_eq!(token(&c).unwrap(), "tok-1");
    let sent = t.sent.borrow();
    let req = &sent[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://api.cedato.com/api/token");
    assert_eq!(req.body, "grant_type=client_credentials");
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
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
    let (c, clock, t) = client_with(|o| o.refresh_skew_seconds = OptionValue::Num(0.0));
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
    let (c, _, t) = client_with(|o| o.max_retries = OptionValue::Num(0.0));
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
    let (c, clock, t) = client_with(|o| o.max_retries = OptionValue::Num(0.0));
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
fn clear_and_refused() {
    let (c, _, _) = client();
    let first = run(Rc::clone(&c).get_token()).unwrap();
    c.clear();
    assert_eq!(c.expires_at(), None);
    assert!(c.fresh_token().is_none());
    let second = run(Rc::clone(&c).get_token()).unwrap();
    assert_eq!(second.access_token, "tok-2");
    assert!(c.refused(first.id), "an old token: retry with the newer one");
    assert!(c.fresh_token().is_some(), "which stays");
    assert!(c.refused(second.id));
    assert!(c.fresh_token().is_none());
}

#[test]
fn a_refused_token_is_replaced_at_most_once_per_cooldown() {
    let (c, clock, transport) = client_with(|o| o.unauthorized_cooldown_ms = OptionValue::Num(5_000.0));
    let first = run(Rc::clone(&c).get_token()).unwrap();
    assert!(c.refused(first.id), "the first refusal gets a new token");
    let second = run(Rc::clone(&c).get_token()).unwrap();
    assert_eq!((second.access_token.as_str(), transport.count()), ("tok-2", 2));
    // The API refuses the new token too: it is kept, the 401 is the answer, until the
    // cool-down ends, however many calls meet it.
    clock.advance(1_000.0);
    for _ in 0..50 {
        assert!(!c.refused(second.id), "cooling down");
    }
    assert_eq!(c.fresh_token().map(|t| t.id), Some(second.id));
    clock.advance(3_999.0);
    assert!(!c.refused(second.id), "1 ms before the end");
    clock.advance(1.0);
    assert!(c.refused(second.id), "the cool-down is over");
    assert!(c.fresh_token().is_none());
    assert_eq!(run(Rc::clone(&c).get_token()).unwrap().access_token, "tok-3");
    assert_eq!(transport.count(), 3, "one token request per cool-down");
    // A refusal of a token already replaced never waits: the call retries with the new one.
    assert!(c.refused(first.id));
}

#[test]
fn a_zero_cooldown_replaces_every_refused_token() {
    let (c, _, transport) = client_with(|o| o.unauthorized_cooldown_ms = OptionValue::Num(0.0));
    for n in 1..=3 {
        let token = run(Rc::clone(&c).get_token()).unwrap();
        assert!(c.refused(token.id));
        assert_eq!(transport.count(), n);
    }
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

#[test]
fn retries_5xx_429_network_and_timeout_with_backoff() {
    let (c, clock, t) = client_with(|o| o.max_retries = OptionValue::Num(3.0));
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
        let (c, _, t) = client_with(|o| o.max_retries = OptionValue::Num(1.0));
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
    let (c, _, t) = client_with(|o| o.max_retries = OptionValue::Num(0.0));
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
fn expires_at_counts_from_the_send_time() {
    struct SlowTransport(FakeClock);
    impl Transport for SlowTransport {
        fn send(&self, _: &HttpRequest, _: f64) -> LocalFuture<Outcome> {
            self.0.advance(5_000.0); // the answer takes 5 s
            Box::pin(async { Ok(token_answer("slow", 100)) })
        }
        fn parse_json<T: serde::de::DeserializeOwned>(&self, text: &str) -> Option<T> {
            parse_json(text)
        }
    }
    let raw = RawOptions {
        client_id: OptionValue::Str("id".into()),
        client_secret: OptionValue::Str("s".into()),
        ..RawOptions::default()
    };
    let clock = FakeClock::new();
    let c = TokenClient::new(
        Config::from_options(raw).unwrap(),
        clock.clone(),
        SlowTransport(clock.clone()),
        None,
        Events::default(),
    );
    let t = run(Rc::clone(&c).get_token()).unwrap();
    assert_eq!(t.expires_at, T0 + 100_000.0);
    assert_eq!(t.refresh_at, T0 + 50_000.0);
}

#[test]
fn messages_never_hold_secrets() {
    let (c, _, t) = client();
    t.push(Ok(answer(401, r#"{"error":"invalid_client"}"#)));
    t.push(Ok(answer(200, r#"{"access_token":"bad token"}"#)));
    for _ in 0..2 {
        let e = token(&c).unwrap_err();
        let shown = format!("{e:?} {e}");
        for secret in ["s3cret", "aWQ6czNjcmV0", "bad token"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[test]
fn every_error_field_is_redacted() {
    let (c, _, t) = client_with(|o| o.max_retries = OptionValue::Num(0.0));
    assert_eq!(token(&c).unwrap(), "tok-1");
    c.clear();
    // An endpoint that echoes the request's Authorization header, the secret and a token.
    let echo = "Basic aWQ6czNjcmV0 / aWQ6czNjcmV0 / s3cret / tok-1";
    t.push(Ok(answer(
        401,
        &format!(r#"{{"error":"{echo}","error_description":"{echo}"}}"#),
    )));
    t.push(Ok(answer(404, echo)));
    t.push(Err(TransportError::Network(echo.into())));
    for _ in 0..3 {
        let e = token(&c).unwrap_err();
        let fields = [
            Some(e.message.clone()),
            e.oauth_error,
            e.oauth_error_description,
            e.body,
        ];
        let shown = format!("{fields:?}");
        assert!(shown.contains("[redacted]"), "{shown}");
        for secret in ["s3cret", "aWQ6czNjcmV0", "tok-1"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
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

/// A keyed 8-byte digest of `parts` (each hashed with its length, so unambiguous).
fn digest(parts: &[&[u8]]) -> [u8; 8] {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.iter().for_each(|p| p.hash(&mut h));
    h.finish().to_be_bytes()
}

/// A stand-in for HKDF and AES-GCM with their contract, not their strength: every input
/// of the key material changes both keys, and a value opens only under the key and the
/// associated data it was sealed with, unaltered. `fails` makes derivation fail, `hangs`
/// never finish.
#[derive(Default)]
struct FakeSealer {
    derivations: Rc<Cell<u32>>,
    fails: Rc<Cell<bool>>,
    hangs: Rc<Cell<bool>>,
}

impl Sealer for FakeSealer {
    fn derive(&self, m: KeyMaterial) -> LocalFuture<Option<Derived>> {
        self.derivations.set(self.derivations.get() + 1);
        if self.hangs.get() {
            return Box::pin(std::future::pending());
        }
        let derived = (!self.fails.get()).then(|| Derived {
            fingerprint: digest(&[m.salt, &m.secret, &m.fingerprint_info]).repeat(4),
            key: Rc::new(FakeKey(digest(&[m.salt, &m.secret, &m.seal_info]).to_vec())),
        });
        Box::pin(async move { derived })
    }
}

struct FakeKey(Vec<u8>);

impl FakeKey {
    fn tag(&self, nonce: &[u8], associated: &[u8], ciphertext: &[u8]) -> Vec<u8> {
        digest(&[&self.0, nonce, associated, ciphertext]).repeat(2)
    }
    fn xor(&self, bytes: &[u8]) -> Vec<u8> {
        bytes.iter().zip(self.0.iter().cycle()).map(|(b, k)| b ^ k).collect()
    }
}

impl SealingKey for FakeKey {
    fn seal(&self, plaintext: Zeroizing<Vec<u8>>, associated: Vec<u8>) -> LocalFuture<Option<Vec<u8>>> {
        let nonce = [9u8; seal::NONCE_LEN];
        let ciphertext = self.xor(&plaintext);
        let sealed = [&nonce[..], &ciphertext, &self.tag(&nonce, &associated, &ciphertext)].concat();
        Box::pin(async move { Some(sealed) })
    }
    fn open(&self, sealed: Vec<u8>, associated: Vec<u8>) -> LocalFuture<Option<Zeroizing<Vec<u8>>>> {
        let (nonce, rest) = sealed.split_at(seal::NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - 16);
        let opened = (self.tag(nonce, &associated, ciphertext) == tag).then(|| Zeroizing::new(self.xor(ciphertext)));
        Box::pin(async move { opened })
    }
}

/// `store` with a fake sealer.
fn sealed(store: Option<Rc<dyn TokenStore>>) -> Option<SharedStore> {
    store.map(|store| SharedStore {
        store,
        sealer: Rc::new(FakeSealer::default()),
    })
}

/// A store in memory; `broken` makes every call fail (None), `hang` never answers,
/// `plain` answers every get with a value that is not of the stored form.
#[derive(Clone, Default)]
struct MemoryStore {
    map: Rc<RefCell<HashMap<String, (SealedEntry, f64)>>>,
    broken: Rc<Cell<bool>>,
    hang: Rc<Cell<bool>>,
    plain: Rc<Cell<bool>>,
    failure: Rc<RefCell<Option<Error>>>,
    calls: Rc<RefCell<Vec<String>>>,
}

impl TokenStore for MemoryStore {
    fn get(&self, key: &str) -> LocalFuture<StoreAnswer> {
        self.calls.borrow_mut().push(format!("get {key}"));
        if self.hang.get() {
            return Box::pin(std::future::pending());
        }
        if let Some(error) = self.failure.borrow().clone() {
            return Box::pin(async move { StoreAnswer::Failed(error) });
        }
        if self.broken.get() {
            return Box::pin(async { StoreAnswer::Unavailable });
        }
        if self.plain.get() {
            return Box::pin(async { StoreAnswer::Invalid });
        }
        let v = self.map.borrow().get(key).map(|(t, _)| t.clone());
        Box::pin(async move { v.map_or(StoreAnswer::Miss, StoreAnswer::Entry) })
    }
    fn set(&self, key: &str, entry: &SealedEntry, ttl: f64) -> LocalFuture<bool> {
        self.calls.borrow_mut().push(format!("set {key} {ttl}"));
        if self.hang.get() {
            return Box::pin(std::future::pending());
        }
        let written = !self.broken.get();
        if written {
            self.map.borrow_mut().insert(key.to_owned(), (entry.clone(), ttl));
        }
        Box::pin(async move { written })
    }
    fn delete(&self, key: &str) -> LocalFuture<bool> {
        self.calls.borrow_mut().push(format!("delete {key}"));
        self.map.borrow_mut().remove(key);
        Box::pin(async { true })
    }
    fn release(&self, key: &str) -> LocalFuture<bool> {
        self.calls.borrow_mut().push(format!("release {key}"));
        Box::pin(async { true })
    }
}

/// The store key of clientId "id" and the secret `secret` under the fake sealer.
fn key_of(secret: &str) -> String {
    let (c, _, _) = client_with(|o| o.client_secret = OptionValue::Str(secret.into()));
    let derived = run(FakeSealer::default().derive(KeyMaterial::of(c.config()))).unwrap();
    seal::store_key(c.config(), &derived.fingerprint)
}

/// The store key of the test clients (clientId "id", secret "s3cret").
fn key() -> String {
    key_of("s3cret")
}

/// The entry `c` would store for `token`, sealed under its credentials.
fn seal_for(c: &Rc<Client>, token: &StoredToken) -> SealedEntry {
    run(c.seal(c.store.as_ref().unwrap(), token)).unwrap().1
}

#[test]
fn the_store_is_read_before_the_endpoint_and_written_after() {
    let store = MemoryStore::default();
    let (c, _, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!(token(&c).unwrap(), "tok-1");
    let key = key();
    assert_eq!(
        *store.calls.borrow(),
        vec![format!("get {key}"), format!("set {key} 3600")]
    );
    // A second instance sharing the store makes no token request.
    let (c2, _, t2) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!(token(&c2).unwrap(), "tok-1");
    assert_eq!((t.count(), t2.count()), (1, 0));
    // and serves it from memory afterwards
    assert_eq!(token(&c2).unwrap(), "tok-1");
    assert_eq!(store.calls.borrow().len(), 3);
}

#[test]
fn the_store_keeps_a_sealed_entry_under_a_key_with_the_credentials_fingerprint() {
    let store = MemoryStore::default();
    let (c, _, _) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!(c.store_key(), None, "nothing derived before the first store use");
    let held = run(Rc::clone(&c).get_token()).unwrap();
    let key = c.store_key().unwrap();
    assert!(
        key.starts_with("cedato-auth:v2:https://api.cedato.com/api/:id:"),
        "{key}"
    );
    assert_eq!(key.len(), "cedato-auth:v2:https://api.cedato.com/api/:id:".len() + 43);
    let (entry, _) = store.map.borrow().get(&key).cloned().unwrap();
    assert_eq!((entry.expires_at, entry.refresh_at), (held.expires_at, held.refresh_at));
    let sealed = seal::sealed_bytes(&entry.sealed).unwrap();
    assert!(!entry.sealed.contains("tok-1") && !sealed.windows(5).any(|w| w == b"tok-1"));
    // Another secret, clientId or baseUrl is another key.
    assert_ne!(key_of("other"), key);
    let (by_id, _, _) = client_with_store(
        |o| o.client_id = OptionValue::Str("id2".into()),
        Some(Rc::new(store.clone())),
    );
    let (by_url, _, _) = client_with_store(
        |o| o.base_url = OptionValue::Str("https://eu.example.com/api/".into()),
        Some(Rc::new(store.clone())),
    );
    for other in [by_id, by_url] {
        token(&other).unwrap();
        assert_ne!(other.store_key().unwrap(), key);
    }
}

#[test]
fn another_secret_never_gets_the_stored_token() {
    let store = MemoryStore::default();
    let (owner, _, _) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!(token(&owner).unwrap(), "tok-1");
    // Same clientId and baseUrl, wrong secret: its own key, so its own token request.
    let (intruder, _, t) = client_with_store(
        |o| o.client_secret = OptionValue::Str("guess".into()),
        Some(Rc::new(store.clone())),
    );
    assert_eq!(
        token(&intruder).unwrap(),
        "tok-1",
        "the intruder's own transport's first token"
    );
    assert_eq!(t.count(), 1, "it asked the endpoint");
    assert_eq!(store.map.borrow().len(), 2);
    // Even the owner's entry copied under the intruder's key does not open.
    let (owner_entry, _) = store.map.borrow().get(&key()).cloned().unwrap();
    store.map.borrow_mut().insert(key_of("guess"), (owner_entry, 1.0));
    intruder.clear();
    assert_eq!(token(&intruder).unwrap(), "tok-2");
    assert_eq!(t.count(), 2);
}

#[test]
fn values_that_do_not_open_are_invalid_misses_and_get_replaced() {
    let store = MemoryStore::default();
    let ((c, _, t), events) = client_recording(|_| {}, Some(Rc::new(store.clone())));
    let stored = StoredToken {
        access_token: "stored".into(),
        expires_at: T0 + 3_600_000.0,
        expires_in: Some(3600.0),
        refresh_at: Some(T0 + 3_540_000.0),
    };
    let good = seal_for(&c, &stored);
    let mut tampered = good.clone();
    let last = if tampered.sealed.ends_with('A') { "B" } else { "A" };
    tampered.sealed.replace_range(tampered.sealed.len() - 1.., last);
    let later = SealedEntry {
        expires_at: good.expires_at + 1000.0,
        ..good.clone()
    };
    let earlier_refresh = SealedEntry {
        refresh_at: good.refresh_at - 1000.0,
        ..good.clone()
    };
    let not_base64 = SealedEntry {
        sealed: "not base64!".into(),
        ..good.clone()
    };
    let short = SealedEntry {
        sealed: "AAAA".into(),
        ..good.clone()
    };
    let (intruder, _, _) = client_with_store(
        |o| o.client_secret = OptionValue::Str("x".into()),
        Some(Rc::new(store.clone())),
    );
    let others = seal_for(&intruder, &stored);
    let bad = [tampered, later, earlier_refresh, not_base64, short, others];
    let n = bad.len();
    for (i, entry) in bad.into_iter().enumerate() {
        store.map.borrow_mut().insert(key(), (entry, 1.0));
        c.clear();
        events.borrow_mut().clear();
        assert_eq!(token(&c).unwrap(), format!("tok-{}", i + 1), "entry {i}");
        stall();
        assert_eq!(
            store_events(&events),
            [
                r#"{"type":"store","op":"get","outcome":"invalid","ms":0.0}"#,
                r#"{"type":"store","op":"set","outcome":"written","ms":0.0}"#,
            ],
            "entry {i}"
        );
    }
    assert_eq!(t.count(), n, "one token request per bad value, no more");
    // The last write replaced the bad value: the next instance has a hit.
    let (next, _, t2) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!(token(&next).unwrap(), format!("tok-{n}"));
    assert_eq!(t2.count(), 0);
    // The untouched entry opens.
    store.map.borrow_mut().insert(key(), (good, 1.0));
    c.clear();
    assert_eq!(token(&c).unwrap(), "stored");
    // A value of another form (a plain token, as v1 stored it) is invalid too.
    store.plain.set(true);
    c.clear();
    events.borrow_mut().clear();
    assert_eq!(token(&c).unwrap(), format!("tok-{}", n + 1));
    assert_eq!(
        store_events(&events)[0],
        r#"{"type":"store","op":"get","outcome":"invalid","ms":0.0}"#
    );
}

#[test]
fn keys_are_derived_once_at_the_first_store_use_and_a_failed_derivation_skips_the_store() {
    let store = MemoryStore::default();
    let sealer = FakeSealer::default();
    let derivations = Rc::clone(&sealer.derivations);
    let raw = RawOptions {
        client_id: OptionValue::Str("id".into()),
        client_secret: OptionValue::Str("s3cret".into()),
        ..RawOptions::default()
    };
    let shared = SharedStore {
        store: Rc::new(store.clone()),
        sealer: Rc::new(sealer),
    };
    let (clock, t) = (FakeClock::new(), FakeTransport::default());
    let c = TokenClient::new(
        Config::from_options(raw.clone()).unwrap(),
        clock.clone(),
        t.clone(),
        Some(shared),
        Events::default(),
    );
    assert_eq!(derivations.get(), 0, "nothing derived by the constructor");
    token(&c).unwrap();
    clock.advance(3_600_000.0);
    token(&c).unwrap();
    let _ = run(Rc::clone(&c).refresh());
    assert_eq!(derivations.get(), 1);
    // free(): the keys go with the secret, and are not derived again.
    c.wipe();
    assert_eq!(c.store_key(), None);
    // No Web Crypto: the store is skipped, the endpoint still serves.
    let sealer = FakeSealer::default();
    sealer.fails.set(true);
    let shared = SharedStore {
        store: Rc::new(store.clone()),
        sealer: Rc::new(sealer),
    };
    let recorded: Recorded = Rc::default();
    let sink = Rc::clone(&recorded);
    let events = Events::new(Some(Box::new(move |e: &Event| {
        sink.borrow_mut().push(serde_json::to_string(e).unwrap());
    })));
    let c = TokenClient::new(Config::from_options(raw).unwrap(), clock, t, Some(shared), events);
    store.calls.borrow_mut().clear();
    assert!(token(&c).is_ok());
    stall();
    assert!(store.calls.borrow().is_empty(), "{:?}", store.calls.borrow());
    assert_eq!(
        store_events(&recorded),
        [
            r#"{"type":"store","op":"get","outcome":"error","ms":0.0}"#,
            r#"{"type":"store","op":"set","outcome":"error","ms":0.0}"#,
        ]
    );
}

#[test]
fn a_derivation_that_never_ends_costs_timeout_ms_at_most_and_the_caller_gets_its_token() {
    let store = MemoryStore::default();
    let sealer = FakeSealer::default();
    sealer.hangs.set(true);
    let shared = SharedStore {
        store: Rc::new(store.clone()),
        sealer: Rc::new(sealer),
    };
    let raw = RawOptions {
        client_id: OptionValue::Str("id".into()),
        client_secret: OptionValue::Str("s3cret".into()),
        timeout_ms: OptionValue::Num(500.0),
        ..RawOptions::default()
    };
    let recorded: Recorded = Rc::default();
    let sink = Rc::clone(&recorded);
    let events = Events::new(Some(Box::new(move |e: &Event| {
        sink.borrow_mut().push(serde_json::to_string(e).unwrap());
    })));
    let (clock, t) = (FakeClock::new(), FakeTransport::default());
    let c = TokenClient::new(
        Config::from_options(raw).unwrap(),
        clock.clone(),
        t.clone(),
        Some(shared),
        events,
    );
    assert_eq!(token(&c).unwrap(), "tok-1");
    assert_eq!(
        *clock.sleeps.borrow(),
        vec![500.0, 500.0],
        "the read, then the seal, each gave up"
    );
    assert_eq!(
        store_events(&recorded),
        [
            r#"{"type":"store","op":"get","outcome":"timeout","ms":500.0}"#,
            r#"{"type":"store","op":"set","outcome":"timeout","ms":500.0}"#,
        ]
    );
    assert!(store.calls.borrow().is_empty());
}

#[test]
fn stored_tokens_obey_the_skew_and_bad_ones_are_ignored() {
    let store = MemoryStore::default();
    let (c, clock, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
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
    let (c, _, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!(token(&c).unwrap(), "tok-1");
    let store = MemoryStore::default();
    store.hang.set(true);
    let (c, clock, _) = client_with_store(|o| o.timeout_ms = OptionValue::Num(500.0), Some(Rc::new(store.clone())));
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
    let (c, _, _) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    let first = run(Rc::clone(&c).get_token()).unwrap();
    let second = run(Rc::clone(&c).refresh()).unwrap();
    assert_eq!(second.access_token, "tok-2");
    // The store holds the new token: another instance gets it without a request.
    let (reader, _, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!((token(&reader).unwrap(), t.count()), ("tok-2".into(), 0));
    let key = key();
    assert!(c.refused(first.id)); // an old token: nothing deleted
    assert!(store.map.borrow().contains_key(&key));
    let current = c.fresh_token().unwrap();
    assert!(c.refused(current.id));
    assert!(!store.map.borrow().contains_key(&key));
    assert!(c.fresh_token().is_none());
}

#[test]
fn a_request_that_followed_a_miss_releases_the_store_when_it_has_nothing_to_share() {
    let store = MemoryStore::default();
    let (c, _, t) = client_with_store(|o| o.max_retries = OptionValue::Num(0.0), Some(Rc::new(store.clone())));
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
    let (c, clock, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
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
    let (c, _, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    t.push(Ok(token_answer("once", 0)));
    assert_eq!(token(&c).unwrap(), "once");
    assert!(store.map.borrow().is_empty());
}

// ------------------------------------------------------------------ the decisions alone

#[test]
fn next_decides_after_each_attempt() {
    let (c, _, _) = client_with(|o| o.max_retries = OptionValue::Num(2.0));
    match c.next(Ok(token_answer("a", 3600)), T0, 1) {
        Next::Token(t) => assert_eq!((t.access_token.as_str(), t.expires_at), ("a", T0 + 3_600_000.0)),
        other => panic!("{other:?}"),
    }
    // Nothing is cached until the token lands.
    assert!(c.fresh_token().is_none());
    // Full jitter (0.5 here) of 250 ms, then Retry-After, then the retries are spent.
    assert!(matches!(c.next(Ok(answer(503, "")), T0, 1), Next::Wait(w, _) if w == 125.0));
    assert!(matches!(c.next(Ok(retry_after(429, "7")), T0, 2), Next::Wait(w, _) if w == 7000.0));
    assert!(matches!(c.next(Ok(answer(503, "")), T0, 3), Next::Fail(e) if e.code == ErrorCode::ServerError));
    assert!(matches!(c.next(Ok(retry_after(503, "61")), T0, 1), Next::Fail(e) if e.retry_after == Some(61.0)));
    assert!(matches!(c.next(Ok(answer(401, "")), T0, 1), Next::Fail(e) if e.code == ErrorCode::TokenRejected));
    assert!(matches!(c.next(Err(TransportError::Timeout), T0, 1), Next::Wait(..)));
    assert!(matches!(c.next(Ok(answer(200, "{}")), T0, 1), Next::Fail(e) if e.code == ErrorCode::InvalidResponse));
    // Three attempts at 10 s, two 60 s Retry-After waits, no store, a second of slack.
    assert_eq!(c.longest_flight_ms(), 3.0 * 10_000.0 + 2.0 * 60_000.0 + 1000.0);
}

#[test]
fn next_takes_attempt_zero_without_panicking() {
    // `next` is public: attempt 0 once underflowed in `attempt - 1` (a panic natively).
    let (c, _, _) = client_with(|_| {});
    assert!(matches!(c.next(Err(TransportError::Timeout), T0, 0), Next::Wait(w, _) if w == 125.0));
    assert!(matches!(c.next(Ok(answer(503, "")), T0, 0), Next::Wait(w, _) if w == 125.0));
}

#[test]
fn land_forget_and_store_entries() {
    let (c, _, _) = client_with(|_| {});
    let Next::Token(token) = c.next(Ok(token_answer("a", 3600)), T0, 1) else {
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
    assert!(!c.forget(token.id + 1), "another token's id keeps the cached one");
    assert!(c.forget(token.id));
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
    let Next::Token(once) = c.next(Ok(token_answer("b", 0)), T0, 1) else {
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
    let (writer, _, wt) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    wt.push(Ok(token_answer("short", 30)));
    assert_eq!(token(&writer).unwrap(), "short");
    let key = key();
    let mut entry = store.map.borrow().get(&key).unwrap().0.clone();
    entry.expires_in_ms = Some(20_000.0); // 10 s later by the store's clock
    store.map.borrow_mut().insert(key.clone(), (entry.clone(), 1.0));
    for offset in [-600_000.0, -60_000.0, 60_000.0, 600_000.0] {
        let (reader, clock, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
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
    let (ahead, clock, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    clock.advance(600_000.0);
    assert_eq!((token(&ahead).unwrap(), t.count()), ("tok-1".into(), 1));
    let store = MemoryStore::default();
    let (writer, wclock, wt) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    wclock.advance(600_000.0);
    wt.push(Ok(token_answer("from-the-future", 30)));
    token(&writer).unwrap();
    let (behind, _, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!(token(&behind).unwrap(), "from-the-future");
    assert_eq!((behind.expires_at(), t.count()), (Some(T0 + 30_000.0), 0));
}

#[test]
fn a_token_fetched_while_the_store_was_unavailable_gives_way_to_the_stores_at_the_next_read() {
    let store = MemoryStore::default();
    let (shared_writer, _, wt) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    wt.push(Ok(token_answer("the-fleets", 3600)));
    store.broken.set(true);
    let (c, _, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
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
    let (c, _, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
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
    let (c, _, _) = client_with_store(|o| o.timeout_ms = OptionValue::Num(500.0), Some(Rc::new(store.clone())));
    assert_eq!(token(&c).unwrap(), "tok-1");
    let before = store.calls.borrow().len();
    assert_eq!(token(&c).unwrap(), "tok-1");
    assert_eq!(store.calls.borrow().len(), before);

    // Back and empty: the own token is shared (written), not replaced.
    let store = MemoryStore::default();
    store.broken.set(true);
    let (c, _, t) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
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
    let (reader, _, rt) = client_with_store(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!((token(&reader).unwrap(), rt.count(), t.count()), ("tok-1".into(), 0, 1));
}

type Recorded = Rc<RefCell<Vec<String>>>;

/// A client whose events are recorded as JSON (as `onEvent` would see them, with `null`
/// where JavaScript sees `undefined`).
fn client_recording(f: impl FnOnce(&mut RawOptions), store: Option<Rc<dyn TokenStore>>) -> (TestClient, Recorded) {
    let mut raw = RawOptions {
        client_id: OptionValue::Str("id".into()),
        client_secret: OptionValue::Str("s3cret".into()),
        ..RawOptions::default()
    };
    f(&mut raw);
    let recorded: Recorded = Rc::default();
    let sink = Rc::clone(&recorded);
    let events = Events::new(Some(Box::new(move |e: &Event| {
        sink.borrow_mut().push(serde_json::to_string(e).unwrap());
    })));
    let (clock, transport) = (FakeClock::new(), FakeTransport::default());
    let config = Config::from_options(raw).unwrap();
    let c = TokenClient::new(config, clock.clone(), transport.clone(), sealed(store), events);
    ((c, clock, transport), recorded)
}

fn stats_json(c: &Rc<TokenClient<FakeClock, FakeTransport>>) -> String {
    serde_json::to_string(&c.events().stats).unwrap()
}

#[test]
fn events_of_a_retried_token_request_and_nothing_for_cached_calls() {
    let ((c, _, t), events) = client_recording(|_| {}, None);
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
    let ((c, clock, t), events) = client_recording(|o| o.max_retries = OptionValue::Num(0.0), None);
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

/// The store events among `events`.
fn store_events(events: &Recorded) -> Vec<String> {
    let events = events.borrow();
    events.iter().filter(|e| e.contains(r#""store""#)).cloned().collect()
}

#[test]
fn store_events_say_how_each_call_ended() {
    let store = MemoryStore::default();
    let ((c, _, _), events) = client_recording(|_| {}, Some(Rc::new(store.clone())));
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
    let ((other, _, t), other_events) = client_recording(|_| {}, Some(Rc::new(store.clone())));
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
    let ((broken, _, _), events) = client_recording(|_| {}, Some(Rc::new(store.clone())));
    assert_eq!(token(&broken).unwrap(), "tok-1");
    stall();
    assert_eq!(
        store_events(&events),
        [
            r#"{"type":"store","op":"get","outcome":"error","ms":0.0}"#,
            r#"{"type":"store","op":"set","outcome":"error","ms":0.0}"#,
        ]
    );
    store.broken.set(false);
    store.hang.set(true);
    let ((hung, _, _), events) =
        client_recording(|o| o.timeout_ms = OptionValue::Num(500.0), Some(Rc::new(store.clone())));
    assert_eq!(token(&hung).unwrap(), "tok-1");
    stall();
    assert_eq!(
        store_events(&events),
        [
            r#"{"type":"store","op":"get","outcome":"timeout","ms":500.0}"#,
            r#"{"type":"store","op":"set","outcome":"timeout","ms":500.0}"#,
        ]
    );
}

#[test]
fn a_sink_that_calls_back_into_the_client_changes_nothing() {
    // The sink runs user code: it may ask for the token (re-entrancy), with no borrow held.
    let client: Rc<RefCell<Option<Rc<Client>>>> = Rc::default();
    let seen: Recorded = Rc::default();
    let (inner, log) = (Rc::clone(&client), Rc::clone(&seen));
    let events = Events::new(Some(Box::new(move |e: &Event| {
        let c = inner.borrow().clone().unwrap();
        c.clear();
        let _ = c.fresh_token();
        c.events().stats.cache_hits.get();
        log.borrow_mut().push(serde_json::to_string(e).unwrap());
    })));
    let raw = RawOptions {
        client_id: OptionValue::Str("id".into()),
        client_secret: OptionValue::Str("s3cret".into()),
        ..RawOptions::default()
    };
    let (clock, t) = (FakeClock::new(), FakeTransport::default());
    let c = TokenClient::new(Config::from_options(raw).unwrap(), clock, t.clone(), None, events);
    *client.borrow_mut() = Some(Rc::clone(&c));
    t.push(Ok(answer(500, "")));
    assert_eq!(token(&c).unwrap(), "tok-2");
    assert_eq!(seen.borrow().len(), 2);
    client.borrow_mut().take();
}

#[test]
fn encoded_echoes_of_the_credentials_and_tokens_are_redacted() {
    let (c, _, t) = client_with(|o| {
        o.max_retries = OptionValue::Num(0.0);
        // Base64 of "id:s3cr/et+K?" holds a `/` and a `+`: aWQ6czNjci9ldCtLPw==
        o.client_secret = OptionValue::Str("s3cr/et+K?".into());
    });
    assert_eq!(token(&c).unwrap(), "tok-1");
    c.clear();
    // PHP writes `/` as `\/`, .NET `+` as `\u002B`; a query string percent-encodes both.
    let json = r#"Basic aWQ6czNjci9ldCtLPw== aWQ6czNjci9ldCtLPw s3cr\/et\u002BK? tok-1"#;
    let escaped = json.replace('\\', "\\\\").replace('"', "\\\"");
    let form = "client_secret=s3cr%2Fet%2BK%3F&auth=aWQ6czNjci9ldCtLPw%3D%3D&t=tok%2D1";
    t.push(Ok(answer(
        401,
        &format!(r#"{{"error":"{escaped}","error_description":"{form}"}}"#),
    )));
    t.push(Ok(answer(404, json)));
    t.push(Ok(answer(404, form)));
    for _ in 0..3 {
        let e = token(&c).unwrap_err();
        let shown = format!(
            "{:?}",
            [Some(e.message), e.oauth_error, e.oauth_error_description, e.body]
        );
        assert!(shown.contains("[redacted]"), "{shown}");
        for piece in [
            "s3cr",
            "et+K",
            "et\\\\u002BK",
            "aWQ6czNjci9ldCtLPw",
            "ldCtLPw",
            "tok-1",
            "tok%2D1",
        ] {
            assert!(!shown.contains(piece), "{piece} in {shown}");
        }
    }
}

#[test]
fn error_text_is_redacted_before_it_is_cut() {
    let (c, _, t) = client_with(|o| o.max_retries = OptionValue::Num(0.0));
    // The secret and the Basic value straddle the 200 B cut of the OAuth fields and the
    // end of the 1 KB read of the body.
    let oauth = format!("{}s3cret", "e".repeat(197));
    let description = format!("{}aWQ6czNjcmV0", "d".repeat(195));
    t.push(Ok(answer(
        401,
        &format!(r#"{{"error":"{oauth}","error_description":"{description}"}}"#),
    )));
    t.push(Ok(HttpResponse {
        status: 404,
        body: format!("{}aWQ6cz", "b".repeat(1018)),
        oversized: true,
        ..HttpResponse::default()
    }));
    let e = token(&c).unwrap_err();
    assert_eq!(e.oauth_error.as_deref(), Some("e".repeat(197).as_str()));
    assert_eq!(e.oauth_error_description.as_deref(), Some("d".repeat(195).as_str()));
    assert!(!e.message.contains("s3c"), "{}", e.message);
    let e = token(&c).unwrap_err();
    assert_eq!(
        e.body.as_deref(),
        Some("b".repeat(1018).as_str()),
        "the start of the Basic value went"
    );
}

#[test]
fn control_characters_in_server_text_are_escaped() {
    let (c, _, t) = client_with(|o| o.max_retries = OptionValue::Num(0.0));
    t.push(Ok(answer(
        401,
        r#"{"error":"bad\r\nX-Forged: 1","error_description":"\u001b]0;owned\u0007"}"#,
    )));
    t.push(Err(TransportError::Network("reset\nforged line\u{9b}".into())));
    let e = token(&c).unwrap_err();
    assert_eq!(e.oauth_error.as_deref(), Some("bad\\r\\nX-Forged: 1"));
    assert_eq!(e.oauth_error_description.as_deref(), Some("\\u001b]0;owned\\u0007"));
    assert!(e.message.ends_with("[bad\\r\\nX-Forged: 1]"), "{}", e.message);
    let e = token(&c).unwrap_err();
    assert!(e.message.contains("reset\\nforged line\\u009b"), "{}", e.message);
    assert!(!e.message.chars().any(char::is_control));
}

#[test]
fn free_during_a_call_keeps_the_redaction_set_until_it_settles() {
    let (c, _, t) = client_with(|o| o.max_retries = OptionValue::Num(0.0));
    let call = c.pending_call();
    let gate = t.push_later();
    let got: Rc<RefCell<Option<FlightResult>>> = Rc::default();
    let (c2, g) = (Rc::clone(&c), Rc::clone(&got));
    spawn(async move {
        let result = Rc::clone(&c2).get_token().await;
        *g.borrow_mut() = Some(result.map_err(|e| c2.settled_error(e)));
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
    let (c, _, t) = client_with(|o| o.max_retries = OptionValue::Num(0.0));
    t.push(Ok(HttpResponse {
        retry_after: Some("7".into()),
        ..answer(429, r#"{"error":"slow down"}"#)
    }));
    let e = token(&c).unwrap_err();
    assert_eq!(c.settled_error(e.clone()), e, "unchanged before free()");
    c.wipe();
    let freed = c.settled_error(e);
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
