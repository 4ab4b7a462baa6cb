//! The pure core: no JavaScript types, no I/O of its own. Time and transport are
//! parameters ([`Clock`], [`Transport`]), so every rule is tested natively.

pub mod client;
pub mod config;
pub mod error;
pub mod json;
pub mod retry;
pub mod shared;
pub mod store;
pub mod text;
pub mod token;

pub use client::{CachedToken, Clock, Next, Timer, TokenClient, Transport, TransportError};
pub use config::{Config, OptionValue, RawOptions};
pub use error::{Error, ErrorCode};
pub use store::{StoredToken, TokenStore};
pub use token::{process_token_response, HttpRequest, HttpResponse, Token};
