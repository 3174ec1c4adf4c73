// The benchmark's two contestants, on the same real digits in the same browser:
//  * ours: the playground's own worker binary, sent the same `Benchmark` command the protocol defines;
//  * TensorFlow.js: the same VAE (784-256-16, ReLU, Bernoulli logits, β = 1), batch 64, Adam(1e-3).
// TensorFlow.js is given the benefit of the doubt: it reads its loss only once at the end of the timed
// steps (no per-step GPU sync), while ours reads every step's loss to check that it is finite.

async function loadDigits() {
  const bytes = new Uint8Array(await (await fetch('/data/digits.bin')).arrayBuffer());
  const view = new DataView(bytes.buffer);
  const count = view.getUint32(8, true);
  const pixels = bytes.subarray(16 + count, 16 + count + count * 784);
  const floats = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) floats[i] = pixels[i] / 255;
  return { count, floats };
}

/** Our worker binary, and `next(name)`: the payload of the next event called `name`. */
function ourWorker() {
  const worker = new Worker('/worker_loader.js');
  const next = (name) => new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      const event = e.data;
      if (event && event[name]) resolve(event[name]);
      else if (event && (event.Failed || event.DataFailed || event.Crashed)) reject(new Error(JSON.stringify(event)));
    };
    worker.onerror = (e) => reject(new Error(e.message));
  });
  return { worker, next };
}

async function benchOurs(steps) {
  const { worker, next } = ourWorker();
  await next('DataReady');
  const waiting = next('BenchmarkResult');
  worker.postMessage({ Benchmark: { steps } });
  const result = await waiting;
  worker.terminate();
  return result.milliseconds_per_step;
}

async function benchTfjs(backend, digits, steps) {
  const ok = await tf.setBackend(backend).catch(() => false);
  if (!ok) return null;
  await tf.ready();
  const dense = (fanIn, fanOut) => {
    const bound = 1 / Math.sqrt(fanIn);
    return [tf.variable(tf.randomUniform([fanIn, fanOut], -bound, bound)), tf.variable(tf.zeros([fanOut]))];
  };
  const [w1, b1] = dense(784, 256), [wMean, bMean] = dense(256, 16), [wLogVar, bLogVar] = dense(256, 16);
  const [w2, b2] = dense(16, 256), [w3, b3] = dense(256, 784);
  const all = tf.tensor2d(digits.floats, [digits.count, 784]);
  const optimizer = tf.train.adam(1e-3);
  const loss = (x) => {
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const mean = tf.add(tf.matMul(h, wMean), bMean);
    const logVar = tf.add(tf.matMul(h, wLogVar), bLogVar);
    const z = tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), tf.randomNormal(mean.shape)));
    const logits = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(z, w2), b2)), w3), b3);
    const bce = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(x, logits)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))), 1);
    const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mean)), tf.exp(logVar)), 1), -0.5);
    return tf.mean(tf.add(bce, kl));
  };
  const step = (i) => tf.tidy(() => {
    const start = (i * 64) % (digits.count - 64);
    return optimizer.minimize(() => loss(all.slice([start, 0], [64, 784])), true);
  });
  for (let i = 0; i < 5; i++) (await step(i)).data().then(() => {}); // warm-up: compile kernels
  await (step(5)).data();
  const started = performance.now();
  let last;
  for (let i = 0; i < steps; i++) {
    if (last) last.dispose();
    last = step(i + 6);
  }
  const value = (await last.data())[0];
  const perStep = (performance.now() - started) / steps;
  if (!Number.isFinite(value)) throw new Error(`TensorFlow.js ${backend} loss is ${value}`);
  tf.disposeVariables();
  all.dispose();
  return perStep;
}

window.runBenchmark = async ({ steps, tfjsSteps }) => {
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  const digits = await loadDigits();
  const results = { ours: await benchOurs(steps) };
  for (const backend of ['wasm', 'webgl', 'webgpu']) {
    try {
      results[`tfjs-${backend}`] = await benchTfjs(backend, digits, tfjsSteps[backend] ?? steps);
    } catch (err) {
      results[`tfjs-${backend}`] = null;
      console.error(`tfjs ${backend}: ${err.message}`);
    }
  }
  return results;
};

// Scoring the 10,000 digits with a digit VAE (784-256-16, untrained weights from our worker, the same
// weights for TensorFlow.js): ours on the CPU and on WebGPU, TensorFlow.js `predict` on each backend.
// Then our CPU path and TensorFlow.js wasm again, in turn for `pairs` pairs of passes, so that each pair
// meets the same load from the machine's other tenants (as tables.js's `runInterleaved`).
window.runDigitScoring = async ({ pairs }) => {
  const { worker, next } = ourWorker();
  await next('DataReady');
  const ours = {};
  let weights;
  for (const backend of ['Cpu', 'WebGpu']) {
    // The CPU path, like TensorFlow.js wasm, is the fastest of CPU_REPEATS passes (tfjs-score.js).
    for (let pass = 0; pass < (backend === 'Cpu' ? CPU_REPEATS : 1); pass++) {
      const waiting = next('DigitScoringBenchmark');
      worker.postMessage({ BenchmarkDigitScoring: { backend } });
      const result = await waiting;
      const ms = result.backend === backend ? result.milliseconds : null;
      ours[backend] = pass === 0 || ms == null ? ms : Math.min(ours[backend], ms);
      weights = result.weights;
    }
  }
  const digits = await loadDigits();
  const tfjs = await tfjsScoringAllBackends(weights, 'Bernoulli', digits.floats, digits.count, digits.count);
  const inTurn = { ours: [], theirs: [] };
  for (let pair = 0; pair < pairs; pair++) {
    const waiting = next('DigitScoringBenchmark');
    worker.postMessage({ BenchmarkDigitScoring: { backend: 'Cpu' } });
    inTurn.ours.push((await waiting).milliseconds);
    inTurn.theirs.push(await tfjsScoringMs('wasm', weights, 'Bernoulli', digits.floats, digits.count, digits.count, 1));
  }
  worker.terminate();
  return { rows: digits.count, ours, tfjs, inTurn };
};
