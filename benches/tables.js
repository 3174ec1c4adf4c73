// The table benchmark's contestants, on the same file in the same browser:
//  * ours: the playground's worker, sent the file exactly as the page sends it, then trained on a sample
//    and asked to time passes of scoring over every row;
//  * PapaParse (worker mode, header and dynamic typing on), counting rows in its chunk callback, so it
//    never pays for storing them (we store every value as f32 columns);
//  * TensorFlow.js `predict` of the same MLP with our trained weights, on a same-shaped Float32Array that
//    is already in memory. Ours is timed twice: the scoring alone, on rows already prepared (like for
//    like), and the whole pass that also reads and standardises every row from the parsed columns;
//  * the two CPU contestants again, in turn in one tab (`runInterleaved`), so that each pair of passes
//    meets the same load from the machine's other tenants.

/** Rows per TensorFlow.js predict call. */
const TFJS_BATCH = 65536;

async function benchFile() {
  const blob = await (await fetch('/bench-data/events.csv')).blob();
  return new File([blob], 'events.csv', { type: 'text/csv' });
}

/**
 * Our worker (the single-threaded build unless `script` and `options` name another), and `next(name)`: the
 * payload of the next event called `name`, at the top level or in a table event.
 */
function ourWorker(script = '/worker_loader.js', options = undefined) {
  const worker = new Worker(script, options);
  const next = (pick) => new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      const d = e.data;
      const t = d && d.Table;
      if (d && d[pick] !== undefined) return resolve(d[pick]);
      if (t && t[pick] !== undefined) return resolve(t[pick]);
      if ((t && (t.Failed || t.LoadFailed)) || (d && (d.Crashed || d.Failed))) reject(new Error(JSON.stringify(d).slice(0, 400)));
    };
    worker.onerror = (e) => reject(new Error(e.message ?? `${script} did not start`));
  });
  return { worker, next };
}

/** Trains the loaded table's suggested model for one epoch on a 20,000-row sample and waits until every row is scored. */
async function trainOnSample(worker, next, info) {
  const setup = info.suggested;
  setup.model.epochs = 1;
  setup.max_training_rows = 20000;
  setup.validation_fraction = 0;
  const scored = next('Scored');
  worker.postMessage({ Table: { Train: { setup } } });
  await scored;
}

/** Our worker with the bench file loaded, its model trained on a 20,000-row sample and every row scored. */
async function trainedWorker(file) {
  const { worker, next } = ourWorker();
  await next('DataReady'); // the digits load at start; let that finish before timing
  let started = performance.now();
  const loading = next('Loaded');
  worker.postMessage({ file, purpose: 'events' });
  const info = await loading;
  const parseMs = performance.now() - started;
  started = performance.now();
  await trainOnSample(worker, next, info);
  return { worker, next, info, parseMs, trainAndScoreMs: performance.now() - started };
}

/** TensorFlow.js's rows: a seeded Float32Array of the table's shape, already in memory. */
function seededRows(rows, features) {
  const x = new Float32Array(rows * features);
  let s = 12345;
  for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = s / 2 ** 31 - 1; }
  return x;
}

