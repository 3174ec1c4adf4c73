// The jet-image convolutional autoencoder's training step, ours against TensorFlow.js in the same browser:
//  * ours: the playground's worker, sent the protocol's `Jets: { Benchmark }` command (toy jets, batch 64);
//  * TensorFlow.js: the same model (3 × 3 convolutions with 4 and 8 channels, each followed by 2 × 2 max
//    pooling, a dense bottleneck of 32, nearest-neighbour upsampling each followed by a 3 × 3 convolution;
//    summed squared error; Adam 1e-3) on images as sparse as the jets (about 27 lit pixels of 1,600), on
//    every backend that can train it. Its wasm backend has no kernel for a convolution's filter gradient
//    (Conv2DBackpropFilter), so it cannot train this model; the error is recorded.

function sparseImages(count, seed) {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pixels = new Float32Array(count * 1600);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < 27; k++) pixels[i * 1600 + Math.floor(uniform() * 1600)] = 10 * uniform() / 27;
  }
  return pixels;
}

async function benchOursConv(steps) {
  const worker = new Worker('/worker_loader.js');
  const result = await new Promise((resolve, reject) => {
    worker.onmessage = (e) => {
      const jets = e.data && e.data.Jets;
      if (e.data === 'Listening') worker.postMessage({ Jets: { Benchmark: { steps } } });
      if (jets && jets.BenchmarkResult) resolve(jets.BenchmarkResult);
      if (jets && jets.Failed) reject(new Error(jets.Failed.message));
    };
    worker.onerror = (e) => reject(new Error(e.message));
  });
  worker.terminate();
  return result.milliseconds_per_step;
}

async function benchTfjsConv(backend, steps) {
  const ok = await tf.setBackend(backend).catch(() => false);
  if (!ok) return { ms: null, note: 'backend not available' };
  await tf.ready();
  const conv = (inC, outC) => {
    const bound = 1 / Math.sqrt(inC * 9);
    return [tf.variable(tf.randomUniform([3, 3, inC, outC], -bound, bound)), tf.variable(tf.zeros([outC]))];
  };
  const dense = (fanIn, fanOut) => {
    const bound = 1 / Math.sqrt(fanIn);
    return [tf.variable(tf.randomUniform([fanIn, fanOut], -bound, bound)), tf.variable(tf.zeros([fanOut]))];
  };
  const [w1, b1] = conv(1, 4), [w2, b2] = conv(4, 8), [wl, bl] = dense(800, 32), [wd, bd] = dense(32, 800);
  const [w3, b3] = conv(8, 4), [w4, b4] = conv(4, 1);
  const images = 64 * 8;
  const all = tf.tensor4d(sparseImages(images, 7), [images, 40, 40, 1]);
  const optimizer = tf.train.adam(1e-3);
  const loss = (x) => {
    const c1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w1, 1, 'same'), b1)), 2, 2, 'valid');
    const c2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(c1, w2, 1, 'same'), b2)), 2, 2, 'valid');
    const latent = tf.add(tf.matMul(tf.reshape(c2, [-1, 800]), wl), bl);
    const inner = tf.reshape(tf.relu(tf.add(tf.matMul(latent, wd), bd)), [-1, 10, 10, 8]);
    const c3 = tf.relu(tf.add(tf.conv2d(tf.image.resizeNearestNeighbor(inner, [20, 20]), w3, 1, 'same'), b3));
    const out = tf.add(tf.conv2d(tf.image.resizeNearestNeighbor(c3, [40, 40]), w4, 1, 'same'), b4);
    return tf.mean(tf.sum(tf.square(tf.sub(out, x)), [1, 2, 3]));
  };
  const step = (i) => tf.tidy(() => optimizer.minimize(() => loss(all.slice([(i % 8) * 64, 0, 0, 0], [64, 40, 40, 1])), true));
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
    all.dispose();
  }
}

window.runConvBenchmark = async ({ steps, tfjsSteps }) => {
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  const results = { ours: await benchOursConv(steps) };
  const notes = {};
  for (const backend of ['wasm', 'webgl', 'webgpu', 'cpu']) {
    const { ms, note } = await benchTfjsConv(backend, tfjsSteps[backend] ?? steps);
    results[`tfjs-${backend}`] = ms;
    if (note) notes[backend] = note;
  }
  return { results, notes };
};
