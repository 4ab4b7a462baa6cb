//! A client's options: typed ([`Options`]), validated into [`Config`] with the defaults
//! and the values derived for every call; `baseUrl` read by the host's URL parser.

use core::cell::{Ref, RefCell};
use core::fmt;

use zeroize::Zeroize;

use super::error::{Error, ErrorCode};
use super::http::{basic_authorization, is_visible_ascii};
use super::redact::Secret;

/// The Platform API's address when the caller gives none.
pub const DEFAULT_BASE_URL: &str = "https://api.cedato.com/api/";
/// Longest wait `setTimeout` can express (2^31 - 1 ms); longer ones fire at once.
pub const MAX_TIMEOUT_MS: f64 = 2_147_483_647.0;
/// Retries beyond this add nothing but minutes of waiting.
pub const MAX_RETRIES: u32 = 10;
/// The longest token lifetime kept, in seconds: longer ones are clamped to one year, so
/// `expiresAt` stays a valid date (and so is `refreshSkewSeconds`).
pub const MAX_EXPIRES_IN: f64 = 365.0 * 24.0 * 3600.0;

/// A client's options, typed: what `new CedatoAuth(options)` reads of its object (the
/// binding layer checks the JavaScript types), and what a Rust caller fills in. `None`
/// takes the default; [`validate`](Options::validate) checks the values.
///
/// ```
/// use cedato_auth::core::config::Options;
/// let options = Options {
///     client_id: Some("id".into()),
///     client_secret: Some("secret".to_owned().into()),
///     max_retries: Some(3),
///     ..Options::default()
/// };
/// # let _ = options;
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Options {
    /// `clientId`: required, non-empty, no `:`.
    pub client_id: Option<String>,
    /// `clientSecret`: required, non-empty (`Debug` prints `[redacted]`).
    pub client_secret: Option<Secret>,
    /// `baseUrl`: an http(s) URL (default [`DEFAULT_BASE_URL`]).
    pub base_url: Option<String>,
    /// `apiVersion`: the `api-version` header (default `"1"`).
    pub api_version: Option<String>,
    /// `refreshSkewSeconds` (default 60).
    pub refresh_skew_seconds: Option<f64>,
    /// `timeoutMs`, per attempt (default 10 000).
    pub timeout_ms: Option<f64>,
    /// `maxRetries`, 0 to [`MAX_RETRIES`] (default 2).
    pub max_retries: Option<u32>,
    /// `unauthorizedCooldownMs` (default 5 000).
    pub unauthorized_cooldown_ms: Option<f64>,
    /// `allowInsecureHttp`: `http:` to hosts other than loopback ones.
    pub allow_insecure_http: bool,
}

/// Validated options. `Debug` never shows the secret.
#[derive(Clone, PartialEq)]
pub struct Config {
    /// The client id (non-empty, no `:`).
    pub client_id: String,
    // The secrets, overwritten when dropped and by `wipe` (on `free()`).
    client_secret: RefCell<Secret>,
    basic: RefCell<Secret>,
    /// The base URL, always ending in `/`.
    pub base_url: String,
    /// The base URL's origin as the host's WHATWG URL parser serializes it
    /// (`scheme://host[:port]`, the default port dropped): the token goes nowhere else.
    pub origin: String,
    /// The `api-version` header value.
    pub api_version: String,
    /// Seconds before expiry at which a token is refreshed.
    pub refresh_skew_seconds: f64,
    /// Time limit of one attempt, in ms.
    pub timeout_ms: f64,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// After the API refused a token (401/419) and the client replaced it, how long a
    /// refused token is kept instead of being replaced again, in ms.
    pub unauthorized_cooldown_ms: f64,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("refresh_skew_seconds", &self.refresh_skew_seconds)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_retries", &self.max_retries)
            .field("unauthorized_cooldown_ms", &self.unauthorized_cooldown_ms)
            .finish()
    }
}

fn config_error(message: &str) -> Error {
    Error::new(ErrorCode::InvalidConfig, message)
}

