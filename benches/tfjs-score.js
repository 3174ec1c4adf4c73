// TensorFlow.js's side of the scoring benchmarks: the same VAE scoring pass as ours, built from our
// trained weights (`VaeWeights` as the worker sends them). Encoder to the mean of z (no sampling),
// decoder, then the per-row reconstruction error: binary cross-entropy on logits for pixels
// (Bernoulli), ½ Σ (x − x̂)² for standardised features (Gaussian). No KL term, as in ours.

/**
 * Times scoring `rows` rows of `x` with `backend`, in batches of `batch`: the fastest of `repeats`
 * passes; null if the backend is missing.
 */
async function tfjsScoringMs(backend, weights, likelihood, x, rows, batch, repeats) {
  const ok = await tf.setBackend(backend).catch(() => false);
  if (!ok) return null;
  await tf.ready();
  const features = weights.encoder_hidden.inputs;
  const dense = (d, activation) => tf.layers.dense({
    units: d.outputs, activation, inputShape: [d.inputs],
    weights: [tf.tensor2d(d.weight, [d.outputs, d.inputs]).transpose(), tf.tensor1d(d.bias)],
  });
  const model = tf.sequential({ layers: [
    dense(weights.encoder_hidden, 'relu'), dense(weights.encoder_mean, 'linear'),
    dense(weights.decoder_hidden, 'relu'), dense(weights.decoder_output, 'linear'),
  ] });
  const score = async (start, n) => {
    const out = tf.tidy(() => {
      const xb = tf.tensor2d(x.subarray(start * features, (start + n) * features), [n, features]);
      const out = model.predict(xb, { batchSize: n });
      if (likelihood === 'Gaussian') return tf.mul(tf.sum(tf.square(tf.sub(xb, out)), 1), 0.5);
      return tf.sum(tf.add(tf.sub(tf.relu(out), tf.mul(xb, out)), tf.log1p(tf.exp(tf.neg(tf.abs(out))))), 1);
    });
    const values = await out.data();
    out.dispose();
    return values;
  };
  await score(0, Math.min(batch, rows)); // warm-up: compile kernels
  let ms = Infinity;
  let last;
  for (let pass = 0; pass < repeats; pass++) {
    const started = performance.now();
    for (let start = 0; start < rows; start += batch) last = await score(start, Math.min(batch, rows - start));
    ms = Math.min(ms, performance.now() - started);
  }
  if (!Number.isFinite(last[0])) throw new Error(`TensorFlow.js ${backend} scored ${last[0]}`);
  model.dispose();
  tf.disposeVariables();
  return ms;
}

/**
 * Every TensorFlow.js backend on the same rows: { wasm, webgl, webgpu } in ms (null when unavailable).
 * The CPU contestants' times swing by half from pass to pass on a shared machine (other tenants' load),
 * so wasm, like our CPU path, is timed as the fastest of `CPU_REPEATS` passes, an estimate of each one's
 * speed when undisturbed. A pass takes well under a second. The far slower GPU backends run once.
 */
const CPU_REPEATS = 7;
async function tfjsScoringAllBackends(weights, likelihood, x, rows, batch) {
  tf.wasm.setWasmPaths('/node_modules/@tensorflow/tfjs-backend-wasm/dist/');
  const times = {};
  for (const backend of ['wasm', 'webgl', 'webgpu']) {
    try {
      times[backend] = await tfjsScoringMs(backend, weights, likelihood, x, rows, batch, backend === 'wasm' ? CPU_REPEATS : 1);
    } catch (err) {
      times[backend] = null;
      console.error(`tfjs ${backend}: ${err.message}`);
    }
  }
  return times;
}
