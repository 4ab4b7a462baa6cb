//! The pure core: no JavaScript types, no I/O of its own. Time, waiting, the transport and
//! the shared store are traits ([`Runtime`], [`Transport`], [`TokenStore`]): native tests
//! drive the one async driver ([`TokenClient`]) with fakes, the wasm build with web-sys.

pub mod client;
pub mod config;
pub mod error;
pub mod events;
pub mod response;
pub mod retry;
pub mod store;
pub mod token;

pub use client::{CachedToken, Clock, Latch, LocalFuture, Next, Runtime, TokenClient, Transport, TransportError};
pub use config::{Config, OptionValue, RawOptions};
pub use error::{Error, ErrorCode};
pub use events::{Event, Events, Stats};
pub use response::ResponseType;
pub use store::{StoreAnswer, StoredToken, TokenStore};
pub use token::{process_token_response, HttpRequest, HttpResponse, Scalar, Token, TokenAnswer};
