//! `auth.fetch` and `auth.request`: the token on calls to the Platform API, only inside
//! `baseUrl`'s origin (WHATWG URL of the engine), redirects followed here so the token
//! never goes with one that leaves the origin, one retry after a 401 or 419.

use std::rc::Rc;

use js_sys::{ArrayBuffer, Function, JsString, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStream, Response, ResponseType, Url};

use super::engine::{describe, parse_json, string_field};
use super::error::{set, to_js};
use super::fetch::{discard, read_limited, send, Deadline};
use super::options::{OptionValue, Query, QueryValue, RequestOptions};
use super::runtime::WebRuntime;
use super::transport::WebTransport;
use crate::core::hop::{
    answer_error, answered, is_redirect, next_hop, normalize_method, Answer, Location, NextHop, Sent,
};
use crate::core::platform::with_timeout;
use crate::core::redact::Field;
use crate::core::redact::ERROR_BODY_LIMIT;
use crate::core::response::{self, charset};
use crate::core::{CachedToken, Clock, Error, ErrorCode, Event, TokenClient};
use zeroize::Zeroizing;

#[wasm_bindgen]
extern "C" {
    /// The engine's `TextDecoder` (web-sys's `decode` would copy the text into wasm).
    type TextDecoder;
    // Throws a RangeError for a label the engine does not know.
    #[wasm_bindgen(constructor, catch)]
    fn new(label: &str) -> Result<TextDecoder, JsValue>;
    #[wasm_bindgen(method)]
    fn decode(this: &TextDecoder, input: &ArrayBuffer) -> JsString;
}

/// The token client of a `CedatoAuth`.
pub type Client = TokenClient<WebRuntime, WebTransport>;

/// What `auth.fetch` and `auth.request` need of their instance.
pub struct Api {
    /// The instance's token client.
    pub client: Rc<Client>,
    /// The `fetch` option.
    fetch: Option<Function>,
}

impl Api {
    /// The calls of an instance with `client` and the `fetch` option.
    pub fn new(client: Rc<Client>, fetch: Option<Function>) -> Api {
        Api { client, fetch }
    }

    /// `baseUrl`'s origin, as the engine's WHATWG URL serializes it.
    fn origin(&self) -> &str {
        &self.client.config().origin
    }

    /// The one way an error of `fetch`/`request` reaches JS: redacted by the client's rule
    /// (`TokenClient::redact_error`), with `cause` only as a redacted copy of its name,
    /// message and code (the thrown value itself may carry the request's headers); a
    /// `SyntaxError` (of `JSON.parse`, which quotes the answer) keeps its name only.
    /// After `free()`, no text of the server's at all (`TokenClient::settled_error`).
    fn fail(&self, error: Error, cause: Option<&JsValue>) -> JsValue {
        self.reject(self.client.redact_error(error), cause)
    }

    /// [`fail`](Self::fail) for an error already redacted.
    fn reject(&self, error: Error, cause: Option<&JsValue>) -> JsValue {
        let js = to_js(&self.client.settled_error(error));
        if let Some(cause) = cause.filter(|_| !self.client.wiped()) {
            let copy = Object::new();
            let name = string_field(cause, "name");
            let keys: &[&str] = match name.as_deref() {
                Some("SyntaxError") => &["name"],
                _ => &["name", "message", "code"],
            };
            for key in keys {
                if let Some(text) = string_field(cause, key).map(Zeroizing::new) {
                    set(&copy, key, &self.client.clean(&text, Field::Message).into());
                }
            }
            set(&js, "cause", &copy);
        }
        js
    }

    fn invalid(&self, message: &str, cause: Option<&JsValue>) -> JsValue {
        self.fail(Error::new(ErrorCode::InvalidRequest, message), cause)
    }

    /// A token for the next attempt (from the cache, or the one request in flight).
    async fn token(&self) -> Result<Rc<CachedToken>, JsValue> {
        Rc::clone(&self.client)
            .get_token()
            .await
            .map_err(|e| self.fail(e, None))
    }
}

