//! How many threads the engine spreads its work over, and the one helper that spreads it.
//!
//! The count is a setting of the calling thread, 1 until the caller raises it: the page's threaded worker
//! sets it to the size of its thread pool (README, "Every core"), a native bench to the cores it wants;
//! the pool's own threads keep 1, so work is never split twice, and tests running side by side never
//! see each other's setting. Work is
//! split into as many parts as there are threads, each part computed on its own thread (rayon), and the
//! parts are put back together in their fixed order. With one thread nothing is split, so results are
//! those of the single-threaded build bit for bit.
//!
//! Scoring and searching split rows, which changes no number at all. Training splits a batch into shards
//! whose gradients are added: the same sum in a different order, so losses and weights agree with one
//! thread to rounding (about 1e-7 relative per step), and a run with the same seed and the same thread
//! count is reproducible to the last bit.

use std::cell::Cell;

thread_local! {
    static THREADS: Cell<usize> = const { Cell::new(1) };
}

/// Threads the engine uses from now on, on the calling thread (at least 1). Ask for no more than the
/// pool has: the worker passes its pool's size, or fewer when the visitor chose fewer.
pub fn set_threads(threads: usize) {
    THREADS.with(|cell| cell.set(threads.max(1)));
}

pub fn threads() -> usize {
    THREADS.with(Cell::get)
}

/// `[0, len)` cut into `parts` contiguous ranges whose sizes differ by at most one, larger ones first.
pub fn split(len: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, len.max(1));
    let (size, extra) = (len / parts, len % parts);
    let mut start = 0;
    (0..parts)
        .map(|part| {
            let end = start + size + usize::from(part < extra);
            let range = start..end;
            start = end;
            range
        })
        .collect()
}

/// `work` on each of `parts`, spread over the thread pool, returned in the parts' order. With one
/// thread (or one part) they run on the calling thread, one after another, without touching the pool.
pub fn map_parts<P, T, F>(parts: Vec<P>, work: F) -> Vec<T>
where
    P: Send,
    T: Send,
    F: Fn(P) -> T + Sync + Send,
{
    if parts.len() <= 1 || threads() <= 1 {
        return parts.into_iter().map(work).collect();
    }
    use rayon::prelude::*;
    parts.into_par_iter().map(work).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_every_index_once_in_order() {
        assert_eq!(split(10, 3), vec![0..4, 4..7, 7..10]);
        assert_eq!(split(2, 4), vec![0..1, 1..2]);
        assert_eq!(split(0, 2), vec![0..0]);
        assert_eq!(split(64, 1), vec![0..64]);
    }

    #[test]
    fn parts_come_back_in_their_order() {
        for threads in [1, 2, 3] {
            set_threads(threads);
            let squares = map_parts((0..9).collect(), |i: usize| i * i);
            set_threads(1);
            assert_eq!(squares, vec![0, 1, 4, 9, 16, 25, 36, 49, 64]);
        }
    }
}
