// The threaded build's loader, a module worker started by the page as `threads/start.js?pool=N` when the page is
// cross-origin isolated (README, "Every core"). It instantiates the worker's wasm with shared memory, starts a
// pool of N threads (Web Workers on the same memory, run by rayon), then starts the worker proper, which says
// `Listening` to the page exactly as the single-threaded build does.
import init, { initThreadPool, start_threaded } from './worker.js';

const asked = Number(new URLSearchParams(self.location.search).get('pool'));
const pool = Number.isInteger(asked) && asked >= 1 ? Math.min(asked, 16) : 1;

await init();
await initThreadPool(pool);
start_threaded(pool);
