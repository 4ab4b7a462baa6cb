//! [`LocalClient`]: the token client and authenticated calls for one thread, generic over
//! the core's [`Runtime`] and [`Transport`] (and a [`ParseUrl`] for the origin rule).

use std::rc::Rc;

use serde::de::DeserializeOwned;

use super::api::{not_json, ApiRequest, ApiResponse};
use super::options::Options;
use crate::core::config::WhatwgUrl;
use crate::core::events::Sink;
use crate::core::hop::{
    answer_error, answered, is_redirect, next_hop, normalize_method, Answer, Location, NextHop, Sent,
};
use crate::core::http::HttpRequest;
use crate::core::{CachedToken, SharedStore, TransportError};
use crate::core::{Config, Error, ErrorCode, Event, Events, Runtime, Secret, Stats, TokenClient, Transport};

/// An absolute URL as a WHATWG URL parser serializes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedUrl {
    /// The whole URL.
    pub href: String,
    /// `scheme://host[:port]`.
    pub origin: String,
    /// The path, without query or fragment (for events).
    pub path: String,
}

impl From<ParsedUrl> for WhatwgUrl {
    /// What the core keeps of a parsed URL (the base URL's serialization and origin).
    fn from(url: ParsedUrl) -> WhatwgUrl {
        WhatwgUrl {
            href: url.href,
            origin: url.origin,
        }
    }
}

/// The host's WHATWG URL parser: the `url` crate natively, the engine's `URL` in the wasm.
pub trait ParseUrl {
    /// `input` resolved against `base`, with `query` appended as form-encoded pairs;
    /// `None` when it does not parse.
    fn parse(&self, input: &str, base: &str, query: &[(String, String)]) -> Option<ParsedUrl>;
}

/// The token client and authenticated calls, on one thread (`!Send`): what a Rust wasm
/// app uses (its runtime is the JavaScript event loop), and what the native
/// `Client` (feature `reqwest`) runs on a thread of its own.
///
/// Single flight, skew, grace, retries with `Retry-After`, the same-origin rule, the
/// 401/419 retry and redaction are the core's, as for the JavaScript class.
pub struct LocalClient<R: Runtime, T: Transport> {
    client: Rc<TokenClient<R, T>>,
    /// The base URL's origin, as the runtime's URL parser serializes it.
    origin: String,
}

impl<R: Runtime, T: Transport> std::fmt::Debug for LocalClient<R, T> {
    /// The base URL's origin only: no option, secret or token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalClient")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// What a call sent, kept for the next hop.
struct Outgoing {
    method: String,
    url: ParsedUrl,
    body: Option<String>,
}

impl<R: Runtime + ParseUrl, T: Transport> LocalClient<R, T> {
    /// A client with nothing cached; it does no I/O until a token is asked for. Fails with
    /// `invalid_config` on bad options (the JavaScript constructor's rules).
    pub fn new(options: Options, runtime: R, transport: T) -> Result<Self, Error> {
        LocalClient::build(options, runtime, transport, None)
    }

    /// [`new`](Self::new), with a shared store: one token for a fleet of clients
    /// (processes, isolates). Lookup order is memory, then `store`, then the token
    /// endpoint; a store that fails or is slow degrades to the endpoint and never fails a
    /// call. What the store keeps is sealed by the [`SharedStore`]'s sealer (AES-256-GCM
    /// under a key derived from the credentials; see [`crate::core::seal`]): it learns when
    /// the token expires, and nothing usable.
    pub fn with_store(options: Options, runtime: R, transport: T, store: SharedStore) -> Result<Self, Error> {
        LocalClient::build(options, runtime, transport, Some(store))
    }

