//! The core's [`Transport`] over reqwest (rustls with ring, no OpenSSL): one attempt, body
//! included, within its time limit. reqwest follows no redirect: the token request reports
//! one as its answer, and API calls follow those inside the origin by `core::hop`'s rules.

use std::time::Duration;

use zeroize::Zeroizing;

use crate::core::http::{read_limit, reserve_zeroized, HttpRequest, HttpResponse};
use crate::core::platform::with_timeout;
use crate::core::{Error, ErrorCode, LocalFuture, Transport, TransportError};

/// reqwest as the core's transport. Cloning is cheap (reqwest's client is an `Arc`), and
/// the clones share one connection pool.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    http: reqwest::Client,
}

impl ReqwestTransport {
    /// A transport over a new reqwest client that follows no redirect.
    pub fn new() -> Result<ReqwestTransport, Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| Error::new(ErrorCode::InvalidConfig, "the HTTP client could not be built"))?;
        Ok(ReqwestTransport { http })
    }

    /// A transport over `http`, a reqwest client of the caller's (proxies, roots, pool
    /// settings). Build it with `redirect(reqwest::redirect::Policy::none())`: one that
    /// follows redirects itself would take the token along to wherever they point.
    pub fn with_client(http: reqwest::Client) -> ReqwestTransport {
        ReqwestTransport { http }
    }

    async fn attempt(http: reqwest::Client, request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = http.request(method, request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(&**name, value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after");
        let headers = match request.all_headers {
            true => response
                .headers()
                .iter()
                .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
                .collect(),
            false => Vec::new(),
        };
        let (mut body, oversized) = read_limited(&mut response, read_limit(request.body_limit, status)).await?;
        // A 2xx answer too large to use is dropped (and overwritten) unread.
        let body = match oversized && (200..300).contains(&status) {
            true => String::new(),
            false => std::mem::take(&mut *body),
        };
        Ok(HttpResponse {
            status,
            headers,
            retry_after,
            body,
            oversized,
            url: String::new(),
        })
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: &HttpRequest, timeout_ms: f64) -> LocalFuture<Result<HttpResponse, TransportError>> {
        let (http, request) = (self.http.clone(), request.clone());
        let limit = Duration::from_secs_f64((timeout_ms / 1000.0).max(0.0));
        Box::pin(async move {
            // Dropping the attempt at the deadline closes its connection, body and all.
            match with_timeout(ReqwestTransport::attempt(http, request), tokio::time::sleep(limit)).await {
                Some(Ok(response)) => Ok(response),
                None => Err(TransportError::Timeout),
                Some(Err(error)) if error.is_timeout() => Err(TransportError::Timeout),
                // The client redacts every error it makes of this (TokenClient::redact_error).
                Some(Err(error)) => Err(TransportError::Network(describe(error))),
            }
        })
    }
}

/// reqwest's error in a sentence, without the URL (whose query may be private), with
/// the innermost cause ("connection refused", "invalid peer certificate", …).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        text = [text.as_str(), ": ", &inner.to_string()].concat();
        source = inner.source();
    }
    text
}

/// The body's first `limit` bytes as text (lossy UTF-8), overwritten when dropped, and
/// whether there was more (the rest is not read). The buffer grows by
/// [`reserve_zeroized`], so no copy of a token answer is left behind.
async fn read_limited(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<(Zeroizing<String>, bool), reqwest::Error> {
    let mut bytes = Zeroizing::new(Vec::new());
    let mut more = false;
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(bytes.len());
        let take = chunk.len().min(room);
        reserve_zeroized(&mut bytes, take);
        bytes.extend_from_slice(chunk.get(..take).unwrap_or_default());
        if chunk.len() > room {
            more = true;
            break;
        }
    }
    Ok((Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()), more))
}