/// `maxRetries` given as a number (JavaScript's): a whole number from 0 to
/// [`MAX_RETRIES`], else `invalid_config`.
pub fn max_retries(n: f64) -> Result<u32, Error> {
    if n >= 0.0 && n == n.floor() && n <= f64::from(MAX_RETRIES) {
        Ok(n as u32)
    } else {
        Err(config_error("maxRetries must be a whole number from 0 to 10"))
    }
}

fn required(value: Option<&str>, field: &str) -> Result<(), Error> {
    match value {
        None => Err(config_error(&format!("{field} is required (a non-empty string)"))),
        Some("") => Err(config_error(&format!("{field} must not be empty"))),
        Some(_) => Ok(()),
    }
}

fn finite(value: Option<f64>, field: &str, default: f64) -> Result<f64, Error> {
    match value {
        None => Ok(default),
        Some(n) if n.is_finite() => Ok(n),
        Some(_) => Err(config_error(&format!("{field} must be a finite number"))),
    }
}

impl Options {
    /// Checks the values and fills in the defaults; every failure is `invalid_config`
    /// naming the field, and no message repeats a value the caller gave (the secret above
    /// all). `parse` is the host's WHATWG URL parser, which reads `baseUrl`.
    pub fn validate(self, parse: impl Fn(&str) -> Option<WhatwgUrl>) -> Result<Config, Error> {
        required(self.client_id.as_deref(), "clientId")?;
        let client_id = self.client_id.unwrap_or_default();
        if client_id.bytes().any(|b| b == b':') {
            return Err(config_error(
                "clientId must not contain ':' (HTTP Basic credentials cannot represent it)",
            ));
        }
        required(self.client_secret.as_deref(), "clientSecret")?;
        let client_secret = self.client_secret.unwrap_or_default();
        let (base_url, origin) = normalize_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL), parse)?;
        if !(self.allow_insecure_http || is_secure_origin(&origin)) {
            return Err(config_error(
                "baseUrl must be an https: URL (http: only for localhost, 127.0.0.0/8 and [::1]); \
                 allowInsecureHttp: true permits it, and sends the credentials and tokens in clear",
            ));
        }
        let api_version = self.api_version.unwrap_or_else(|| "1".into());
        if !is_visible_ascii(&api_version) {
            return Err(config_error(
                "apiVersion must be a non-empty string of visible ASCII characters",
            ));
        }
        let refresh_skew_seconds = finite(self.refresh_skew_seconds, "refreshSkewSeconds", 60.0)?;
        if refresh_skew_seconds < 0.0 {
            return Err(config_error("refreshSkewSeconds must be >= 0"));
        }
        let timeout_ms = finite(self.timeout_ms, "timeoutMs", 10_000.0)?;
        if timeout_ms <= 0.0 || timeout_ms > MAX_TIMEOUT_MS {
            return Err(config_error("timeoutMs must be > 0 and at most 2147483647"));
        }
        let max_retries = max_retries(self.max_retries.map_or(2.0, f64::from))?;
        let unauthorized_cooldown_ms = finite(self.unauthorized_cooldown_ms, "unauthorizedCooldownMs", 5_000.0)?;
        if !(0.0..=MAX_TIMEOUT_MS).contains(&unauthorized_cooldown_ms) {
            return Err(config_error(
                "unauthorizedCooldownMs must be >= 0 and at most 2147483647",
            ));
        }
        Ok(Config {
            basic: RefCell::new(basic_authorization(&client_id, &client_secret)),
            client_secret: RefCell::new(client_secret),
            client_id,
            base_url,
            origin,
            api_version,
            refresh_skew_seconds: refresh_skew_seconds.min(MAX_EXPIRES_IN),
            timeout_ms,
            max_retries,
            unauthorized_cooldown_ms,
        })
    }
}

