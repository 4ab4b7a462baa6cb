//! What the client knows of its secrets: the redaction of every error and event path it
//! makes, and their erasure after `free()` once no call is pending.

use std::cell::Ref;
use std::collections::VecDeque;
use std::rc::Rc;

use zeroize::Zeroizing;

use super::TokenClient;
use crate::core::error::{Error, Redacted};
use crate::core::platform::{Runtime, Transport};
use crate::core::redact::{self, Field, Secret};

/// How many of the latest tokens [`TokenClient::redact`] knows; older ones expired long ago.
pub const HELD_TOKENS: usize = 32;

/// The message of an error that settles after `free()`: no text of the server's is kept.
pub const FREED_WHILE_PENDING: &str =
    "this instance was freed (free() was called) while the call was pending; the answer's details were dropped";

/// The access tokens a client has held, newest last (at most [`HELD_TOKENS`]).
#[derive(Default)]
pub(super) struct HeldTokens(VecDeque<Secret>);

impl HeldTokens {
    /// Remembers `token` for redaction (once).
    pub(super) fn remember(&mut self, token: &Secret) {
        if !self.0.iter().any(|t| t == token) {
            if self.0.len() == HELD_TOKENS {
                self.0.pop_front();
            }
            self.0.push_back(token.clone());
        }
    }

    /// Forgets (and so overwrites) every token.
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

/// The secrets of a client, borrowed ([`TokenClient::secrets`]).
struct Secrets<'a> {
    basic: Ref<'a, str>,
    secret: Ref<'a, str>,
    held: Ref<'a, HeldTokens>,
}

impl Secrets<'_> {
    fn list(&self) -> Vec<&str> {
        let encoded = self.basic.strip_prefix("Basic ").unwrap_or_default();
        let mut all = vec![&*self.basic, encoded.trim_end_matches('='), &*self.secret];
        all.extend(self.held.0.iter().map(Secret::as_str));
        all
    }
}

/// A call of the client's that has not settled yet ([`TokenClient::pending_call`]).
pub struct PendingCall<R: Runtime, T: Transport>(Rc<TokenClient<R, T>>);

impl<R: Runtime, T: Transport> Drop for PendingCall<R, T> {
    fn drop(&mut self) {
        let client = &self.0;
        client.pending.set(client.pending.get().saturating_sub(1));
        client.erase_when_idle();
    }
}

impl<R: Runtime, T: Transport> TokenClient<R, T> {
    /// Every secret of this client, borrowed for a moment: the Basic value, its Base64
    /// (without padding, which an echo may drop), the client secret (in `id:secret` too),
    /// and every access token it has held.
    fn secrets(&self) -> Secrets<'_> {
        Secrets {
            basic: self.config.basic_authorization(),
            secret: self.config.client_secret(),
            held: self.held.borrow(),
        }
    }

    /// `text` made fit for an error field (`field`): every secret of this client
    /// redacted, as written or encoded (JSON escapes, percent-encoding), then control
    /// characters escaped and the text cut to the field's limit. The one redaction rule:
    /// every error the library makes goes through [`redact_error`](Self::redact_error).
    pub fn clean(&self, text: &str, field: Field) -> String {
        redact::clean(text, &self.secrets().list(), field)
    }

    /// `text` with every secret of this client replaced by `[redacted]` (a path, for
    /// events).
    pub fn redact(&self, text: &str) -> String {
        redact::redact(text, &self.secrets().list())
    }

    /// `error` with [`clean`](Self::clean) applied to every field that may carry text
    /// from outside: the message, the OAuth fields and the body (whose answer was read
    /// whole). The text replaced is overwritten in memory.
    pub fn redact_error(&self, error: Error) -> Error {
        self.redact_answer_error(error, false)
    }

    /// [`redact_error`](Self::redact_error) for an error whose body is the start of a
    /// longer answer (`body_cut`).
    pub fn redact_answer_error(&self, mut error: Error, body_cut: bool) -> Error {
        let fields = [
            (Some(&mut error.message), Field::Message),
            (error.oauth_error.as_mut(), Field::OAuth),
            (error.oauth_error_description.as_mut(), Field::OAuth),
            (error.body.as_mut(), Field::Body { cut: body_cut }),
        ];
        for (text, field) in fields {
            if let Some(text) = text {
                let clean = self.clean(text, field);
                drop(Zeroizing::new(std::mem::replace(text, clean)));
            }
        }
        error
    }

    /// The error a call settles with, the one way an error of the client reaches JS
    /// (`error` was redacted where it was made): after `free()`, its code, status and
    /// `retryAfter` only, with a fixed message (no text of the server's: no body, OAuth
    /// fields or cause).
    pub fn settled_error(&self, error: Error) -> Redacted {
        if !self.wiped.get() {
            return Redacted::by_client(error);
        }
        let mut freed = Error::new(error.code, FREED_WHILE_PENDING);
        freed.status = error.status;
        freed.retry_after = error.retry_after;
        Redacted::by_client(freed)
    }

    /// Counts a call as pending until the returned guard is dropped (when it settled).
    pub fn pending_call(self: &Rc<Self>) -> PendingCall<R, T> {
        self.pending.set(self.pending.get() + 1);
        PendingCall(Rc::clone(self))
    }

    /// Overwrites the secrets and the tokens held for redaction, once `free()` was called
    /// and no call is pending.
    pub(super) fn erase_when_idle(&self) {
        if self.wiped.get() && self.pending.get() == 0 {
            self.config.wipe();
            self.held.borrow_mut().clear();
        }
    }
}
