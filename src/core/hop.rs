//! What an authenticated call (`auth.fetch` / `auth.request`) does with each answer: follow
//! a redirect that stays in the origin, let a browser follow one it hid, retry once with a
//! new token after a 401/419, or stop there, and the `http` error a non-2xx answer becomes.
//! Pure decisions, table-tested natively; the wasm layer's send loop (`js::api`) and the
//! Rust API (`rust::local`) act on them.

use super::error::{Error, ErrorCode};
use super::retry::parse_retry_after;

/// Redirects followed at most in one call (fetch's own limit).
pub const MAX_REDIRECTS: u32 = 20;

/// Where a redirect's `location` header points, resolved against the URL it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location<U> {
    /// No `location` header.
    Missing,
    /// A header that does not resolve to a URL.
    Invalid,
    /// A URL on another origin: the token never goes there.
    OtherOrigin,
    /// A URL on the API's origin.
    SameOrigin(U),
}

/// What was sent, as far as the next step depends on it.
#[derive(Clone, Copy, Debug)]
pub struct Sent<'a> {
    /// The method, as fetch normalizes it.
    pub method: &'a str,
    /// Whether the body can be sent again (a stream cannot).
    pub resendable: bool,
    /// Whether the caller chose fetch's own redirect handling (`"manual"` / `"error"`):
    /// the library follows nothing then.
    pub own_redirect: bool,
    /// Whether this send let the browser follow redirects itself.
    pub browser_follows: bool,
    /// Redirects followed so far.
    pub hops: u32,
    /// Whether the call was already retried with a new token.
    pub retried: bool,
}

/// What came back, as far as the next step depends on it.
#[derive(Clone, Debug)]
pub struct Answer<U> {
    /// The HTTP status.
    pub status: u16,
    /// A browser's hidden redirect (`opaqueredirect`): fetch saw a redirect it will not show.
    pub opaque_redirect: bool,
    /// Whether the answer's final URL is on the API's origin (it is not after a browser
    /// followed a redirect to another origin).
    pub in_origin: bool,
    /// The `location` of a redirect status ([`Location::Missing`] for any other status).
    pub location: Location<U>,
}

/// The next step of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// The answer is the call's result.
    Done,
    /// Send again and let the browser follow the redirect it hid (it drops `Authorization`
    /// on a cross-origin hop).
    LetBrowserFollow,
    /// Send to the redirect's location (in the origin); as a GET without a body when
    /// `as_get` (a 303, or a 301/302 answering a POST, as fetch does).
    Follow {
        /// Whether the method becomes GET and the body is dropped.
        as_get: bool,
    },
    /// The API refused the token (401/419): ask the client whether to retry with a new one.
    RetryWithNewToken,
}

/// A method as `fetch` normalizes it: the standard names in upper case, others as given.
pub fn normalize_method(method: String) -> String {
    let upper = method.to_ascii_uppercase();
    match upper.as_str() {
        "DELETE" | "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" | "PATCH" => upper,
        _ => method,
    }
}

/// Whether a redirect status.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The next step after `answer` to what was `sent`.
#[inline]
pub fn next_hop<U>(sent: &Sent<'_>, answer: &Answer<U>) -> NextHop {
    let ours = !sent.own_redirect;
    if ours && answer.opaque_redirect && !sent.browser_follows {
        // Only what can be sent twice is: the first send reached the server.
        let safe = matches!(sent.method, "GET" | "HEAD" | "OPTIONS");
        return if safe && sent.resendable {
            NextHop::LetBrowserFollow
        } else {
            NextHop::Done
        };
    }
    if sent.browser_follows && !answer.in_origin {
        // Another origin's answer is not the API's: no token goes after it either.
        return NextHop::Done;
    }
    if ours && is_redirect(answer.status) && !matches!(answer.location, Location::Missing) {
        let Location::SameOrigin(_) = answer.location else {
            return NextHop::Done; // leaving the origin, or nowhere: the 3xx is the result
        };
        if sent.hops >= MAX_REDIRECTS {
            return NextHop::Done;
        }
        let as_get = answer.status == 303 && sent.method != "HEAD"
            || matches!(answer.status, 301 | 302) && sent.method == "POST";
        return if as_get || sent.resendable {
            NextHop::Follow { as_get }
        } else {
            NextHop::Done
        };
    }
    if retry_with_new_token(answer.status, sent) {
        NextHop::RetryWithNewToken
    } else {
        NextHop::Done
    }
}

