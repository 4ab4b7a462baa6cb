//! How `request()` reads a 2xx answer: its `responseType` option and the answer's
//! `content-type` (is it JSON, which charset). Pure rules; the wasm layer does the reading.

use super::{Error, ErrorCode, OptionValue};

/// `request()`'s `responseType`: what a 2xx body becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseType {
    /// Parsed as JSON whatever the content-type (an empty body is `undefined`).
    #[default]
    Json,
    /// The body as a string whatever the content-type (an empty body is `""`).
    Text,
    /// [`Json`](Self::Json) when the content-type is a JSON type ([`is_json`]), else
    /// [`Text`](Self::Text).
    Auto,
}

impl ResponseType {
    /// Reads the option: absent means `Json`; anything but `"json"`, `"text"` or
    /// `"auto"` is `invalid_request`.
    pub fn from_option(value: &OptionValue) -> Result<ResponseType, Error> {
        match value {
            OptionValue::Missing => Ok(ResponseType::Json),
            OptionValue::Str(s) if s == "json" => Ok(ResponseType::Json),
            OptionValue::Str(s) if s == "text" => Ok(ResponseType::Text),
            OptionValue::Str(s) if s == "auto" => Ok(ResponseType::Auto),
            _ => Err(Error::new(
                ErrorCode::InvalidRequest,
                "options.responseType must be \"json\", \"text\" or \"auto\"",
            )),
        }
    }

    /// Whether a body with this `content-type` header (if any) is parsed as JSON.
    pub fn parses_json(self, content_type: Option<&str>) -> bool {
        match self {
            ResponseType::Json => true,
            ResponseType::Text => false,
            ResponseType::Auto => content_type.is_some_and(is_json),
        }
    }
}

/// Whether a `content-type` names a JSON MIME type, as WHATWG's MIME Sniffing standard
/// defines one: `application/json`, `text/json`, or any subtype ending in `+json`
/// (`application/problem+json`). Case-insensitive; parameters are ignored.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let (kind, subtype) = (kind.to_ascii_lowercase(), subtype.trim_end().to_ascii_lowercase());
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
    };
    if !token(&kind) || !token(&subtype) {
        return false;
    }
    matches!((kind.as_str(), subtype.as_str()), ("application" | "text", "json")) || subtype.ends_with("+json")
}

/// The `charset` parameter of a `content-type`, unquoted, or `None` when there is none
/// (an empty one counts as none). The label is for the engine's `TextDecoder`, which
/// matches it case-insensitively.
pub fn charset(content_type: &str) -> Option<String> {
    let mut rest = content_type.split_once(';')?.1;
    loop {
        let (name, after) = rest.split_once('=')?;
        let after = after.trim_start();
        // A value is a token up to the next ';', or a quoted string with `\` escapes.
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        '\\' => value.extend(chars.next().map(|(_, c)| c)),
                        c => value.push(c),
                    }
                }
                let tail = quoted.get(end..).unwrap_or_default();
                (value, tail.split_once(';').map(|(_, next)| next))
            }
            None => match after.split_once(';') {
                Some((value, next)) => (value.trim_end().to_owned(), Some(next)),
                None => (after.trim_end().to_owned(), None),
            },
        };
        // A name without '=' before it (`; foo; charset=x`) belongs to no value.
        let name = name.rsplit(';').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("charset") {
            return Some(value).filter(|v| !v.is_empty());
        }
        rest = next?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_types() {
        for yes in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            " application/json ;charset=UTF-8",
            "application/problem+json",
            "application/vnd.cedato.report+JSON; v=2",
            "text/json",
        ] {
            assert!(is_json(yes), "{yes}");
        }
        for no in [
            "",
            "text/csv",
            "text/plain; charset=utf-8",
            "application/jsonp",
            "application/json-seq",
            "application/x-ndjson",
            "json",
            "application/",
            "/json",
            "application/+json/x",
            "application/js on",
            "text/html; note=application/json",
        ] {
            assert!(!is_json(no), "{no}");
        }
    }

    #[test]
    fn charsets() {
        let cases = [
            ("text/csv; charset=utf-8", Some("utf-8")),
            ("text/csv;charset=ISO-8859-1", Some("ISO-8859-1")),
            ("text/csv; header=present; charset=windows-1252", Some("windows-1252")),
            ("text/csv; CHARSET=\"utf-16le\"", Some("utf-16le")),
            ("text/csv; note=\"a;charset=x\"; charset=latin1", Some("latin1")),
            ("text/csv; charset=\"a\\\"b\"", Some("a\"b")),
            ("text/csv; charset=utf-8 ; header=present", Some("utf-8")),
            ("text/csv; flag; charset=koi8-r", Some("koi8-r")),
            ("text/csv; charset=", None),
            ("text/csv; charset=\"\"", None),
            ("text/csv", None),
            ("text/csv; header=present", None),
            ("text/csv; mycharset=x", None),
            ("", None),
        ];
        for (content_type, want) in cases {
            assert_eq!(charset(content_type).as_deref(), want, "{content_type}");
        }
    }

    #[test]
    fn response_types() {
        let read = |v: OptionValue| ResponseType::from_option(&v);
        assert_eq!(read(OptionValue::Missing).unwrap(), ResponseType::Json);
        for (name, want) in [
            ("json", ResponseType::Json),
            ("text", ResponseType::Text),
            ("auto", ResponseType::Auto),
        ] {
            assert_eq!(read(OptionValue::Str(name.into())).unwrap(), want);
        }
        for bad in [
            OptionValue::Str("JSON".into()),
            OptionValue::Str("csv".into()),
            OptionValue::Str(String::new()),
            OptionValue::Num(1.0),
            OptionValue::Object,
            OptionValue::Function,
            OptionValue::Other("a boolean"),
        ] {
            assert_eq!(read(bad).unwrap_err().code, ErrorCode::InvalidRequest);
        }
        let csv = Some("text/csv");
        let problem = Some("application/problem+json");
        assert!(ResponseType::Json.parses_json(csv) && ResponseType::Json.parses_json(None));
        assert!(!ResponseType::Text.parses_json(problem));
        assert!(ResponseType::Auto.parses_json(problem));
        assert!(!ResponseType::Auto.parses_json(csv) && !ResponseType::Auto.parses_json(None));
    }
}
