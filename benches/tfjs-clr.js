// AnomalyCLR's contrastive training step, ours against TensorFlow.js in the same browser:
//  * ours: the playground's worker, sent the protocol's `Events: { Benchmark }` command (toy background
//    events, batch 256; each step makes the physical and anomalous copies, builds three batches of
//    19 objects and trains on the loss of all three);
//  * TensorFlow.js: the same encoder (an 8 → 32 embedding, two post-layer-norm transformer blocks of 4
//    heads, width 32 and a 64-wide ReLU feed-forward, padded slots masked out of attention and of the sum,
//    a ReLU + linear head to 32 numbers scaled to unit length) and the same loss (temperature 0.1), Adam
//    1e-3, on every backend. Its three views are made before timing starts and only uploaded each step,
//    which spares it the augmentations ours does inside its step.

const SLOTS = 19, INPUTS = 8, WIDTH = 32, HEADS = 4, FEED = 64, OUT = 32, BATCH = 256, TAU = 0.1;

/** Object batches shaped like the toy's: the MET, a lepton or two, a few jets; inputs and a mask. */
function objectViews(count, seed) {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const objects = new Float32Array(count * SLOTS * INPUTS);
  const mask = new Float32Array(count * SLOTS);
  for (let e = 0; e < count; e++) {
    const present = [0, 1 + Math.floor(uniform() * 2), 5, 9, 10, 11 + Math.floor(uniform() * 3)];
    for (const slot of present) {
      const at = (e * SLOTS + slot) * INPUTS;
      const phi = (2 * uniform() - 1) * Math.PI;
      objects.set([Math.log1p(20 + 80 * uniform()), (2 * uniform() - 1) * 2.5, Math.sin(phi), Math.cos(phi)], at);
      objects[at + 4 + (slot === 0 ? 0 : slot < 5 ? 1 : slot < 9 ? 2 : 3)] = 1;
      mask[e * SLOTS + slot] = 1;
    }
  }
  return { objects, mask };
}

async function benchOursClr(steps) {
  const worker = new Worker('/worker_loader.js');
  const result = await new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      const events = e.data && e.data.Events;
      if (e.data === 'Listening') worker.postMessage({ Events: { Benchmark: { steps } } });
      if (events && events.BenchmarkResult) resolve(events.BenchmarkResult);
      if (events && events.Failed) reject(new Error(events.Failed.message));
    };
    worker.onerror = (e) => reject(new Error(e.message));
  });
  worker.terminate();
  return result.milliseconds_per_step;
}

async function benchTfjsClr(backend, steps) {
  const ok = await tf.setBackend(backend).catch(() => false);
  if (!ok) return { ms: null, note: 'backend not available' };
  await tf.ready();
  const linear = (fanIn, fanOut) => {
    const bound = 1 / Math.sqrt(fanIn);
    return { w: tf.variable(tf.randomUniform([fanIn, fanOut], -bound, bound)), b: tf.variable(tf.zeros([fanOut])) };
  };
  const norm = () => ({ gain: tf.variable(tf.ones([WIDTH])), bias: tf.variable(tf.zeros([WIDTH])) });
  const embed = linear(INPUTS, WIDTH), head = linear(WIDTH, OUT);
  const blocks = [0, 1].map(() => ({
    q: linear(WIDTH, WIDTH), k: linear(WIDTH, WIDTH), v: linear(WIDTH, WIDTH), o: linear(WIDTH, WIDTH),
    n1: norm(), hidden: linear(WIDTH, FEED), back: linear(FEED, WIDTH), n2: norm(),
  }));
  const apply = (layer, x) => tf.add(tf.matMul(x, layer.w), layer.b); // x: rows × fanIn
  const layerNorm = (n, x) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), n.gain), n.bias);
  };
  const encode = (objects, mask) => {
    const events = objects.shape[0];
    let x = tf.reshape(apply(embed, tf.reshape(objects, [-1, INPUTS])), [events, SLOTS, WIDTH]);
    const keyBias = tf.reshape(tf.mul(tf.sub(1, mask), -1e9), [events, 1, 1, SLOTS]);
    const per = WIDTH / HEADS;
    for (const b of blocks) {
      const flat = tf.reshape(x, [-1, WIDTH]);
      const split = (t) => tf.transpose(tf.reshape(t, [events, SLOTS, HEADS, per]), [0, 2, 1, 3]);
      const [q, k, v] = [b.q, b.k, b.v].map((l) => split(apply(l, flat)));
      const weights = tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(per)), keyBias));
      const attended = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [-1, WIDTH]);
      const x1 = layerNorm(b.n1, tf.add(flat, apply(b.o, attended)));
      const fed = apply(b.back, tf.relu(apply(b.hidden, x1)));
      x = tf.reshape(layerNorm(b.n2, tf.add(x1, fed)), [events, SLOTS, WIDTH]);
    }
    const pooled = tf.sum(tf.mul(x, tf.expandDims(mask, 2)), 1);
    const z = apply(head, tf.relu(pooled));
    return tf.div(z, tf.sqrt(tf.add(tf.sum(tf.square(z), -1, true), 1e-12)));
  };
  const keep = tf.tidy(() => {
    const n = 2 * BATCH;
    const values = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) values[i * n + j] = i !== j && Math.abs(i - j) !== BATCH ? 1 : 0;
    return tf.tensor2d(values, [n, n]);
  });
  const loss = (views) => {
    const [z, zp, za] = views.map(([objects, mask]) => encode(objects, mask));
    const numerator = tf.div(tf.sub(tf.sum(tf.mul(z, zp), -1), tf.sum(tf.mul(z, za), -1)), TAU);
    const both = tf.concat([z, zp], 0);
    const similarity = tf.exp(tf.div(tf.matMul(both, both, false, true), TAU));
    const denominator = tf.log(tf.sum(tf.mul(similarity, keep), -1));
    return tf.mean(tf.sub(denominator, tf.concat([numerator, numerator], 0)));
  };
  const pool = [0, 1, 2, 3].map((k) => [0, 1, 2].map((view) => objectViews(BATCH, 11 + 3 * k + view)));
  const optimizer = tf.train.adam(1e-3);
  const step = (i) => {
    const views = pool[i % pool.length].map(({ objects, mask }) => [tf.tensor3d(objects, [BATCH, SLOTS, INPUTS]), tf.tensor2d(mask, [BATCH, SLOTS])]);
    const value = tf.tidy(() => optimizer.minimize(() => loss(views), true));
    views.flat().forEach((t) => t.dispose());
    return value;
  };
  try {
    for (let i = 0; i < 3; i++) await step(i).data(); // warm-up: compile kernels
    const started = performance.now();
    let last;
    for (let i = 0; i < steps; i++) {
      if (last) last.dispose();
      last = step(i + 3);
    }
    const value = (await last.data())[0];
    const ms = (performance.now() - started) / steps;
    if (!Number.isFinite(value)) throw new Error(`the loss is ${value}`);
    return { ms, note: null };
  } catch (err) {
    return { ms: null, note: err.message };
  } finally {
    tf.disposeVariables();
    keep.dispose();
  }
}

window.runClrBenchmark = async ({ steps, tfjsSteps }) => {
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  const results = { ours: await benchOursClr(steps) };
  const notes = {};
  for (const backend of ['wasm', 'webgl', 'webgpu', 'cpu']) {
    const { ms, note } = await benchTfjsClr(backend, tfjsSteps[backend] ?? steps);
    results[`tfjs-${backend}`] = ms;
    if (note) notes[backend] = note;
  }
  return { results, notes };
};
