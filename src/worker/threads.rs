//! The worker's threads. The threaded build (`--features threads`, built by `tools/threaded-worker.sh`)
//! starts with a pool of Web Workers sharing its memory (wasm-bindgen-rayon) and tells the engine how
//! many threads to split work over (`anomaly_engine::parallel`); the single-threaded build has no pool
//! and always computes on one. The visitor may use fewer threads than the pool has (the page's
//! "Threads" choice and the link's `threads` key).

use std::cell::Cell;

use anomaly_engine::parallel;

use crate::protocol::ThreadStatus;

thread_local! {
    static POOL: Cell<usize> = const { Cell::new(0) };
    static CHOICE: Cell<usize> = const { Cell::new(0) };
}

/// The threaded build's entry point, called by `www/threads/start.js` once its rayon pool runs: `pool`
/// threads compute, this one and `pool − 1` in the rayon pool (`parallel::map_parts` gives the calling
/// thread a part). From here on the worker is the same as the single-threaded one, on more threads.
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn start_threaded(pool: usize) {
    POOL.set(pool.max(1));
    apply();
    super::start();
}

/// The pool's starter, for `www/threads/start.js`.
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub use wasm_bindgen_rayon::init_thread_pool;

/// The visitor's choice: 0 for the whole pool, else at most that many threads.
pub fn choose(choice: usize) {
    CHOICE.set(choice);
    apply();
    super::backend::post_status();
}

pub fn status() -> ThreadStatus {
    ThreadStatus { pool: POOL.get(), choice: CHOICE.get(), used: used() }
}

fn used() -> usize {
    match (POOL.get(), CHOICE.get()) {
        (0, _) => 1,
        (pool, 0) => pool,
        (pool, choice) => choice.min(pool),
    }
}

fn apply() {
    parallel::set_threads(used());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_single_threaded_build_uses_one_thread_whatever_is_asked() {
        POOL.set(0);
        CHOICE.set(4);
        assert_eq!(status(), ThreadStatus { pool: 0, choice: 4, used: 1 });
    }

    #[test]
    fn a_choice_never_exceeds_the_pool() {
        POOL.set(4);
        for (choice, used) in [(0, 4), (1, 1), (2, 2), (8, 4)] {
            CHOICE.set(choice);
            apply();
            assert_eq!((super::used(), parallel::threads()), (used, used));
        }
    }
}
