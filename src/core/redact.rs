//! Owns the redaction rule and the [`Secret`] type: outside text made fit for an error field,
//! every secret removed in the forms a server may echo it in, escaped, cut to the limit.
//!
//! A secret is looked for in the text as written, JSON-unescaped (`\/`, `\u002B`, ...),
//! percent-decoded (`%2F`), and both ways combined; where it is found, the span of the
//! original text it came from is replaced by `[redacted]`. Redaction comes before the cut,
//! and a cut text loses a trailing fragment that is the start (4 characters or more) of a
//! secret, so no part of a secret survives at the end.

use core::fmt;
use core::ops::{Deref, Range};

use zeroize::Zeroizing;

use super::error::truncate_utf8;

/// What a found secret is replaced with.
pub const REDACTED: &str = "[redacted]";
/// Shorter secrets are left alone: they would match ordinary words.
pub const MIN_SECRET_LEN: usize = 4;
/// Most of an error answer's body that an error keeps.
pub const ERROR_BODY_LIMIT: usize = 1024;
/// Most of an OAuth field (`error`, `error_description`) that an error keeps.
pub const OAUTH_FIELD_LIMIT: usize = 200;

/// The error fields that may carry outside text, and what each is given.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field {
    /// `message` and the cause's texts: control characters escaped, not cut.
    Message,
    /// `oauthError`, `oauthErrorDescription`: escaped, cut to [`OAUTH_FIELD_LIMIT`].
    OAuth,
    /// `body`: cut to [`ERROR_BODY_LIMIT`]; `cut` when only its start was read.
    Body {
        /// Only the start of the answer was read.
        cut: bool,
    },
}

/// `text` made fit for `field`: redacted ([`redact`]), then escaped
/// ([`escape_controls`]) and cut ([`cut`]) as the field wants. Every intermediate text
/// is overwritten in memory.
pub fn clean(text: &str, secrets: &[&str], field: Field) -> String {
    let redacted = Zeroizing::new(redact(text, secrets));
    match field {
        Field::Message => escape_controls(&redacted),
        Field::OAuth => cut(&escape_controls(&redacted), OAUTH_FIELD_LIMIT, false, secrets).to_owned(),
        Field::Body { cut: was_cut } => cut(&redacted, ERROR_BODY_LIMIT, was_cut, secrets).to_owned(),
    }
}

/// A secret (the client secret, the Basic value, an access token): overwritten in memory
/// when dropped, and `Debug` prints `[redacted]`, so no derived `Debug` can show one.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// The secret's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Secret {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(Zeroizing::new(text))
    }
}

impl Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl zeroize::Zeroize for Secret {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A decoded form of a text: its bytes, and for each byte the range of the original text
/// it was decoded from. The bytes may hold a secret: overwritten when dropped.
struct View {
    bytes: Zeroizing<Vec<u8>>,
    from: Vec<Range<usize>>,
}

impl View {
    fn of(text: &str) -> View {
        View {
            bytes: Zeroizing::new(text.as_bytes().to_vec()),
            from: (0..text.len()).map(|i| i..i + 1).collect(),
        }
    }

    /// The original range of the decoded bytes `start..end` (not empty).
    fn origin(&self, start: usize, end: usize) -> Option<Range<usize>> {
        Some(self.from.get(start)?.start..self.from.get(end.checked_sub(1)?)?.end)
    }

