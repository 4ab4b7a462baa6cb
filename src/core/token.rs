//! The Cedato token exchange without I/O: building the request and processing the answer.

#[allow(unused_imports)]
use crate::prelude::*;

use super::config::Config;
use super::error::{truncate_utf8, Error, ErrorCode};
use super::json::{self, Json};

/// `expires_in` when the answer has none, in seconds.
pub const DEFAULT_EXPIRES_IN: f64 = 3600.0;
/// Longer lifetimes are clamped to one year, so `expiresAt` stays a valid date.
pub const MAX_EXPIRES_IN: f64 = 365.0 * 24.0 * 3600.0;
/// The form body of every token request.
pub const TOKEN_REQUEST_BODY: &str = "grant_type=client_credentials";

/// One HTTP request, as a transport should send it.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// `POST` for the token request.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The body text.
    pub body: String,
}

/// What a transport hands back for one attempt: status, the headers the library reads,
/// and the whole body text.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// The `Retry-After` header, when present.
    pub retry_after: Option<String>,
    /// The body as text.
    pub body: String,
}

/// An access token ready to be used.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The access token (visible ASCII only).
    pub access_token: String,
    /// Lifetime in seconds as granted (after clamping).
    pub expires_in: f64,
    /// When the token expires, in ms since the epoch (send time + `expires_in`).
    pub expires_at: f64,
}

/// `Authorization: Basic …` for the credentials: Base64 of the UTF-8 bytes of
/// `clientId:clientSecret`, as the vendor's examples build it.
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    let mut raw = Vec::with_capacity(client_id.len() + 1 + client_secret.len());
    raw.extend_from_slice(client_id.as_bytes());
    raw.push(b':');
    raw.extend_from_slice(client_secret.as_bytes());
    let mut out = String::from("Basic ");
    base64_encode(&raw, &mut out);
    out
}

/// Standard Base64 with padding (RFC 4648 section 4).
pub fn base64_encode(input: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextet = |v: u32, shift: u32| char::from(ALPHABET.get(((v >> shift) & 63) as usize).copied().unwrap_or(b'='));
    for chunk in input.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let v = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sextet(v, 18));
        out.push(sextet(v, 12));
        out.push(if chunk.len() > 1 { sextet(v, 6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(v, 0) } else { '=' });
    }
}

/// The token request for a configuration (SPEC section 2).
pub fn token_request(config: &Config) -> HttpRequest {
    HttpRequest {
        method: "POST",
        url: config.token_url(),
        headers: vec![
            ("accept", "application/json".into()),
            ("api-version", config.api_version.clone()),
            ("authorization", config.basic_authorization().into()),
            ("content-type", "application/x-www-form-urlencoded".into()),
        ],
        body: TOKEN_REQUEST_BODY.into(),
    }
}