/// `fetch` with the token: a relative URL resolves against `baseUrl`; an absolute one
/// must share its origin. Resolves with the `Response` (a redirect that leaves the
/// origin resolves with that 3xx answer); never with another origin's answer, which a
/// browser hands over after following a redirect itself: that rejects.
pub async fn fetch(api: Rc<Api>, input: JsValue, init: JsValue) -> Result<JsValue, JsValue> {
    let url = resolve(&api, &input)?;
    let call = Call::of_init(&api, url, &init)?;
    let (response, _) = authed_fetch(&api, &call).await?;
    if !same_origin(&api, &response.url()) {
        discard(&response);
        let message = "the API redirected to another origin than baseUrl's; its answer is not handed out";
        let error = Error::new(ErrorCode::InvalidRequest, message).with_status(response.status());
        return Err(api.fail(error, None));
    }
    Ok(response.into())
}

/// A call through `fetch`: the body of a 2xx answer as `responseType` says (JSON,
/// `undefined` when empty; or text), else an `http` error; each attempt and the body
/// within `timeoutMs`.
pub async fn request(api: Rc<Api>, path: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let Some(path_text) = path.as_string() else {
        return Err(api.invalid("request() takes a path string", None));
    };
    let options = RequestOptions::read(&options).map_err(|e| api.fail(e, None))?;
    let response_type = match &options.response_type {
        OptionValue::Missing => None,
        OptionValue::Str(name) => Some(name.as_str()),
        _ => Some(""), // of another type: no name either
    };
    let response_type = response::ResponseType::from_name(response_type).map_err(|e| api.fail(e, None))?;
    let url = resolve(&api, &path)?;
    match options.query {
        Query::Missing => {}
        Query::Invalid(message) => return Err(api.invalid(message, None)),
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
        _ => return Err(api.invalid("options.method must be a string", None)),
    };
    let extra = &options.headers;
    if !(extra.is_undefined() || extra.is_null() || extra.is_object()) {
        return Err(api.invalid("options.headers must be an object", None));
    }
    let headers = Headers::new_with_str_sequence_sequence(extra)
        .map_err(|cause| api.invalid("options.headers is not a valid set of headers", Some(&cause)))?;
    let mut body = JsValue::UNDEFINED;
    if !options.body.is_undefined() {
        if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            return Err(api.invalid("options.body cannot be sent with GET or HEAD", None));
        }
        // JSON text (`undefined` for what JSON cannot encode, a function say).
        let text = JSON::stringify(&options.body).ok().and_then(|t| t.as_string());
        let Some(text) = text else {
            return Err(api.invalid("options.body cannot be encoded as JSON", None));
        };
        body = text.into();
        if !headers.has("content-type").unwrap_or(true) {
            let _ = headers.set("content-type", "application/json");
        }
    }
    let call = Call {
        url,
        method: normalize_method(method.clone()),
        has_body: !body.is_undefined(),
        body,
        headers: headers.into(),
        rest: Object::new(),
        own_redirect: None,
        timeout_ms: Some(api.client.config().timeout_ms),
    };
    let (response, mut deadline) = authed_fetch(&api, &call).await?;
    let status = response.status();
    // "GET reports/... answered HTTP 404", the start of each error below.
    let message = answered(&method, &path_text, status);
    if response.type_() == ResponseType::Opaqueredirect || !same_origin(&api, &response.url()) {
        let message = format!("{message}: a redirect outside the origin of baseUrl, not followed");
        return Err(api.fail(Error::new(ErrorCode::Http, message).with_status(status), None));
    }
    let ok = (200..=299).contains(&status);
    let content_type = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let as_json = response_type.parses_json(&content_type);
    // Text is decoded as the content-type's charset when the engine knows it, else as UTF-8
    // (as `text()` does, and as the vendor's Python client falls back for a charset it does
    // not know). Malformed bytes become U+FFFD; a leading BOM is dropped.
    let known = charset(&content_type).and_then(|label| TextDecoder::new(label).ok());
    let read = async {
        if ok {
            let decoder = match known {
                Some(decoder) => decoder,
                None => TextDecoder::new("utf-8")?,
            };
            let bytes = JsFuture::from(response.array_buffer()?).await?;
            Ok::<_, JsValue>((decoder.decode(bytes.unchecked_ref()), Zeroizing::default(), false))
        } else {
            // Of an error answer, only what the error keeps is read.
            let (start, more) = read_limited(&response, ERROR_BODY_LIMIT).await?;
            Ok((JsString::from(""), start, more))
        }
    };
    let (text, mut start, more) = match with_timeout(read, deadline.expire()).await {
        Some(Ok(read)) => read,
        None => {
            let error = Error::new(ErrorCode::Timeout, "reading the API answer failed (timeoutMs)");
            return Err(api.fail(error.with_status(status), None));
        }
        Some(Err(cause)) => {
            let code = if deadline.fired() {
                ErrorCode::Timeout
            } else {
                ErrorCode::Network
            };
            return Err(api.fail(Error::new(code, "reading the API answer failed"), Some(&cause)));
        }
    };
    drop(deadline);
    if !ok {
        let retry_after = response.headers().get("retry-after").ok().flatten();
        let runtime = api.client.runtime();
        let error = answer_error(
            message,
            status,
            std::mem::take(&mut *start),
            retry_after.as_deref(),
            runtime.now_ms(),
            |d| runtime.parse_http_date(d),
        );
        return Err(api.reject(api.client.redact_answer_error(error, more), None));
    }
    if !as_json {
        return Ok(text.into());
    }
    if text.length() == 0 {
        return Ok(JsValue::UNDEFINED);
    }
    parse_json(&text).map_err(|cause| {
        let error = Error::new(
            ErrorCode::InvalidResponse,
            format!("{message} with a body that is not JSON"),
        );
        api.fail(error.with_status(status), Some(&cause))
    })
}

