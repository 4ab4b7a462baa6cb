//! Owns how `request()` reads a 2xx answer: its `responseType` option and the answer's
//! `content-type` (is it JSON, which charset). Pure rules; the wasm layer does the reading.

use super::{Error, ErrorCode};

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
    /// Reads the option by its name: absent means `Json`; anything but `"json"`,
    /// `"text"` or `"auto"` is `invalid_request`.
    pub fn from_name(name: Option<&str>) -> Result<ResponseType, Error> {
        match name {
            None | Some("json") => Ok(ResponseType::Json),
            Some("text") => Ok(ResponseType::Text),
            Some("auto") => Ok(ResponseType::Auto),
            Some(_) => Err(Error::new(
                ErrorCode::InvalidRequest,
                "options.responseType must be \"json\", \"text\" or \"auto\"",
            )),
        }
    }

    /// Whether a body with this `content-type` header (`""` when there is none) is parsed
    /// as JSON.
    pub fn parses_json(self, content_type: &str) -> bool {
        match self {
            ResponseType::Json => true,
            ResponseType::Text => false,
            ResponseType::Auto => is_json(content_type),
        }
    }
}

/// Whether a `content-type` names a JSON MIME type, as WHATWG's MIME Sniffing standard
/// defines one: `application/json`, `text/json`, or any subtype ending in `+json`
/// (`application/problem+json`). Case-insensitive; parameters are ignored.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim_ascii();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let suffix = subtype.len().checked_sub(5).and_then(|at| subtype.get(at..));
    subtype.eq_ignore_ascii_case("json")
        && (kind.eq_ignore_ascii_case("application") || kind.eq_ignore_ascii_case("text"))
        || !kind.is_empty() && suffix.is_some_and(|s| s.eq_ignore_ascii_case("+json"))
}

/// The `charset` parameter of a `content-type`, without its quotes, or `None` when there
/// is none (an empty one counts as none). The label is for the engine's `TextDecoder`,
/// which matches it case-insensitively. (Parameters are split at every `;`: no charset
/// label holds one.)
pub fn charset(content_type: &str) -> Option<&str> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim_ascii().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim_ascii().trim_matches('"'))
        .filter(|label| !label.is_empty())
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
            "/+json",
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
            assert_eq!(charset(content_type), want, "{content_type}");
        }
    }

    #[test]
    fn response_types() {
        let read = ResponseType::from_name;
        assert_eq!(read(None).unwrap(), ResponseType::Json);
        for (name, want) in [
            ("json", ResponseType::Json),
            ("text", ResponseType::Text),
            ("auto", ResponseType::Auto),
        ] {
            assert_eq!(read(Some(name)).unwrap(), want);
        }
        for bad in ["JSON", "csv", "", " json"] {
            assert_eq!(read(Some(bad)).unwrap_err().code, ErrorCode::InvalidRequest);
        }
        let (csv, problem) = ("text/csv", "application/problem+json");
        assert!(ResponseType::Json.parses_json(csv) && ResponseType::Json.parses_json(""));
        assert!(!ResponseType::Text.parses_json(problem));
        assert!(ResponseType::Auto.parses_json(problem));
        assert!(!ResponseType::Auto.parses_json(csv) && !ResponseType::Auto.parses_json(""));
    }
}
