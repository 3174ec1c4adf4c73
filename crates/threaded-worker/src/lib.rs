//! The worker with wasm threads, built by `tools/threaded-worker.sh` and started by `www/threads/start.js`.
//!
//! It is a library rather than the `worker` binary because a wasm binary keeps only its own exports: the
//! thread pool's (wasm-bindgen-rayon's, which its helper threads call) live in a dependency, and only a
//! `cdylib` exports those. Everything else is the same worker as the single-threaded build's.

#[cfg(target_arch = "wasm32")]
pub use anomaly_playground::worker::{init_thread_pool, start_threaded};
