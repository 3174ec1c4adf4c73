// The classical baselines in the playground's own worker (wasm), on the rows `baselines_bench` prepared:
// each case's test rows are loaded as the visitor's file and, for the semi-supervised protocol, its
// training rows as the separate background file; then the worker is asked to compare, exactly as the
// page asks, and the fit and score times it measured come back with the figures.

const METHODS = ['Pca', 'IsolationForest', 'Knn', 'Ecod', 'Lof'];

function playgroundWorker() {
  const worker = new Worker('/worker_loader.js');
  const waiting = [];
  worker.onmessage = (e) => {
    const d = e.data;
    const t = d && d.Table;
    for (const w of [...waiting]) {
      if ((w.pick === 'DataReady' && d && d.DataReady) || (t && t[w.pick] !== undefined)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(w.pick === 'DataReady' ? d.DataReady : t[w.pick]);
      } else if ((t && (t.LoadFailed || t.CompareFailed)) || (d && (d.Crashed || d.DataFailed))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.reject(new Error(JSON.stringify(d).slice(0, 400)));
      }
    }
  };
  const next = (pick) => new Promise((resolve, reject) => waiting.push({ pick, resolve, reject }));
  return { worker, next };
}

async function fileOf(url, name) {
  const blob = await (await fetch(url)).blob();
  return new File([blob], name, { type: 'text/csv' });
}

/** Runs one case; returns each method's fit and score milliseconds and AUC, by method key. */
window.runCase = async function runCase(name, protocol) {
  const { worker, next } = playgroundWorker();
  await next('DataReady');
  const loaded = next('Loaded');
  worker.postMessage({ file: await fileOf(`/cases/${name}/test.csv`, 'test.csv'), purpose: 'events' });
  const info = await loaded;
  const setup = info.suggested;
  // Every x column is a feature, as given (no log, constant ones kept): the bench's rows are already
  // standardised, and both sides must see the same features.
  setup.choices = info.columns.map((c) => ({ role: c.name === 'label' ? 'Label' : 'Feature', log: false }));
  setup.validation_fraction = 0;
  setup.max_training_rows = 1000000;
  if (protocol === 'semi-supervised') {
    const background = next('Loaded');
    worker.postMessage({ file: await fileOf(`/cases/${name}/train.csv`, 'train.csv'), purpose: 'background' });
    await background;
    setup.train_on = 'OtherFile';
  } else {
    setup.train_on = 'AllRows';
  }
  const choice = {
    methods: METHODS,
    settings: { pca_variance: 0.9, pca_components: null, forest_trees: 100, forest_subsample: 256, knn_k: 5, lof_k: 20, neighbour_rows: 20000, seed: 0 },
  };
  // Twice: the first run lets the browser compile the hot code to its fastest tier (a first call runs
  // in the baseline compiler), the second is timed, as the references are timed after their imports.
  let summary;
  for (let run = 0; run < 2; run++) {
    const compared = next('Compared');
    worker.postMessage({ Table: { Compare: { setup, choice } } });
    ({ summary } = await compared);
  }
  worker.terminate();
  return Object.fromEntries(summary.methods.map((m) => [m.key, { fit_ms: m.fit_ms, score_ms: m.score_ms, auc: m.auc, error: m.error }]));
};