impl Config {
    /// The `Authorization` value of the token request.
    pub fn basic_authorization(&self) -> Ref<'_, str> {
        Ref::map(self.basic.borrow(), |b| b.as_str())
    }

    /// The client secret (for redaction).
    pub fn client_secret(&self) -> Ref<'_, str> {
        Ref::map(self.client_secret.borrow(), |s| s.as_str())
    }

    /// Overwrites the secret and the Basic value in memory (`free()`): token requests made
    /// afterwards are refused.
    pub fn wipe(&self) {
        self.client_secret.borrow_mut().zeroize();
        self.basic.borrow_mut().zeroize();
    }

    /// `{baseUrl}token`.
    pub fn token_url(&self) -> String {
        // `[..].concat()`: `format!` measured 24 B gzip more here.
        [self.base_url.as_str(), "token"].concat()
    }
}

/// A URL as a WHATWG URL parser reads it: the host's (the engine's `URL` in the wasm, the
/// `url` crate natively), so the base URL, the token request and every call's origin
/// check read a URL alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhatwgUrl {
    /// The serialization (`href`).
    pub href: String,
    /// The origin (`origin`): `scheme://host[:port]`, the default port dropped.
    pub origin: String,
}

/// Checks an http(s) base URL and returns it, as `parse` serializes it, with a trailing
/// `/`, and its origin.
///
/// Refused: other schemes, no host, user info (credentials in a URL leak into logs),
/// a query or fragment (`{baseUrl}token` would land inside them), whitespace, control
/// characters and backslashes (parsers disagree on them), port 0.
pub fn normalize_base_url(url: &str, parse: impl Fn(&str) -> Option<WhatwgUrl>) -> Result<(String, String), Error> {
    let bad = |why: &str| config_error(&format!("baseUrl must be an absolute http(s) URL{why}"));
    if url.bytes().any(|b| b <= 0x20 || b == 0x7f || b == b'\\') {
        return Err(bad(" without spaces, control characters or backslashes"));
    }
    // What the parser would repair or take otherwise (`https:host`, `https:///host`, a
    // `@` in the authority) is refused on the text as written.
    let (scheme, rest) = url.split_once(':').ok_or_else(|| bad(""))?;
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return Err(bad(" (http: or https:)"));
    }
    let rest = rest.strip_prefix("//").ok_or_else(|| bad(""))?;
    if url.bytes().any(|b| b == b'?' || b == b'#') {
        return Err(bad(" without a query or fragment"));
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.bytes().any(|b| b == b'@') {
        return Err(bad(" without user name or password"));
    }
    let parsed = parse(url)
        .filter(|u| !authority.is_empty() && !u.origin.ends_with(":0"))
        .ok_or_else(|| bad(" with a valid host and port"))?;
    let mut base = parsed.href;
    if !base.ends_with('/') {
        base.push('/');
    }
    Ok((base, parsed.origin))
}

/// Whether an origin (`scheme://host[:port]`, as a WHATWG URL parser writes it) keeps
/// the credentials off the wire in clear: `https:`, or `http:` to a loopback host
/// (`localhost`, `127.0.0.0/8`, `[::1]`; the parser writes every IPv4 spelling in
/// dotted decimal).
pub fn is_secure_origin(origin: &str) -> bool {
    let Some(authority) = origin.strip_prefix("http://") else {
        return origin.starts_with("https://");
    };
    // The host ends at the port's `:` (after the `]` of an IPv6 literal).
    let bytes = authority.as_bytes();
    let port = bytes
        .iter()
        .rposition(|b| *b == b':')
        .filter(|at| bytes.last() != Some(&b']') && *at > 0);
    let host = port.and_then(|at| bytes.get(..at)).unwrap_or(bytes);
    if matches!(host, b"localhost" | b"localhost." | b"[::1]") {
        return true;
    }
    // 127.x, 127.x.y, 127.x.y.z in decimal (other spellings need allowInsecureHttp).
    let Some(rest) = host.strip_prefix(b"127.") else {
        return false;
    };
    let (mut labels, mut previous) = (1, b'.');
    for &b in rest {
        match b {
            b'.' if previous != b'.' => labels += 1,
            b'0'..=b'9' => {}
            _ => return false,
        }
        previous = b;
    }
    labels <= 3 && previous != b'.'
}