/// Where a redirect answer's `location` points, resolved against `target` (the URL it
/// answered); [`Location::Missing`] for any other answer.
fn location(api: &Api, response: &Response, target: &str) -> Location<Url> {
    if !is_redirect(response.status()) {
        return Location::Missing;
    }
    match response.headers().get("location").ok().flatten() {
        None => Location::Missing,
        Some(location) => match Url::new_with_base(&location, target) {
            Err(_) => Location::Invalid,
            Ok(next) if next.origin() == api.origin() => Location::SameOrigin(next),
            Ok(_) => Location::OtherOrigin,
        },
    }
}

/// Whether `url` (absolute) has `baseUrl`'s origin; an empty URL (a `Response` made by a
/// `fetch` option) counts as the request's own.
fn same_origin(api: &Api, url: &str) -> bool {
    url.is_empty() || Url::new(url).is_ok_and(|u| u.origin() == api.origin())
}

/// The absolute URL for `input`: relative ones resolve against `baseUrl`; the result must
/// have `baseUrl`'s origin, so the token never leaves it.
fn resolve(api: &Api, input: &JsValue) -> Result<Url, JsValue> {
    let text = match (input.as_string(), input.dyn_ref::<Url>()) {
        (Some(text), _) => text,
        (None, Some(url)) => url.href(),
        (None, None) => return Err(api.invalid("the URL must be a string or a URL object", None)),
    };
    let url = Url::new_with_base(&text, &api.client.config().base_url)
        .map_err(|cause| api.invalid("the URL cannot be parsed", Some(&cause)))?;
    if url.origin() != api.origin() {
        let message = format!(
            "refused to send the token outside {} (the origin of baseUrl)",
            api.origin()
        );
        return Err(api.invalid(&message, None));
    }
    Ok(url)
}

/// One authenticated call, as `fetch()` and `request()` hand it to [`authed_fetch`].
struct Call {
    /// The absolute URL, in the origin.
    url: Url,
    /// The method, as `fetch` normalizes it.
    method: String,
    /// The caller's headers (anything `new Headers()` takes); each send adds the token.
    headers: JsValue,
    /// The body (`undefined` for none): JSON text for `request()`, anything `fetch` takes
    /// for `fetch()`.
    body: JsValue,
    /// Whether the caller's `init` has a `body` property: a send without the body (after
    /// a redirect that made it a GET) drops the body's headers too.
    has_body: bool,
    /// `fetch()`'s `init`, own properties only (headers, method, body, signal and
    /// redirect are set per send); empty for `request()`.
    rest: Object,
    /// The caller's own redirect mode (`"manual"` or `"error"`): the library follows
    /// nothing then (it never lets the token leave the origin either way).
    own_redirect: Option<String>,
    /// Each attempt's time limit, body included (`request()`'s `timeoutMs`).
    timeout_ms: Option<f64>,
}