    /// A new view with `decode` applied: it reads an escape at the start of the bytes it
    /// is given and returns the decoded text and how many bytes it took, or `None` for a
    /// byte that is copied as it is.
    fn decoded(&self, decode: Decode) -> View {
        let mut out = View {
            bytes: Zeroizing::new(Vec::with_capacity(self.bytes.len())),
            from: Vec::with_capacity(self.bytes.len()),
        };
        let mut i = 0;
        while let Some(rest) = self.bytes.get(i..).filter(|r| !r.is_empty()) {
            let (bytes, taken) = decode(rest).unwrap_or_else(|| (rest.get(..1).unwrap_or_default().to_vec(), 1));
            let bytes = Zeroizing::new(bytes);
            let from = self.origin(i, i + taken).unwrap_or(0..0);
            out.bytes.extend_from_slice(&bytes);
            out.from.extend(bytes.iter().map(|_| from.clone()));
            i += taken;
        }
        out
    }
}

/// Hexadecimal digits as a number.
fn hex(digits: &[u8]) -> Option<u32> {
    digits
        .iter()
        .try_fold(0, |n, d| Some(n * 16 + char::from(*d).to_digit(16)?))
}

/// `%XX` as its byte.
fn percent(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    match bytes {
        [b'%', a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => Some((vec![hex(&[*a, *b])? as u8], 3)),
        _ => None,
    }
}

/// A JSON string escape (`\/`, `\n`, `\u002B`, a surrogate pair) as UTF-8.
fn json(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let unit = |at: usize| {
        let digits = bytes.get(at..at + 6)?;
        (digits.starts_with(b"\\u") && digits.iter().skip(2).all(u8::is_ascii_hexdigit))
            .then(|| hex(digits.get(2..)?))
            .flatten()
    };
    let simple = match bytes {
        [b'\\', c @ (b'"' | b'\\' | b'/'), ..] => *c,
        [b'\\', b'b', ..] => 8,
        [b'\\', b'f', ..] => 12,
        [b'\\', b'n', ..] => b'\n',
        [b'\\', b'r', ..] => b'\r',
        [b'\\', b't', ..] => b'\t',
        _ => {
            let high = unit(0)?;
            let (c, taken) = match (high, unit(6)) {
                (0xd800..=0xdbff, Some(low @ 0xdc00..=0xdfff)) => {
                    (char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))?, 12)
                }
                _ => (char::from_u32(high)?, 6),
            };
            return Some((c.encode_utf8(&mut [0; 4]).as_bytes().to_vec(), taken));
        }
    };
    Some((vec![simple], 2))
}

/// Reads one escape at the start of its input: the bytes it stands for and its length.
type Decode = fn(&[u8]) -> Option<(Vec<u8>, usize)>;
/// An escape's first byte and its decoder.
type Decoder = (u8, Decode);

/// The text as written and decoded the ways a server may echo a secret in: JSON-unescaped,
/// percent-decoded, and both in either order (only where there are escapes to decode).
fn views(text: &str) -> Vec<View> {
    const JSON: Decoder = (b'\\', json);
    const PERCENT: Decoder = (b'%', percent);
    let raw = View::of(text);
    let mut out = Vec::new();
    for [first, then] in [[JSON, PERCENT], [PERCENT, JSON]] {
        if raw.bytes.contains(&first.0) {
            let once = raw.decoded(first.1);
            if once.bytes.contains(&then.0) {
                out.push(once.decoded(then.1));
            }
            out.push(once);
        }
    }
    out.push(raw);
    out
}

