//! The Rust client's options: typed, with the JS options' defaults and validation (both
//! are the core's [`Config`]: an option left `None` takes the core's default).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::core::config::{Options as CoreOptions, WhatwgUrl};
use crate::core::{Config, Error, Event, Secret};

/// The event callback: every token request, retry, grace, failure and API call, with codes,
/// statuses, counts and times only (never a secret, a token or a query string). It runs on
/// the client's thread, after the client has let go of its state: it may call the client.
/// Keep it quick (log, count, send to a channel): the native client's thread waits for it.
pub type EventCallback = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// What a client is built from. `client_id` and `client_secret` are required; every
/// other field left at its default (`None`, `false`) takes the library's default, the
/// same as the JavaScript options'.
///
/// ```
/// use cedato_auth::Options;
/// let options = Options {
///     base_url: Some("https://api.cedato.com/api/".into()),
///     max_retries: Some(3),
///     ..Options::new("my-client-id", "my-client-secret")
/// };
/// assert_eq!(format!("{:?}", options.client_secret), "[redacted]");
/// ```
#[derive(Clone, Default)]
pub struct Options {
    /// The client id (non-empty, no `:`).
    pub client_id: String,
    /// The client secret (non-empty). Its `Debug` prints `[redacted]`; it is overwritten
    /// in memory when dropped.
    pub client_secret: Secret,
    /// The API's base URL; default `https://api.cedato.com/api/`. https, or http for
    /// loopback hosts only (unless `allow_insecure_http`); a missing trailing `/` is added.
    pub base_url: Option<String>,
    /// Permits any http: base URL (credentials and tokens then travel in clear).
    pub allow_insecure_http: bool,
    /// The `api-version` header; default `"1"`.
    pub api_version: Option<String>,
    /// How long before expiry a token is refreshed; default 60 s (at most half the token's
    /// lifetime).
    pub refresh_skew: Option<Duration>,
    /// The time limit of one attempt, body included; default 10 s.
    pub timeout: Option<Duration>,
    /// Retries of a token request after network errors, timeouts, 5xx and 429; default 2.
    pub max_retries: Option<u32>,
    /// After the API refused a token (401/419) and it was replaced, how long a refused
    /// token is kept instead of being replaced again; default 5 s.
    pub unauthorized_cooldown: Option<Duration>,
    /// Called with every event (see [`EventCallback`]).
    pub on_event: Option<EventCallback>,
}

impl Options {
    /// The options with these credentials and every default.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Options {
        Options {
            client_id: client_id.into(),
            client_secret: client_secret.into().into(),
            ..Options::default()
        }
    }

    /// Validated by the core's rules (every failure is `invalid_config`, naming the
    /// option, never quoting its value). `parse` is the host's WHATWG URL parser, which
    /// reads `base_url`.
    pub(crate) fn config(&self, parse: impl Fn(&str) -> Option<WhatwgUrl>) -> Result<Config, Error> {
        let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0);
        CoreOptions {
            client_id: Some(self.client_id.clone()),
            client_secret: Some(self.client_secret.clone()),
            base_url: self.base_url.clone(),
            api_version: self.api_version.clone(),
            refresh_skew_seconds: self.refresh_skew.map(|d| d.as_secs_f64()),
            timeout_ms: ms(self.timeout),
            max_retries: self.max_retries,
            unauthorized_cooldown_ms: ms(self.unauthorized_cooldown),
            allow_insecure_http: self.allow_insecure_http,
        }
        .validate(parse)
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("base_url", &self.base_url)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("api_version", &self.api_version)
            .field("refresh_skew", &self.refresh_skew)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("unauthorized_cooldown", &self.unauthorized_cooldown)
            .field("on_event", &self.on_event.as_ref().map(|_| "Fn(&Event)"))
            .finish()
    }
}