/// Whether an answer with `status` may be retried with a new token: a 401, or Cedato's
/// 419 "session expired", once per call, when the body can be sent again (with the
/// caller's own redirect mode too). The client still decides whether a new token is
/// fetched ([`TokenClient::replace_refused`](super::TokenClient::replace_refused): its cool-down).
#[inline]
pub fn retry_with_new_token(status: u16, sent: &Sent<'_>) -> bool {
    matches!(status, 401 | 419) && sent.resendable && !sent.retried
}

/// `"GET reports/x answered HTTP 404"`: how an API answer's errors begin.
// `[..].concat()`: `format!` with `{status}` measured 467 B gzip more in the npm build (it
// links core::fmt's integer formatting, which `u16::to_string` does not use). `#[inline]`
// on this and `answer_error`: the two as plain functions measured 405 B more (as one
// builder taking method and path, 65 B more) than request()'s inline code they replace.
#[inline]
pub fn answered(method: &str, path: &str, status: u16) -> String {
    [method, " ", path, " answered HTTP ", &status.to_string()].concat()
}

/// The `http` error for a non-2xx answer: `message` ([`answered`]'s, which a caller may
/// also need for other errors of the same answer), its `status`, `body` (the first bytes
/// the caller read) and its `Retry-After` header (`retry_after`) in seconds. Not redacted
/// yet: the client does that.
#[inline]
pub fn answer_error(
    message: String,
    status: u16,
    body: String,
    retry_after: Option<&str>,
    now_ms: f64,
    parse_date: impl FnOnce(&str) -> Option<f64>,
) -> Error {
    let mut error = Error::new(ErrorCode::Http, message).with_status(status);
    error.body = Some(body);
    error.retry_after = retry_after.and_then(|value| parse_retry_after(value, now_ms, parse_date));
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_2xx_answer_is_an_http_error() {
        let no_date = |_: &str| -> Option<f64> { panic!("not a date") };
        let error = answer_error(
            answered("GET", "reports/x", 503),
            503,
            "busy".into(),
            Some("7"),
            0.0,
            no_date,
        );
        assert_eq!(
            (error.code, error.status, error.retry_after),
            (ErrorCode::Http, Some(503), Some(7.0))
        );
        assert_eq!(error.to_string(), "GET reports/x answered HTTP 503");
        assert_eq!(error.body.as_deref(), Some("busy"));
        assert!(error.retryable());

        // A date is read with the caller's parser, against its clock.
        let error = answer_error(
            answered("POST", "a", 429),
            429,
            String::new(),
            Some("Sun, 06 Nov 1994 08:50:07 GMT"),
            1_000.0,
            |d| {
                assert_eq!(d, "Sun, 06 Nov 1994 08:50:07 GMT");
                Some(31_000.0)
            },
        );
        assert_eq!((error.status, error.retry_after), (Some(429), Some(30.0)));
        let error = answer_error(answered("DELETE", "b/1", 404), 404, String::new(), None, 0.0, no_date);
        assert_eq!(error.to_string(), "DELETE b/1 answered HTTP 404");
        assert_eq!((error.retry_after, error.retryable()), (None, false));
    }

    const GET: Sent<'static> = Sent {
        method: "GET",
        resendable: true,
        own_redirect: false,
        browser_follows: false,
        hops: 0,
        retried: false,
    };

    fn answer(status: u16, location: Location<&'static str>) -> Answer<&'static str> {
        Answer {
            status,
            opaque_redirect: false,
            in_origin: true,
            location,
        }
    }

    #[test]
    fn redirects_inside_the_origin_are_followed_as_fetch_does() {
        use NextHop::*;
        let here = Location::SameOrigin("/api/next");
        let post = Sent { method: "POST", ..GET };
        let head = Sent { method: "HEAD", ..GET };
        let stream = Sent {
            method: "PUT",
            resendable: false,
            ..GET
        };
        let post_stream = Sent {
            resendable: false,
            ..post
        };
        for (sent, status, expected) in [
            (GET, 301, Follow { as_get: false }),
            (GET, 302, Follow { as_get: false }),
            (GET, 303, Follow { as_get: true }),
            (GET, 307, Follow { as_get: false }),
            (GET, 308, Follow { as_get: false }),
            (post, 301, Follow { as_get: true }),
            (post, 302, Follow { as_get: true }),
            (post, 303, Follow { as_get: true }),
            (post, 307, Follow { as_get: false }),
            (post, 308, Follow { as_get: false }),
            (head, 303, Follow { as_get: false }),
            // A stream cannot be sent again: only a redirect that drops the body is followed.
            (stream, 307, Done),
            (stream, 303, Follow { as_get: true }),
            (post_stream, 302, Follow { as_get: true }),
            (post_stream, 308, Done),
        ] {
            assert_eq!(
                next_hop(&sent, &answer(status, here.clone())),
                expected,
                "{} {status}",
                sent.method
            );
        }
    }

    #[test]
    fn the_token_never_follows_a_redirect_out_of_the_origin() {
        for location in [Location::OtherOrigin, Location::Invalid] {
            for status in [301, 302, 303, 307, 308] {
                assert_eq!(next_hop(&GET, &answer(status, location.clone())), NextHop::Done);
            }
        }
        // A 3xx without location is an answer like any other.
        assert_eq!(next_hop(&GET, &answer(302, Location::Missing)), NextHop::Done);
        // Out of hops.
        let tired = Sent {
            hops: MAX_REDIRECTS,
            ..GET
        };
        assert_eq!(
            next_hop(&tired, &answer(302, Location::SameOrigin("/x"))),
            NextHop::Done
        );
        let almost = Sent {
            hops: MAX_REDIRECTS - 1,
            ..GET
        };
        assert_eq!(
            next_hop(&almost, &answer(302, Location::SameOrigin("/x"))),
            NextHop::Follow { as_get: false }
        );
    }

    #[test]
    fn the_callers_own_redirect_mode_follows_nothing_but_keeps_the_401_retry() {
        let own = Sent {
            own_redirect: true,
            ..GET
        };
        assert_eq!(next_hop(&own, &answer(302, Location::SameOrigin("/x"))), NextHop::Done);
        let hidden = Answer {
            opaque_redirect: true,
            ..answer(0, Location::Missing)
        };
        assert_eq!(next_hop(&own, &hidden), NextHop::Done);
        assert_eq!(
            next_hop(&own, &answer(401, Location::Missing)),
            NextHop::RetryWithNewToken
        );
    }

    #[test]
    fn a_redirect_the_browser_hid_is_sent_again_only_when_safe() {
        let hidden = Answer {
            opaque_redirect: true,
            ..answer(0, Location::<&str>::Missing)
        };
        for (method, resendable, expected) in [
            ("GET", true, NextHop::LetBrowserFollow),
            ("HEAD", true, NextHop::LetBrowserFollow),
            ("OPTIONS", true, NextHop::LetBrowserFollow),
            ("GET", false, NextHop::Done),
            ("POST", true, NextHop::Done),
            ("DELETE", true, NextHop::Done),
        ] {
            let sent = Sent {
                method,
                resendable,
                ..GET
            };
            assert_eq!(next_hop(&sent, &hidden), expected, "{method} {resendable}");
        }
        // Once the browser follows, a second hidden redirect is not chased again.
        let following = Sent {
            browser_follows: true,
            ..GET
        };
        assert_eq!(next_hop(&following, &hidden), NextHop::Done);
    }

    #[test]
    fn an_answer_the_browser_fetched_from_another_origin_is_not_the_apis() {
        let following = Sent {
            browser_follows: true,
            ..GET
        };
        let elsewhere = |status| Answer {
            in_origin: false,
            ..answer(status, Location::<&str>::Missing)
        };
        // Not even its 401 costs the API's token.
        for status in [200, 401, 419, 500] {
            assert_eq!(next_hop(&following, &elsewhere(status)), NextHop::Done);
        }
        assert_eq!(
            next_hop(&following, &answer(401, Location::Missing)),
            NextHop::RetryWithNewToken
        );
    }

    #[test]
    fn a_401_or_419_is_retried_once_with_a_new_token_when_the_body_can_be_resent() {
        for (status, sent, expected) in [
            (401, GET, true),
            (419, GET, true),
            (403, GET, false),
            (400, GET, false),
            (500, GET, false),
            (200, GET, false),
            (401, Sent { retried: true, ..GET }, false),
            (
                419,
                Sent {
                    resendable: false,
                    ..GET
                },
                false,
            ),
        ] {
            assert_eq!(retry_with_new_token(status, &sent), expected, "{status} {sent:?}");
            let next = next_hop(&sent, &answer(status, Location::<&str>::Missing));
            assert_eq!(next == NextHop::RetryWithNewToken, expected, "{status} {sent:?}");
        }
    }
}
