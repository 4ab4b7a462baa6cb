//! Owns the token request's waits: the back-off between attempts ([`backoff_ms`]) and the
//! server's `Retry-After` ([`parse_retry_after`]), each capped. Pure; uses nothing.

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

/// Reads a `Retry-After` value: delay-seconds or an HTTP date, as whole seconds from
/// `now_ms` (never negative). `parse_date` reads a date as ms since the epoch (the
/// engine's `Date.parse` in the wasm); it only sees values with a time of day in them,
/// as all three forms RFC 9110 accepts have. `None` for a value that is neither.
pub fn parse_retry_after(value: &str, now_ms: f64, parse_date: impl FnOnce(&str) -> Option<f64>) -> Option<f64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(|n| n as f64);
    }
    if !value.contains(':') {
        return None;
    }
    let at = parse_date(value).filter(|at| at.is_finite())?;
    Some(((at - now_ms) / 1000.0).max(0.0).ceil())
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
                                     // What the native tests use for the engine's Date.parse.
        let date = |s: &str| {
            let at = httpdate::parse_http_date(s).ok()?;
            Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as f64)
        };
        let parse_retry_after = |v: &str, now: f64| parse_retry_after(v, now, date);
        assert_eq!(parse_retry_after("120", now), Some(120.0));
        assert_eq!(parse_retry_after(" 0 ", now), Some(0.0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), Some(30.0));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(0.0));
        // The obsolete forms RFC 9110 asks recipients to accept.
        assert_eq!(parse_retry_after("Sunday, 06-Nov-94 08:50:07 GMT", now), Some(30.0));
        assert_eq!(parse_retry_after("Sun Nov  6 08:50:07 1994", now), Some(30.0));
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT x",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
        // A date parser is asked only about values with a time in them, and a parser
        // that returns something not finite counts as no date.
        assert_eq!(super::parse_retry_after("1.5", now, |_| panic!("asked")), None);
        assert_eq!(super::parse_retry_after("08:49:37", now, |_| Some(f64::NAN)), None);
    }
}
