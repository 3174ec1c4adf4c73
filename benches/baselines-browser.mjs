// `make bench`, after `baselines_bench`: the classical baselines timed in the playground's worker (wasm)
// in headless Chromium, on the cases `baselines_bench` wrote (the same rows it gave scikit-learn and
// PyOD), against the references' native one-thread times. Adds to benches/artifacts/baselines.json, per
// method and protocol: the median over tables of (reference seconds / ours in the browser), and each
// table's times; the headline `median_speed_ratio` becomes the browser's (the measure).
//
// node benches/baselines-browser.mjs CASES_DIR JSON
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { launch, distDir, repoRoot } from '../tests/e2e/support.mjs';

const [casesDir, jsonPath] = process.argv.slice(2);
const roots = [['/bench/', path.join(repoRoot, 'benches')], ['/cases/', path.resolve(casesDir)], ['/', distDir]];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
const server = http.createServer((req, res) => {
  const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const [prefix, root] = roots.find(([p]) => urlPath.startsWith(p));
  const file = path.join(root, urlPath.slice(prefix.length));
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await launch({ webgpu: false });
const page = await (await browser.newContext()).newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/bench/baselines.html`);

const KEYS = { Pca: 'pca', IsolationForest: 'iforest', Knn: 'knn', Ecod: 'ecod', Lof: 'lof' };
const cases = fs.readdirSync(casesDir).filter((d) => fs.existsSync(path.join(casesDir, d, 'reference.json'))).sort();
const perMethod = {}; // protocol → key → [{table, ratio, ours_seconds, reference_seconds, auc}]
for (const name of cases) {
  const meta = JSON.parse(fs.readFileSync(path.join(casesDir, name, 'case.json'), 'utf8'));
  meta.table = name.split('__')[0];
  const reference = JSON.parse(fs.readFileSync(path.join(casesDir, name, 'reference.json'), 'utf8'));
  let ours;
  try {
    ours = await page.evaluate(([n, p]) => window.runCase(n, p), [name, meta.protocol]);
  } catch (err) {
    console.log(`${name}: the worker failed: ${String(err).slice(0, 300)}`);
    continue;
  }
  for (const key of Object.values(KEYS)) {
    const o = ours[key];
    const r = reference[key];
    if (!o || o.error || !r || r.error) continue;
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const referenceSeconds = mean(r.fit_seconds) + mean(r.score_seconds);
    const oursSeconds = (o.fit_ms + o.score_ms) / 1000;
    const row = { table: meta.table, ours_seconds: oursSeconds, reference_seconds: referenceSeconds, ratio: referenceSeconds / Math.max(oursSeconds, 1e-6), auc: o.auc };
    ((perMethod[meta.protocol] ??= {})[key] ??= []).push(row);
    console.log(`${meta.table.padEnd(22)} ${meta.protocol.padEnd(16)} ${key.padEnd(8)} ours (wasm) ${oursSeconds.toFixed(4)} s, reference (native) ${referenceSeconds.toFixed(4)} s: ${row.ratio.toFixed(2)}x`);
  }
}
await browser.close();
server.close();

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const targets = { iforest: 2, ecod: 2, pca: 1, knn: 0.5, lof: 0.5 };
const whole = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
whole.browser = {};
console.log('\nmethod   protocol         median speed ratio (reference native s / ours in the browser)   target');
for (const [protocol, methods] of Object.entries(perMethod)) {
  whole.browser[protocol] = {};
  for (const [key, rows] of Object.entries(methods)) {
    const m = median(rows.map((r) => r.ratio));
    whole.browser[protocol][key] = { median_speed_ratio: m, tables: rows };
    console.log(`${key.padEnd(8)} ${protocol.padEnd(16)} ${m.toFixed(2).padStart(8)}x ${' '.repeat(52)} ${targets[key]}x`);
  }
}
// The headline ratio is the browser's, in the unsupervised protocol (ADBench's); the native one stays beside it.
for (const [key, entry] of Object.entries(whole.baselines ?? {})) {
  const b = whole.browser.unsupervised?.[key];
  if (!b) continue;
  entry.native_median_speed_ratio = entry.native_median_speed_ratio ?? entry.median_speed_ratio;
  entry.median_speed_ratio = b.median_speed_ratio;
}
whole.speed_measured = 'ours in the playground worker (wasm, headless Chromium) against scikit-learn / PyOD natively on one thread; native_median_speed_ratio: ours native';
fs.writeFileSync(jsonPath, `${JSON.stringify(whole, null, 2)}\n`);
console.log(`written ${jsonPath}`);
