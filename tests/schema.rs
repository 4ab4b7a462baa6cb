//! The Rust types are the one source of the strings JavaScript sees in `err.code` and in
//! the events, and of their TypeScript (derived by tsify on wasm32). Held here: the event
//! guard of the Node suites (tests/support/event-guard.mjs) lists each enum's strings as
//! rendered from the enum, and src/js/typings.rs writes none of the derived types by hand.
//! (tests/package/typings.test.mjs holds the shipped .d.ts to the event guard.)
#![cfg(not(target_arch = "wasm32"))]

use cedato_auth::core::{ErrorCode, StoreOp, StoreOutcome, TokenSource};
use strum::VariantArray;

const TYPINGS: &str = include_str!("../src/js/typings.rs");
const EVENT_GUARD: &str = include_str!("support/event-guard.mjs");

/// The strings of every variant, in declaration order.
fn names<T: VariantArray + Copy + Into<&'static str>>() -> Vec<&'static str> {
    T::VARIANTS.iter().map(|&v| v.into()).collect()
}

fn quoted(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("\"{n}\"")).collect()
}

/// `["a", "b"]`, as a JavaScript array literal.
fn js_array(names: &[&str]) -> String {
    format!("[{}]", quoted(names).join(", "))
}

fn assert_contains(file: &str, text: &str, what: &str) {
    assert!(file.contains(text), "{what} does not hold {text}");
}

#[test]
fn the_typings_write_none_of_the_derived_types_by_hand() {
    for derived in [
        "CedatoEvent =",
        "CedatoEvent {",
        "CedatoAuthStats {",
        "StoredTokenAnswer {",
        "CedatoErrorCode =",
        "CedatoTokenSource",
        "CedatoStoreOp",
        "CedatoStoreOutcome",
    ] {
        for kind in ["export type ", "export interface "] {
            assert!(
                !TYPINGS.contains(&format!("{kind}{derived}")),
                "typings.rs declares {derived} by hand"
            );
        }
    }
}

#[test]
fn the_event_guard_lists_the_rust_variants() {
    let lists = [
        ("CODES", names::<ErrorCode>()),
        ("SOURCES", names::<TokenSource>()),
        ("OPS", names::<StoreOp>()),
        ("OUTCOMES", names::<StoreOutcome>()),
    ];
    for (name, list) in lists {
        assert_contains(
            EVENT_GUARD,
            &format!("const {name} = {};", js_array(&list)),
            "event-guard.mjs",
        );
    }
}

#[test]
fn the_strings_are_the_spec_spellings() {
    assert_eq!(ErrorCode::InvalidConfig.as_str(), "invalid_config");
    assert_eq!(ErrorCode::from_code("server_error"), Some(ErrorCode::ServerError));
    let json = serde_json::to_string(&(
        ErrorCode::TokenRejected,
        TokenSource::Endpoint,
        StoreOp::Release,
        StoreOutcome::Written,
    ));
    assert_eq!(json.unwrap(), r#"["token_rejected","endpoint","release","written"]"#);
}
