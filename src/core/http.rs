//! One HTTP exchange as plain values: the [`HttpRequest`] a transport sends and the
//! [`HttpResponse`] it hands back, the body limits, and the header rules (visible-ASCII
//! values, Basic credentials). Serves the token request and any API call alike; it uses
//! nothing of the core but [`Secret`].

use std::borrow::Cow;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::redact::Secret;

pub use super::redact::ERROR_BODY_LIMIT;

/// The most of a token answer that is read: a larger one is `invalid_response`.
pub const TOKEN_ANSWER_LIMIT: usize = 64 * 1024;

/// A method or a header name: a constant (`"POST"`, `"authorization"`) without an
/// allocation, or a caller's own.
pub type Name = Cow<'static, str>;

/// One HTTP request, as a transport should send it (redirects not followed, unless
/// [`follow_redirects`](Self::follow_redirects): a redirect is handed back as the answer).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct HttpRequest {
    /// `POST` for the token request; any method for an API call.
    pub method: Name,
    /// Absolute URL.
    pub url: String,
    /// Header names and values, in order (the values may hold credentials: each is a
    /// [`Secret`], overwritten when dropped and never printed).
    pub headers: Vec<(Name, Secret)>,
    /// The body text; `None` sends none (a GET or HEAD must have none).
    pub body: Option<String>,
    /// The most of a 2xx answer's body that is read; a larger one comes back empty, with
    /// [`HttpResponse::oversized`] set. Of any other answer, the first
    /// [`ERROR_BODY_LIMIT`] bytes are read (what an error keeps).
    pub body_limit: usize,
    /// Whether the answer's headers come back, all of them, in
    /// [`HttpResponse::headers`] (`Retry-After` comes back always, in
    /// [`HttpResponse::retry_after`]; the token request needs no other).
    pub all_headers: bool,
    /// Whether the engine follows redirects itself (fetch's `redirect: "follow"`): only
    /// for a send again after a browser hid a redirect (status 0), whose own rules drop
    /// the credentials on a hop to another origin. Otherwise a redirect is the answer.
    pub follow_redirects: bool,
}

/// What a transport hands back for one attempt: status, the headers asked for, and the
/// body text (within the request's limits).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct HttpResponse {
    /// HTTP status code (0 for a redirect a browser hides).
    pub status: u16,
    /// Every header when the request asked for them ([`HttpRequest::all_headers`]),
    /// else none; names in lower case.
    pub headers: Vec<(String, String)>,
    /// The `Retry-After` header, when present.
    pub retry_after: Option<String>,
    /// The body as text (for an error answer, only its start).
    pub body: String,
    /// The body was not read to the end: it was larger than its limit
    /// ([`HttpRequest::body_limit`] for a 2xx answer, whose body is then empty; for an
    /// error answer `body` is its start).
    pub oversized: bool,
    /// The URL the answer came from: the transport sets it when the engine followed
    /// redirects ([`HttpRequest::follow_redirects`]); the answer to an API call has it
    /// always (its last hop's).
    pub url: String,
}

impl HttpResponse {
    /// The first header named `name` (any case) among those handed back.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// How many bytes of an answer with `status` a transport reads at most, for a request
/// whose [`body_limit`](HttpRequest::body_limit) is `body_limit`.
pub fn read_limit(body_limit: usize, status: u16) -> usize {
    match status {
        200..=299 => body_limit,
        _ => ERROR_BODY_LIMIT,
    }
}

/// Whether `s` is a non-empty run of visible ASCII (0x21-0x7E): safe in a header value.
pub fn is_visible_ascii(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// `Authorization: Basic …` for the credentials: Base64 of the UTF-8 bytes of
/// `clientId:clientSecret`, as the vendor's examples build it.
pub fn basic_authorization(client_id: &str, client_secret: &str) -> Secret {
    // `concat` sizes each buffer once: no grown-out copy of the secret is left behind.
    let raw = Zeroizing::new([client_id, ":", client_secret].concat());
    let encoded = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()));
    ["Basic ", &encoded].concat().into()
}

/// Room for `more` bytes in `bytes`, a body being read: a new buffer (twice as large at
/// least) when needed, the old one overwritten as it goes (growing in place would leave
/// copies of a token answer behind).
pub fn reserve_zeroized(bytes: &mut Zeroizing<Vec<u8>>, more: usize) {
    if bytes.capacity() - bytes.len() >= more {
        return;
    }
    let mut bigger = Zeroizing::new(Vec::with_capacity((bytes.len() + more).max(bytes.capacity() * 2)));
    bigger.extend_from_slice(bytes);
    std::mem::swap(bytes, &mut bigger);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_utf8_base64() {
        let basic = |id, secret| basic_authorization(id, secret).to_string();
        assert_eq!(basic("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        // "é" is two UTF-8 bytes; btoa would refuse or mangle it.
        assert_eq!(basic("id", "pé"), "Basic aWQ6cMOp");
        assert_eq!(basic("id", "a:b"), "Basic aWQ6YTpi");
        assert_eq!(basic("f", "oo"), "Basic Zjpvbw==");
    }

    #[test]
    fn limits_by_status() {
        let limit = |status| read_limit(TOKEN_ANSWER_LIMIT, status);
        assert_eq!(limit(200), TOKEN_ANSWER_LIMIT);
        assert_eq!(limit(299), TOKEN_ANSWER_LIMIT);
        assert_eq!(limit(302), ERROR_BODY_LIMIT);
        assert_eq!(limit(500), ERROR_BODY_LIMIT);
        assert_eq!(limit(0), ERROR_BODY_LIMIT);
    }

    #[test]
    fn headers_by_name_in_any_case() {
        let response = HttpResponse {
            headers: vec![("etag".into(), "\"1\"".into())],
            ..HttpResponse::default()
        };
        assert_eq!(response.header("ETag"), Some("\"1\""));
        assert_eq!(response.header("date"), None);
    }
}
