//! The native client (feature `reqwest`): [`Client`], `Clone + Send + Sync`, over the
//! single-threaded core.
//!
//! # Why a thread of its own
//!
//! The core is `Rc`/`RefCell` based: the wasm build has one thread, and JavaScript calls
//! back into it (re-entrancy) with no lock to deadlock on. Rather than make it generic over
//! a sync trait (locks on every cached read in the wasm too, and two versions of every
//! rule), the native [`Client`] owns one [`LocalClient`] on a thread of its own (a
//! current-thread tokio runtime with a `LocalSet`) and talks to it over a channel. So:
//!
//! - **one core**: single flight, grace, retries, the 401/419 retry and redaction are the
//!   very code the wasm runs; 1000 tasks asking at once are 1000 commands to one thread,
//!   which starts one token request and hands its result to all;
//! - **a fast path**: after every command the core thread publishes a snapshot (the fresh
//!   token, its header, its refresh point, as the core's [`CachedToken`]); `token()` reads
//!   it under a read lock and applies the core's freshness rule
//!   ([`CachedToken::fresh_at`]), with no channel and no await (well under 1 µs).
//!   Whatever the snapshot cannot answer goes to the core thread. A token the API refused
//!   (401/419) stays in the snapshot until the call that saw the refusal ends: a call
//!   that takes it meanwhile gets the same 401, and the core retries it with the token
//!   that replaced it (it knows the refused one is gone), so no extra token request;
//! - the event callback runs on the core thread (hence `Send + Sync`).
//!
//! The thread ends when the last clone of the [`Client`] is dropped.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cedato_auth::Error> {
//! use cedato_auth::{ApiRequest, Client, Options};
//! let client = Client::new(Options::new("my-client-id", "my-client-secret"))?;
//! let header = client.authorization_header().await?; // "Bearer …"
//! let report: serde_json::Value = client
//!     .json(ApiRequest::get("reports/supplies/extended").query("start", "2026-01-01").query("end", "2026-01-31"))
//!     .await?;
//! # Ok(()) }
//! ```

mod runtime;
mod store;
mod transport;
mod url;

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};

use runtime::{parse_json, system_now_ms};
pub use runtime::{TokioRuntime, WatchLatch};
pub use store::{MemoryStore, NativeSealer, SharedTokenStore, StoreFuture};
pub use transport::ReqwestTransport;

use super::api::{ApiRequest, ApiResponse};
use super::options::Options;
use super::LocalClient;
use crate::core::{CachedToken, Error, ErrorCode, Secret, SharedStore, Stats};

/// The single-threaded client the native [`Client`] runs on its thread.
pub type NativeLocalClient = LocalClient<TokioRuntime, ReqwestTransport>;

/// What the core thread publishes for the fast path.
#[derive(Default)]
struct Snapshot {
    /// The cached token while the core would serve it from memory.
    token: Option<Arc<CachedToken>>,
    /// When the cached token expires (fresh or not).
    expires_at: Option<f64>,
    /// `clear()` calls so far: a snapshot is only published by a core that has seen them all.
    clears: u64,
}

/// What the callers and the core thread share.
struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    snapshot: RwLock<Snapshot>,
    /// Tokens served by the fast path (added to the core's `cache_hits`).
    fast_hits: AtomicU32,
    /// The core's counters as of the last call it finished.
    stats: Mutex<Stats>,
}

/// A JSON body read into the caller's type, boxed to cross to the core thread and back.
type Parsed = Box<dyn Any + Send>;
type JsonReader = Box<dyn FnOnce(&str) -> Option<Parsed> + Send>;

enum Command {
    Token {
        refresh: bool,
        reply: oneshot::Sender<Result<Arc<CachedToken>, Error>>,
    },
    Clear,
    Send {
        request: ApiRequest,
        ok_only: bool,
        reply: oneshot::Sender<Result<ApiResponse, Error>>,
    },
    Json {
        request: ApiRequest,
        parse: JsonReader,
        reply: oneshot::Sender<Result<Parsed, Error>>,
    },
}

/// The Cedato client for tokio services: `Clone + Send + Sync` (clones share one token
/// cache and one connection pool), cached `token()` under 1 µs, one token request in
/// flight however many tasks ask. See the [module docs](self) for how.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

fn stopped() -> Error {
    Error::new(ErrorCode::Network, "the client's thread stopped")
}

/// A copy of `token` that may cross threads (the core keeps its own behind an `Rc`).
fn shareable(token: &CachedToken) -> Arc<CachedToken> {
    Arc::new(token.clone())
}

impl Client {
    /// A client over a new reqwest client (rustls, no redirects followed by reqwest).
    /// Fails with `invalid_config` on bad options; makes no request. It starts the
    /// client's thread and waits (briefly, without an await) until its core is built;
    /// the caller needs no tokio runtime of its own (any executor can await the calls).
    pub fn new(options: Options) -> Result<Client, Error> {
        Client::with_transport(options, ReqwestTransport::new()?)
    }

