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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::platform::LocalFuture;
    use crate::core::token::Token;
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;
    use std::cell::Cell;
    use std::future::poll_fn;
    use std::task::{Poll, Waker};

    /// A flag and the wakers of its waiters.
    #[derive(Clone, Default)]
    struct TestLatch(Rc<RefCell<(bool, Vec<Waker>)>>);

    impl Latch for TestLatch {
        fn open(&self) {
            let wakers = {
                let mut state = self.0.borrow_mut();
                state.0 = true;
                std::mem::take(&mut state.1)
            };
            wakers.into_iter().for_each(Waker::wake);
        }
        fn wait(&self) -> LocalFuture<()> {
            let latch = self.clone();
            Box::pin(poll_fn(move |cx| {
                let mut state = latch.0.borrow_mut();
                if state.0 {
                    return Poll::Ready(());
                }
                state.1.push(cx.waker().clone());
                Poll::Pending
            }))
        }
    }

    fn token() -> Rc<CachedToken> {
        let token = Token {
            access_token: "a".to_owned().into(),
            expires_in: 60.0,
            expires_at: 60_000.0,
        };
        crate::core::cache::TokenCache::default().entry(token, 0.0)
    }

    #[test]
    fn every_waiter_gets_the_result_it_lands_with() {
        let mut pool = LocalPool::new();
        let flight = Flight::new(TestLatch::default());
        let settled = Rc::new(Cell::new(0));
        for _ in 0..3 {
            let (waiter, settled) = (flight.clone(), Rc::clone(&settled));
            let wait = async move {
                assert_eq!(waiter.wait().await.unwrap().access_token, "a");
                settled.set(settled.get() + 1);
            };
            pool.spawner().spawn_local(wait).unwrap();
        }
        pool.run_until_stalled();
        assert_eq!(settled.get(), 0, "nobody settles before it lands");
        flight.land(Ok(token()));
        pool.run_until_stalled();
        assert_eq!(settled.get(), 3);
        // A waiter that comes later gets the same result at once.
        assert!(pool.run_until(flight.clone().wait()).is_ok());
    }

    #[test]
    fn a_latch_opened_without_a_result_is_an_abandoned_request() {
        let latch = TestLatch::default();
        let (flight, other) = (Flight::new(latch.clone()), Flight::new(TestLatch::default()));
        assert!(flight.same(&flight.clone()) && !flight.same(&other));
        latch.open();
        let error = LocalPool::new().run_until(flight.wait()).unwrap_err();
        assert_eq!(error.code, ErrorCode::Network);
    }
}
