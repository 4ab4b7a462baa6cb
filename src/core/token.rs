//! The Cedato token exchange without I/O: building the request and processing the answer.
//!
//! The answer's JSON is parsed by the engine (`JSON.parse` in the wasm, `serde_json` in
//! native tests) into [`TokenAnswer`]; the rules of SPEC section 2 are applied here.

use serde::de::{Deserialize, IgnoredAny};
use zeroize::Zeroizing;

use super::config::{Config, MAX_EXPIRES_IN};
use super::error::{Error, ErrorCode};
use super::http::{is_visible_ascii, HttpRequest, TOKEN_ANSWER_LIMIT};
use super::json::{Object, Scalar};
use super::redact::Secret;

/// `expires_in` when the answer has none, in seconds.
pub const DEFAULT_EXPIRES_IN: f64 = 3600.0;
/// The form body of every token request.
pub const TOKEN_REQUEST_BODY: &str = "grant_type=client_credentials";

/// An access token ready to be used.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The access token (visible ASCII only).
    pub access_token: Secret,
    /// Lifetime in seconds as granted (after clamping).
    pub expires_in: f64,
    /// When the token expires, in ms since the epoch (send time + `expires_in`).
    pub expires_at: f64,
}

/// The fields the library reads of a token answer or of an error answer (RFC 6749
/// sections 5.1 and 5.2), with `data` the envelope the real server wraps them in.
/// Unknown fields are ignored; an absent field reads as `null` (the rules treat both
/// alike).
#[derive(Clone, Debug, PartialEq, Default, serde::Deserialize)]
#[serde(default, bound = "D: Deserialize<'de> + Default")]
pub struct Fields<D> {
    /// The envelope of the real server (`{"data": {...}}`).
    pub data: D,
    /// `access_token`
    pub access_token: Scalar,
    /// `token_type`
    pub token_type: Scalar,
    /// `expires_in`
    pub expires_in: Scalar,
    /// `error` (RFC 6749 section 5.2)
    pub error: Scalar,
    /// `error_description`
    pub error_description: Scalar,
}

/// A token endpoint's answer as JSON: the fields at the top level, or in `data` (whose
/// own `data` is not looked into).
pub type TokenAnswer = Object<Fields<Object<Fields<IgnoredAny>>>>;

impl<D> Fields<D> {
    fn without_envelope(self) -> Fields<()> {
        Fields {
            data: (),
            access_token: self.access_token,
            token_type: self.token_type,
            expires_in: self.expires_in,
            error: self.error,
            error_description: self.error_description,
        }
    }
}

/// The fields of `answer`: those in `data` when it is an object, else the top level's.
fn fields(answer: TokenAnswer) -> Option<Fields<()>> {
    match answer {
        Object::Is(Fields {
            data: Object::Is(inner),
            ..
        }) => Some(inner.without_envelope()),
        Object::Is(top) => Some(top.without_envelope()),
        Object::Not => None,
    }
}

/// The token request for a configuration (SPEC section 2).
pub fn token_request(config: &Config) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        url: config.token_url(),
        headers: vec![
            ("accept".into(), "application/json".to_owned().into()),
            ("api-version".into(), config.api_version.clone().into()),
            ("authorization".into(), config.basic_authorization().to_owned().into()),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".to_owned().into(),
            ),
        ],
        body: Some(TOKEN_REQUEST_BODY.into()),
        body_limit: TOKEN_ANSWER_LIMIT,
        all_headers: false,
        follow_redirects: false,
    }
}

fn invalid(status: u16, message: &str) -> Error {
    Error::new(ErrorCode::InvalidResponse, message).with_status(status)
}

/// Reads a 2xx token answer (SPEC section 2): `answer` is the body parsed as JSON, `None`
/// when it is not JSON. `sent_at` is when the request was sent, in ms since the epoch.
/// `parse_number` reads an `expires_in` given as a plain decimal string (the engine's
/// `Number()` in the wasm, [`str::parse`] natively: see [`Parse::parse_number`]).
///
/// [`Parse::parse_number`]: super::platform::Parse::parse_number
pub fn process_token_response(
    status: u16,
    answer: Option<TokenAnswer>,
    sent_at: f64,
    parse_number: impl FnOnce(&str) -> Option<f64>,
) -> Result<Token, Error> {
    let answer = answer.ok_or_else(|| invalid(status, "the token endpoint answered with a body that is not JSON"))?;
    let fields =
        fields(answer).ok_or_else(|| invalid(status, "the token endpoint answered with JSON that is not an object"))?;
    let access_token = match fields.access_token {
        Scalar::String(t) if is_visible_ascii(&t) => t,
        Scalar::String(_) => return Err(invalid(
            status,
            "the token endpoint answered with an access_token that is empty or has characters other than visible ASCII",
        )),
        Scalar::Null => return Err(invalid(status, "the token endpoint answer has no access_token")),
        _ => {
            return Err(invalid(
                status,
                "the token endpoint answered with an access_token that is not a string",
            ))
        }
    };
    match fields.token_type {
        Scalar::Null => {}
        Scalar::String(t) if t.eq_ignore_ascii_case("bearer") => {}
        _ => {
            return Err(invalid(
                status,
                "the token endpoint answered with a token_type other than bearer",
            ))
        }
    }
    let expires_in = parse_expires_in(fields.expires_in, parse_number).ok_or_else(|| {
        invalid(
            status,
            "the token endpoint answered with an expires_in that is not a number of seconds >= 0",
        )
    })?;
    Ok(Token {
        access_token: access_token.into(),
        expires_in,
        expires_at: sent_at + expires_in * 1000.0,
    })
}