    fn build(options: Options, runtime: R, transport: T, store: Option<SharedStore>) -> Result<Self, Error> {
        // One origin: the base URL as the runtime's WHATWG parser serializes it (IDN
        // hosts in punycode, IPv6 in canonical form), for the token request and every
        // call's origin check alike.
        let config = options.config(|text| runtime.parse(text, text, &[]).map(WhatwgUrl::from))?;
        let origin = config.origin.clone();
        let sink = options
            .on_event
            .map(|on_event| Box::new(move |event: &Event<'_>| on_event(event)) as Sink);
        let client = TokenClient::new(config, runtime, transport, store, Events::new(sink));
        Ok(LocalClient { client, origin })
    }
}

impl<R: Runtime + ParseUrl, T: Transport> LocalClient<R, T> {
    /// The cached token while it is fresh, with no I/O and no await: the fast path, and
    /// what a native front publishes.
    pub fn fresh_token(&self) -> Option<Rc<CachedToken>> {
        self.client.fresh_token()
    }

    /// The cached token entry (fresh, else fetched: one request however many callers
    /// ask at once; the old token when a refresh in the skew window fails).
    pub async fn cached_token(&self) -> Result<Rc<CachedToken>, Error> {
        Rc::clone(&self.client).get_token().await
    }

    /// The access token: from memory while outside the refresh window, else fetched.
    pub async fn token(&self) -> Result<Secret, Error> {
        Ok(self.cached_token().await?.access_token.clone())
    }

    /// `Bearer <token>`, for an `Authorization` header.
    pub async fn authorization_header(&self) -> Result<Secret, Error> {
        Ok(self.cached_token().await?.authorization.clone())
    }

    /// A new token now (joining a request already in flight); no grace: a failure is an
    /// error even while the old token is valid.
    pub async fn refresh(&self) -> Result<Secret, Error> {
        Ok(self.refresh_token().await?.access_token.clone())
    }

    /// [`refresh`](Self::refresh), as the cached token entry.
    pub async fn refresh_token(&self) -> Result<Rc<CachedToken>, Error> {
        Rc::clone(&self.client).refresh().await
    }

    /// Forgets the cached token; a request already in flight goes on.
    pub fn clear(&self) {
        self.client.clear();
    }

    /// When the cached token expires, in ms since the epoch; `None` when none is cached.
    pub fn expires_at(&self) -> Option<f64> {
        self.client.expires_at()
    }

    /// Whether a token is cached and outside its refresh window.
    pub fn has_valid_token(&self) -> bool {
        self.client.has_fresh_token()
    }

    /// The counters since construction.
    pub fn stats(&self) -> Stats {
        self.client.events().stats.clone()
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        self.client.config()
    }

    /// `text` with every secret of this client replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        self.client.redact(text)
    }

    /// Sends `request` with the token and hands back the answer whatever its status
    /// (like `fetch`): a relative path resolves against the base URL; an absolute URL
    /// must share its origin, else `invalid_request` and nothing is sent. Redirects inside
    /// the origin are followed, others are the answer; a 401 or 419 gets one retry with a
    /// new token. Each send is bounded by the `timeout` option, body included.
    pub async fn send(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        let started = self.client.runtime().now_ms();
        let url = self.resolve(&request)?;
        let first = Outgoing {
            method: normalize_method(request.method.clone()),
            url,
            body: request.body.clone(),
        };
        let mut retried = false;
        let mut cooldown = false;
        let (response, in_origin) = 'attempts: loop {
            let token = self.cached_token().await?;
            let mut hop = Outgoing {
                method: first.method.clone(),
                url: first.url.clone(),
                body: first.body.clone(),
            };
            let mut hops = 0;
            // Whether the engine follows redirects itself: a browser hides them from
            // `redirect: "manual"` (status 0), so the hop is sent again with "follow".
            let mut follow = false;
            loop {
                let response = self.send_once(&request, &hop, &token.authorization, follow).await?;
                let sent = Sent {
                    method: &hop.method,
                    resendable: true,
                    own_redirect: false,
                    browser_follows: follow,
                    hops,
                    retried,
                };
                let answer = Answer {
                    status: response.status,
                    opaque_redirect: response.status == 0,
                    in_origin: self.in_origin(&response),
                    location: self.location(&response, &hop.url.href),
                };
                match next_hop(&sent, &answer) {
                    NextHop::Done => break 'attempts (response, answer.in_origin),
                    NextHop::LetBrowserFollow => follow = true,
                    NextHop::Follow { as_get } => {
                        let Location::SameOrigin(next) = answer.location else {
                            break 'attempts (response, answer.in_origin);
                        };
                        if as_get {
                            hop.method = "GET".to_owned();
                            hop.body = None;
                        }
                        hop.url = next;
                        hops += 1;
                    }
                    NextHop::RetryWithNewToken => {
                        if !self.client.replace_refused(token.id) {
                            cooldown = true; // the refused token is kept: this 401 is the answer
                            break 'attempts (response, answer.in_origin);
                        }
                        retried = true;
                        continue 'attempts;
                    }
                }
            }
        };
        self.client.events().emit(Event::Api {
            method: &first.method,
            path: &self.client.redact(&first.url.path),
            status: response.status,
            ms: self.client.runtime().now_ms() - started,
            retried,
            cooldown,
        });
        if !in_origin {
            // What a browser fetched after following a redirect out of the origin (without
            // the token) is not the API's answer.
            let message = "the API redirected to another origin than baseUrl's; its answer is not handed out";
            return Err(Error::new(ErrorCode::InvalidRequest, message).with_status(response.status));
        }
        Ok(response)
    }

    /// Whether `response` came from the base URL's origin (a browser that followed
    /// redirects itself may have left it).
    fn in_origin(&self, response: &ApiResponse) -> bool {
        self.client
            .runtime()
            .parse(&response.url, &response.url, &[])
            .is_some_and(|url| url.origin == self.origin)
    }