    /// A client over `transport` (e.g. [`ReqwestTransport::with_client`] with the
    /// caller's reqwest client).
    pub fn with_transport(options: Options, transport: ReqwestTransport) -> Result<Client, Error> {
        Client::start(options, transport, None)
    }

    /// A client that shares its token through `store` with the other clients of the same
    /// credentials and base URL that use it (this process's, with a [`MemoryStore`], or a
    /// fleet's, with a store of your own): memory, then the store, then the token
    /// endpoint. The store keeps the token sealed by [`NativeSealer`] (see the
    /// [`SharedTokenStore`] docs); one that fails or is slow degrades to the endpoint.
    pub fn with_store(options: Options, store: Arc<dyn SharedTokenStore>) -> Result<Client, Error> {
        Client::with_transport_and_store(options, ReqwestTransport::new()?, store)
    }

    /// [`with_store`](Self::with_store) over `transport`.
    pub fn with_transport_and_store(
        options: Options,
        transport: ReqwestTransport,
        store: Arc<dyn SharedTokenStore>,
    ) -> Result<Client, Error> {
        Client::start(options, transport, Some(store))
    }

    fn start(
        options: Options,
        transport: ReqwestTransport,
        store: Option<Arc<dyn SharedTokenStore>>,
    ) -> Result<Client, Error> {
        let (commands, inbox) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            commands,
            snapshot: RwLock::default(),
            fast_hits: AtomicU32::new(0),
            stats: Mutex::default(),
        });
        let (built, ready) = std::sync::mpsc::sync_channel(1);
        let core = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("cedato-auth".into())
            .spawn(move || run(options, transport, store, core, inbox, built))
            .map_err(|_| Error::new(ErrorCode::InvalidConfig, "the client's thread could not start"))?;
        ready.recv().map_err(|_| stopped())??;
        Ok(Client { shared })
    }

    /// The token from the snapshot when the core's rule says it is fresh now.
    fn fast(&self) -> Option<Arc<CachedToken>> {
        let snapshot = self.shared.snapshot.read().ok()?;
        let token = snapshot.token.as_ref().filter(|t| t.fresh_at(system_now_ms()))?;
        self.shared.fast_hits.fetch_add(1, Ordering::Relaxed);
        Some(Arc::clone(token))
    }

    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        self.shared.commands.send(command(reply)).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }

    async fn cached_token(&self) -> Result<Arc<CachedToken>, Error> {
        match self.fast() {
            Some(token) => Ok(token),
            None => self.ask(|reply| Command::Token { refresh: false, reply }).await?,
        }
    }

    /// The access token: from memory while outside the refresh window (no await, no lock
    /// but a read lock), else fetched (one request however many tasks ask at once; the old
    /// token when a refresh in the skew window fails).
    pub async fn token(&self) -> Result<Secret, Error> {
        Ok(self.cached_token().await?.access_token.clone())
    }

    /// `Bearer <token>`, for an `Authorization` header.
    pub async fn authorization_header(&self) -> Result<Secret, Error> {
        Ok(self.cached_token().await?.authorization.clone())
    }

    /// A new token now (joining a request already in flight); no grace.
    pub async fn refresh(&self) -> Result<Secret, Error> {
        let token = self.ask(|reply| Command::Token { refresh: true, reply }).await??;
        Ok(token.access_token.clone())
    }

    /// Forgets the cached token, here at once and in the core; a request already in
    /// flight goes on (its token is cached when it lands).
    pub fn clear(&self) {
        if let Ok(mut snapshot) = self.shared.snapshot.write() {
            snapshot.clears += 1;
            snapshot.token = None;
            snapshot.expires_at = None;
        }
        let _ = self.shared.commands.send(Command::Clear);
    }

    /// When the cached token expires, in ms since the epoch; `None` when none is cached.
    pub fn expires_at(&self) -> Option<f64> {
        self.shared.snapshot.read().ok()?.expires_at
    }

    /// Whether a token is cached and outside its refresh window.
    pub fn has_valid_token(&self) -> bool {
        let snapshot = self.shared.snapshot.read();
        snapshot.is_ok_and(|s| s.token.as_ref().is_some_and(|t| t.fresh_at(system_now_ms())))
    }

    /// The counters since construction, as of the last call the client finished (and
    /// every cached `token()` since, in `cache_hits`).
    pub fn stats(&self) -> Stats {
        let stats = self.shared.stats.lock().map(|s| s.clone()).unwrap_or_default();
        let fast = self.shared.fast_hits.load(Ordering::Relaxed);
        stats.cache_hits.set(stats.cache_hits.get().saturating_add(fast));
        stats
    }

    /// Sends `request` with the token and hands back the answer whatever its status: see
    /// [`LocalClient::send`] (same origin only, redirects inside it followed, one retry
    /// after a 401/419).
    pub async fn send(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        self.ask(|reply| Command::Send {
            request,
            ok_only: false,
            reply,
        })
        .await?
    }

    /// [`send`](Self::send), and a non-2xx answer as an `http` error (see
    /// [`LocalClient::send_ok`]).
    pub async fn send_ok(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        self.ask(|reply| Command::Send {
            request,
            ok_only: true,
            reply,
        })
        .await?
    }

    /// [`send_ok`](Self::send_ok), and the 2xx body parsed as JSON into `D` (an empty body
    /// reads as `null`): see [`LocalClient::json`]. A body that is not JSON of `D`'s shape
    /// is `invalid_response`.
    pub async fn json<D: DeserializeOwned + Send + 'static>(&self, request: ApiRequest) -> Result<D, Error> {
        let parse: JsonReader = Box::new(|text| Some(Box::new(parse_json::<D>(text)?) as Parsed));
        let parsed = self.ask(|reply| Command::Json { request, parse, reply }).await??;
        // The reader made a `D`: the downcast cannot fail.
        parsed.downcast::<D>().map(|d| *d).map_err(|_| stopped())
    }
}

