//! When to try a token request again, and how long to wait first.

#[allow(unused_imports)]
use crate::prelude::*;

use super::text::{ceil, parse_digits};

/// Base of the exponential backoff, in ms.
pub const BACKOFF_BASE_MS: f64 = 250.0;
/// No backoff wait is longer than this, in ms.
pub const BACKOFF_CAP_MS: f64 = 5_000.0;
/// A `Retry-After` longer than this (seconds) is not waited for: the call fails at once.
pub const MAX_RETRY_AFTER_SECONDS: f64 = 60.0;

/// Exponential backoff with full jitter: attempt `n` (0 for the first retry) waits a
/// random time in `[0, min(250 ms * 2^n, 5 s)]`. `random` is in `[0, 1)`.
pub fn backoff_ms(retry: u32, random: f64) -> f64 {
    let ceiling = (BACKOFF_BASE_MS * (1u64 << retry.min(30)) as f64).min(BACKOFF_CAP_MS);
    // A broken random source must not turn into a NaN wait.
    let fraction = if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        0.0
    };
    ceiling * fraction
}

/// Reads a `Retry-After` value: delay-seconds or an HTTP date, as seconds from `now_ms`
/// (never negative). `None` for a value that is neither.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<f64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return parse_digits(value).map(|n| n as f64);
    }
    let at = parse_http_date(value)?;
    Some(ceil(((at - now_ms) / 1000.0).max(0.0)))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 requires senders
/// to use, as ms since the epoch. The form has fixed positions, so it is read by position.
pub fn parse_http_date(s: &str) -> Option<f64> {
    if s.len() != 29 || !s.is_ascii() {
        return None;
    }
    let at = |from: usize, to: usize| s.get(from..to);
    let number = |from: usize, to: usize, max: u64| parse_digits(at(from, to)?).filter(|v| *v <= max);
    let separators_ok = at(3, 5) == Some(", ")
        && at(7, 8) == Some(" ")
        && at(11, 12) == Some(" ")
        && at(16, 17) == Some(" ")
        && at(19, 20) == Some(":")
        && at(22, 23) == Some(":")
        && at(25, 29) == Some(" GMT");
    if !separators_ok {
        return None;
    }
    let month = match at(8, 11)? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let day = number(5, 7, 31).filter(|d| *d >= 1)? as u32;
    let year = number(12, 16, 9999)? as i64;
    let seconds = number(17, 19, 23)? * 3600 + number(20, 22, 59)? * 60 + number(23, 25, 60)?;
    let days = days_from_civil(year, month, day);
    Some(((days * 86_400 + seconds as i64) * 1000) as f64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(0, 0.0), 0.0);
        assert_eq!(backoff_ms(0, 0.999_999), 250.0 * 0.999_999);
        assert_eq!(backoff_ms(1, 0.5), 250.0);
        assert_eq!(backoff_ms(2, 1.0), 1000.0);
        assert_eq!(backoff_ms(5, 1.0), 5000.0);
        assert_eq!(backoff_ms(u32::MAX, 1.0), 5000.0);
        assert_eq!(backoff_ms(3, f64::NAN), 0.0);
        assert_eq!(backoff_ms(3, 7.0), 2000.0);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = 784_111_777_000.0; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(now));
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(1_835_481_599_000.0)
        );
        assert_eq!(parse_retry_after("120", now), Some(120.0));
        assert_eq!(parse_retry_after(" 0 ", now), Some(0.0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(30.0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(0.0));
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT x",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
