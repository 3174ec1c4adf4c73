//! Every file in `tests/fuzz-corpus/<door>/` (the malformed files kept by hand and every input a fuzzer
//! found a problem with) through its door's checks, measuring the memory each one takes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anomaly_doors::DOORS;

/// Counts the bytes held, and the most held at once since the last reset.
struct Counting;
static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(held, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// What a door may hold beyond what was held before it opened: a multiple of its input, plus a little.
fn allowance(input: usize) -> usize {
    64 * input + (8 << 20)
}

/// One test, so the counter sees one door at a time.
#[test]
fn every_kept_input_passes_its_door_within_its_memory() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz-corpus");
    let mut checked = 0;
    for (door, check) in DOORS {
        let folder = corpus.join(door);
        let mut files: Vec<_> = std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display())).map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(files.len() >= 5, "{door}: keep at least a few malformed inputs in {}", folder.display());
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let before = HELD.load(Ordering::Relaxed);
            PEAK.store(before, Ordering::Relaxed);
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            let used = PEAK.load(Ordering::Relaxed) - before;
            assert!(outcome.is_ok(), "{door}: {} broke a promise (see the panic above)", file.display());
            assert!(used <= allowance(bytes.len()), "{door}: {} ({} bytes) made the door hold {used} bytes", file.display(), bytes.len());
            checked += 1;
        }
    }
    println!("{checked} kept inputs passed");
}