    /// [`send`](Self::send), and a non-2xx answer as an `http` error with its `status`,
    /// `retry_after` and the first 1 KB of its body (redacted).
    pub async fn send_ok(&self, request: ApiRequest) -> Result<ApiResponse, Error> {
        let method = normalize_method(request.method.clone());
        let path = request.path.clone();
        let response = self.send(request).await?;
        if response.is_success() {
            return Ok(response);
        }
        let runtime = self.client.runtime();
        let error = answer_error(
            answered(&method, &path, response.status),
            response.status,
            response.body.clone(),
            response.header("retry-after"),
            runtime.now_ms(),
            |d| runtime.parse_http_date(d),
        );
        Err(self.client.redact_answer_error(error, response.oversized))
    }

    /// [`send_ok`](Self::send_ok), and the 2xx body parsed as JSON into `D` (an empty body
    /// reads as `null`: use `Option<…>` or `()` for a 204). A body that is not JSON, or
    /// not of `D`'s shape, is `invalid_response`.
    pub async fn json<D: DeserializeOwned>(&self, request: ApiRequest) -> Result<D, Error> {
        self.json_with(request, |text| self.client.runtime().parse_json::<D>(text))
            .await
    }

    /// [`json`](Self::json) with the caller's JSON reader (`None`: not JSON of the
    /// expected shape).
    pub async fn json_with<D>(&self, request: ApiRequest, parse: impl FnOnce(&str) -> Option<D>) -> Result<D, Error> {
        let method = normalize_method(request.method.clone());
        let path = request.path.clone();
        let response = self.send_ok(request).await?;
        let text = if response.body.is_empty() {
            "null"
        } else {
            &response.body
        };
        parse(text).ok_or_else(|| self.client.redact_error(not_json(&method, &path, response.status)))
    }

    /// The absolute URL of `request`, refused outside the base URL's origin.
    fn resolve(&self, request: &ApiRequest) -> Result<ParsedUrl, Error> {
        let base = &self.client.config().base_url;
        let url = self
            .client
            .runtime()
            .parse(&request.path, base, &request.query)
            .ok_or_else(|| Error::new(ErrorCode::InvalidRequest, "the URL cannot be parsed"))?;
        if url.origin != self.origin {
            let message = [
                "refused to send the token outside ",
                &self.origin,
                " (the origin of baseUrl)",
            ]
            .concat();
            return Err(Error::new(ErrorCode::InvalidRequest, message));
        }
        Ok(url)
    }

    /// Where a redirect answer points, resolved against `target`; `Missing` for any other.
    fn location(&self, response: &ApiResponse, target: &str) -> Location<ParsedUrl> {
        if !is_redirect(response.status) {
            return Location::Missing;
        }
        match response.header("location") {
            None => Location::Missing,
            Some(location) => match self.client.runtime().parse(location, target, &[]) {
                None => Location::Invalid,
                Some(next) if next.origin == self.origin => Location::SameOrigin(next),
                Some(_) => Location::OtherOrigin,
            },
        }
    }

    /// One send of one hop, with the caller's headers plus `api-version`, `accept` (when
    /// absent) and the token (always the library's).
    async fn send_once(
        &self,
        request: &ApiRequest,
        hop: &Outgoing,
        authorization: &Secret,
        follow_redirects: bool,
    ) -> Result<ApiResponse, Error> {
        let config = self.client.config();
        let dropped_body = hop.body.is_none() && request.body.is_some();
        let mut headers: Vec<(String, Secret)> = request
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
            // A redirect that turned the request into a GET drops the body's headers too.
            .filter(|(name, _)| !(dropped_body && name.to_ascii_lowercase().starts_with("content-")))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone().into()))
            .collect();
        for (name, value) in [
            ("api-version", config.api_version.as_str()),
            ("accept", "application/json"),
        ] {
            if !headers.iter().any(|(n, _)| n == name) {
                headers.push((name.into(), value.to_owned().into()));
            }
        }
        headers.push(("authorization".into(), authorization.clone()));
        let http = HttpRequest {
            method: hop.method.clone().into(),
            url: hop.url.href.clone(),
            headers: headers.into_iter().map(|(n, v)| (n.into(), v)).collect(),
            body: hop.body.clone(),
            body_limit: request.body_limit,
            all_headers: true,
            follow_redirects,
        };
        match self.client.transport().send(&http, config.timeout_ms).await {
            Ok(response) if response.oversized && response.is_success() => {
                let message = [
                    "the API answered with more than ",
                    &request.body_limit.to_string(),
                    " bytes (body_limit)",
                ]
                .concat();
                Err(Error::new(ErrorCode::InvalidResponse, message).with_status(response.status))
            }
            Ok(mut response) => {
                if response.url.is_empty() {
                    response.url.clone_from(&hop.url.href);
                }
                Ok(response)
            }
            Err(TransportError::Timeout) => Err(Error::new(
                ErrorCode::Timeout,
                "the API did not answer within timeoutMs",
            )),
            Err(TransportError::Network(detail)) => Err(self.client.redact_error(Error::new(
                ErrorCode::Network,
                ["the API request failed: ", &detail].concat(),
            ))),
        }
    }
}
