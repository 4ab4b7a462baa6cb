//! `auth.fetch` and `auth.request`: the token on calls to the Platform API, only inside
//! `baseUrl`'s origin (WHATWG URL of the engine), one retry after a 401 or 419.

use std::rc::Rc;

use js_sys::{Object, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStream, Response, Url};

use super::error::{js_error, set, to_js, with_cause};
use super::options::{Query, QueryValue, RequestOptions};
use super::transport::{describe, redact, send, string_field, Deadline};
use super::Inner;
use crate::core::client::{with_timeout, ERROR_BODY_LIMIT};
use crate::core::error::truncate_utf8;
use crate::core::retry::parse_retry_after;
use crate::core::{CachedToken, Clock, Error, ErrorCode, OptionValue};

fn invalid(message: &str) -> JsValue {
    js_error(ErrorCode::InvalidRequest, message)
}

fn invalid_with(message: &str, cause: &JsValue) -> JsValue {
    with_cause(&Error::new(ErrorCode::InvalidRequest, message), cause)
}

/// `fetch` with the token: a relative URL resolves against `baseUrl`; an absolute one
/// must share its origin. Resolves with the `Response`.
pub async fn fetch(inner: Rc<Inner>, input: JsValue, init: JsValue) -> Result<JsValue, JsValue> {
    let url = resolve(&inner, &input)?;
    let (response, _) = authed_fetch(&inner, &url, &init, None).await?;
    Ok(response.into())
}

/// A JSON call through `fetch`: the parsed body of a 2xx answer (`undefined` when
/// empty), else an `http` error; each attempt and the body within `timeoutMs`.
pub async fn request(inner: Rc<Inner>, path: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let Some(path_text) = path.as_string() else {
        return Err(invalid("request() takes a path string"));
    };
    let options = RequestOptions::read(&options).map_err(|e| to_js(&e))?;
    let url = resolve(&inner, &path)?;
    match options.query {
        Query::Missing => {}
        Query::Invalid(message) => return Err(invalid(message)),
        Query::Entries(entries) => {
            let params = url.search_params();
            for (key, value) in entries {
                let text = match value {
                    None => continue,
                    Some(QueryValue::Str(s)) => s,
                    Some(QueryValue::Bool(b)) => b.to_string(),
                    // JavaScript's own spelling of the number (`String(n)`).
                    Some(QueryValue::Num(n)) => js_sys::Number::from(n)
                        .to_string_with_radix(10)
                        .map(String::from)
                        .unwrap_or_default(),
                };
                params.append(&key, &text);
            }
        }
    }
    let method = match options.method {
        OptionValue::Missing => "GET".to_owned(),
        OptionValue::Str(m) => m,
        _ => return Err(invalid("options.method must be a string")),
    };
    let extra = &options.headers;
    if !(extra.is_undefined() || extra.is_null() || extra.is_object()) {
        return Err(invalid("options.headers must be an object"));
    }
    let headers = Headers::new_with_str_sequence_sequence(extra)
        .map_err(|cause| invalid_with("options.headers is not a valid set of headers", &cause))?;
    let init = Object::new();
    set(&init, "method", &method.as_str().into());
    if !options.body.is_undefined() {
        let text = JSON::stringify(&options.body).ok().and_then(|t| t.as_string());
        let Some(text) = text else {
            return Err(invalid("options.body cannot be encoded as JSON"));
        };
        set(&init, "body", &text.into());
        if !headers.has("content-type").unwrap_or(true) {
            let _ = headers.set("content-type", "application/json");
        }
    }
    set(&init, "headers", &headers);
    let (response, mut deadline) = authed_fetch(&inner, &url, &init, Some(inner.timeout_ms)).await?;
    let read = async {
        let text = JsFuture::from(response.text()?).await?;
        Ok::<_, JsValue>(text.as_string().unwrap_or_default())
    };
    let text = match with_timeout(read, deadline.expire()).await {
        Some(Ok(text)) => text,
        None => {
            return Err(js_error(
                ErrorCode::Timeout,
                "reading the API answer failed (timeoutMs)",
            ))
        }
        Some(Err(cause)) => {
            let code = if deadline.fired() {
                ErrorCode::Timeout
            } else {
                ErrorCode::Network
            };
            return Err(with_cause(&Error::new(code, "reading the API answer failed"), &cause));
        }
    };
    drop(deadline);
    let status = response.status();
    // "GET reports/... answered HTTP 404", the start of either error below.
    let message = [&method, " ", &path_text, " answered HTTP ", &status.to_string()].concat();
    if !(200..=299).contains(&status) {
        let mut error = Error::new(ErrorCode::Http, message).with_status(status);
        error.body = Some(truncate_utf8(&text, ERROR_BODY_LIMIT).to_owned());
        let retry_after = response.headers().get("retry-after").ok().flatten();
        let runtime = inner.client.runtime();
        error.retry_after =
            retry_after.and_then(|v| parse_retry_after(&v, runtime.now_ms(), |d| runtime.parse_http_date(d)));
        return Err(to_js(&error));
    }
    if text.is_empty() {
        return Ok(JsValue::UNDEFINED);
    }
    JSON::parse(&text).map_err(|cause| {
        let error = Error::new(
            ErrorCode::InvalidResponse,
            [&message, " with a body that is not JSON"].concat(),
        );
        with_cause(&error.with_status(status), &cause)
    })
}