/// The core thread: builds the [`LocalClient`], reports how that went, then serves
/// commands until the last [`Client`] is dropped.
fn run(
    options: Options,
    transport: ReqwestTransport,
    store: Option<Arc<dyn SharedTokenStore>>,
    shared: std::sync::Weak<Shared>,
    mut inbox: mpsc::UnboundedReceiver<Command>,
    built: std::sync::mpsc::SyncSender<Result<(), Error>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(_) => {
            let _ = built.send(Err(Error::new(
                ErrorCode::InvalidConfig,
                "the client's runtime could not start",
            )));
            return;
        }
    };
    let tasks = tokio::task::LocalSet::new();
    tasks.block_on(&runtime, async move {
        let store = store.map(|store| SharedStore {
            store: Rc::new(store::OnCoreThread(store)),
            sealer: Rc::new(NativeSealer),
        });
        let built_client = match store {
            Some(store) => LocalClient::with_store(options, TokioRuntime::new(), transport, store),
            None => LocalClient::new(options, TokioRuntime::new(), transport),
        };
        let client = match built_client {
            Ok(client) => Rc::new(client),
            Err(error) => {
                let _ = built.send(Err(error));
                return;
            }
        };
        let _ = built.send(Ok(()));
        let core = Rc::new(Core {
            client,
            shared,
            clears: Cell::new(0),
        });
        while let Some(command) = inbox.recv().await {
            if let Command::Clear = command {
                core.clears.set(core.clears.get() + 1);
                core.client.clear();
                core.publish();
                continue;
            }
            tokio::task::spawn_local(Rc::clone(&core).serve(command));
        }
    });
}

/// The core thread's side.
struct Core {
    client: Rc<NativeLocalClient>,
    shared: std::sync::Weak<Shared>,
    /// `Command::Clear`s served so far.
    clears: Cell<u64>,
}

impl Core {
    async fn serve(self: Rc<Self>, command: Command) {
        match command {
            Command::Token { refresh, reply } => {
                let result = match refresh {
                    false => self.client.cached_token().await,
                    true => self.client.refresh_token().await,
                };
                let published = self.publish();
                let _ = reply.send(result.map(|token| match published {
                    Some(copy) if copy.id == token.id => copy,
                    _ => shareable(&token),
                }));
            }
            Command::Send {
                request,
                ok_only,
                reply,
            } => {
                let result = match ok_only {
                    false => self.client.send(request).await,
                    true => self.client.send_ok(request).await,
                };
                self.publish();
                let _ = reply.send(result);
            }
            Command::Json { request, parse, reply } => {
                let result = self.client.json_with(request, parse).await;
                self.publish();
                let _ = reply.send(result);
            }
            Command::Clear => {}
        }
    }

    /// Publishes the core's fresh token (if any) for the fast path, unless a `clear()`
    /// the core has not served yet came since; hands back what is published.
    fn publish(&self) -> Option<Arc<CachedToken>> {
        let shared = self.shared.upgrade()?;
        if let Ok(mut stats) = shared.stats.lock() {
            *stats = self.client.stats();
        }
        let fresh = self.client.fresh_token();
        let mut snapshot = shared.snapshot.write().ok()?;
        if snapshot.clears != self.clears.get() {
            return None;
        }
        snapshot.expires_at = self.client.expires_at();
        snapshot.token = match (fresh, snapshot.token.take()) {
            (Some(fresh), Some(same)) if same.id == fresh.id => Some(same),
            (Some(fresh), _) => Some(shareable(&fresh)),
            (None, _) => None,
        };
        snapshot.token.clone()
    }
}
