//! The client's rules with a fake clock and a scripted transport, one file per topic.
//!
//! This file holds what they share: the executor, the fakes (clock, latch, transport,
//! sealer, store), the one options builder ([`options`]) and small helpers.

use super::*;
use crate::core::config::{self, whatwg};
use crate::core::events::Sink;
use crate::core::flight::Flight;
use crate::core::http::{HttpRequest, HttpResponse};
use crate::core::platform::TransportError;
use crate::core::platform::{Clock, Latch, LocalFuture, Parse, TokenStore};
use crate::core::seal::Derived;
use crate::core::seal::{self, KeyMaterial, Sealer, SealingKey};
use crate::core::store::{SealedEntry, StoreAnswer, StoredToken};
use futures::channel::oneshot;
use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt;
use std::collections::{HashMap, VecDeque};
use std::future::{poll_fn, Future};
use std::hash::{Hash, Hasher};
use std::task::Poll;
use zeroize::Zeroizing;

mod cache;
mod clocks;
mod decisions;
mod events;
mod flight;
mod free;
mod redaction;
mod refusal;
mod retry;
mod sealed;
mod store;

// ------------------------------------------------------------------------- the executor

thread_local! {
    // Each test runs on a thread of its own: one executor per test, which the fake
    // runtime spawns onto and the test drives.
    static POOL: RefCell<LocalPool> = RefCell::new(LocalPool::new());
    static SPAWNER: LocalSpawner = POOL.with(|p| p.borrow().spawner());
}

