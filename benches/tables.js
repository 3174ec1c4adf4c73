// The table benchmark's contestants, on the same file in the same browser:
//  * ours: the playground's worker, sent the file exactly as the page sends it, then trained on a sample
//    and asked to time one pass of scoring over every row;
//  * PapaParse (worker mode, header and dynamic typing on), counting rows in its chunk callback, so it
//    never pays for storing them (we store every value as f32 columns);
//  * TensorFlow.js `predict` of the same MLP with our trained weights, on a same-shaped Float32Array that
//    is already in memory (we also read and standardise every row from the parsed columns).

async function benchFile() {
  const blob = await (await fetch('/bench-data/events.csv')).blob();
  return new File([blob], 'events.csv', { type: 'text/csv' });
}

function ourWorker() {
  const worker = new Worker('/worker_loader.js');
  const next = (pick) => new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      const d = e.data;
      const t = d && d.Table;
      if (d && d.DataReady && pick === 'DataReady') return resolve(d.DataReady);
      if (t && t[pick] !== undefined) return resolve(t[pick]);
      if ((t && (t.Failed || t.LoadFailed)) || (d && (d.Crashed || d.Failed))) reject(new Error(JSON.stringify(d).slice(0, 400)));
    };
    worker.onerror = (e) => reject(new Error(e.message));
  });
  return { worker, next };
}

window.runOurs = async () => {
  const file = await benchFile();
  const { worker, next } = ourWorker();
  await next('DataReady'); // the digits load at start; let that finish before timing
  let started = performance.now();
  const loading = next('Loaded');
  worker.postMessage({ file, purpose: 'events' });
  const info = await loading;
  const parseMs = performance.now() - started;
  const setup = info.suggested;
  setup.model.epochs = 1;
  setup.max_training_rows = 20000;
  setup.validation_fraction = 0;
  started = performance.now();
  const scored = next('Scored');
  worker.postMessage({ Table: { Train: { setup } } });
  await scored;
  const trainAndScoreMs = performance.now() - started;
  const timing = next('ScoringBenchmark');
  worker.postMessage({ Table: 'BenchmarkScoring' });
  const bench = await timing;
  worker.terminate();
  return { rows: info.rows, columns: info.columns.length, bytes: file.size, parseMs, trainAndScoreMs, scoreMs: bench.milliseconds, weights: bench.weights };
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

async function tfjsScore(backend, weights, x, rows) {
  const ok = await tf.setBackend(backend).catch(() => false);
  if (!ok) return null;
  await tf.ready();
  const features = weights.encoder_hidden.inputs;
  const dense = (d, activation) => tf.layers.dense({
    units: d.outputs, activation, inputShape: [d.inputs],
    weights: [tf.tensor2d(d.weight, [d.outputs, d.inputs]).transpose(), tf.tensor1d(d.bias)],
  });
  // The scoring pass: encoder to the mean of z (no sampling), decoder, then ½ Σ (x − x̂)².
  const model = tf.sequential({ layers: [
    dense(weights.encoder_hidden, 'relu'), dense(weights.encoder_mean, 'linear'),
    dense(weights.decoder_hidden, 'relu'), dense(weights.decoder_output, 'linear'),
  ] });
  const batch = 65536;
  const score = async (start, n) => {
    const out = tf.tidy(() => {
      const xb = tf.tensor2d(x.subarray(start * features, (start + n) * features), [n, features]);
      const recon = model.predict(xb, { batchSize: n });
      return tf.mul(tf.sum(tf.square(tf.sub(xb, recon)), 1), 0.5);
    });
    const values = await out.data();
    out.dispose();
    return values;
  };
  await score(0, batch); // warm-up: compile kernels
  const started = performance.now();
  let last;
  for (let start = 0; start < rows; start += batch) last = await score(start, Math.min(batch, rows - start));
  const ms = performance.now() - started;
  if (!Number.isFinite(last[0])) throw new Error(`TensorFlow.js ${backend} scored ${last[0]}`);
  model.dispose();
  tf.disposeVariables();
  return ms;
}

window.runPeers = async ({ weights, rows }) => {
  const file = await benchFile();
  const papa = await papaParse(file);
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  const features = weights.encoder_hidden.inputs;
  const x = new Float32Array(rows * features);
  let s = 12345;
  for (let i = 0; i < x.length; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = s / 2 ** 31 - 1; }
  const tfjs = {};
  for (const backend of ['wasm', 'webgl', 'webgpu']) tfjs[backend] = await tfjsScore(backend, weights, x, rows);
  return { papa, tfjs };
};
