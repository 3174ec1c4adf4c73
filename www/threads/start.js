// The threaded build's loader, a module worker started by the page as `threads/start.js?pool=N` when the page is
// cross-origin isolated (README, "Every core"). It instantiates the worker's wasm with shared memory, starts a
// pool of N − 1 threads (Web Workers on the same memory, run by rayon; the worker itself computes the first part
// of each split, so N threads work and none spins idle beside them), then starts the worker proper, which says
// `Listening` to the page exactly as the single-threaded build does.
import init, { initThreadPool, start_threaded } from './worker.js';

const asked = Number(new URLSearchParams(self.location.search).get('pool'));
const pool = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 16) : 1;

await init();
await initThreadPool(Math.max(pool - 1, 1));
start_threaded(pool);