/// The absolute URL for `input`: relative ones resolve against `baseUrl`; the result must
/// have `baseUrl`'s origin, so the token never leaves it.
fn resolve(inner: &Inner, input: &JsValue) -> Result<Url, JsValue> {
    let text = match (input.as_string(), input.dyn_ref::<Url>()) {
        (Some(text), _) => text,
        (None, Some(url)) => url.href(),
        (None, None) => return Err(invalid("the URL must be a string or a URL object")),
    };
    let url =
        Url::new_with_base(&text, &inner.base_url).map_err(|cause| invalid_with("the URL cannot be parsed", &cause))?;
    if url.origin() != inner.origin {
        return Err(invalid(
            &[
                "refused to send the token outside ",
                &inner.origin,
                " (the origin of baseUrl)",
            ]
            .concat(),
        ));
    }
    Ok(url)
}

/// Fetches `url` with the caller's `init` plus the token, retrying once on 401/419. With
/// `timeout_ms`, each attempt is aborted after that time; the deadline comes back with
/// the response, for the caller to read the body within it.
async fn authed_fetch(
    inner: &Inner,
    url: &Url,
    init: &JsValue,
    timeout_ms: Option<f64>,
) -> Result<(Response, Deadline), JsValue> {
    let base = Object::new();
    if !(init.is_undefined() || init.is_null()) {
        let Some(init) = init.dyn_ref::<Object>().filter(|_| init.is_object()) else {
            return Err(invalid("init must be an object"));
        };
        Object::assign(&base, init);
    }
    let given = Reflect::get(&base, &"headers".into()).unwrap_or(JsValue::UNDEFINED);
    let headers = Headers::new_with_str_sequence_sequence(&given)
        .map_err(|cause| invalid_with("init.headers is not a valid set of headers", &cause))?;
    for (name, value) in [
        ("api-version", inner.api_version.as_str()),
        ("accept", "application/json"),
    ] {
        if !headers.has(name).unwrap_or(true) {
            let _ = headers.set(name, value);
        }
    }
    // A stream is used up by the first send: no retry then.
    let body = Reflect::get(&base, &"body".into()).unwrap_or(JsValue::UNDEFINED);
    let resendable = body.dyn_ref::<ReadableStream>().is_none();
    let href = JsValue::from(url.href());
    let mut retried = false;
    loop {
        let token = Rc::clone(&inner.client).get_token().await.map_err(|e| to_js(&e))?;
        headers
            .set("authorization", &token.authorization)
            .map_err(|cause| invalid_with("cannot set the Authorization header", &cause))?;
        let attempt = Object::assign(&Object::new(), &base);
        set(&attempt, "headers", &headers);
        let mut deadline = Deadline::new(timeout_ms);
        if let Some(signal) = deadline.signal() {
            set(&attempt, "signal", &signal);
        }
        let sent = with_timeout(send(inner.fetch.as_ref(), &href, &attempt), deadline.expire()).await;
        let response = match sent {
            Some(Ok(response)) => response,
            None => return Err(js_error(ErrorCode::Timeout, "the API did not answer within timeoutMs")),
            Some(Err(thrown)) => return Err(fetch_failure(&thrown, &deadline, &token)),
        };
        let status = response.status();
        if (status == 401 || status == 419) && resendable && !retried {
            inner.client.invalidate(token.id);
            // Free the connection of the refused answer before the retry.
            if let Ok(text) = response.text() {
                with_timeout(JsFuture::from(text), deadline.expire()).await;
            }
            retried = true;
            continue;
        }
        return Ok((response, deadline));
    }
}

/// The `CedatoError` for an API fetch that threw: `timeout` when a time limit (ours, or
/// an `AbortSignal.timeout()` of the caller) ended it, else `network`.
fn fetch_failure(thrown: &JsValue, deadline: &Deadline, token: &CachedToken) -> JsValue {
    let (code, message) = if deadline.fired() {
        (ErrorCode::Timeout, "the API did not answer within timeoutMs".to_owned())
    } else {
        match string_field(thrown, "name").as_deref() {
            Some("TimeoutError") => (ErrorCode::Timeout, "the request timed out (init.signal)".to_owned()),
            Some("AbortError") => (ErrorCode::Network, "the request was aborted (init.signal)".to_owned()),
            _ => {
                let detail = redact(&describe(thrown), &[&token.authorization, &token.access_token]);
                (ErrorCode::Network, ["the API request failed: ", &detail].concat())
            }
        }
    };
    with_cause(&Error::new(code, message), thrown)
}
