//! One token request in the air ([`Flight`]): what its waiters share, a latch and the
//! result it lands with. Single flight is the driver's rule; this is only the handle.

use std::cell::RefCell;
use std::rc::Rc;

use super::cache::CachedToken;
use super::error::{Error, ErrorCode};
use super::platform::Latch;

/// What a token request ends with.
pub type FlightResult = Result<Rc<CachedToken>, Error>;

/// A token request in the air: its waiters await the latch, then read the result.
pub struct Flight<L> {
    latch: L,
    result: Rc<RefCell<Option<FlightResult>>>,
}

impl<L: Clone> Clone for Flight<L> {
    fn clone(&self) -> Self {
        Flight {
            latch: self.latch.clone(),
            result: Rc::clone(&self.result),
        }
    }
}

impl<L: Latch> Flight<L> {
    /// A token request that has not landed, over a closed `latch`.
    pub fn new(latch: L) -> Flight<L> {
        Flight {
            latch,
            result: Rc::default(),
        }
    }

    /// Whether `self` and `other` are the same token request.
    pub fn same(&self, other: &Flight<L>) -> bool {
        Rc::ptr_eq(&self.result, &other.result)
    }

    /// Settles the request with `result` and wakes its waiters, now and later.
    pub fn land(&self, result: FlightResult) {
        *self.result.borrow_mut() = Some(result);
        self.latch.open();
    }

    /// Its result, once it lands (an error when the latch opened without one).
    pub async fn wait(self) -> FlightResult {
        self.latch.wait().await;
        let result = self.result.borrow().clone();
        result.unwrap_or_else(|| Err(Error::new(ErrorCode::Network, "the token request was abandoned")))
    }
}
