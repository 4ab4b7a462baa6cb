//! The pure core: no JavaScript types, no I/O of its own. Time, waiting, the transport,
//! the shared store and its seal are traits ([`Runtime`], [`Transport`], [`TokenStore`],
//! [`Sealer`]): native tests drive the one async driver ([`TokenClient`]) with fakes, the
//! wasm build with web-sys.

pub mod cache;
pub mod client;
pub mod config;
pub mod error;
pub mod events;
pub(crate) mod flight;
pub mod hop;
pub mod http;
pub mod json;
pub mod platform;
pub mod redact;
pub mod response;
pub mod retry;
pub mod seal;
pub mod store;
pub mod token;

pub use cache::CachedToken;
pub use client::{PendingToken, SharedStore, TokenClient, TokenNow};
pub use config::{Config, Options};
pub use error::{Error, ErrorCode, Redacted};
pub use events::{Event, Events, Stats, StoreOp, StoreOutcome, TokenSource};
pub use http::{HttpRequest, HttpResponse};
pub use json::Scalar;
pub use platform::{with_timeout, Clock, Latch, LocalFuture, Parse, Runtime, TokenStore, Transport, TransportError};
pub use redact::Secret;
pub use response::ResponseType;
pub use seal::{Derived, KeyMaterial, Sealer, SealingKey};
pub use store::{SealedEntry, StoreAnswer, StoredToken, StoredValue};
pub use token::{process_token_response, Token, TokenAnswer};
