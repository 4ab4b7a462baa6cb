//! An authenticated API call as plain values: the [`ApiRequest`] a caller builds and the
//! [`ApiResponse`] it gets back, and the errors made of an answer.

use crate::core::hop::answered;
use crate::core::http::HttpResponse;
use crate::core::{Error, ErrorCode};

/// How much of a 2xx answer's body is read by default (a larger one is
/// `invalid_response`): 64 MiB, room for the largest report.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024 * 1024;

/// A call to the Platform API.
///
/// ```
/// use cedato_auth::ApiRequest;
/// let request = ApiRequest::get("reports/supplies/extended")
///     .query("start", "2026-01-01")
///     .query("end", "2026-01-31")
///     .header("x-request-id", "42");
/// assert_eq!(request.method, "GET");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    /// The method (`GET`, `POST`, …).
    pub method: String,
    /// A path relative to the base URL (`reports/…`), or an absolute URL in its origin.
    pub path: String,
    /// Query pairs, appended form-encoded.
    pub query: Vec<(String, String)>,
    /// The caller's headers; `Authorization` is always the library's, `api-version` and
    /// `accept: application/json` are added when absent.
    pub headers: Vec<(String, String)>,
    /// The body text, if any.
    pub body: Option<String>,
    /// The most of a 2xx answer's body that is read ([`DEFAULT_BODY_LIMIT`]).
    pub body_limit: usize,
}

impl ApiRequest {
    /// A call with `method` to `path` (relative to the base URL, or absolute in its origin).
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> ApiRequest {
        ApiRequest {
            method: method.into(),
            path: path.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// A `GET` of `path`.
    pub fn get(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new("GET", path)
    }

    /// A `POST` to `path`.
    pub fn post(path: impl Into<String>) -> ApiRequest {
        ApiRequest::new("POST", path)
    }

    /// With the query pair `name=value` appended.
    pub fn query(mut self, name: impl Into<String>, value: impl ToString) -> ApiRequest {
        self.query.push((name.into(), value.to_string()));
        self
    }

    /// With the header `name: value` added.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> ApiRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// With `text` as the body.
    pub fn body(mut self, text: impl Into<String>) -> ApiRequest {
        self.body = Some(text.into());
        self
    }

    /// With `json` (JSON text) as the body, and `content-type: application/json` unless
    /// one was given.
    pub fn json_body(mut self, json: impl Into<String>) -> ApiRequest {
        if !self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
            self.headers.push(("content-type".into(), "application/json".into()));
        }
        self.body(json)
    }

    /// With at most `bytes` of a 2xx answer's body read.
    pub fn body_limit(mut self, bytes: usize) -> ApiRequest {
        self.body_limit = bytes;
        self
    }
}

/// The answer to an [`ApiRequest`], whatever its status: `status`, `headers` (names in
/// lower case), `body` (lossy UTF-8; of a non-2xx answer its first 1 KB only, with
/// `oversized` set when there was more), and [`header`](HttpResponse::header).
pub type ApiResponse = HttpResponse;

/// The `invalid_response` error for a 2xx answer to `method path` whose body is not JSON
/// of the expected shape (no text of the body: it may hold anything).
pub fn not_json(method: &str, path: &str, status: u16) -> Error {
    let message = answered(method, path, status) + " with a body that is not JSON of the expected shape";
    Error::new(ErrorCode::InvalidResponse, message).with_status(status)
}
