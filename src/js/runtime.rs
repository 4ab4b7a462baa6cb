//! The core's [`Runtime`] on the JavaScript event loop: `Date.now()`, `Math.random()`,
//! the global `setTimeout`, `wasm-bindgen-futures` tasks, promises as latches, and the
//! engine's `JSON.parse` and `Number()` as the core's parsers ([`Parse`]).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use js_sys::{Function, Promise, Reflect};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::core::config::MAX_TIMEOUT_MS;
use crate::core::{Clock, Latch, LocalFuture, Parse, Runtime};

#[wasm_bindgen]
extern "C" {
    // The global timer functions (never `window`'s): they exist in every runtime. Node
    // and workerd return objects, browsers numbers, so the id stays a JsValue.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// The JavaScript event loop as the core's runtime.
#[derive(Clone, Copy)]
pub struct WebRuntime {
    isolated: bool,
}

impl WebRuntime {
    /// Request isolation is on in workerd (`navigator.userAgent` is `Cloudflare-Workers`
    /// there, as Cloudflare documents for runtime detection).
    pub fn detect() -> WebRuntime {
        let user_agent = Reflect::get(&js_sys::global(), &"navigator".into())
            .and_then(|navigator| Reflect::get(&navigator, &"userAgent".into()))
            .ok()
            .and_then(|agent| agent.as_string());
        WebRuntime {
            isolated: user_agent.as_deref() == Some("Cloudflare-Workers"),
        }
    }
}

impl Clock for WebRuntime {
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    fn jitter(&self) -> f64 {
        js_sys::Math::random()
    }

    fn parse_http_date(&self, text: &str) -> Option<f64> {
        Some(js_sys::Date::parse(text)).filter(|ms| ms.is_finite())
    }
}

impl Parse for WebRuntime {
    fn parse_json<T: DeserializeOwned>(&self, text: &str) -> Option<T> {
        let value = js_sys::JSON::parse(text).ok()?;
        serde_wasm_bindgen::from_value(value).ok()
    }

    fn parse_number(&self, text: &str) -> Option<f64> {
        // `+text`: the engine's `Number(text)`.
        Some(JsValue::from_str(text).unchecked_into_f64())
    }
}

impl Runtime for WebRuntime {
    type Latch = JsLatch;

    fn sleep(&self, ms: f64) -> LocalFuture<()> {
        Box::pin(Sleep::new(ms))
    }

    fn latch(&self) -> JsLatch {
        JsLatch::new()
    }

    fn spawn(&self, task: LocalFuture<()>) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn isolates_requests(&self) -> bool {
        self.isolated
    }
}

/// A `setTimeout` as a future. Dropping it clears the timer (a deadline that lost its race
/// keeps no process alive) and frees its callback. The timer wakes the task through a
/// closure rather than a promise: a `JsFuture` of a promise that never settles (a cleared
/// timer's) would keep its callbacks for good.
pub struct Sleep {
    timer: JsValue,
    state: Rc<RefCell<(bool, Option<Waker>)>>,
    _callback: Closure<dyn FnMut()>,
}

impl Sleep {
    /// Resolves after `ms` (at most the 2^31 - 1 ms `setTimeout` can express).
    pub fn new(ms: f64) -> Sleep {
        let state: Rc<RefCell<(bool, Option<Waker>)>> = Rc::default();
        let fired = Rc::clone(&state);
        let callback = Closure::<dyn FnMut()>::new(move || {
            let waker = {
                let mut fired = fired.borrow_mut();
                fired.0 = true;
                fired.1.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        let timer = set_timeout(callback.as_ref().unchecked_ref(), ms.clamp(0.0, MAX_TIMEOUT_MS));
        Sleep {
            timer,
            state,
            _callback: callback,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.borrow_mut();
        if state.0 {
            return Poll::Ready(());
        }
        state.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        clear_timeout(&self.timer);
    }
}

/// A promise and its `resolve`: each waiter awaits the promise with a reaction of its
/// own, so in workerd it resumes in its own request.
#[derive(Clone)]
pub struct JsLatch {
    promise: Promise,
    resolve: Option<Function>,
}

impl JsLatch {
    fn new() -> JsLatch {
        let mut resolve = None;
        let promise = Promise::new(&mut |res, _| resolve = Some(res));
        JsLatch { promise, resolve }
    }
}

impl Latch for JsLatch {
    fn open(&self) {
        if let Some(resolve) = &self.resolve {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    fn wait(&self) -> LocalFuture<()> {
        let done = JsFuture::from(self.promise.clone());
        Box::pin(async move {
            let _ = done.await;
        })
    }
}