/// The secrets worth looking for (long enough to be told from ordinary words).
fn needles<'a>(secrets: &'a [&'a str]) -> impl Iterator<Item = &'a [u8]> {
    secrets
        .iter()
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .map(|s| s.as_bytes())
}

/// `text` with every secret of `secrets` replaced by [`REDACTED`], wherever it appears as
/// written or in an encoded form (the whole span of the encoded form is replaced).
pub fn redact(text: &str, secrets: &[&str]) -> String {
    // Which bytes of `text` belong to a secret (adjacent finds make one `[redacted]`).
    let mut hidden = vec![false; text.len()];
    for view in views(text) {
        for needle in needles(secrets) {
            for (at, window) in view.bytes.windows(needle.len()).enumerate() {
                if let Some(span) = (window == needle).then(|| view.origin(at, at + needle.len())).flatten() {
                    hidden.get_mut(span).into_iter().flatten().for_each(|h| *h = true);
                }
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut in_secret = false;
    for (at, c) in text.char_indices() {
        let secret = hidden.get(at).copied().unwrap_or_default();
        match (secret, in_secret) {
            (true, false) => out.push_str(REDACTED),
            (false, _) => out.push(c),
            (true, true) => {}
        }
        in_secret = secret;
    }
    out
}

/// `text` cut to at most `limit` bytes (at a character boundary). A text that was cut,
/// here or before (`was_cut`: only its start was read), also loses an escape the cut left
/// incomplete (`%2`, `\\u00`), then a trailing fragment that is the start (4 characters or
/// more) of a secret, as written or encoded, or of a `[redacted]`.
pub fn cut<'t>(text: &'t str, limit: usize, was_cut: bool, secrets: &[&str]) -> &'t str {
    let kept = truncate_utf8(text, limit);
    if !was_cut && kept.len() == text.len() {
        return kept;
    }
    let kept = kept
        .get(..partial_escape(kept).unwrap_or(kept.len()))
        .unwrap_or_default();
    let mut end = kept.len();
    let marker = (REDACTED.as_bytes(), 1);
    for view in views(kept) {
        let len = view.bytes.len();
        for (needle, shortest) in needles(secrets).map(|n| (n, MIN_SECRET_LEN)).chain([marker]) {
            for k in shortest..needle.len().min(len + 1) {
                let fragment = needle.get(..k).is_some_and(|start| view.bytes.ends_with(start));
                if let Some(span) = view.origin(len - k, len).filter(|_| fragment) {
                    end = end.min(span.start);
                }
            }
        }
    }
    while !kept.is_char_boundary(end) {
        end -= 1;
    }
    kept.get(..end).unwrap_or_default()
}

/// Where an escape left incomplete at the end of `text` starts (`%2`, `\\`, `\\u00`).
fn partial_escape(text: &str) -> Option<usize> {
    let at = text.rfind(['%', '\\'])?;
    let rest = text.as_bytes().get(at..)?;
    let incomplete = match rest {
        [b'%', ..] => rest.len() < 3,
        [_, b'u', ..] => rest.len() < 6,
        _ => rest.len() == 1,
    };
    incomplete.then_some(at)
}

/// `text` with its control characters (C0, DEL, C1) escaped as in JSON: a line break
/// becomes `\n`, ESC `\u001b`; the rest is kept. Outside text cannot forge log lines or
/// terminal sequences then.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                out.push_str("\\u00");
                for shift in [4, 0] {
                    out.push(char::from_digit((u32::from(c) >> shift) & 0xf, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr/et+Key";
    // Base64 of "id:s3cr/et+Key" with its padding: a `/` and a `+` in it.
    const TOKEN: &str = "tok/en+A1b2C3==";

    fn redact_all(text: &str) -> String {
        redact(text, &[SECRET, TOKEN, "abc"])
    }

    #[test]
    fn every_echo_of_a_secret_is_redacted() {
        for (text, want) in [
            // As written.
            ("bad s3cr/et+Key here", "bad [redacted] here"),
            ("s3cr/et+Key", "[redacted]"),
            // JSON-escaped: PHP's `\/`, .NET's `\u002B`, any `\uXXXX`.
            ("{\"e\":\"s3cr\\/et+Key\"}", "{\"e\":\"[redacted]\"}"),
            ("s3cr/et\\u002BKey!", "[redacted]!"),
            ("s3cr/et\\u002bKey", "[redacted]"),
            ("\\u0073\\u0033cr\\/et\\u002BKey", "[redacted]"),
            // Percent-encoded, either case.
            ("q=s3cr%2Fet%2BKey&x", "q=[redacted]&x"),
            ("q=s3cr%2fet%2bKey", "q=[redacted]"),
            // Both: percent-encoded JSON escapes, JSON-escaped percent signs.
            ("s3cr%5C%2Fet+Key", "[redacted]"),
            ("s3cr\\u0025\x32Fet+Key", "[redacted]"),
            // A token, twice, one of them encoded.
            (
                "tok/en+A1b2C3== and tok%2Fen%2BA1b2C3%3D%3D",
                "[redacted] and [redacted]",
            ),
            // Adjacent and overlapping finds are one span.
            ("tok/en+A1b2C3==s3cr/et+Key", "[redacted]"),
            // Short secrets are left alone; unrelated escapes stay as written.
            ("abc \\n %41", "abc \\n %41"),
            ("s3cr/et", "s3cr/et"),
            // Invalid escapes and non-ASCII text around a secret.
            ("é\\uZZZZ%G1 s3cr\\/et+Key ü", "é\\uZZZZ%G1 [redacted] ü"),
        ] {
            assert_eq!(redact_all(text), want, "{text}");
        }
    }

    #[test]
    fn surrogate_pairs_and_non_ascii_secrets_are_found_encoded() {
        let secret = "pässwörd😀";
        for text in [
            "pässwörd😀",
            "p\\u00e4ssw\\u00f6rd\\ud83d\\ude00",
            "p%C3%A4ssw%C3%B6rd%F0%9F%98%80",
        ] {
            assert_eq!(redact(text, &[secret]), REDACTED, "{text}");
        }
    }

    #[test]
    fn cut_comes_after_redaction_and_leaves_no_start_of_a_secret() {
        // (text, limit, already cut, what is kept)
        for (text, limit, was_cut, want) in [
            ("short", 200, false, "short"),
            // Not cut: a word that looks like a secret's start stays.
            ("ends with s3cr", 200, false, "ends with s3cr"),
            // Cut here: the start of the secret goes, however many characters of it.
            ("0123456789 s3cr/et+Key", 15, false, "0123456789 "),
            ("0123456789 s3cr/et+Key", 18, false, "0123456789 "),
            ("0123456789 s3cr/et+Key", 14, false, "0123456789 s3c"),
            // Cut before (only the start was read).
            ("body tok/en+", 1024, true, "body "),
            ("body tok%2Fen", 1024, true, "body "),
            ("body tok\\/e", 1024, true, "body "),
            // An escape left incomplete by the cut, after the start of a secret.
            ("body s3cr%2", 1024, true, "body "),
            ("body s3cr\\u00", 1024, true, "body "),
            ("body s3cr\\", 1024, true, "body "),
            // An incomplete escape goes anyway.
            ("body xyz%2", 1024, true, "body xyz"),
            ("body xyz%20", 1024, true, "body xyz%20"),
            // Whole characters only.
            ("aé", 2, false, "a"),
        ] {
            assert_eq!(cut(text, limit, was_cut, &[SECRET, TOKEN]), want, "{text} / {limit}");
        }
    }

    #[test]
    fn each_field_is_redacted_then_escaped_then_cut() {
        let secrets = [SECRET, TOKEN];
        let echo = format!("{}s3cr\\/et+Key\nX", "a".repeat(195));
        assert_eq!(
            clean(&echo, &secrets, Field::Message),
            format!("{}[redacted]\\nX", "a".repeat(195))
        );
        // Cut at 200 B, inside the `[redacted]`, which goes.
        assert_eq!(clean(&echo, &secrets, Field::OAuth), "a".repeat(195));
        // The secret straddles the 200 B cut: without redaction first, "s3cr" would stay.
        let straddling = format!("{}s3cr/et+Key", "a".repeat(196));
        assert_eq!(clean(&straddling, &secrets, Field::OAuth), "a".repeat(196));
        let body = format!("{}tok/en+A1b2", "b".repeat(1013));
        assert_eq!(clean(&body, &secrets, Field::Body { cut: true }), "b".repeat(1013));
        assert_eq!(
            clean("tok/en+A1b2", &secrets, Field::Body { cut: false }),
            "tok/en+A1b2"
        );
        assert_eq!(
            clean("a\nb", &secrets, Field::Body { cut: false }),
            "a\nb",
            "a body is not escaped"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        for (text, want) in [
            ("line\nforged: yes", "line\\nforged: yes"),
            ("a\r\nb\tc", "a\\r\\nb\\tc"),
            ("\u{1b}]0;title\u{7}", "\\u001b]0;title\\u0007"),
            (
                "back\u{8}space\u{7f} \u{85}\u{9b}",
                "back\\u0008space\\u007f \\u0085\\u009b",
            ),
            ("plain é €", "plain é €"),
        ] {
            assert_eq!(escape_controls(text), want);
        }
    }

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::from("hunter2-secret".to_owned());
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(secret.clone())), "Some([redacted])");
        assert_eq!(&*secret, "hunter2-secret");
    }
}