/// Runs `future` to its end on the test's executor (its spawned tasks run meanwhile).
pub(crate) fn run<F: Future>(future: F) -> F::Output {
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

// ---------------------------------------------------------------------------- the fakes

/// A latch over a flag and the wakers of its waiters.
#[derive(Clone, Default)]
pub(crate) struct FakeLatch(Rc<RefCell<(bool, Vec<std::task::Waker>)>>);

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

pub(crate) const T0: f64 = 1_800_000_000_000.0;

/// Time that only moves when told to; `sleep` moves it at once and records the wait.
#[derive(Clone)]
pub(crate) struct FakeClock {
    now: Rc<Cell<f64>>,
    pub(crate) sleeps: Rc<RefCell<Vec<f64>>>,
    isolated: Rc<Cell<bool>>,
}

impl FakeClock {
    pub(crate) fn new() -> Self {
        FakeClock {
            now: Rc::new(Cell::new(T0)),
            sleeps: Rc::default(),
            isolated: Rc::default(),
        }
    }
    pub(crate) fn advance(&self, ms: f64) {
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

impl Parse for FakeClock {
    fn parse_json<T: serde::de::DeserializeOwned>(&self, text: &str) -> Option<T> {
        serde_json::from_str(text).ok()
    }
}

pub(crate) type Outcome = Result<HttpResponse, TransportError>;

enum Step {
    Now(Outcome),
    Later(oneshot::Receiver<Outcome>),
}

/// Answers from a script; with an empty script, a fresh token `tok-N` for 3600 s.
#[derive(Clone, Default)]
pub(crate) struct FakeTransport {
    script: Rc<RefCell<VecDeque<Step>>>,
    pub(crate) sent: Rc<RefCell<Vec<HttpRequest>>>,
}

impl FakeTransport {
    pub(crate) fn push(&self, outcome: Outcome) {
        self.script.borrow_mut().push_back(Step::Now(outcome));
    }
    fn push_later(&self) -> oneshot::Sender<Outcome> {
        let (tx, rx) = oneshot::channel();
        self.script.borrow_mut().push_back(Step::Later(rx));
        tx
    }
    pub(crate) fn count(&self) -> usize {
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
}

pub(crate) fn answer(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        body: body.into(),
        ..HttpResponse::default()
    }
}

pub(crate) fn token_answer(token: &str, expires_in: u32) -> HttpResponse {
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

// ------------------------------------------------------------------ the options builder

type Client = TokenClient<FakeClock, FakeTransport>;
type TestClient = (Rc<Client>, FakeClock, FakeTransport);

/// What a test client is made of: clientId "id" and secret "s3cret" unless told otherwise,
/// a fresh fake clock and transport, no store and no event sink.
struct Options {
    raw: config::Options,
    clock: FakeClock,
    transport: FakeTransport,
    store: Option<SharedStore>,
    sink: Option<Sink>,
}

/// The one way the tests make a client: `options()`, the settings the test is about, then
/// `build()` (or `build_recording()`, `build_over(transport)`).
fn options() -> Options {
    Options {
        raw: config::Options {
            client_id: Some("id".into()),
            client_secret: Some("s3cret".to_owned().into()),
            ..config::Options::default()
        },
        clock: FakeClock::new(),
        transport: FakeTransport::default(),
        store: None,
        sink: None,
    }
}

impl Options {
    /// Sets any option.
    fn with(mut self, set: impl FnOnce(&mut config::Options)) -> Self {
        set(&mut self.raw);
        self
    }
    fn max_retries(self, n: f64) -> Self {
        self.with(|o| o.max_retries = Some(n as u32))
    }
    fn timeout_ms(self, ms: f64) -> Self {
        self.with(|o| o.timeout_ms = Some(ms))
    }
    fn cooldown_ms(self, ms: f64) -> Self {
        self.with(|o| o.unauthorized_cooldown_ms = Some(ms))
    }
    fn secret(self, secret: &str) -> Self {
        self.with(|o| o.client_secret = Some(secret.to_owned().into()))
    }
    /// Shares `store` under a fake sealer.
    fn store(self, store: &MemoryStore) -> Self {
        self.store_sealed_by(store, FakeSealer::default())
    }
    /// Shares `store` under `sealer`.
    fn store_sealed_by(mut self, store: &MemoryStore, sealer: FakeSealer) -> Self {
        self.store = Some(SharedStore {
            store: Rc::new(store.clone()),
            sealer: Rc::new(sealer),
        });
        self
    }
    /// Runs on the clock and the transport of another client.
    fn on(mut self, clock: &FakeClock, transport: &FakeTransport) -> Self {
        self.clock = clock.clone();
        self.transport = transport.clone();
        self
    }
    fn on_event(mut self, sink: impl Fn(&Event) + 'static) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }
    fn build(self) -> TestClient {
        let (clock, transport) = (self.clock.clone(), self.transport.clone());
        (self.build_over(transport.clone()), clock, transport)
    }
    /// A client whose events are recorded as JSON (as `onEvent` would see them, with `null`
    /// where JavaScript sees `undefined`).
    fn build_recording(self) -> (TestClient, Recorded) {
        let recorded: Recorded = Rc::default();
        let sink = Rc::clone(&recorded);
        let client = self
            .on_event(move |e| sink.borrow_mut().push(serde_json::to_string(e).unwrap()))
            .build();
        (client, recorded)
    }
    /// A client over another transport than the fake one.
    fn build_over<T: Transport>(self, transport: T) -> Rc<TokenClient<FakeClock, T>> {
        let config = self.raw.validate(whatwg).unwrap();
        TokenClient::new(config, self.clock, transport, self.store, Events::new(self.sink))
    }
}

/// A client with the defaults.
fn client() -> TestClient {
    options().build()
}

/// The token `c` gets (or its error).
fn token(c: &Rc<Client>) -> Result<String, Error> {
    run(Rc::clone(c).get_token()).map(|t| t.access_token.to_string())
}

type Got = Rc<RefCell<Vec<Result<String, Error>>>>;

/// Spawns `n` concurrent callers of `get_token` (or `refresh`) on the test's executor;
/// each pushes the token it got (or its error) into the returned list when done.
fn spawn_callers(c: &Rc<Client>, n: usize, refresh: bool) -> Got {
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

type Recorded = Rc<RefCell<Vec<String>>>;

/// The store events among `events`.
fn store_events(events: &Recorded) -> Vec<String> {
    let events = events.borrow();
    events.iter().filter(|e| e.contains(r#""store""#)).cloned().collect()
}

// ------------------------------------------------------------- the sealer and the store

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
    let (c, _, _) = options().secret(secret).build();
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
