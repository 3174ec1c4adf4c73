//! How many threads the engine spreads its work over, and the one helper that spreads it.
//!
//! The count is a setting of the calling thread, 1 until the caller raises it: the page's threaded worker
//! sets it to the threads it computes on (itself and its rayon pool; README, "Every core"), a native bench
//! to the cores it wants; the pool's own threads keep 1, and so does the caller while it computes a part,
//! so work is never split twice, and tests running side by side never see each other's setting. Work is
//! split into as many parts as there are threads (or into natural parts, such as a model's variables, that
//! the threads take in turn), and the parts' results are put back together in their fixed order. With one
//! thread nothing is split, so results are those of the single-threaded build bit for bit.
//!
//! Scoring and searching split rows, which changes no number at all. Training splits a batch into shards
//! whose gradients are added: the same sum in a different order, so losses and weights agree with one
//! thread to rounding (about 1e-7 relative per step), and a run with the same seed and the same thread
//! count is reproducible to the last bit.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

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

/// `work` on each of `parts`, returned in the parts' order, spread over the engine's threads: the calling
/// thread and up to `threads() − 1` of the pool's each take the next part not yet taken until none is
/// left, so uneven parts (variables of different sizes) still keep every thread busy. Which thread computes
/// a part never changes its result. With one thread (or one part) they all run on the calling thread, one
/// after another, without touching the pool.
///
/// The caller works rather than waits: were the whole job handed to the pool, the pool thread woken for it
/// would have to wake another for the second half, so the second part would start two wake-ups late. In
/// the browser a short pass (a slice of scoring, a few ms) follows serial work that lets the pool fall
/// asleep, and two wake-ups are a noticeable share of it.
pub fn map_parts<P, T, F>(parts: Vec<P>, work: F) -> Vec<T>
where
    P: Send,
    T: Send,
    F: Fn(P) -> T + Sync + Send,
{
    let count = parts.len();
    if count <= 1 || threads() <= 1 {
        return parts.into_iter().map(work).collect();
    }
    let parts: Vec<Mutex<Option<P>>> = parts.into_iter().map(|part| Mutex::new(Some(part))).collect();
    let next = AtomicUsize::new(0);
    let take_parts = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = parts.get(index) else { return done };
            let part = slot.lock().unwrap_or_else(PoisonError::into_inner).take().expect("each part is taken once");
            done.push((index, work(part)));
        }
    };
    let mut done: Vec<Vec<(usize, T)>> = (0..threads().min(count)).map(|_| Vec::new()).collect();
    let (mine, helpers) = done.split_first_mut().expect("at least one thread");
    let take_parts = &take_parts;
    rayon::in_place_scope(|scope| {
        for helper in helpers {
            scope.spawn(move |_| *helper = take_parts());
        }
        // Its own parts run as the pool's do, on one thread: work is never split twice.
        let _one_thread = OneThreadUntilDropped::new();
        *mine = take_parts();
    });
    let mut results: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for (index, result) in done.into_iter().flatten() {
        results[index] = Some(result);
    }
    results.into_iter().map(|result| result.expect("every part ran")).collect()
}

/// Sets the calling thread's count to 1, and back to what it was when dropped (also when a part panics).
struct OneThreadUntilDropped(usize);

impl OneThreadUntilDropped {
    fn new() -> Self {
        let outer = threads();
        set_threads(1);
        Self(outer)
    }
}

impl Drop for OneThreadUntilDropped {
    fn drop(&mut self) {
        set_threads(self.0);
    }
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
    fn a_part_does_not_split_again() {
        set_threads(2);
        let inner = map_parts(vec![0, 1, 2], |_| threads());
        set_threads(1);
        assert_eq!(inner, vec![1, 1, 1], "every part sees one thread, on the caller and in the pool");
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