/// The native tests' WHATWG URL parser: the `url` crate (the wasm passes the engine's).
#[cfg(test)]
pub(crate) use crate::rust::whatwg::absolute as whatwg;

#[cfg(test)]
mod tests {
    use super::*;

    fn from(options: Options) -> Result<Config, Error> {
        options.validate(whatwg)
    }

    fn opts(id: &str, secret: &str) -> Options {
        Options {
            client_id: Some(id.into()),
            client_secret: Some(secret.to_owned().into()),
            ..Options::default()
        }
    }

    fn err(options: Options) -> Error {
        let e = from(options).expect_err("must be refused");
        assert_eq!(e.code, ErrorCode::InvalidConfig);
        e
    }

    #[test]
    fn defaults() {
        let c = from(opts("id", "s3cret")).unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.origin, "https://api.cedato.com");
        assert_eq!(c.token_url(), "https://api.cedato.com/api/token");
        assert_eq!(c.api_version, "1");
        assert_eq!(c.refresh_skew_seconds, 60.0);
        assert_eq!(c.timeout_ms, 10_000.0);
        assert_eq!(c.max_retries, 2);
        assert_eq!(&*c.basic_authorization(), "Basic aWQ6czNjcmV0");
        c.wipe();
        assert_eq!(&*c.basic_authorization(), "");
        assert_eq!(&*c.client_secret(), "");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!format!("{c:?}").contains("aWQ6czNjcmV0"));
    }

    #[test]
    fn required_fields() {
        let secret = "hunter2-secret";
        for (options, message) in [
            (
                Options {
                    client_id: None,
                    ..opts("", secret)
                },
                "clientId is required (a non-empty string)",
            ),
            (opts("", secret), "clientId must not be empty"),
            (
                Options {
                    client_secret: None,
                    ..opts("id", "")
                },
                "clientSecret is required (a non-empty string)",
            ),
            (opts("id", ""), "clientSecret must not be empty"),
            (
                opts("a:b", secret),
                "clientId must not contain ':' (HTTP Basic credentials cannot represent it)",
            ),
        ] {
            let e = err(options);
            assert_eq!(e.message, message);
            assert!(!e.message.contains(secret));
        }
        assert!(!format!("{:?}", opts("id", secret)).contains(secret));
    }

    #[test]
    fn optional_fields() {
        let with = |f: fn(&mut Options)| {
            let mut o = opts("id", "s");
            f(&mut o);
            o
        };
        for (options, field) in [
            (with(|o| o.api_version = Some("".into())), "apiVersion"),
            (with(|o| o.api_version = Some("1\r\n".into())), "apiVersion"),
            (with(|o| o.refresh_skew_seconds = Some(-1.0)), "refreshSkewSeconds"),
            (with(|o| o.refresh_skew_seconds = Some(f64::NAN)), "refreshSkewSeconds"),
            (with(|o| o.timeout_ms = Some(0.0)), "timeoutMs"),
            (with(|o| o.timeout_ms = Some(-5.0)), "timeoutMs"),
            (with(|o| o.timeout_ms = Some(f64::INFINITY)), "timeoutMs"),
            (with(|o| o.timeout_ms = Some(3e9)), "timeoutMs"),
            (with(|o| o.max_retries = Some(11)), "maxRetries"),
            (
                with(|o| o.unauthorized_cooldown_ms = Some(-1.0)),
                "unauthorizedCooldownMs",
            ),
            (
                with(|o| o.base_url = Some("http://api.cedato.com/api/".into())),
                "baseUrl",
            ),
        ] {
            assert!(err(options).message.starts_with(field));
        }
        let c = from(with(|o| {
            o.refresh_skew_seconds = Some(0.0);
            o.max_retries = Some(0);
            o.timeout_ms = Some(0.5);
            o.unauthorized_cooldown_ms = Some(0.0);
            o.api_version = Some("2".into());
        }))
        .unwrap();
        assert_eq!((c.refresh_skew_seconds, c.max_retries, c.timeout_ms), (0.0, 0, 0.5));
        assert_eq!(c.unauthorized_cooldown_ms, 0.0);
        assert_eq!(c.api_version, "2");
    }

    #[test]
    fn max_retries_as_a_number() {
        for (n, want) in [(0.0, Some(0)), (2.0, Some(2)), (10.0, Some(10)), (-0.0, Some(0))] {
            assert_eq!(max_retries(n).ok(), want, "{n}");
        }
        for n in [1.5, -1.0, 11.0, f64::NAN, f64::INFINITY, 4e9] {
            let e = max_retries(n).expect_err("refused");
            assert_eq!(e.message, "maxRetries must be a whole number from 0 to 10");
        }
    }

    #[test]
    fn http_only_to_loopback_hosts_unless_allowed() {
        for (url, secure) in [
            ("https://api.cedato.com/api/", true),
            ("https://10.0.0.1:8443/", true),
            ("http://localhost:8787/api", true),
            ("http://LOCALHOST/", true),
            ("http://127.0.0.1:9000/api", true),
            ("http://127.1:9000/", true),
            ("http://127.255.0.9/", true),
            ("http://[::1]:9000/api", true),
            ("http://api.cedato.com/api/", false),
            ("http://10.0.0.1/", false),
            ("http://128.0.0.1/", false),
            ("http://127.example.com/", false),
            ("http://127/", false),
            ("http://localhost.evil.example/", false),
            ("http://[::2]/", false),
            // Read as the parser reads it (and fetch connects to it): 127.0.0.1.
            ("http://0x7f.1/", true),
        ] {
            let options = |allow: bool| Options {
                base_url: Some(url.into()),
                allow_insecure_http: allow,
                ..opts("id", "s")
            };
            assert_eq!(from(options(false)).is_ok(), secure, "{url}");
            assert!(from(options(true)).is_ok(), "{url}");
        }
        let e = err(Options {
            base_url: Some("http://api.cedato.com/".into()),
            ..opts("id", "s")
        });
        assert!(e.message.contains("allowInsecureHttp"), "{}", e.message);
    }

    #[test]
    fn base_urls() {
        for (input, base, origin) in [
            (
                "https://api.cedato.com/api",
                "https://api.cedato.com/api/",
                "https://api.cedato.com",
            ),
            (
                "https://api.cedato.com/api/",
                "https://api.cedato.com/api/",
                "https://api.cedato.com",
            ),
            (
                "HTTP://LocalHost:8787/api",
                "http://localhost:8787/api/",
                "http://localhost:8787",
            ),
            ("http://127.0.0.1:80/x/y", "http://127.0.0.1/x/y/", "http://127.0.0.1"),
            ("https://h:443", "https://h/", "https://h"),
            ("http://[::1]:9000/api", "http://[::1]:9000/api/", "http://[::1]:9000"),
            // As the WHATWG parser writes them: a port without its leading zero, a host
            // in punycode, an IPv4 address in dotted decimal.
            ("https://h:08/", "https://h:8/", "https://h:8"),
            (
                "https://bücher.example/a",
                "https://xn--bcher-kva.example/a/",
                "https://xn--bcher-kva.example",
            ),
            ("http://0x7f.1/", "http://127.0.0.1/", "http://127.0.0.1"),
            ("https://h:/x", "https://h/x/", "https://h"),
        ] {
            assert_eq!(
                normalize_base_url(input, whatwg).unwrap(),
                (base.to_string(), origin.to_string()),
                "{input}"
            );
        }
        for bad in [
            "",
            "api.cedato.com/api",
            "ftp://h/",
            "file:///etc",
            "https://",
            "https:///x",
            "https://u:p@h/",
            "https://h/?a=1",
            "https://h/#x",
            "https://h:0/",
            "https://h:65536/",
            "https://h:x/",
            "https://h:+80/",
            "https://h /",
            "https://h\\x/",
            "https://h/\n",
            "javascript://h/",
        ] {
            assert!(normalize_base_url(bad, whatwg).is_err(), "{bad}");
        }
    }
}
