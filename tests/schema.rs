//! The Rust enums are the one source of the strings JavaScript sees in `err.code` and in
//! the events' enum fields. The hand-written TypeScript (src/js/typings.rs) and the event
//! guard of the Node suites (tests/support/event-guard.mjs) are held to them here: each
//! list is rendered from the enum and must appear in those files as written.
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

/// `"a" | "b"`, as a TypeScript field's union.
fn ts_union(names: &[&str]) -> String {
    quoted(names).join(" | ")
}

/// `["a", "b"]`, as a JavaScript array literal.
fn js_array(names: &[&str]) -> String {
    format!("[{}]", quoted(names).join(", "))
}

fn assert_contains(file: &str, text: &str, what: &str) {
    assert!(file.contains(text), "{what} does not hold {text}");
}

#[test]
fn the_typescript_unions_list_the_rust_variants() {
    let codes: String = quoted(&names::<ErrorCode>())
        .iter()
        .map(|c| format!("\n  | {c}"))
        .collect();
    assert_contains(TYPINGS, &format!("export type CedatoErrorCode ={codes};"), "typings.rs");
    assert_contains(
        TYPINGS,
        &format!("source: {};", ts_union(&names::<TokenSource>())),
        "typings.rs",
    );
    assert_contains(
        TYPINGS,
        &format!("op: {};", ts_union(&names::<StoreOp>())),
        "typings.rs",
    );
    assert_contains(
        TYPINGS,
        &format!("outcome: {};", ts_union(&names::<StoreOutcome>())),
        "typings.rs",
    );
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
