// `make bench`, threads (README, "Every core"): on a cross-origin isolated page,
//  * ours: the threaded worker (`threads/start.js`, a pool of 2), told to use 1 then 2 threads (`UseThreads`),
//    timing the digit VAE's training step (`Benchmark`) and, on the bench table, parsing (`Loaded`) and
//    scoring every prepared row (`BenchmarkScoring`, the scoring alone), in turn, several rounds;
//  * TensorFlow.js wasm's threaded SIMD build with 1 and with 2 threads (`setThreadsCount` works only before
//    the backend starts, so the runner gives each count a fresh tab), on the same model and rows.
// Each figure is the fastest of its rounds: the machine is shared, and the fastest is the best estimate of
// each contestant's undisturbed speed.

const ROUNDS = 3;

/** Tells the worker to use `threads` threads, and waits until it says so (a status sent earlier, such as the
 * one after its WebGPU check, may arrive first). */
async function useThreads(worker, next, threads) {
  const said = next('Backend');
  worker.postMessage({ UseThreads: threads });
  let status = await said;
  while (status.threads.choice !== threads) status = await next('Backend');
  if (status.threads.used !== threads) throw new Error(`asked for ${threads} threads, the worker uses ${status.threads.used}`);
}

window.runOursThreaded = async ({ steps }) => {
  if (!crossOriginIsolated) throw new Error('the thread benchmark needs a cross-origin isolated page');
  const { worker, next } = ourWorker('/threads/start.js?pool=2', { type: 'module' });
  await next('DataReady');
  const training = { 1: Infinity, 2: Infinity };
  for (let round = 0; round < ROUNDS; round++) {
    for (const threads of [1, 2]) {
      await useThreads(worker, next, threads);
      const result = next('BenchmarkResult');
      worker.postMessage({ Benchmark: { steps } });
      training[threads] = Math.min(training[threads], (await result).milliseconds_per_step);
    }
  }
  const file = await benchFile();
  const parse = {};
  let info;
  for (const threads of [1, 2]) {
    await useThreads(worker, next, threads);
    const started = performance.now();
    const loading = next('Loaded');
    worker.postMessage({ file, purpose: 'events' });
    info = await loading;
    parse[threads] = performance.now() - started;
  }
  await trainOnSample(worker, next, info);
  const scoring = { 1: Infinity, 2: Infinity };
  let weights;
  for (let round = 0; round < ROUNDS; round++) {
    for (const threads of [1, 2]) {
      await useThreads(worker, next, threads);
      const timing = next('ScoringBenchmark');
      worker.postMessage({ Table: { BenchmarkScoring: { backend: 'Cpu' } } });
      const bench = await timing;
      scoring[threads] = Math.min(scoring[threads], bench.model_milliseconds);
      weights = bench.weights;
    }
  }
  worker.terminate();
  return { training, parse, scoring, rows: info.rows, weights };
};

/** TensorFlow.js wasm with `threads` threads (a fresh tab each: the count is fixed when the backend starts). */
window.runTfjsThreaded = async ({ threads, steps, weights, rows }) => {
  if (!crossOriginIsolated) throw new Error('TensorFlow.js uses threads only on a cross-origin isolated page');
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  tf.wasm.setThreadsCount(threads);
  await tf.setBackend('wasm');
  await tf.ready();
  const actual = tf.backend().getThreadsCount?.() ?? tf.wasm.getThreadsCount?.();
  let training = Infinity;
  const digits = await loadDigits();
  for (let round = 0; round < ROUNDS; round++) training = Math.min(training, await benchTfjs('wasm', digits, steps));
  const x = seededRows(rows, weights.encoder_hidden.inputs);
  const scoring = await tfjsScoringMs('wasm', weights, 'Gaussian', x, rows, TFJS_BATCH, ROUNDS);
  return { threads: actual, training, scoring };
};