/// Whether `s` is a non-empty run of visible ASCII (0x21-0x7E): safe in a header value.
pub fn is_visible_ascii(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

fn invalid(status: u16, message: &str) -> Error {
    Error::new(ErrorCode::InvalidResponse, message).with_status(status)
}

/// Reads a 2xx token answer (SPEC section 2). `sent_at` is when the request was sent,
/// in ms since the epoch.
pub fn process_token_response(status: u16, body: &str, sent_at: f64) -> Result<Token, Error> {
    let doc =
        json::parse(body).ok_or_else(|| invalid(status, "the token endpoint answered with a body that is not JSON"))?;
    // The real server wraps the fields in `data`; the documented answer has them on top.
    let fields = match doc.get("data") {
        Some(data @ Json::Object(_)) => data,
        _ => &doc,
    };
    if !matches!(fields, Json::Object(_)) {
        return Err(invalid(
            status,
            "the token endpoint answered with JSON that is not an object",
        ));
    }
    let access_token = match fields.get("access_token") {
        Some(Json::String(t)) if is_visible_ascii(t) => t.clone(),
        Some(Json::String(_)) => return Err(invalid(
            status,
            "the token endpoint answered with an access_token that is empty or has characters other than visible ASCII",
        )),
        Some(_) => {
            return Err(invalid(
                status,
                "the token endpoint answered with an access_token that is not a string",
            ))
        }
        None => return Err(invalid(status, "the token endpoint answer has no access_token")),
    };
    match fields.get("token_type") {
        None | Some(Json::Null) => {}
        Some(Json::String(t)) if t.eq_ignore_ascii_case("bearer") => {}
        Some(_) => {
            return Err(invalid(
                status,
                "the token endpoint answered with a token_type other than bearer",
            ))
        }
    }
    let expires_in = parse_expires_in(fields.get("expires_in")).ok_or_else(|| {
        invalid(
            status,
            "the token endpoint answered with an expires_in that is not a number of seconds >= 0",
        )
    })?;
    Ok(Token {
        access_token,
        expires_in,
        expires_at: sent_at + expires_in * 1000.0,
    })
}

/// `expires_in`: a number or a numeric string, >= 0, finite; absent/null = 3600;
/// clamped to one year.
fn parse_expires_in(value: Option<&Json>) -> Option<f64> {
    let seconds = match value {
        None | Some(Json::Null) => DEFAULT_EXPIRES_IN,
        Some(Json::Number(n)) => *n,
        Some(Json::String(s)) => parse_decimal(s)?,
        Some(_) => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| seconds.min(MAX_EXPIRES_IN))
}

/// A plain decimal number as text (`"3600"`, `"1.5"`, `"-2"`); no blanks, signs other than
/// a leading `-`, hex, or `inf`/`NaN`. Negative values are returned (and refused by the
/// caller), so the message stays the same for all bad values.
fn parse_decimal(s: &str) -> Option<f64> {
    // `parse_number` reads the JSON grammar: what it takes beyond a plain decimal is an
    // exponent.
    if s.bytes().any(|b| b == b'e' || b == b'E') {
        return None;
    }
    super::text::parse_number(s)
}

/// Reads the RFC 6749 section 5.2 fields of an error answer (at the top level or in
/// `data`), keeping at most 200 bytes of each.
pub fn oauth_error_fields(body: &str) -> (Option<String>, Option<String>) {
    let Some(doc) = json::parse(body) else {
        return (None, None);
    };
    let field = |name: &str| {
        let v = doc.get(name).or_else(|| doc.get("data").and_then(|d| d.get(name)));
        v.and_then(Json::as_str).map(|s| truncate_utf8(s, 200).to_owned())
    };
    (field("error"), field("error_description"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1_700_000_000_000.0;

    #[test]
    fn parse_decimal_reads_plain_decimals_only() {
        // The documented cases; negative values come back (the caller refuses them).
        for (s, want) in [
            ("3600", 3600.0),
            ("1.5", 1.5),
            ("12.5", 12.5),
            ("-2", -2.0),
            ("1.", 1.0),
            (".5", 0.5),
        ] {
            assert_eq!(parse_decimal(s), Some(want), "{s:?}");
        }
        assert_eq!(parse_decimal("-0").map(f64::to_bits), Some((-0.0f64).to_bits()));
        for s in [
            "", "-", ".", "--1", "+1", "1.2.3", "1e3", "1E3", "-1e3", "0x1", " 1", "1 ", "inf", "NaN",
        ] {
            assert_eq!(parse_decimal(s), None, "{s:?}");
        }
    }

    fn ok(body: &str) -> Token {
        process_token_response(200, body, T0).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn bad(body: &str) {
        let e = process_token_response(200, body, T0).expect_err(body);
        assert_eq!(e.code, ErrorCode::InvalidResponse, "{body}");
        assert_eq!(e.status, Some(200));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_encode(input.as_bytes(), &mut out);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn basic_credentials_are_utf8_base64() {
        assert_eq!(
            basic_authorization("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        // "é" is two UTF-8 bytes; btoa would refuse or mangle it.
        assert_eq!(basic_authorization("id", "pé"), "Basic aWQ6cMOp");
        assert_eq!(basic_authorization("id", "a:b"), "Basic aWQ6YTpi");
    }

    #[test]
    fn accepts_both_envelopes() {
        let flat = ok(r#"{"access_token":"DaRf","token_type":"bearer","expires_in":3600}"#);
        let wrapped = ok(r#"{"status":"OK","data":{"access_token":"DaRf","token_type":"bearer","expires_in":3600}}"#);
        assert_eq!(flat, wrapped);
        assert_eq!(flat.access_token, "DaRf");
        assert_eq!(flat.expires_at, T0 + 3_600_000.0);
    }

    #[test]
    fn data_that_is_not_an_object_falls_back_to_the_top_level() {
        assert_eq!(ok(r#"{"data":"x","access_token":"A"}"#).access_token, "A");
        bad(r#"{"data":{"token":"A"},"access_token":"B"}"#);
    }

    #[test]
    fn access_token_rules() {
        bad(r#"{}"#);
        bad(r#"{"access_token":""}"#);
        bad(r#"{"access_token":"a b"}"#);
        bad(r#"{"access_token":"abc\r\nX-Injected: 1"}"#);
        bad(r#"{"access_token":"é"}"#);
        bad(r#"{"access_token":"\u007f"}"#);
        bad(r#"{"access_token":12}"#);
        bad(r#"{"access_token":null}"#);
        assert_eq!(ok(r#"{"access_token":"!~"}"#).access_token, "!~");
    }

    #[test]
    fn token_type_rules() {
        for tt in [r#""bearer""#, r#""Bearer""#, r#""BEARER""#, "null"] {
            ok(&format!(r#"{{"access_token":"A","token_type":{tt}}}"#));
        }
        ok(r#"{"access_token":"A"}"#);
        for tt in [r#""mac""#, r#""""#, "1", r#""bearer ""#] {
            bad(&format!(r#"{{"access_token":"A","token_type":{tt}}}"#));
        }
    }

    #[test]
    fn expires_in_rules() {
        let cases: &[(&str, Option<f64>)] = &[
            ("3600", Some(3600.0)),
            (r#""3600""#, Some(3600.0)),
            (r#""1.5""#, Some(1.5)),
            ("0", Some(0.0)),
            ("0.5", Some(0.5)),
            ("null", Some(DEFAULT_EXPIRES_IN)),
            ("1e300", Some(MAX_EXPIRES_IN)),
            ("99999999999", Some(MAX_EXPIRES_IN)),
            ("-1", None),
            (r#""-1""#, None),
            (r#""3600abc""#, None),
            (r#"" ""#, None),
            (r#""""#, None),
            (r#"" 3600""#, None),
            (r#""0x10""#, None),
            (r#""Infinity""#, None),
            (r#""NaN""#, None),
            (r#""1e3""#, None),
            ("1e400", None),
            ("true", None),
            ("[]", None),
        ];
        for (v, want) in cases {
            let body = format!(r#"{{"access_token":"A","expires_in":{v}}}"#);
            match want {
                Some(s) => {
                    let t = ok(&body);
                    assert_eq!(t.expires_in, *s, "{v}");
                    assert!(t.expires_at.is_finite());
                }
                None => bad(&body),
            }
        }
        assert_eq!(ok(r#"{"access_token":"A"}"#).expires_in, DEFAULT_EXPIRES_IN);
    }

    #[test]
    fn unknown_fields_are_ignored_and_non_json_refused() {
        ok(r#"{"access_token":"A","scope":"x","extra":{"deep":[1,2]}}"#);
        for b in ["", "<html>", "[]", "\"A\"", "null", "{\"access_token\":\"A\""] {
            bad(b);
        }
    }

    #[test]
    fn oauth_error_fields_are_read_where_the_server_puts_them() {
        let (e, d) = oauth_error_fields(r#"{"error":"invalid_client","error_description":"Bad"}"#);
        assert_eq!((e.as_deref(), d.as_deref()), (Some("invalid_client"), Some("Bad")));
        let (e, _) = oauth_error_fields(r#"{"data":{"error":"invalid_grant"}}"#);
        assert_eq!(e.as_deref(), Some("invalid_grant"));
        assert_eq!(oauth_error_fields("nope"), (None, None));
        assert_eq!(oauth_error_fields(r#"{"error":5}"#), (None, None));
    }
}
