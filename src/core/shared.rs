//! A future that many callers can await, each getting a clone of its one result.
//!
//! This is what makes the token request single-flight. Whichever waiter is polled drives
//! the inner future, and the inner future wakes every waiter, so the request finishes
//! even if the caller that started it stops waiting (a dropped future natively, a
//! finished request in a worker).
//!
//! [`Shared`] serves the async driver, which needs the `std` feature; the wasm build
//! (`no_std`) drives the token request from JS and only uses [`LocalFuture`].

#[allow(unused_imports)]
use crate::prelude::*;

use core::future::Future;
use core::pin::Pin;
#[cfg(feature = "std")]
use {
    alloc::rc::Rc,
    alloc::sync::Arc,
    alloc::task::Wake,
    core::cell::RefCell,
    core::task::{Context, Poll, Waker},
};

/// A boxed future that stays on the current thread (JavaScript has one).
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

#[cfg(feature = "std")]
enum State<T> {
    /// Not finished; `None` only while a waiter is polling it.
    Running(Option<LocalFuture<T>>),
    Done(T),
}

/// The waiters' wakers. `Wake` wants `Send + Sync`: natively a `Mutex` gives both.
#[cfg(feature = "std")]
#[derive(Default)]
struct WakerList(std::sync::Mutex<Vec<Waker>>);

#[cfg(feature = "std")]
impl WakerList {
    fn with<R: Default>(&self, f: impl FnOnce(&mut Vec<Waker>) -> R) -> R {
        self.0.lock().map(|mut list| f(&mut list)).unwrap_or_default()
    }
}

/// Wakes every waiter: the inner future only knows this one waker.
#[cfg(feature = "std")]
#[derive(Default)]
struct WakeAll(WakerList);

#[cfg(feature = "std")]
impl WakeAll {
    /// Adds a waiter. No scan for duplicates: that made a thousand waiters quadratic;
    /// a waker is only polled again after a wake, which empties the list.
    fn register(&self, waker: &Waker) {
        self.0.with(|list| {
            if !list.last().is_some_and(|w| w.will_wake(waker)) {
                list.push(waker.clone());
            }
        });
    }
}

#[cfg(feature = "std")]
impl Wake for WakeAll {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = self.0.with(core::mem::take);
        for w in wakers {
            w.wake();
        }
    }
}

/// A cloneable handle on one running future; await any clone to get the result.
#[cfg(feature = "std")]
pub struct Shared<T: Clone> {
    state: Rc<RefCell<State<T>>>,
    wakers: Arc<WakeAll>,
}

#[cfg(feature = "std")]
impl<T: Clone> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared {
            state: Rc::clone(&self.state),
            wakers: Arc::clone(&self.wakers),
        }
    }
}

#[cfg(feature = "std")]
impl<T: Clone + 'static> Shared<T> {
    /// Wraps a future; nothing runs until a clone is polled.
    pub fn new(future: impl Future<Output = T> + 'static) -> Self {
        Shared {
            state: Rc::new(RefCell::new(State::Running(Some(Box::pin(future))))),
            wakers: Arc::default(),
        }
    }
}

#[cfg(feature = "std")]
impl<T: Clone> Future for Shared<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // Take the inner future out so no borrow is held while it runs.
        let mut inner = match &mut *self.state.borrow_mut() {
            State::Done(value) => return Poll::Ready(value.clone()),
            State::Running(future) => {
                self.wakers.register(cx.waker());
                match future.take() {
                    Some(f) => f,
                    None => return Poll::Pending, // being polled further up this stack
                }
            }
        };
        let waker = Waker::from(Arc::clone(&self.wakers));
        match inner.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(value) => {
                *self.state.borrow_mut() = State::Done(value.clone());
                self.wakers.wake_by_ref();
                Poll::Ready(value)
            }
            Poll::Pending => {
                *self.state.borrow_mut() = State::Running(Some(inner));
                Poll::Pending
            }
        }
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use futures::channel::oneshot;
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;
    use std::cell::Cell;

    #[test]
    fn every_waiter_gets_the_one_result() {
        let mut pool = LocalPool::new();
        let runs = Rc::new(Cell::new(0));
        let (tx, rx) = oneshot::channel::<u32>();
        let r = Rc::clone(&runs);
        let shared = Shared::new(async move {
            r.set(r.get() + 1);
            rx.await.unwrap_or(0)
        });
        let got = Rc::new(RefCell::new(Vec::new()));
        for _ in 0..100 {
            let (s, g) = (shared.clone(), Rc::clone(&got));
            pool.spawner()
                .spawn_local(async move {
                    let v = s.await;
                    g.borrow_mut().push(v)
                })
                .unwrap();
        }
        pool.run_until_stalled();
        assert!(got.borrow().is_empty());
        tx.send(7).unwrap();
        pool.run_until_stalled();
        assert_eq!(*got.borrow(), vec![7; 100]);
        assert_eq!(runs.get(), 1);
        // The result is in: a late waiter gets it at once (polling the finished inner
        // future again would panic instead).
        let waker = futures::task::noop_waker();
        let late = Box::pin(shared).as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(late, Poll::Ready(7));
    }

    #[test]
    fn finishes_when_the_first_waiter_goes_away() {
        let mut pool = LocalPool::new();
        let (tx, rx) = oneshot::channel::<u32>();
        let shared = Shared::new(async move { rx.await.unwrap_or(0) });
        // The first waiter polls (and so starts) the future, then is dropped.
        let mut first = Box::pin(shared.clone());
        let waker = futures::task::noop_waker();
        assert!(first.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        drop(first);
        let got = Rc::new(Cell::new(0));
        let (s, g) = (shared.clone(), Rc::clone(&got));
        pool.spawner().spawn_local(async move { g.set(s.await) }).unwrap();
        pool.run_until_stalled();
        tx.send(9).unwrap();
        pool.run_until_stalled();
        assert_eq!(got.get(), 9);
    }
}
