//! The core's [`Transport`] over the engine's `fetch` (`js::fetch`'s plumbing): the
//! global `fetch` or the caller's `fetch` option, each attempt under a deadline, body
//! included.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Headers, RequestInit, RequestRedirect};

use super::engine::describe;
use super::fetch::{read_limited, send, Deadline};
use crate::core::http::read_limit;
use crate::core::platform::with_timeout;
use crate::core::{HttpRequest, HttpResponse, LocalFuture, Transport, TransportError};

/// The engine's fetch as the token request's transport.
pub struct WebTransport {
    /// The caller's `fetch` option.
    pub fetch: Option<Function>,
}

impl WebTransport {
    /// The `init` of one attempt: method, headers, body, and `redirect: "manual"` (a
    /// redirect is reported, never followed with the credentials); the deadline's signal
    /// is added when the attempt starts.
    fn init(request: &HttpRequest) -> Result<RequestInit, JsValue> {
        let headers = Headers::new()?;
        for (name, value) in &request.headers {
            headers.set(name, value)?;
        }
        let init = RequestInit::new();
        init.set_method(&request.method);
        init.set_headers(&headers);
        if let Some(body) = &request.body {
            init.set_body(&body.as_str().into());
        }
        init.set_redirect(match request.follow_redirects {
            true => RequestRedirect::Follow,
            false => RequestRedirect::Manual,
        });
        Ok(init)
    }
}

impl Transport for WebTransport {
    fn send(&self, request: &HttpRequest, timeout_ms: f64) -> LocalFuture<Result<HttpResponse, TransportError>> {
        let fetch = self.fetch.clone();
        // What the attempt needs of the request, taken now: the request is not copied.
        let init = WebTransport::init(request);
        let url = JsValue::from(request.url.as_str());
        let (limit, all, follow) = (request.body_limit, request.all_headers, request.follow_redirects);
        Box::pin(async move {
            let mut deadline = Deadline::new(Some(timeout_ms));
            let signal = deadline.signal();
            let attempt = async {
                let init = init?;
                init.set_signal(signal.as_ref());
                let response = send(fetch.as_ref(), &url, &init).await?;
                let retry_after = response.headers().get("retry-after").ok().flatten();
                let headers = if all {
                    all_headers(&response.headers())
                } else {
                    Vec::new()
                };
                // A 2xx answer up to the request's limit; of an error answer, what an
                // error keeps.
                let status = response.status();
                let (mut body, oversized) = read_limited(&response, read_limit(limit, status)).await?;
                // A 2xx answer too large to use is dropped (and overwritten) unread.
                let body = match oversized && (200..300).contains(&status) {
                    true => String::new(),
                    false => std::mem::take(&mut *body),
                };
                Ok::<_, JsValue>(HttpResponse {
                    status,
                    headers,
                    retry_after,
                    body,
                    oversized,
                    url: if follow { response.url() } else { String::new() },
                })
            };
            // The signal aborts fetch and the body; the race also ends a `fetch` option
            // that ignores its signal.
            let expired = async move {
                deadline.expire().await;
            };
            match with_timeout(attempt, expired).await {
                Some(Ok(response)) => Ok(response),
                None => Err(TransportError::Timeout),
                // A fetch error may quote the request's headers: the client redacts every
                // error it makes of this (TokenClient::redact_error).
                Some(Err(thrown)) => Err(TransportError::Network(describe(&thrown))),
            }
        })
    }
}

/// Every header of an answer, names in lower case (as `Headers` gives them).
fn all_headers(headers: &Headers) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // `Array.from(headers)`: its `[name, value]` pairs.
    for pair in js_sys::Array::from(headers) {
        let pair: js_sys::Array = pair.unchecked_into();
        if let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            out.push((name, value));
        }
    }
    out
}