impl Call {
    /// `fetch(input, init)`'s call: `init` read once (its own properties).
    fn of_init(api: &Api, url: Url, init: &JsValue) -> Result<Call, JsValue> {
        let rest = Object::new();
        if !(init.is_undefined() || init.is_null()) {
            let Some(init) = init.dyn_ref::<Object>().filter(|_| init.is_object()) else {
                return Err(api.invalid("init must be an object", None));
            };
            Object::try_assign(&rest, init).map_err(|cause| api.invalid("init could not be read", Some(&cause)))?;
        }
        let field = |key: &str| Reflect::get(&rest, &key.into()).unwrap_or(JsValue::UNDEFINED);
        Ok(Call {
            url,
            method: field("method")
                .as_string()
                .map_or_else(|| "GET".to_owned(), normalize_method),
            headers: field("headers"),
            body: field("body"),
            has_body: Reflect::has(&rest, &"body".into()).unwrap_or(false),
            own_redirect: field("redirect").as_string().filter(|r| r == "manual" || r == "error"),
            rest,
            timeout_ms: None,
        })
    }

    /// Whether the body can be sent again: a stream is used up by the first send.
    fn resendable(&self) -> bool {
        self.body.dyn_ref::<ReadableStream>().is_none()
    }
}

/// Where one send of a call goes and what it carries: the call's own, until a redirect
/// in the origin changes it.
struct Hop {
    target: String,
    method: String,
    body: JsValue,
    /// Whether this send lets the browser follow redirects itself.
    follow: bool,
    /// Redirects followed so far.
    count: u32,
}

impl Hop {
    fn first(call: &Call) -> Hop {
        Hop {
            target: call.url.href(),
            method: call.method.clone(),
            body: call.body.clone(),
            follow: false,
            count: 0,
        }
    }

    /// The `init` of this send: a fresh `Headers` with the token, `redirect: "manual"`
    /// (or `"follow"` where the engine hides redirects: browsers, `opaqueredirect`, or
    /// the caller's own mode), the deadline's signal.
    fn init(&self, api: &Api, call: &Call, authorization: &str, deadline: &Deadline) -> Result<Object, JsValue> {
        let headers = Headers::new_with_str_sequence_sequence(&call.headers)
            .map_err(|cause| api.invalid("init.headers is not a valid set of headers", Some(&cause)))?;
        for (name, value) in [
            ("api-version", api.client.config().api_version.as_str()),
            ("accept", "application/json"),
        ] {
            if !headers.has(name).unwrap_or(true) {
                let _ = headers.set(name, value);
            }
        }
        if self.body.is_undefined() && call.has_body {
            // A redirect that turned the request into a GET drops the body's headers too.
            for name in [
                "content-type",
                "content-encoding",
                "content-language",
                "content-location",
            ] {
                let _ = headers.delete(name);
            }
        }
        headers
            .set("authorization", authorization)
            .map_err(|cause| api.invalid("cannot set the Authorization header", Some(&cause)))?;
        let init = Object::assign(&Object::new(), &call.rest);
        set(&init, "headers", &headers);
        set(&init, "method", &self.method.as_str().into());
        if self.body.is_undefined() {
            let _ = Reflect::delete_property(&init, &"body".into());
        } else {
            set(&init, "body", &self.body);
        }
        let redirect = match &call.own_redirect {
            Some(own) => own.as_str(),
            None if self.follow => "follow",
            None => "manual",
        };
        set(&init, "redirect", &redirect.into());
        if let Some(signal) = deadline.signal() {
            set(&init, "signal", &signal);
        }
        Ok(init)
    }
}

/// How one attempt (one token) of a call ended.
enum Attempt {
    /// With the call's answer, and the deadline to read its body within.
    Answer(Response, Deadline),
    /// The API refused the token: again with a new one.
    NewToken,
    /// The API refused the token, and the client keeps it (its cool-down): the answer is
    /// the call's.
    Refused(Response, Deadline),
}

