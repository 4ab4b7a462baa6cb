//! The core's [`Runtime`] on tokio: the system clock, `tokio::time` timers, `spawn_local`
//! tasks (so it runs inside a [`tokio::task::LocalSet`]), `watch` channels as latches.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use serde::de::DeserializeOwned;

use crate::core::platform::Parse;
use crate::core::{Clock, Latch, LocalFuture, Runtime};

/// The core's runtime natively: tokio's timers and local tasks. Its futures run inside a
/// [`tokio::task::LocalSet`] (the [`Client`](super::Client)'s own thread has one).
#[derive(Clone, Default)]
pub struct TokioRuntime {
    /// Jitter source: std's randomly keyed SipHash over a counter (no `rand` needed for a
    /// backoff's spread).
    seed: RandomState,
    draws: Rc<Cell<u64>>,
}

impl TokioRuntime {
    /// A runtime for the current thread's `LocalSet`.
    pub fn new() -> TokioRuntime {
        TokioRuntime::default()
    }
}

/// Milliseconds since the epoch on the system clock (0 before 1970, never a panic).
pub fn system_now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

impl Clock for TokioRuntime {
    fn now_ms(&self) -> f64 {
        system_now_ms()
    }

    fn jitter(&self) -> f64 {
        let draw = self.draws.get().wrapping_add(1);
        self.draws.set(draw);
        let mut hasher = self.seed.build_hasher();
        hasher.write_u64(draw);
        // The top 53 bits as a fraction in [0, 1).
        (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn parse_http_date(&self, text: &str) -> Option<f64> {
        let at = httpdate::parse_http_date(text).ok()?;
        Some(at.duration_since(UNIX_EPOCH).ok()?.as_secs_f64() * 1000.0)
    }
}

impl Parse for TokioRuntime {
    fn parse_json<T: DeserializeOwned>(&self, text: &str) -> Option<T> {
        parse_json(text)
    }
}

/// `text` as JSON into `T` (serde_json), `None` when it is not JSON of `T`'s shape.
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text).ok()
}

impl Runtime for TokioRuntime {
    type Latch = WatchLatch;

    fn sleep(&self, ms: f64) -> LocalFuture<()> {
        let wait = if ms.is_finite() && ms > 0.0 {
            Duration::from_secs_f64(ms / 1000.0)
        } else {
            Duration::ZERO
        };
        Box::pin(tokio::time::sleep(wait))
    }

    fn latch(&self) -> WatchLatch {
        WatchLatch(Rc::new(watch::Sender::new(false)))
    }

    fn spawn(&self, task: LocalFuture<()>) {
        // Detached: the task runs to its end on the LocalSet.
        drop(tokio::task::spawn_local(task));
    }
}

/// A latch over a `watch` channel: opening sends `true`, waiters wait for it.
#[derive(Clone)]
pub struct WatchLatch(Rc<watch::Sender<bool>>);

impl Latch for WatchLatch {
    fn open(&self) {
        self.0.send_replace(true);
    }

    fn wait(&self) -> LocalFuture<()> {
        let mut open = self.0.subscribe();
        Box::pin(async move {
            // An error means the sender is gone: nobody can open it, and nobody waits on.
            let _ = open.wait_for(|open| *open).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_the_unit_interval_and_varies() {
        let runtime = TokioRuntime::new();
        let draws: Vec<f64> = (0..1000).map(|_| runtime.jitter()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }

    #[test]
    fn http_dates_read_as_ms_since_the_epoch() {
        let runtime = TokioRuntime::new();
        assert_eq!(
            runtime.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000.0)
        );
        assert_eq!(runtime.parse_http_date("soon"), None);
    }

    #[test]
    fn a_latch_wakes_waiters_before_and_after_it_opens() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, async {
            let runtime = TokioRuntime::new();
            let latch = runtime.latch();
            let early = tokio::task::spawn_local(latch.wait());
            runtime.sleep(5.0).await;
            latch.open();
            early.await.unwrap();
            latch.wait().await;
        });
    }
}