/// `expires_in`: a number or a numeric string, >= 0, finite; absent/null = 3600;
/// clamped to one year.
fn parse_expires_in(value: Scalar, parse_number: impl FnOnce(&str) -> Option<f64>) -> Option<f64> {
    let seconds = match value {
        Scalar::Null => DEFAULT_EXPIRES_IN,
        Scalar::Number(n) => n,
        Scalar::String(s) if is_plain_decimal(&s) => parse_number(&s)?,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| seconds.min(MAX_EXPIRES_IN))
}

/// Whether `s` is a plain decimal number as text (`"3600"`, `"1.5"`, `"-2"`): digits with
/// at most one `.` and an optional leading `-`. No blanks, `+`, exponent, hex, `inf` or
/// `NaN`, which `str::parse` and `Number()` alone would take. Negative values pass (and
/// are refused after parsing), so the message stays the same for all bad values.
fn is_plain_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    digits.bytes().any(|b| b.is_ascii_digit())
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|b| *b == b'.').count() <= 1
}

/// The RFC 6749 section 5.2 fields of an error answer (at the top level or in `data`),
/// whole (the client redacts, then cuts them), overwritten when dropped.
pub fn oauth_error_fields(answer: Option<TokenAnswer>) -> (Option<Zeroizing<String>>, Option<Zeroizing<String>>) {
    let Some(fields) = answer.and_then(fields) else {
        return (None, None);
    };
    let keep = |v: Scalar| match v {
        Scalar::String(s) => Some(Zeroizing::new(s)),
        _ => None,
    };
    (keep(fields.error), keep(fields.error_description))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1_700_000_000_000.0;

    /// What the native tests use for the engine's `Number()`.
    fn number(s: &str) -> Option<f64> {
        s.parse().ok()
    }

    /// A string as `expires_in` reads it, before the range check.
    fn parse_decimal(s: &str) -> Option<f64> {
        is_plain_decimal(s).then(|| number(s)).flatten()
    }

    /// The body parsed as the native tests' engine (serde_json) parses it.
    fn parse(body: &str) -> Option<TokenAnswer> {
        serde_json::from_str(body).ok()
    }

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
            "", "-", ".", "--1", "+1", "1.2.3", "1e3", "1E3", "-1e3", "0x1", " 1", "1 ", "inf", "NaN", "-.",
        ] {
            assert_eq!(parse_decimal(s), None, "{s:?}");
        }
    }

    fn ok(body: &str) -> Token {
        process_token_response(200, parse(body), T0, number).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn bad(body: &str) {
        let e = process_token_response(200, parse(body), T0, number).expect_err(body);
        assert_eq!(e.code, ErrorCode::InvalidResponse, "{body}");
        assert_eq!(e.status, Some(200));
    }

    #[test]
    fn accepts_both_envelopes() {
        let flat = ok(r#"{"access_token":"DaRf","token_type":"bearer","expires_in":3600}"#);
        let wrapped = ok(r#"{"status":"OK","data":{"access_token":"DaRf","token_type":"bearer","expires_in":3600}}"#);
        assert_eq!(flat, wrapped);
        assert_eq!(flat.access_token, "DaRf");
        assert_eq!(flat.expires_at, T0 + 3_600_000.0);
        // The envelope's own `data` is not looked into.
        bad(r#"{"data":{"data":{"access_token":"A"}}}"#);
        // An array is no object: its elements are not read as the fields in order.
        bad(r#"[{}, "A", "bearer", 3600]"#);
        bad(r#"{"data":[{}, "A"]}"#);
    }

    #[test]
    fn data_that_is_not_an_object_falls_back_to_the_top_level() {
        assert_eq!(ok(r#"{"data":"x","access_token":"A"}"#).access_token, "A");
        assert_eq!(ok(r#"{"data":[1,{"a":2}],"access_token":"A"}"#).access_token, "A");
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
        bad(r#"{"access_token":{"a":[1]}}"#);
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
        // What JSON.parse makes of 1e400 reaches the rules as a number: not finite.
        let infinite = Object::Is(Fields {
            access_token: Scalar::String("A".into()),
            expires_in: Scalar::Number(f64::INFINITY),
            ..Fields::default()
        });
        assert!(process_token_response(200, Some(infinite), T0, number).is_err());
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
        let text = |f: Option<Zeroizing<String>>| f.map(|f| f.to_string());
        let (e, d) = oauth_error_fields(parse(r#"{"error":"invalid_client","error_description":"Bad"}"#));
        assert_eq!(
            (text(e).as_deref(), text(d).as_deref()),
            (Some("invalid_client"), Some("Bad"))
        );
        let (e, _) = oauth_error_fields(parse(r#"{"data":{"error":"invalid_grant"}}"#));
        assert_eq!(text(e).as_deref(), Some("invalid_grant"));
        assert_eq!(oauth_error_fields(parse("nope")), (None, None));
        assert_eq!(oauth_error_fields(parse(r#"{"error":5}"#)), (None, None));
        // Whole: the client cuts them after redaction.
        let long = "x".repeat(300);
        let (e, _) = oauth_error_fields(parse(&format!(r#"{{"error":"{long}"}}"#)));
        assert_eq!(e.map(|e| e.len()), Some(300));
    }
}