window.runOurs = async () => {
  const file = await benchFile();
  const { worker, next, info, parseMs, trainAndScoreMs } = await trainedWorker(file);
  // Per backend, ms for the whole pass (reading and preparing each row from the parsed columns, then
  // scoring it) and for the scoring alone (`model`, what TensorFlow.js's predict is compared with).
  const scoring = {};
  const scoringModel = {};
  let weights;
  for (const backend of ['Cpu', 'WebGpu']) {
    // The CPU path, like TensorFlow.js wasm, is the fastest of CPU_REPEATS passes (tfjs-score.js).
    for (let pass = 0; pass < (backend === 'Cpu' ? CPU_REPEATS : 1); pass++) {
      const timing = next('ScoringBenchmark');
      worker.postMessage({ Table: { BenchmarkScoring: { backend } } });
      const bench = await timing;
      // Without an adapter the WebGPU request runs on the CPU; report it as missing rather than as WebGPU.
      const used = bench.backend === backend;
      const fastest = (previous, ms) => (!used ? null : pass === 0 ? ms : Math.min(previous, ms));
      scoring[backend] = fastest(scoring[backend], bench.milliseconds);
      scoringModel[backend] = fastest(scoringModel[backend], bench.model_milliseconds);
      weights = bench.weights;
    }
  }
  // The trained model as a file, for the native scorer's run on the same CSV.
  const model = await new Promise((resolve) => {
    worker.onmessage = (e) => { if (e.data && e.data.download) resolve(e.data.download); };
    worker.postMessage({ Table: 'DownloadModel' });
  });
  const modelBytes = Array.from(new Uint8Array(await model.arrayBuffer()));
  worker.terminate();
  return { rows: info.rows, columns: info.columns.length, bytes: file.size, parseMs, trainAndScoreMs, scoring, scoringModel, weights, modelBytes };
};

async function papaParse(file) {
  let rows = 0;
  const started = performance.now();
  await new Promise((resolve, reject) => Papa.parse(file, {
    worker: true, header: true, dynamicTyping: true, skipEmptyLines: true,
    chunk: (results) => { rows += results.data.length; },
    complete: resolve, error: reject,
  }));
  return { rows, ms: performance.now() - started };
}

window.runPeers = async ({ weights, rows }) => {
  const file = await benchFile();
  const papa = await papaParse(file);
  const x = seededRows(rows, weights.encoder_hidden.inputs);
  const tfjs = await tfjsScoringAllBackends(weights, 'Gaussian', x, rows, TFJS_BATCH);
  return { papa, tfjs };
};

/**
 * Our CPU path and TensorFlow.js wasm in turn, pass after pass in one tab: each pair of passes meets the
 * same load from the machine's other tenants, which moves two timings taken minutes apart (as above)
 * far more than it moves the ratio within a pair. Returns each pass's ms, ours (scoring alone, on
 * prepared rows) and theirs.
 */
window.runInterleaved = async ({ pairs }) => {
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  const { worker, next, info } = await trainedWorker(await benchFile());
  const ours = [];
  const theirs = [];
  let x;
  for (let pair = 0; pair < pairs; pair++) {
    const timing = next('ScoringBenchmark');
    worker.postMessage({ Table: { BenchmarkScoring: { backend: 'Cpu' } } });
    const bench = await timing;
    ours.push(bench.model_milliseconds);
    x ??= seededRows(info.rows, bench.weights.encoder_hidden.inputs);
    theirs.push(await tfjsScoringMs('wasm', bench.weights, 'Gaussian', x, info.rows, TFJS_BATCH, 1));
  }
  worker.terminate();
  return { rows: info.rows, ours, theirs };
};

/**
 * The million-row path a visitor takes, for its memory: the worker started, the file loaded, a model
 * trained on a sample and every row scored, and the scored file written. `window.benchPhase(name)` (set
 * by the runner) marks the end of each step, so the runner can say which one the tab's memory peaked in.
 */
window.runDownload = async () => {
  const mark = async (name) => { if (window.benchPhase) await window.benchPhase(name); };
  const file = await benchFile();
  await mark('page open, file fetched');
  const { worker, next } = ourWorker();
  await next('DataReady');
  await mark('worker started (digits loaded)');
  const loading = next('Loaded');
  worker.postMessage({ file, purpose: 'events' });
  const info = await loading;
  await mark('file parsed');
  await trainOnSample(worker, next, info);
  await mark('trained on a sample, every row scored');
  const written = new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      const d = e.data;
      if (d && d.download) resolve(d.download);
      if (d && d.Table && d.Table.Failed) reject(new Error(JSON.stringify(d.Table.Failed)));
    };
  });
  worker.postMessage({ Table: 'Download' });
  const download = await written;
  await mark('scored file written');
  worker.terminate();
  return { rows: info.rows, bytes: file.size, downloadBytes: download.size };
};