/// Sends `call` with the token, following redirects inside the origin and retrying once
/// on 401/419, as [`next_hop`] decides. With a time limit, each attempt is aborted after
/// it; the deadline comes back with the response, for the caller to read the body within.
async fn authed_fetch(api: &Api, call: &Call) -> Result<(Response, Deadline), JsValue> {
    let started = api.client.runtime().now_ms();
    let mut retried = false;
    let (response, deadline, cooldown) = loop {
        let token = api.token().await?;
        match attempt(api, call, &token, retried).await? {
            Attempt::Answer(response, deadline) => break (response, deadline, false),
            Attempt::Refused(response, deadline) => break (response, deadline, true),
            Attempt::NewToken => retried = true,
        }
    };
    api.client.events().emit(Event::Api {
        method: &call.method,
        path: &api.client.redact(&call.url.pathname()),
        status: response.status(),
        ms: api.client.runtime().now_ms() - started,
        retried,
        cooldown,
    });
    Ok((response, deadline))
}

/// One attempt of `call` with `token`: sent, and sent again after each redirect that
/// [`next_hop`] follows, under one deadline.
async fn attempt(api: &Api, call: &Call, token: &CachedToken, retried: bool) -> Result<Attempt, JsValue> {
    let mut deadline = Deadline::new(call.timeout_ms);
    let mut hop = Hop::first(call);
    loop {
        let init = hop.init(api, call, &token.authorization, &deadline)?;
        let sent = with_timeout(
            send(api.fetch.as_ref(), &hop.target.as_str().into(), &init),
            deadline.expire(),
        )
        .await;
        let response = match sent {
            Some(Ok(response)) => response,
            None => {
                let error = Error::new(ErrorCode::Timeout, "the API did not answer within timeoutMs");
                return Err(api.fail(error, None));
            }
            Some(Err(thrown)) => return Err(fetch_failure(api, &thrown, &deadline)),
        };
        let sent = Sent {
            method: &hop.method,
            resendable: call.resendable(),
            own_redirect: call.own_redirect.is_some(),
            browser_follows: hop.follow,
            hops: hop.count,
            retried,
        };
        let answer = Answer {
            status: response.status(),
            opaque_redirect: response.type_() == ResponseType::Opaqueredirect,
            in_origin: !hop.follow || same_origin(api, &response.url()),
            location: location(api, &response, &hop.target),
        };
        match (next_hop(&sent, &answer), answer.location) {
            (NextHop::LetBrowserFollow, _) => hop.follow = true,
            (NextHop::Follow { as_get }, Location::SameOrigin(next)) => {
                discard(&response);
                if as_get {
                    hop.method = "GET".to_owned();
                    hop.body = JsValue::UNDEFINED;
                }
                hop.target = next.href();
                hop.count += 1;
            }
            (NextHop::RetryWithNewToken, _) if api.client.replace_refused(token.id) => {
                discard(&response);
                return Ok(Attempt::NewToken);
            }
            (NextHop::RetryWithNewToken, _) => return Ok(Attempt::Refused(response, deadline)),
            _ => return Ok(Attempt::Answer(response, deadline)),
        }
    }
}

/// The `CedatoError` for an API fetch that threw: `timeout` when a time limit (ours, or
/// an `AbortSignal.timeout()` of the caller) ended it, else `network`.
fn fetch_failure(api: &Api, thrown: &JsValue, deadline: &Deadline) -> JsValue {
    let (code, message) = if deadline.fired() {
        (ErrorCode::Timeout, "the API did not answer within timeoutMs".to_owned())
    } else {
        match string_field(thrown, "name").as_deref() {
            Some("TimeoutError") => (ErrorCode::Timeout, "the request timed out (init.signal)".to_owned()),
            Some("AbortError") => (ErrorCode::Network, "the request was aborted (init.signal)".to_owned()),
            _ => (
                ErrorCode::Network,
                format!("the API request failed: {}", describe(thrown)),
            ),
        }
    };
    api.fail(Error::new(code, message), Some(thrown))
}
