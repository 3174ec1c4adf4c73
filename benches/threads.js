// `make bench`, threads (README, "Every core"): on a cross-origin isolated page,
//  * ours: the threaded worker (`threads/start.js?pool=2`: it and one pool thread), told to use 1 then 2 threads (`UseThreads`),
//    timing the digit VAE's training step (`Benchmark`) and, on the bench table, parsing (`Loaded`) and
//    scoring every prepared row (`BenchmarkScoring`, the scoring alone), in turn, several rounds; then the
//    classical baselines' fit and score times on a seeded table of 40,000 rows (`Compare`);
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
  const baselines = await baselineTimes(worker, next);
  worker.terminate();
  return { training, parse, scoring, rows: info.rows, weights, baselines };
};

const BASELINE_METHODS = ['Pca', 'IsolationForest', 'Knn', 'Ecod', 'Lof'];
const BASELINE_ROWS = 40000;
const BASELINE_FEATURES = 8;

/** A seeded table of `BASELINE_ROWS` rows: `BASELINE_FEATURES` roughly normal features (a sum of four
 * uniforms) and a label column, one row in fifty shifted and labelled 1. */
function baselineFile() {
  let s = 2024;
  const uniform = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
  const lines = [[...Array(BASELINE_FEATURES).keys()].map((k) => `x${k}`).concat('label').join(',')];
  for (let i = 0; i < BASELINE_ROWS; i++) {
    const odd = i % 50 === 0;
    const row = [];
    for (let k = 0; k < BASELINE_FEATURES; k++) row.push((uniform() + uniform() + uniform() + uniform() - 2 + (odd ? 1.5 : 0)).toFixed(5));
    lines.push(`${row.join(',')},${odd ? 1 : 0}`);
  }
  return new File([lines.join('\n') + '\n'], 'baselines.csv', { type: 'text/csv' });
}

/** Fit and score milliseconds of each classical method on the seeded table, trained on all its rows, with 1
 * and 2 threads: the fastest of `ROUNDS` comparisons after one that lets the browser compile the code. */
async function baselineTimes(worker, next) {
  const loaded = next('Loaded');
  worker.postMessage({ file: baselineFile(), purpose: 'events' });
  const info = await loaded;
  const setup = info.suggested;
  setup.choices = info.columns.map((c) => ({ role: c.name === 'label' ? 'Label' : 'Feature', log: false }));
  setup.validation_fraction = 0;
  setup.max_training_rows = 1000000;
  setup.train_on = 'AllRows';
  const choice = {
    methods: BASELINE_METHODS,
    settings: { pca_variance: 0.9, pca_components: null, forest_trees: 100, forest_subsample: 256, knn_k: 5, lof_k: 20, neighbour_rows: 20000, seed: 0 },
  };
  const times = { 1: {}, 2: {} };
  for (let round = 0; round <= ROUNDS; round++) {
    for (const threads of [1, 2]) {
      await useThreads(worker, next, threads);
      const compared = next('Compared');
      worker.postMessage({ Table: { Compare: { setup, choice } } });
      const { summary } = await compared;
      if (round === 0) continue;
      for (const m of summary.methods) {
        if (m.error) throw new Error(`${m.key}: ${m.error}`);
        const best = times[threads][m.key] ?? { fit_ms: Infinity, score_ms: Infinity, auc: m.auc };
        times[threads][m.key] = { fit_ms: Math.min(best.fit_ms, m.fit_ms), score_ms: Math.min(best.score_ms, m.score_ms), auc: m.auc };
      }
    }
  }
  return { rows: BASELINE_ROWS, features: BASELINE_FEATURES, times };
}

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
