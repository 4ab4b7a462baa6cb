//! Text helpers that keep the wasm small: number formatting without `core::fmt`, number
//! reading without `core::num::dec2flt` (~15 KB gzip), and byte searches instead of the
//! `str` pattern API, whose panicking paths pull in the formatting machinery. Rounding
//! too: `f64::floor` and `f64::ceil` live in `std`, and the wasm build is `no_std`.

#[allow(unused_imports)]
use crate::prelude::*;

/// Byte offset of the first occurrence of `needle` in `haystack`.
pub fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    h.windows(n.len()).position(|w| w == n)
}

/// `(before, after)` around the first `needle`.
pub fn split_once<'a>(s: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let i = find(s, needle)?;
    Some((s.get(..i)?, s.get(i + needle.len()..)?))
}

/// `(before, after)` around the last ASCII byte `b`.
pub fn rsplit_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().rposition(|c| c == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `text` with every occurrence of `needle` replaced by `with`.
pub fn replace_all(text: &str, needle: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((before, after)) = split_once(rest, needle).filter(|_| !needle.is_empty()) {
        out.push_str(before);
        out.push_str(with);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A non-empty run of ASCII digits as an integer (saturating), `None` otherwise.
pub fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        b.is_ascii_digit()
            .then(|| n.saturating_mul(10).saturating_add(u64::from(b - b'0')))
    })
}

/// 10^(2^i), each correctly rounded by the compiler. Squaring 10 at run time instead
/// doubles the relative error at every step: 10^256 came out ~12 ulps off.
const POW10_SQUARES: [f64; 9] = [1e1, 1e2, 1e4, 1e8, 1e16, 1e32, 1e64, 1e128, 1e256];

/// 10^k for k < 512 (the caller steps by at most 300): exact up to 10^22, else within
/// ~3 ulps (at most 4 inexact factors and 8 products, each off by half an ulp at most).
fn pow10(k: u64) -> f64 {
    POW10_SQUARES
        .iter()
        .enumerate()
        .filter(|(bit, _)| k >> bit & 1 == 1)
        .fold(1.0, |power, (_, square)| power * square)
}

/// Reads a number of the JSON grammar (`-?digits(.digits)?([eE][+-]?digits)?`, checked by
/// the caller). Correctly rounded when the significant digits fit in 2^53 and the decimal
/// exponent in ±22 (every realistic lifetime); otherwise within a few ulps.
pub fn parse_number(s: &str) -> Option<f64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (mantissa_text, exponent_text) = match digits.bytes().position(|b| b == b'e' || b == b'E') {
        Some(i) => (digits.get(..i)?, Some(digits.get(i + 1..)?)),
        None => (digits, None),
    };
    let mut mantissa: u64 = 0;
    let mut exponent: i64 = 0;
    let mut seen_digit = false;
    let mut seen_dot = false;
    for b in mantissa_text.bytes() {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                if mantissa < 1_000_000_000_000_000_000 {
                    mantissa = mantissa * 10 + u64::from(b - b'0');
                    exponent -= i64::from(seen_dot);
                } else {
                    exponent += i64::from(!seen_dot);
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    if let Some(e) = exponent_text {
        let (sign, e) = match e.as_bytes().first() {
            Some(b'-') => (-1, e.get(1..)?),
            Some(b'+') => (1, e.get(1..)?),
            _ => (1, e),
        };
        exponent += sign * parse_digits(e)?.min(100_000) as i64;
    }
    let mut value = mantissa as f64;
    // In steps of at most 10^300, so tiny values do not meet an infinite divisor.
    let mut left = if mantissa == 0 { 0 } else { exponent.clamp(-800, 800) };
    while left != 0 {
        let step = left.clamp(-300, 300);
        let power = pow10(step.unsigned_abs());
        value = if step < 0 { value / power } else { value * power };
        left -= step;
    }
    Some(if negative { -value } else { value })
}

/// `x` rounded towards negative infinity (`f64::floor`, which `core` lacks).
pub fn floor(x: f64) -> f64 {
    // From 2^52 on every f64 is a whole number; NaN and the infinities stay as they are.
    // Zero too, keeping its sign: the cast below would turn -0.0 into +0.0, and then
    // `ceil(0.0)` (`-floor(-0.0)`) would come out as -0.0.
    if x == 0.0 || x.is_nan() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let whole = x as i64 as f64;
    if whole > x {
        whole - 1.0
    } else {
        whole
    }
}

/// `x` rounded towards positive infinity (`f64::ceil`).
pub fn ceil(x: f64) -> f64 {
    -floor(-x)
}

/// Appends `n` in decimal.
pub fn push_int(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    for d in digits.iter().skip(i) {
        out.push(char::from(*d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_and_replaces() {
        assert_eq!(find("a://b", "://"), Some(1));
        assert_eq!(find("ab", "abc"), None);
        assert_eq!(split_once("http://h/x", "://"), Some(("http", "h/x")));
        assert_eq!(rsplit_byte("h:1:2", b':'), Some(("h:1", "2")));
        assert_eq!(replace_all("xSECRETySECRET", "SECRET", "[r]"), "x[r]y[r]");
        assert_eq!(replace_all("abc", "", "x"), "abc");
        assert_eq!(parse_digits("0042"), Some(42));
        assert_eq!(parse_digits(""), None);
        assert_eq!(parse_digits("4a"), None);
        assert_eq!(parse_digits("99999999999999999999999"), Some(u64::MAX));
    }

    #[test]
    fn reads_numbers_like_javascript() {
        for (text, want) in [
            ("0", 0.0),
            ("-0", -0.0),
            ("3600", 3600.0),
            ("1.5", 1.5),
            ("0.1", 0.1),
            ("-2.5e3", -2500.0),
            ("1E+2", 100.0),
            ("123456789012345678901234", 1.2345678901234568e23),
            ("1e400", f64::INFINITY),
            ("1e-400", 0.0),
            ("9007199254740993", 9007199254740992.0),
            // Large exponents: the powers of ten come from correctly rounded constants.
            ("-9.752761771152307e264", -9.752761771152307e264),
            ("1e256", 1e256),
            ("1.7976931348623157e308", f64::MAX),
            ("2.2250738585072014e-308", f64::MIN_POSITIVE),
        ] {
            let got = parse_number(text).unwrap();
            let close = got == want || ((got - want) / want).abs() < 1e-15;
            assert!(close, "{text}: {got} != {want}");
        }
        for bad in ["", "-", ".", "1.2.3", "1e", "e5", "1x", "1e+"] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn rounds_like_std() {
        for x in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            2.999,
            -2.999,
            1e15 + 0.5,
            4503599627370495.5,
            4503599627370497.0,
            1e300,
            -1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            123456.0001,
            0.3,
            -0.3,
        ] {
            // Bits, not ==, so the sign of a zero result is checked too.
            assert_eq!(floor(x).to_bits(), x.floor().to_bits(), "floor {x}");
            assert_eq!(ceil(x).to_bits(), x.ceil().to_bits(), "ceil {x}");
        }
        assert!(floor(f64::NAN).is_nan() && ceil(f64::INFINITY) == f64::INFINITY);
    }

    #[test]
    fn writes_decimal() {
        for n in [0u64, 7, 10, 429, 65_535, u64::MAX] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
