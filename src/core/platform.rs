//! The platform seams: what the core asks of its host (time, waiting, background tasks, one
//! HTTP attempt, the shared store) as traits, [`LocalFuture`], the future they return, and
//! [`with_timeout`], the one race of a future against a deadline.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

use serde::de::DeserializeOwned;

use super::http::{HttpRequest, HttpResponse};
use super::store::{SealedEntry, StoreAnswer};

/// A boxed future that stays on the current thread (JavaScript has one).
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Wall-clock time and randomness for jitter: all the decisions need.
pub trait Clock {
    /// Milliseconds since the epoch, read anew at every check (`Date.now()` in JS).
    fn now_ms(&self) -> f64;
    /// A random number in `[0, 1)`, for backoff jitter.
    fn jitter(&self) -> f64;
    /// An HTTP date (a `Retry-After` value) as ms since the epoch (`Date.parse` in JS).
    fn parse_http_date(&self, text: &str) -> Option<f64>;
}

/// Reading text into values: the JavaScript engine's `JSON.parse` and `Number()` in the
/// wasm, so the wasm carries no JSON-text or float parser of its own; serde_json and
/// [`str::parse`] natively.
///
/// A trait of its own, which [`Runtime`] requires: parsing belongs to the engine the core
/// runs in, like the clock (`Date.parse` is [`Clock::parse_http_date`]), not to the
/// network, so a [`Transport`] has one method, `send`, and a native transport brings no
/// parser.
pub trait Parse {
    /// `text` parsed as JSON into `T`; `None` when it is not JSON or not a `T`.
    fn parse_json<T: DeserializeOwned>(&self, text: &str) -> Option<T>;
    /// A plain decimal (`"3600"`, `"1.5"`, checked before) as a number.
    fn parse_number(&self, text: &str) -> Option<f64> {
        text.parse().ok()
    }
}

/// Waiting and background work: the JS event loop in the wasm, an executor natively; and
/// the engine's parsers ([`Parse`]).
pub trait Runtime: Clock + Parse + 'static {
    /// What a token request's waiters await.
    type Latch: Latch;
    /// Resolves after `ms` milliseconds.
    fn sleep(&self, ms: f64) -> LocalFuture<()>;
    /// A new, closed latch.
    fn latch(&self) -> Self::Latch;
    /// Runs `task` to its end on its own, after the current call has returned.
    fn spawn(&self, task: LocalFuture<()>);
    /// Whether the runtime ties I/O to the request that started it and cancels it when
    /// that request ends (workerd): waiters of a token request started by another request
    /// then give it up after the longest time a healthy one takes.
    fn isolates_requests(&self) -> bool {
        false
    }
}

/// A one-shot signal many waiters await: each waiter is woken where it waits (in the
/// wasm, by a promise reaction of its own, so a worker's request resumes in itself).
pub trait Latch: Clone + 'static {
    /// Wakes every waiter, now and later.
    fn open(&self);
    /// Resolves once the latch is open.
    fn wait(&self) -> LocalFuture<()>;
}

/// Why an attempt produced no answer.
#[derive(Clone, Debug, PartialEq)]
pub enum TransportError {
    /// The request could not be made; a short description without secrets.
    Network(String),
    /// The attempt, body included, took longer than its time limit.
    Timeout,
}

/// Sends one HTTP request and reads the whole answer, within `timeout_ms`.
pub trait Transport: 'static {
    /// One attempt.
    fn send(&self, request: &HttpRequest, timeout_ms: f64) -> LocalFuture<Result<HttpResponse, TransportError>>;
}

/// Where tokens are shared. Implementations turn their own failures into
/// [`StoreAnswer::Unavailable`] / `false`;
/// the client bounds every call with `timeoutMs`, and a call it gave up on is dropped
/// (the wasm store then aborts the signal it handed the call).
pub trait TokenStore {
    /// The entry under `key`, if the store has a current one.
    fn get(&self, key: &str) -> LocalFuture<StoreAnswer>;
    /// Keeps `entry` under `key` for `ttl_seconds`; `false` when the store failed.
    fn set(&self, key: &str, entry: &SealedEntry, ttl_seconds: f64) -> LocalFuture<bool>;
    /// Drops the entry under `key` (the API refused its token); `false` when the store failed.
    fn delete(&self, key: &str) -> LocalFuture<bool>;
    /// The token request that followed a miss (`get` found nothing usable) ended
    /// without a token to `set`: it failed, or its token is not to be shared (use-once).
    /// A store that locks on a miss unlocks here, so nobody waits for that token.
    /// `false` when the store failed.
    fn release(&self, key: &str) -> LocalFuture<bool>;
}

/// The output of `work`, or `None` when `deadline` resolves first.
pub async fn with_timeout<T>(work: impl Future<Output = T>, deadline: impl Future<Output = ()>) -> Option<T> {
    let (mut work, mut deadline) = (std::pin::pin!(work), std::pin::pin!(deadline));
    poll_fn(move |cx| {
        if let Poll::Ready(v) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        deadline.as_mut().poll(cx).map(|()| None)
    })
    .await
}
