// `make bench`: the side-by-side benchmarks. Prints ms per training step for our engine and for each
// TensorFlow.js backend, measured in the same headless Chromium in the same run, the speed-up over the
// fastest TensorFlow.js backend, and the gzip size of everything the page downloads apart from the digits.
// Then the table benchmark: a generated CSV of 1,000,000 rows × 20 columns, parsed by us and by PapaParse,
// scored by us and by TensorFlow.js `predict` with the same weights, with the peak memory of each tab.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import http from 'node:http';
import { launch, distDir, repoRoot } from '../tests/e2e/support.mjs';

const steps = Number(process.env.BENCH_STEPS ?? 100);
const tableRows = Number(process.env.BENCH_TABLE_ROWS ?? 1_000_000);
const tableColumns = 20;
const dataDir = path.join(os.tmpdir(), 'anomaly-playground-bench');
const roots = [
  ['/bench/', path.join(repoRoot, 'benches')], ['/node_modules/', path.join(repoRoot, 'node_modules')],
  ['/bench-data/', dataDir], ['/', distDir],
];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

const server = http.createServer((req, res) => {
  const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const [prefix, root] = roots.find(([p]) => urlPath.startsWith(p));
  const file = path.join(root, urlPath.slice(prefix.length));
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/bench/bench.html`;

/** A seeded CSV of `rows` × `columns` numbers (about 160 MB at a million rows), made once. */
function writeEventsCsv(file, rows, columns) {
  const stamp = `${rows}x${columns}`;
  if (fs.existsSync(file) && fs.existsSync(`${file}.${stamp}`)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, Array.from({ length: columns }, (_, k) => `f${k}`).join(',') + '\n');
  let s = 7;
  const normal = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; const u = (s + 1) / 2 ** 32;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; const v = s / 2 ** 32;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  for (let start = 0; start < rows; start += 10_000) {
    let chunk = '';
    for (let r = start; r < Math.min(rows, start + 10_000); r++) {
      const shared = normal();
      const cells = [];
      for (let k = 0; k < columns; k++) cells.push((shared * (k % 3) + normal() + k).toFixed(5));
      chunk += cells.join(',') + '\n';
    }
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
  fs.writeFileSync(`${file}.${stamp}`, '');
}

/** Renderer processes of Chromium: the page and its workers run in one of these. */
function rendererPids() {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer'); } catch { return false; }
  });
}

/** Peak resident memory (VmHWM) of a process, in MB. */
function peakMegabytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)[1]) / 1024;
}

/** Runs `work` in a fresh tab and returns its result with the tab's peak resident memory. */
async function inFreshTab(browser, pageUrl, work) {
  const before = new Set(rendererPids());
  const context = await browser.newContext();
  const tab = await context.newPage();
  tab.on('console', (m) => { if (m.type() === 'error') console.error(`  (browser) ${m.text()}`); });
  await tab.goto(pageUrl);
  const result = await work(tab);
  const mine = rendererPids().filter((pid) => !before.has(pid));
  const peak = Math.max(0, ...mine.map(peakMegabytes));
  await context.close();
  return { result, peak };
}

const browser = await launch();
const page = await browser.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.error(`  (browser) ${m.text()}`); });
await page.goto(url);
const results = await page.evaluate(
  (steps) => window.runBenchmark({ steps, tfjsSteps: { wasm: Math.ceil(steps / 2), webgl: Math.ceil(steps / 2), webgpu: 10 } }),
  steps,
);
const adapter = await page.evaluate(async () => {
  const a = await navigator.gpu?.requestAdapter();
  return a ? `${a.info?.vendor ?? '?'} ${a.info?.architecture ?? ''}`.trim() : 'none';
});

const eventsCsv = path.join(dataDir, 'events.csv');
writeEventsCsv(eventsCsv, tableRows, tableColumns);
const tablesUrl = url.replace('bench.html', 'tables.html');
const ours = await inFreshTab(browser, tablesUrl, (tab) => tab.evaluate(() => window.runOurs()));
const peers = await inFreshTab(browser, tablesUrl, (tab) => tab.evaluate((args) => window.runPeers(args), { weights: ours.result.weights, rows: ours.result.rows }));
await browser.close();
server.close();

// Everything the page downloads except the digits, as a server would send it gzipped.
let gzipBytes = 0;
let rawBytes = 0;
for (const name of fs.readdirSync(distDir)) {
  const file = path.join(distDir, name);
  if (fs.statSync(file).isDirectory()) continue; // data/: the digits, loaded separately
  const bytes = fs.readFileSync(file);
  rawBytes += bytes.length;
  gzipBytes += zlib.gzipSync(bytes, { level: 9 }).length;
}

const fmt = (v) => (v == null ? 'unavailable' : `${v.toFixed(2)} ms`);
console.log(`Training step, VAE 784-256-16, batch 64, Adam, real MNIST digits, headless Chromium (WebGPU adapter: ${adapter})`);
console.log(`| contestant | ms per step |`);
console.log(`| --- | --- |`);
for (const [name, value] of Object.entries(results)) console.log(`| ${name === 'ours' ? 'Anomaly Playground (candle, wasm)' : `TensorFlow.js 4.22 ${name.slice(5)}`} | ${fmt(value)} |`);
const tfjs = Object.entries(results).filter(([n, v]) => n !== 'ours' && v != null);
const [fastestName, fastest] = tfjs.sort((a, b) => a[1] - b[1])[0] ?? [];
if (fastest) console.log(`speed-up over the fastest TensorFlow.js backend (${fastestName.slice(5)}): ${(fastest / results.ours).toFixed(2)}x (target 3.5x)`);
console.log(`page download apart from the digits: ${(gzipBytes / 1e6).toFixed(2)} MB gzip (${(rawBytes / 1e6).toFixed(2)} MB raw; target at most 1.2 MB gzip)`);

const o = ours.result;
const perSecond = (rows, ms) => (ms == null ? null : rows / (ms / 1000));
const rate = (v) => (v == null ? 'unavailable' : `${(v / 1e6).toFixed(2)} M rows/s`);
console.log('');
console.log(`Tables: ${o.rows.toLocaleString('en')} rows × ${o.columns} columns, ${(o.bytes / 1e6).toFixed(0)} MB of CSV, same file in the same headless Chromium`);
console.log('| step | contestant | rows per second |');
console.log('| --- | --- | --- |');
const oursParse = perSecond(o.rows, o.parseMs);
const papaParse = perSecond(peers.result.papa.rows, peers.result.papa.ms);
console.log(`| parse | Anomaly Playground (worker, f32 columns) | ${rate(oursParse)} |`);
console.log(`| parse | PapaParse 5.7.1 (worker, dynamic typing) | ${rate(papaParse)} |`);
const oursScore = perSecond(o.rows, o.scoreMs);
console.log(`| score | Anomaly Playground (fused CPU kernel, wasm) | ${rate(oursScore)} |`);
const tfjsRates = Object.entries(peers.result.tfjs).map(([b, ms]) => [b, perSecond(o.rows, ms)]);
for (const [backend, r] of tfjsRates) console.log(`| score | TensorFlow.js 4.22 ${backend} predict | ${rate(r)} |`);
if (peers.result.papa.rows !== o.rows) console.log(`warning: PapaParse counted ${peers.result.papa.rows} rows, we counted ${o.rows}`);
console.log(`parse speed-up over PapaParse: ${(oursParse / papaParse).toFixed(2)}x (target 1.5x)`);
const [bestName, best] = tfjsRates.filter(([, r]) => r != null).sort((a, b) => b[1] - a[1])[0] ?? [];
if (best) console.log(`scoring speed-up over the fastest TensorFlow.js backend (${bestName}): ${(oursScore / best).toFixed(2)}x (target 2x)`);
console.log(`load + train on a 20,000-row sample (1 epoch) + score every row: ${(o.trainAndScoreMs / 1000).toFixed(1)} s after a ${(o.parseMs / 1000).toFixed(1)} s load`);
console.log(`peak resident memory of the tab: ours ${ours.peak.toFixed(0)} MB; PapaParse + TensorFlow.js tab ${peers.peak.toFixed(0)} MB (target well under 1 GB)`);
