//! Owns the one error type of the library ([`Error`]), its codes ([`ErrorCode`], the
//! SPEC's errors table) and the mark of an error fit for JavaScript ([`Redacted`]).

use core::fmt;

use strum::VariantArray;

/// Declares a fieldless enum whose values JavaScript sees as strings (`err.code`, the
/// events' enum fields), spelled from the variant names by one case rule (`$case`):
/// strum spells them for Rust (`IntoStaticStr`, `VariantArray`) and `Serialize` writes that
/// string; on wasm32, tsify declares the TypeScript union `Cedato<Name>` by the same rule
/// (from the serde attribute, which nothing else reads). The two spellings are held to
/// each other through the event guard (tests/schema.rs, tests/package/typings.test.mjs).
///
/// `Serialize` is written by hand: serde's `#[serde(into = "&'static str")]` does the same
/// through `&&str` in 21 B (wasm gzip) more for the four enums, a derived `Serialize`
/// (`serialize_unit_variant`) in 234 B more.
macro_rules! string_enum {
    ($case:tt, $(#[$meta:meta])* pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::VariantArray)]
        #[cfg_attr(
            all(target_arch = "wasm32", feature = "js-class"),
            derive(tsify::Tsify),
            tsify(type_prefix = "Cedato"),
            serde(rename_all = $case)
        )]
        #[strum(serialize_all = $case)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)*
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str((*self).into())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    "snake_case",
    /// What `err.code` can be: what went wrong.
    ///
    /// The variant names are the one source of the code strings (see `string_enum`),
    /// in snake_case: `as_str`, `from_code`, the events and the TypeScript `CedatoErrorCode`.
    #[non_exhaustive]
    pub enum ErrorCode {
        /// Bad constructor options.
        InvalidConfig,
        /// The token endpoint answered 400, 401 or 403: the credentials were refused.
        TokenRejected,
        /// The token endpoint still answered 429 after the retries.
        RateLimited,
        /// The token endpoint still answered 5xx after the retries.
        ServerError,
        /// The request could not be made (refused, DNS, CORS) after the retries.
        Network,
        /// An attempt exceeded `timeoutMs` and the retries are spent.
        Timeout,
        /// A 2xx answer that cannot be used.
        InvalidResponse,
        /// `fetch`/`request` with a URL outside the base URL's origin, or bad arguments.
        InvalidRequest,
        /// Another non-2xx answer (from the API, or from the token endpoint).
        Http,
    }
}

impl ErrorCode {
    /// The code named by `code`, as `err.code` spells it.
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::VARIANTS.iter().copied().find(|c| c.as_str() == code)
    }

    /// The code as the string JavaScript callers compare `err.code` with.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A failure of any part of the library.
///
/// Its fields may carry text from outside (an OAuth error, a body, a thrown message):
/// every error the library hands out goes through `TokenClient::redact_error`, which
/// removes the client secret, the Basic value and every token the client has held, and
/// reaches JavaScript only as a [`Redacted`].
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// The machine-readable kind.
    pub code: ErrorCode,
    /// A sentence a person can act on.
    pub message: String,
    /// The HTTP status, whenever an answer came (2xx included).
    pub status: Option<u16>,
    /// Seconds the server asked us to wait (`Retry-After`).
    pub retry_after: Option<f64>,
    /// RFC 6749 section 5.2 `error` sent by the token endpoint.
    pub oauth_error: Option<String>,
    /// RFC 6749 section 5.2 `error_description` sent by the token endpoint.
    pub oauth_error_description: Option<String>,
    /// The first 1 KB of the answer's text (on `http`).
    pub body: Option<String>,
}

impl Error {
    /// An error with a code and a message and nothing else.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            status: None,
            retry_after: None,
            oauth_error: None,
            oauth_error_description: None,
            body: None,
        }
    }

    /// The same error with the HTTP status set.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Whether trying again later may succeed: `network`, `timeout`, `rate_limited`,
    /// `server_error`, and `http` with 408, 429 or 5xx.
    pub fn retryable(&self) -> bool {
        match self.code {
            ErrorCode::Network | ErrorCode::Timeout | ErrorCode::RateLimited | ErrorCode::ServerError => true,
            ErrorCode::Http => matches!(self.status, Some(408 | 429 | 500..=599)),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for Error {}

/// An error fit to reach JavaScript (`to_js` takes nothing else): one that went through
/// the client's last step, `TokenClient::settled_error` (its errors were redacted where
/// they were made, by `TokenClient::redact_error` or `redact_answer_error`), or one the
/// library wrote in its own words only ([`Redacted::own`]).
///
/// Outside the core, nothing else makes one:
///
/// ```compile_fail
/// use cedato_auth::core::{Error, ErrorCode, Redacted};
/// let _ = Redacted::by_client(Error::new(ErrorCode::Http, "the server's text"));
/// ```
#[derive(Debug)]
pub struct Redacted(Error);

impl Redacted {
    /// The client's redaction hands an error out (the core only).
    pub(in crate::core) fn by_client(error: Error) -> Redacted {
        Redacted(error)
    }

    /// An error whose text is the library's own words only, with nothing from outside (no
    /// option's value, no answer, nothing thrown): an option error of the constructor, a
    /// fixed message. Anything else goes through the client's redaction.
    pub fn own(error: Error) -> Redacted {
        Redacted(error)
    }

    /// The error.
    pub fn error(&self) -> &Error {
        &self.0
    }

    /// The error itself (no longer marked as redacted).
    pub fn into_error(self) -> Error {
        self.0
    }
}

/// Keeps at most `max` bytes of `text`, cut at a character boundary.
pub fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_follows_the_spec_table() {
        let cases = [
            (ErrorCode::Network, None, true),
            (ErrorCode::Timeout, None, true),
            (ErrorCode::RateLimited, Some(429), true),
            (ErrorCode::ServerError, Some(503), true),
            (ErrorCode::Http, Some(408), true),
            (ErrorCode::Http, Some(429), true),
            (ErrorCode::Http, Some(502), true),
            (ErrorCode::Http, Some(404), false),
            (ErrorCode::Http, None, false),
            (ErrorCode::TokenRejected, Some(401), false),
            (ErrorCode::InvalidResponse, Some(200), false),
            (ErrorCode::InvalidConfig, None, false),
            (ErrorCode::InvalidRequest, None, false),
        ];
        for (code, status, want) in cases {
            let mut e = Error::new(code, "x");
            e.status = status;
            assert_eq!(e.retryable(), want, "{code:?} {status:?}");
        }
    }

    #[test]
    fn codes_read_back_from_their_names() {
        for &code in ErrorCode::VARIANTS {
            assert_eq!(ErrorCode::from_code(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::InvalidConfig.as_str(), "invalid_config");
        assert_eq!(ErrorCode::from_code("nope"), None);
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_utf8("abc", 5), "abc");
        assert_eq!(truncate_utf8("abcdef", 3), "abc");
        assert_eq!(truncate_utf8("aé", 2), "a");
        assert_eq!(truncate_utf8("€€", 4), "€");
    }
}
