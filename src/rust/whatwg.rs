//! The `url` crate's WHATWG URL parser as a [`ParseUrl`](super::ParseUrl) answer: the
//! native runtime's, and the one the unit tests (the core's too) hand the core.

use super::ParsedUrl;

/// `input` resolved against `base` by the `url` crate, with `query` appended form-encoded.
pub fn parse_url(input: &str, base: &str, query: &[(String, String)]) -> Option<ParsedUrl> {
    let mut url = url::Url::parse(base).ok()?.join(input).ok()?;
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Some(ParsedUrl {
        origin: url.origin().ascii_serialization(),
        path: url.path().to_owned(),
        href: url.into(),
    })
}

/// An absolute `text` as the `url` crate reads it: the core's base-URL parser in the
/// native unit tests.
#[cfg(test)]
pub(crate) fn absolute(text: &str) -> Option<crate::core::config::WhatwgUrl> {
    parse_url(text, text, &[]).map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_against_the_base_and_origins_compare_as_serialized() {
        let base = "https://API.example.com:443/api/";
        let query = [("start".into(), "2026-01-01".into()), ("q".into(), "a b&c".into())];
        let parsed = parse_url("reports/x", base, &query).unwrap();
        assert_eq!(
            parsed.href,
            "https://api.example.com/api/reports/x?start=2026-01-01&q=a+b%26c"
        );
        assert_eq!(parsed.origin, "https://api.example.com");
        assert_eq!(parsed.path, "/api/reports/x");
        let elsewhere = parse_url("https://evil.example/api/x", base, &[]).unwrap();
        assert_ne!(elsewhere.origin, parsed.origin);
        assert_eq!(
            parse_url("//evil.example/x", base, &[]).unwrap().origin,
            "https://evil.example"
        );
        assert_eq!(parse_url("data:text/plain,x", base, &[]).unwrap().origin, "null");
        assert_eq!(parse_url("http://[::1", base, &[]), None);
    }
}
