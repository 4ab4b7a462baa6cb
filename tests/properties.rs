//! Property tests of the parsers the network and callers feed: no input panics, and the
//! documented invariants hold for everything they accept.
#![cfg(not(target_arch = "wasm32"))]

use cedato_auth::core::config::MAX_EXPIRES_IN;
use cedato_auth::core::config::{normalize_base_url, Options, WhatwgUrl};
use cedato_auth::core::http::is_visible_ascii;
use cedato_auth::core::response::{charset, is_json};
use cedato_auth::core::retry::{backoff_ms, parse_retry_after};
use cedato_auth::core::token::{process_token_response, TokenAnswer};
use cedato_auth::core::ErrorCode;
use proptest::prelude::*;

/// The host's WHATWG URL parser, natively: the `url` crate.
fn whatwg(text: &str) -> Option<WhatwgUrl> {
    let url = url::Url::parse(text).ok()?;
    let origin = url.origin().ascii_serialization();
    Some(WhatwgUrl {
        href: url.into(),
        origin,
    })
}

/// JSON-like text: mostly well-formed token answers with hostile values, plus noise.
fn token_body() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any::<f64>().prop_map(|n| format!("{n}")),
        any::<i64>().prop_map(|n| n.to_string()),
        "[ -~]{0,12}".prop_map(|s| format!("{s:?}")),
        "\\PC{0,12}".prop_map(|s| format!("{s:?}")),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("{}".to_string()),
        Just("\"1e999\"".to_string()),
        Just("1e999".to_string()),
    ];
    let field = (
        prop_oneof![Just("access_token"), Just("token_type"), Just("expires_in"), Just("x")],
        value,
    )
        .prop_map(|(k, v)| format!("\"{k}\":{v}"));
    let object = prop::collection::vec(field, 0..5).prop_map(|f| format!("{{{}}}", f.join(",")));
    prop_oneof![
        object.clone(),
        object.prop_map(|o| format!("{{\"data\":{o}}}")),
        "\\PC{0,64}",
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![Just("access_token"), Just("data"), Just("expires_in")].prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            Just("access_token".to_string()),
            Just("data".to_string()),
            Just("token_type".to_string()),
            Just("expires_in".to_string()),
            Just("error".to_string()),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn text_option() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "\\PC{0,40}".prop_map(Some),
        "(https?|HTTP|ftp)://[a-z0-9.:\\[\\]@?#/ -]{0,30}".prop_map(Some),
    ]
}

fn number_option() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        any::<f64>().prop_map(Some),
        (-5i32..20).prop_map(|n| Some(f64::from(n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn token_answers_never_panic_and_accepted_tokens_are_usable(body in token_body(), sent_at in 0f64..4e12) {
        let answer = serde_json::from_str::<TokenAnswer>(&body).ok();
        match process_token_response(200, answer, sent_at, |s| s.parse().ok()) {
            Ok(t) => {
                prop_assert!(is_visible_ascii(&t.access_token));
                prop_assert!(t.expires_in.is_finite() && (0.0..=MAX_EXPIRES_IN).contains(&t.expires_in));
                prop_assert!(t.expires_at.is_finite() && t.expires_at >= sent_at);
            }
            Err(e) => {
                prop_assert_eq!(e.code, ErrorCode::InvalidResponse);
                prop_assert_eq!(e.status, Some(200));
            }
        }
    }

    #[test]
    fn any_json_value_reads_as_a_token_answer(value in json_value()) {
        // Whatever JSON the engine hands over, the serde structs take it (an answer is
        // refused by the rules, never by a deserialisation error).
        let text = value.to_string();
        prop_assert!(serde_json::from_str::<TokenAnswer>(&text).is_ok(), "{}", text);
    }

    #[test]
    fn options_never_panic_and_never_echo_the_secret(
        client_id in text_option(), base_url in text_option(), api_version in text_option(),
        skew in number_option(), timeout in number_option(), retries in proptest::option::of(0u32..20),
        secret in "[a-zA-Z0-9]{12,20}",
    ) {
        let options = Options {
            client_id, base_url, api_version,
            client_secret: Some(secret.clone().into()),
            refresh_skew_seconds: skew, timeout_ms: timeout, max_retries: retries,
            ..Options::default()
        };
        match options.validate(whatwg) {
            Ok(c) => {
                prop_assert!(c.base_url.ends_with('/'));
                prop_assert!(c.base_url.starts_with(&c.origin));
                prop_assert!(c.origin.starts_with("http://") || c.origin.starts_with("https://"));
                prop_assert!(c.timeout_ms > 0.0 && c.refresh_skew_seconds >= 0.0 && c.max_retries <= 10);
                let shown = format!("{:?}", c);
                prop_assert!(!shown.contains(&secret));
            }
            Err(e) => {
                prop_assert_eq!(e.code, ErrorCode::InvalidConfig);
                prop_assert!(!e.message.contains(&secret));
            }
        }
    }

    #[test]
    fn base_urls_normalize_idempotently(url in "\\PC{0,40}|(https?|HTTP)://[a-zA-Z0-9.:\\[\\]@/_-]{0,30}") {
        if let Ok((base, origin)) = normalize_base_url(&url, whatwg) {
            prop_assert!(base.ends_with('/') && base.starts_with(&origin));
            prop_assert_eq!(normalize_base_url(&base, whatwg), Ok((base.clone(), origin.clone())));
            prop_assert!(!base.contains(['?', '#', ' ', '\\']));
            prop_assert!(!origin.contains('@'), "no user info in the origin");
        }
    }

    #[test]
    fn retry_after_and_backoff_are_bounded(v in "\\PC{0,40}", now in 0f64..4e12, n in any::<u32>(), r in any::<f64>()) {
        let date = |d: &str| httpdate::parse_http_date(d).ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as f64);
        if let Some(s) = parse_retry_after(&v, now, date) {
            prop_assert!(s.is_finite() && s >= 0.0);
        }
        let wait = backoff_ms(n, r);
        prop_assert!((0.0..=5000.0).contains(&wait));
    }

    #[test]
    fn content_types_never_panic(
        t in "\\PC{0,40}|[a-zA-Z+/.-]{1,12}/[a-zA-Z+.-]{0,12}(; ?[a-zA-Z-]{0,8}=(\"[^\"]{0,8}\"?|[a-zA-Z0-9-]{0,8})){0,3}",
    ) {
        // A JSON type has a JSON essence whatever parameters follow it.
        let essence = t.split(';').next().unwrap_or_default();
        prop_assert_eq!(is_json(&t), is_json(essence));
        if let Some(label) = charset(&t) {
            prop_assert!(!label.is_empty());
            prop_assert!(t.to_ascii_lowercase().contains("charset"));
        }
    }
}
