//! What asking for a token gives at once ([`TokenNow`]): the fresh cached token, or a
//! [`PendingToken`] to await, with grace and the isolated runtime's rule inside it.

use std::rc::Rc;

use super::TokenClient;
use crate::core::cache::CachedToken;
use crate::core::flight::{Flight, FlightResult};
use crate::core::platform::{Runtime, Transport};

/// What asking for a token gives at once ([`TokenClient::token_now`]).
pub enum TokenNow<R: Runtime, T: Transport> {
    /// The cached token, fresh: served from memory (counted in `cache_hits`).
    Fresh(Rc<CachedToken>),
    /// No fresh token: await [`PendingToken::wait`].
    Pending(PendingToken<R, T>),
}

/// A token on its way: the token request in flight, with grace applied to its result
/// (and, where the runtime isolates requests, a time limit of each caller's own).
pub struct PendingToken<R: Runtime, T: Transport> {
    pub(super) client: Rc<TokenClient<R, T>>,
    /// The token request every caller of the moment shares; `None` where the runtime
    /// isolates requests: each caller then joins one in its own request ([`TokenClient::join`]).
    pub(super) flight: Option<Flight<R::Latch>>,
}

impl<R: Runtime, T: Transport> Clone for PendingToken<R, T> {
    fn clone(&self) -> Self {
        PendingToken {
            client: Rc::clone(&self.client),
            flight: self.flight.clone(),
        }
    }
}

impl<R: Runtime, T: Transport> PendingToken<R, T> {
    /// Whether `self` and `other` settle together, with the same result: they await the
    /// same token request, in a runtime where callers may share it. One promise may then
    /// serve both.
    pub fn same_request(&self, other: &PendingToken<R, T>) -> bool {
        match (&self.flight, &other.flight) {
            (Some(a), Some(b)) => a.same(b),
            _ => false,
        }
    }

    /// The token: the token request's, or, when it failed, the cached one while it has
    /// not expired (grace).
    pub async fn wait(self) -> FlightResult {
        let result = match self.flight {
            Some(flight) => flight.wait().await,
            // A token that landed since the caller asked is served from memory.
            None => match self.client.fresh_hit() {
                Some(token) => return Ok(token),
                None => self.client.join(false).await,
            },
        };
        self.client.with_grace(result)
    }
}
