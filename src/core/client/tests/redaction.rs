//! No secret or token in an error, however the server echoes it; server text escaped.

use super::*;

#[test]
fn messages_never_hold_secrets() {
    let (c, _, t) = client();
    t.push(Ok(answer(401, r#"{"error":"invalid_client"}"#)));
    t.push(Ok(answer(200, r#"{"access_token":"bad token"}"#)));
    for _ in 0..2 {
        let e = token(&c).unwrap_err();
        let shown = format!("{e:?} {e}");
        for secret in ["s3cret", "aWQ6czNjcmV0", "bad token"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[test]
fn every_error_field_is_redacted() {
    let (c, _, t) = options().max_retries(0.0).build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    c.clear();
    // An endpoint that echoes the request's Authorization header, the secret and a token.
    let echo = "Basic aWQ6czNjcmV0 / aWQ6czNjcmV0 / s3cret / tok-1";
    t.push(Ok(answer(
        401,
        &format!(r#"{{"error":"{echo}","error_description":"{echo}"}}"#),
    )));
    t.push(Ok(answer(404, echo)));
    t.push(Err(TransportError::Network(echo.into())));
    for _ in 0..3 {
        let e = token(&c).unwrap_err();
        let fields = [
            Some(e.message.clone()),
            e.oauth_error,
            e.oauth_error_description,
            e.body,
        ];
        let shown = format!("{fields:?}");
        assert!(shown.contains("[redacted]"), "{shown}");
        for secret in ["s3cret", "aWQ6czNjcmV0", "tok-1"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}

#[test]
fn encoded_echoes_of_the_credentials_and_tokens_are_redacted() {
    // Base64 of "id:s3cr/et+K?" holds a `/` and a `+`: aWQ6czNjci9ldCtLPw==
    let (c, _, t) = options().max_retries(0.0).secret("s3cr/et+K?").build();
    assert_eq!(token(&c).unwrap(), "tok-1");
    c.clear();
    // PHP writes `/` as `\/`, .NET `+` as `\u002B`; a query string percent-encodes both.
    let json = r#"Basic aWQ6czNjci9ldCtLPw== aWQ6czNjci9ldCtLPw s3cr\/et\u002BK? tok-1"#;
    let escaped = json.replace('\\', "\\\\").replace('"', "\\\"");
    let form = "client_secret=s3cr%2Fet%2BK%3F&auth=aWQ6czNjci9ldCtLPw%3D%3D&t=tok%2D1";
    t.push(Ok(answer(
        401,
        &format!(r#"{{"error":"{escaped}","error_description":"{form}"}}"#),
    )));
    t.push(Ok(answer(404, json)));
    t.push(Ok(answer(404, form)));
    for _ in 0..3 {
        let e = token(&c).unwrap_err();
        let shown = format!(
            "{:?}",
            [Some(e.message), e.oauth_error, e.oauth_error_description, e.body]
        );
        assert!(shown.contains("[redacted]"), "{shown}");
        for piece in [
            "s3cr",
            "et+K",
            "et\\\\u002BK",
            "aWQ6czNjci9ldCtLPw",
            "ldCtLPw",
            "tok-1",
            "tok%2D1",
        ] {
            assert!(!shown.contains(piece), "{piece} in {shown}");
        }
    }
}

#[test]
fn error_text_is_redacted_before_it_is_cut() {
    let (c, _, t) = options().max_retries(0.0).build();
    // The secret and the Basic value straddle the 200 B cut of the OAuth fields and the
    // end of the 1 KB read of the body.
    let oauth = format!("{}s3cret", "e".repeat(197));
    let description = format!("{}aWQ6czNjcmV0", "d".repeat(195));
    t.push(Ok(answer(
        401,
        &format!(r#"{{"error":"{oauth}","error_description":"{description}"}}"#),
    )));
    t.push(Ok(HttpResponse {
        status: 404,
        body: format!("{}aWQ6cz", "b".repeat(1018)),
        oversized: true,
        ..HttpResponse::default()
    }));
    let e = token(&c).unwrap_err();
    assert_eq!(e.oauth_error.as_deref(), Some("e".repeat(197).as_str()));
    assert_eq!(e.oauth_error_description.as_deref(), Some("d".repeat(195).as_str()));
    assert!(!e.message.contains("s3c"), "{}", e.message);
    let e = token(&c).unwrap_err();
    assert_eq!(
        e.body.as_deref(),
        Some("b".repeat(1018).as_str()),
        "the start of the Basic value went"
    );
}

#[test]
fn control_characters_in_server_text_are_escaped() {
    let (c, _, t) = options().max_retries(0.0).build();
    t.push(Ok(answer(
        401,
        r#"{"error":"bad\r\nX-Forged: 1","error_description":"\u001b]0;owned\u0007"}"#,
    )));
    t.push(Err(TransportError::Network("reset\nforged line\u{9b}".into())));
    let e = token(&c).unwrap_err();
    assert_eq!(e.oauth_error.as_deref(), Some("bad\\r\\nX-Forged: 1"));
    assert_eq!(e.oauth_error_description.as_deref(), Some("\\u001b]0;owned\\u0007"));
    assert!(e.message.ends_with("[bad\\r\\nX-Forged: 1]"), "{}", e.message);
    let e = token(&c).unwrap_err();
    assert!(e.message.contains("reset\\nforged line\\u009b"), "{}", e.message);
    assert!(!e.message.chars().any(char::is_control));
}
