//! After one attempt of the token request: a token, a wait before the next attempt, or
//! the error to give up with ([`AfterAttempt`]), and the error each failure makes.

use std::rc::Rc;

use zeroize::Zeroizing;

use super::TokenClient;
use crate::core::cache::CachedToken;
use crate::core::error::{Error, ErrorCode};
use crate::core::http::HttpResponse;
use crate::core::platform::{Runtime, Transport, TransportError};
use crate::core::redact::Field;
use crate::core::retry::{backoff_ms, parse_retry_after, MAX_RETRY_AFTER_SECONDS};
use crate::core::token::{oauth_error_fields, process_token_response, TokenAnswer};

/// What to do after an attempt of the token request.
#[derive(Debug)]
pub(super) enum AfterAttempt {
    /// A token (not cached yet: it lands when its token request ends).
    Token(Rc<CachedToken>),
    /// Wait `wait_ms`, then try again; `error` is what this attempt failed with.
    RetryIn {
        /// How long to wait before the next attempt, in ms.
        wait_ms: f64,
        /// Why this attempt failed.
        error: Error,
    },
    /// Give up with this error.
    GiveUp(Error),
}

impl<R: Runtime, T: Transport> TokenClient<R, T> {
    /// What attempt number `attempt` (from 1; 0 counts as 1 for the backoff), sent at
    /// `sent_at`, leads to.
    pub(super) fn after_attempt(
        &self,
        outcome: Result<HttpResponse, TransportError>,
        sent_at: f64,
        attempt: u32,
    ) -> AfterAttempt {
        // A token answer's text holds the token: overwritten once it is read.
        // So is an error answer's, once redacted.
        let (outcome, body) = match outcome {
            Ok(mut response) => {
                let body = Zeroizing::new(std::mem::take(&mut response.body));
                (Ok(response), body)
            }
            Err(e) => (Err(e), Zeroizing::new(String::new())),
        };
        let error = match outcome {
            Ok(response) if (200..300).contains(&response.status) && response.oversized => {
                let message = "the token endpoint answered with more than 64 KB";
                let error = Error::new(ErrorCode::InvalidResponse, message).with_status(response.status);
                return AfterAttempt::GiveUp(error);
            }
            Ok(response) if (200..300).contains(&response.status) => {
                let answer = self.runtime.parse_json::<TokenAnswer>(&body);
                return match process_token_response(response.status, answer, sent_at, |s| self.runtime.parse_number(s))
                {
                    Ok(token) => {
                        let skew_seconds = self.config.refresh_skew_seconds.min(token.expires_in / 2.0);
                        AfterAttempt::Token(self.cache_entry(token, skew_seconds))
                    }
                    Err(e) => AfterAttempt::GiveUp(self.redact_error(e)),
                };
            }
            Ok(response) => self.redact_answer_error(self.answer_error(&response, &body, attempt), response.oversized),
            Err(e) => self.redact_error(self.transport_error(e, attempt)),
        };
        let retry_allowed = matches!(
            error.code,
            ErrorCode::Network | ErrorCode::Timeout | ErrorCode::RateLimited | ErrorCode::ServerError
        );
        if !retry_allowed || attempt > self.config.max_retries {
            return AfterAttempt::GiveUp(error);
        }
        let wait_ms = match error.retry_after {
            Some(seconds) if seconds > MAX_RETRY_AFTER_SECONDS => return AfterAttempt::GiveUp(error),
            Some(seconds) => seconds * 1000.0,
            None => backoff_ms(attempt.saturating_sub(1), self.runtime.jitter()),
        };
        AfterAttempt::RetryIn { wait_ms, error }
    }

    /// The error for a non-2xx answer of the token endpoint.
    fn answer_error(&self, response: &HttpResponse, body: &str, attempts: u32) -> Error {
        let status = response.status;
        if status == 0 {
            // A browser hides a redirect's status (an "opaqueredirect" answer).
            return Error::new(
                ErrorCode::Http,
                "the token endpoint answered with a redirect; check baseUrl",
            );
        }
        let (code, text): (ErrorCode, [&str; 2]) = match status {
            400 | 401 | 403 => (
                ErrorCode::TokenRejected,
                [
                    "the token endpoint refused the credentials (HTTP ",
                    "); check clientId and clientSecret",
                ],
            ),
            429 => (
                ErrorCode::RateLimited,
                ["the token endpoint is rate limiting (HTTP ", ")"],
            ),
            500..=599 => (ErrorCode::ServerError, ["the token endpoint failed (HTTP ", ")"]),
            _ => (
                ErrorCode::Http,
                ["the token endpoint answered HTTP ", "; check baseUrl"],
            ),
        };
        let [before, after] = text;
        let mut message = [before, status.to_string().as_str(), after].concat();
        let mut error = Error::new(code, String::new()).with_status(status);
        if code == ErrorCode::TokenRejected {
            let answer = self.runtime.parse_json::<TokenAnswer>(body);
            // Redacted and cut before the message quotes it.
            let (oauth_error, description) = oauth_error_fields(answer);
            let oauth_error = oauth_error.map(|e| self.clean(&e, Field::OAuth));
            if let Some(e) = &oauth_error {
                message.push_str(" [");
                message.push_str(e);
                message.push(']');
            }
            error.oauth_error = oauth_error;
            error.oauth_error_description = description.map(|d| self.clean(&d, Field::OAuth));
        }
        if code == ErrorCode::Http {
            error.body = Some(body.to_owned());
        }
        if matches!(code, ErrorCode::RateLimited | ErrorCode::ServerError) {
            push_attempts(&mut message, attempts);
        }
        if let Some(seconds) = response
            .retry_after
            .as_deref()
            .and_then(|v| parse_retry_after(v, self.runtime.now_ms(), |d| self.runtime.parse_http_date(d)))
        {
            error.retry_after = Some(seconds);
            message.push_str(&["; retry after ", &(seconds as u64).to_string(), "s"].concat());
        }
        error.message = message;
        error
    }

    /// The error for an attempt that got no answer.
    fn transport_error(&self, error: TransportError, attempts: u32) -> Error {
        let mut message;
        let code = match error {
            TransportError::Timeout => {
                message = [
                    "the token endpoint did not answer within ",
                    &(self.config.timeout_ms.ceil() as u64).to_string(),
                    " ms (timeoutMs)",
                ]
                .concat();
                ErrorCode::Timeout
            }
            TransportError::Network(detail) => {
                // What the engine threw may quote the request: overwritten once used.
                let detail = Zeroizing::new(detail);
                message = ["could not reach the token endpoint ", &self.token_url, ": ", &detail].concat();
                ErrorCode::Network
            }
        };
        push_attempts(&mut message, attempts);
        Error::new(code, message)
    }
}

/// Appends " after N attempt(s)" to `message`.
fn push_attempts(message: &mut String, attempts: u32) {
    let noun = if attempts == 1 { " attempt" } else { " attempts" };
    message.push_str(&[" after ", &attempts.to_string(), noun].concat());
}
