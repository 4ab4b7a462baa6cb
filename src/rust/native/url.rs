//! The `url` crate (WHATWG URL) as the native runtime's [`ParseUrl`].

use crate::rust::whatwg::parse_url;
use crate::rust::{ParseUrl, ParsedUrl};

use super::TokioRuntime;

impl ParseUrl for TokioRuntime {
    fn parse(&self, input: &str, base: &str, query: &[(String, String)]) -> Option<ParsedUrl> {
        parse_url(input, base, query)
    }
}
