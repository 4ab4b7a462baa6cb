#![doc = include_str!("../README.md")]
// The wasm in the npm package is built without `std` (`--no-default-features`): no panic
// formatting machinery in it, see the panic handler below.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
// Library code may not panic on data: with panic=abort a panic would kill the instance.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]
//!
//! # Module map
//! - [`core`]: pure Rust — options, the token exchange, cache, the decision after each
//!   attempt (token, wait or error), retry policy, errors, and (with the `std` feature) an
//!   async driver with single flight. Tested natively with a fake clock and transport.
//! - `js` (wasm32 only): the `#[wasm_bindgen]` layer — `CedatoCore`, the Rust half of the
//!   `CedatoAuth` class (its JS half, `src/js/driver.mjs`, sends and waits), errors as JS
//!   `CedatoError`s, TypeScript typings.

extern crate alloc;

/// What the `std` prelude brings from `alloc`, for the `no_std` build.
#[allow(unused_imports)]
mod prelude {
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

pub mod core;

#[cfg(all(
    not(feature = "std"),
    not(all(target_arch = "wasm32", not(target_feature = "atomics")))
))]
compile_error!("without the `std` feature cedato-auth builds only for wasm32 without threads");

/// A panic (none is reachable from JS: clippy denies unwrap, expect, indexing and panic in
/// this crate) traps. With `std`, the message formatting alone costs ~2 KB gzip.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &::core::panic::PanicInfo<'_>) -> ! {
    ::core::arch::wasm32::unreachable()
}

#[cfg(target_arch = "wasm32")]
mod js;

#[cfg(target_arch = "wasm32")]
pub use js::{cedato_error, CedatoCore};

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread, which is
// all `AssumeSingleThreaded` requires.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
#[allow(unsafe_code)]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
