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
import { execFileSync, spawnSync } from 'node:child_process';
import { launch, distDir, repoRoot, ISOLATION_HEADERS } from '../tests/e2e/support.mjs';
import { coldLoad } from './cold-load.mjs';

const steps = Number(process.env.BENCH_STEPS ?? 100);
const tableRows = Number(process.env.BENCH_TABLE_ROWS ?? 1_000_000);
const tableColumns = 20;
const dataDir = path.join(os.tmpdir(), 'anomaly-playground-bench');
const roots = [
  ['/bench/', path.join(repoRoot, 'benches')], ['/node_modules/', path.join(repoRoot, 'node_modules')],
  ['/bench-data/', dataDir], ['/', distDir],
];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** The bench's static server; `headers` go on every answer (the isolation headers, for the thread benchmark). */
async function startServer(headers = {}) {
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const [prefix, root] = roots.find(([p]) => urlPath.startsWith(p));
    const file = path.join(root, urlPath.slice(prefix.length));
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', ...headers });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return server;
}
// Not isolated, as most hosts serve the page: TensorFlow.js wasm runs its single-threaded build here.
const server = await startServer();
const url = `http://127.0.0.1:${server.address().port}/bench/bench.html`;
// Isolated, for threads against threads (benches/threads.js).
const isolatedServer = await startServer(ISOLATION_HEADERS);
const threadsUrl = `http://127.0.0.1:${isolatedServer.address().port}/bench/threads.html`;

/** A seeded CSV of `rows` × `columns` numbers (about 160 MB at a million rows), made once. */
function writeEventsCsv(file, rows, columns) {
  const stamp = `${file}.${rows}x${columns}`;
  // The stamp holds the size of the file it vouches for, so a file of another size is never reused.
  if (fs.existsSync(file) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === String(fs.statSync(file).size)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Forget the stamps of earlier sizes: the file is about to hold this size only.
  for (const name of fs.readdirSync(path.dirname(file))) {
    if (name.startsWith(`${path.basename(file)}.`)) fs.rmSync(path.join(path.dirname(file), name));
  }
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
  fs.writeFileSync(stamp, String(fs.statSync(file).size));
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

/** Resident memory (VmRSS) of a process now, in MB; 0 once it has gone. */
function residentMegabytes(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return 0;
  }
}

/** The process that started `pid`, from /proc; 0 when unknown. */
function parentPid(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  } catch {
    return 0;
  }
}

/** Chromium's browser process (the one without a `--type=`), found by walking up from a renderer. */
function browserProcessOf(pid) {
  for (let p = parentPid(pid); p > 1; p = parentPid(p)) {
    try {
      if (!fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=')) return p;
    } catch {
      return 0;
    }
  }
  return 0;
}

/**
 * Runs `work` in a fresh tab, sampling every 20 ms the resident memory of the tab's renderer process
 * and of the browser process (which keeps the bytes of Blobs); the page calls `window.benchPhase(name)`
 * as each step ends. Returns the work's result, each step's peaks, and the tab's overall peak (VmHWM,
 * which also catches what falls between samples).
 */
async function memoryByPhase(browser, pageUrl, work) {
  const before = new Set(rendererPids());
  const context = await browser.newContext();
  const tab = await context.newPage();
  tab.on('console', (m) => { if (m.type() === 'error') console.error(`  (browser) ${m.text()}`); });
  const phases = [];
  let mine = [];
  let browserPid = 0;
  let tabPeak = 0;
  let browserPeak = 0;
  const sample = () => {
    mine = rendererPids().filter((pid) => !before.has(pid));
    if (!browserPid && mine.length) browserPid = browserProcessOf(mine[0]);
    tabPeak = Math.max(tabPeak, ...mine.map(residentMegabytes));
    if (browserPid) browserPeak = Math.max(browserPeak, residentMegabytes(browserPid));
  };
  const sampler = setInterval(sample, 20);
  await tab.exposeFunction('benchPhase', (name) => {
    sample();
    phases.push({ step: name, tab_mb: tabPeak, browser_process_mb: browserPeak });
    tabPeak = 0;
    browserPeak = 0;
  });
  await tab.goto(pageUrl);
  const result = await work(tab);
  clearInterval(sampler);
  const peak = Math.max(0, ...mine.map(peakMegabytes));
  await context.close();
  return { result, phases, peak };
}

const browser = await launch();
const page = await browser.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.error(`  (browser) ${m.text()}`); });
await page.goto(url);
const results = await page.evaluate(
  (steps) => window.runBenchmark({ steps, tfjsSteps: { wasm: Math.ceil(steps / 2), webgl: Math.ceil(steps / 2), webgpu: 10 } }),
  steps,
);
// The jet-image convolutional autoencoder's training step (TensorFlow.js trains it only on backends that
// have every kernel it needs; a few steps each, as its software-GPU backends take seconds a step here).
const conv = await page.evaluate(
  (steps) => window.runConvBenchmark({ steps, tfjsSteps: { webgl: 5, webgpu: 3, cpu: 3 } }),
  Math.max(10, Math.ceil(steps / 5)),
);
// AnomalyCLR's contrastive step (batch 256, three views) with the Events view's transformer.
const clr = await page.evaluate(
  (steps) => window.runClrBenchmark({ steps, tfjsSteps: { webgl: 5, webgpu: 3, cpu: 3 } }),
  Math.max(10, Math.ceil(steps / 5)),
);
// Pairs of passes of our CPU path and TensorFlow.js wasm in turn (digits and table).
const interleavedPairs = 7;
const digitScoring = await page.evaluate((pairs) => window.runDigitScoring({ pairs }), interleavedPairs);
const adapter = await page.evaluate(async () => {
  const a = await navigator.gpu?.requestAdapter();
  return a ? `${a.info?.vendor ?? '?'} ${a.info?.architecture ?? ''}`.trim() : 'none';
});

const eventsCsv = path.join(dataDir, 'events.csv');
writeEventsCsv(eventsCsv, tableRows, tableColumns);
const tablesUrl = url.replace('bench.html', 'tables.html');
const ours = await inFreshTab(browser, tablesUrl, (tab) => tab.evaluate(() => window.runOurs()));
const peers = await inFreshTab(browser, tablesUrl, (tab) => tab.evaluate((args) => window.runPeers(args), { weights: ours.result.weights, rows: ours.result.rows }));
const interleaved = await inFreshTab(browser, tablesUrl, (tab) => tab.evaluate((args) => window.runInterleaved(args), { pairs: interleavedPairs }));
const download = await memoryByPhase(browser, tablesUrl, (tab) => tab.evaluate(() => window.runDownload()));
// Threads against threads, on the isolated server: ours in one tab (1 and 2 threads in turn), TensorFlow.js
// threaded wasm in a fresh tab per thread count, on our trained table model's weights.
const oursThreaded = await inFreshTab(browser, threadsUrl, (tab) => tab.evaluate((args) => window.runOursThreaded(args), { steps }));
const tfjsThreaded = {};
for (const threads of [1, 2]) {
  tfjsThreaded[threads] = (await inFreshTab(browser, threadsUrl, (tab) => tab.evaluate((args) => window.runTfjsThreaded(args),
    { threads, steps: Math.ceil(steps / 2), weights: oursThreaded.result.weights, rows: oursThreaded.result.rows }))).result;
}
isolatedServer.close();
const appUrl = url.replace('bench/bench.html', 'index.html');
const loads = [['this machine', await coldLoad(browser, appUrl)], ['CPU slowed 4× (a phone)', await coldLoad(browser, appUrl, { cpuSlowdown: 4 })]];
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
console.log('');
console.log(`Training step, jet-image convolutional autoencoder (3 × 3 convolutions, 40 × 40, batch 64, Adam), headless Chromium`);
console.log(`| contestant | ms per step |`);
console.log(`| --- | --- |`);
for (const [name, value] of Object.entries(conv.results)) {
  const note = conv.notes[name.slice(5)];
  console.log(`| ${name === 'ours' ? 'Anomaly Playground (candle with our im2col convolutions, wasm)' : `TensorFlow.js 4.22 ${name.slice(5)}`} | ${note ? `cannot train it: ${note}` : fmt(value)} |`);
}
const [convFastestName, convFastest] = Object.entries(conv.results).filter(([n, v]) => n !== 'ours' && v != null).sort((a, b) => a[1] - b[1])[0] ?? [];
const convRatio = convFastest && conv.results.ours ? convFastest / conv.results.ours : null;
if (convRatio) console.log(`speed-up over the fastest TensorFlow.js backend that can train it (${convFastestName.slice(5)}): ${convRatio.toFixed(2)}x (target above 1x)`);
console.log('');
console.log(`Training step, AnomalyCLR (transformer: 2 blocks, 4 heads, width 32; batch 256 × 3 views of 19 objects; Adam), headless Chromium`);
console.log(`| contestant | ms per step |`);
console.log(`| --- | --- |`);
for (const [name, value] of Object.entries(clr.results)) {
  const note = clr.notes[name.slice(5)];
  console.log(`| ${name === 'ours' ? 'Anomaly Playground (candle, wasm; augmentations inside the step)' : `TensorFlow.js 4.22 ${name.slice(5)}`} | ${note ? `cannot train it: ${note}` : fmt(value)} |`);
}
const [clrFastestName, clrFastest] = Object.entries(clr.results).filter(([n, v]) => n !== 'ours' && v != null).sort((a, b) => a[1] - b[1])[0] ?? [];
const clrRatio = clrFastest && clr.results.ours ? clrFastest / clr.results.ours : null;
if (clrRatio) console.log(`speed-up over the fastest TensorFlow.js backend (${clrFastestName.slice(5)}): ${clrRatio.toFixed(2)}x (target above 1x)`);
console.log(`page download apart from the digits: ${(gzipBytes / 1e6).toFixed(2)} MB gzip (${(rawBytes / 1e6).toFixed(2)} MB raw; target at most 1.2 MB gzip)`);

const perSecond = (rows, ms) => (ms == null ? null : rows / (ms / 1000));
const rate = (v) => (v == null ? 'unavailable' : `${(v / 1e6).toFixed(2)} M rows/s`);
const rateK = (v) => (v == null ? 'unavailable' : `${Math.round(v).toLocaleString('en')} rows/s`);

/**
 * Prints one scoring comparison: our CPU and WebGPU paths against every TensorFlow.js backend, all on
 * rows already prepared. `whole`, when given, times our paths also reading and preparing each row.
 */
function scoringTable(rows, ours, tfjs, format, whole) {
  const contestants = [
    ['Anomaly Playground, CPU (fused kernel, wasm)', perSecond(rows, ours.Cpu)],
    ['Anomaly Playground, WebGPU (WGSL kernels)', perSecond(rows, ours.WebGpu)],
    ...Object.entries(tfjs).map(([backend, ms]) => [`TensorFlow.js 4.22 ${backend} predict`, perSecond(rows, ms)]),
  ];
  if (whole) {
    contestants.push(['Anomaly Playground, CPU, also reading and standardising each row', perSecond(rows, whole.Cpu)]);
    contestants.push(['Anomaly Playground, WebGPU, also reading and standardising each row', perSecond(rows, whole.WebGpu)]);
  }
  console.log('| contestant | rows per second |');
  console.log('| --- | --- |');
  for (const [name, r] of contestants) console.log(`| ${name} | ${format(r)} |`);
  const oursGpu = perSecond(rows, ours.WebGpu);
  const tfGpu = perSecond(rows, tfjs.webgpu);
  const webgpu = oursGpu && tfGpu ? oursGpu / tfGpu : null;
  if (webgpu) console.log(`our WebGPU path over TensorFlow.js webgpu: ${webgpu.toFixed(2)}x (target 1.5x)`);
  const best = (list) => list.filter(([, r]) => r != null).sort((a, b) => b[1] - a[1])[0];
  const fastest = (times) => best([['CPU', perSecond(rows, times.Cpu)], ['WebGPU', perSecond(rows, times.WebGpu)]]) ?? [];
  const [oursName, oursBest] = fastest(ours);
  const [tfName, tfBest] = best(Object.entries(tfjs).map(([b, ms]) => [b, perSecond(rows, ms)])) ?? [];
  if (oursBest && tfBest) console.log(`our fastest path (${oursName}) over TensorFlow.js's fastest (${tfName}): ${(oursBest / tfBest).toFixed(2)}x (target 2x)`);
  const [wholeName, wholeBest] = whole ? fastest(whole) : [];
  if (wholeBest && tfBest) console.log(`  the same, ours also reading and standardising each row (${wholeName}): ${(wholeBest / tfBest).toFixed(2)}x`);
  return { fastest: oursBest && tfBest ? oursBest / tfBest : null, webgpu };
}

/** Prints the pairs of passes of our CPU path and TensorFlow.js wasm run in turn, with each pair's ratio. */
function pairsTable(what, rows, oursMs, theirs, format) {
  console.log('');
  console.log(`The same two CPU contestants in turn in one tab, ${oursMs.length} pairs of passes over the same ${rows.toLocaleString('en')} ${what} (each pair meets the same load from the machine's other tenants)`);
  console.log('| pair | ours | TensorFlow.js 4.22 wasm | ratio |');
  console.log('| --- | --- | --- | --- |');
  const ratios = oursMs.map((ms, k) => theirs[k] / ms);
  oursMs.forEach((ms, k) => console.log(`| ${k + 1} | ${format(perSecond(rows, ms))} | ${format(perSecond(rows, theirs[k]))} | ${ratios[k].toFixed(2)}x |`));
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`fastest pass against fastest pass: ${(Math.min(...theirs) / Math.min(...oursMs)).toFixed(2)}x; median of the pairs' ratios: ${median.toFixed(2)}x (range ${sorted[0].toFixed(2)}x to ${sorted.at(-1).toFixed(2)}x; target 2x)`);
  return median;
}

console.log('');
console.log(`Scoring ${digitScoring.rows.toLocaleString('en')} MNIST digits with the digit VAE (784-256-16, same weights), headless Chromium; the WebGPU adapter is a software one (${adapter}), so only ratios mean anything`);
const digitRatios = scoringTable(digitScoring.rows, digitScoring.ours, digitScoring.tfjs, rateK);
pairsTable('digits', digitScoring.rows, digitScoring.inTurn.ours, digitScoring.inTurn.theirs, rateK);

const o = ours.result;
console.log('');
console.log(`Tables: ${o.rows.toLocaleString('en')} rows × ${o.columns} columns, ${(o.bytes / 1e6).toFixed(0)} MB of CSV, same file in the same headless Chromium`);
const oursParse = perSecond(o.rows, o.parseMs);
const papaParse = perSecond(peers.result.papa.rows, peers.result.papa.ms);
console.log('| parse | rows per second |');
console.log('| --- | --- |');
console.log(`| Anomaly Playground (worker, f32 columns) | ${rate(oursParse)} |`);
console.log(`| PapaParse 5.7.1 (worker, dynamic typing) | ${rate(papaParse)} |`);
if (peers.result.papa.rows !== o.rows) console.log(`warning: PapaParse counted ${peers.result.papa.rows} rows, we counted ${o.rows}`);
console.log(`parse speed-up over PapaParse: ${(oursParse / papaParse).toFixed(2)}x (target 1.5x)`);
console.log('');
console.log(`Scoring every row of the table with its trained VAE (${o.weights.encoder_hidden.inputs}-${o.weights.encoder_hidden.outputs}-${o.weights.encoder_mean.outputs}), every contestant on rows already prepared (TensorFlow.js gets a ready Float32Array); the last rows add our reading and standardising of each row from the parsed columns`);
const tableRatios = scoringTable(o.rows, o.scoringModel, peers.result.tfjs, rate, o.scoring);
const tableMedianPair = pairsTable('prepared rows', interleaved.result.rows, interleaved.result.ours, interleaved.result.theirs, rate);
console.log(`load + train on a 20,000-row sample (1 epoch) + score every row: ${(o.trainAndScoreMs / 1000).toFixed(1)} s after a ${(o.parseMs / 1000).toFixed(1)} s load`);
console.log(`peak resident memory of the tab: ours ${ours.peak.toFixed(0)} MB; PapaParse + TensorFlow.js tab ${peers.peak.toFixed(0)} MB (target well under 1 GB)`);
const fileMb = download.result.bytes / 2 ** 20;
const downloadRatio = download.peak / fileMb;
console.log('');
console.log(`A visitor's path through a ${fileMb.toFixed(0)} MB file in a fresh tab, resident memory sampled every 20 ms (MB)`);
console.log('| step | the tab, at its peak in the step | the browser process (keeps Blob bytes) |');
console.log('| --- | --- | --- |');
for (const { step, tab_mb, browser_process_mb } of download.phases) {
  console.log(`| ${step} | ${tab_mb.toFixed(0)} | ${browser_process_mb.toFixed(0)} |`);
}
console.log(`peak of the tab (VmHWM): ${download.peak.toFixed(0)} MB, ${downloadRatio.toFixed(2)}× the file (target under 2.5×); the scored file is ${(download.result.downloadBytes / 2 ** 20).toFixed(0)} MB`);

// Threads (README, "Every core").
const t = oursThreaded.result;
const threadedBytes = fs.readdirSync(path.join(distDir, 'threads'), { recursive: true })
  .map((name) => path.join(distDir, 'threads', name)).filter((file) => fs.statSync(file).isFile())
  .reduce((sum, file) => sum + zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length, 0);
const singleWorkerBytes = ['worker.js', 'worker_bg.wasm', 'worker_loader.js']
  .reduce((sum, name) => sum + zlib.gzipSync(fs.readFileSync(path.join(distDir, name)), { level: 9 }).length, 0);
const threadedPageBytes = gzipBytes - singleWorkerBytes + threadedBytes;
const bestTfjs = (key) => Math.min(tfjsThreaded[1][key], tfjsThreaded[2][key]);
const threadScaling = t.training[1] / t.training[2];
const trainingVsTfjsThreaded = bestTfjs('training') / t.training[2];
const tableScoringVsTfjsThreaded = bestTfjs('scoring') / t.scoring[2];
console.log('');
console.log(`Threads on this machine's ${os.cpus().length} cores, cross-origin isolated page, fastest of 3 rounds each`);
console.log('| work | ours, 1 thread | ours, 2 threads | scaling | TensorFlow.js wasm threaded SIMD, 1 thread | the same, 2 threads |');
console.log('| --- | --- | --- | --- | --- | --- |');
console.log(`| training step, digit VAE (ms) | ${t.training[1].toFixed(2)} | ${t.training[2].toFixed(2)} | ${threadScaling.toFixed(2)}x | ${tfjsThreaded[1].training.toFixed(2)} | ${tfjsThreaded[2].training.toFixed(2)} |`);
console.log(`| scoring ${t.rows.toLocaleString('en')} prepared table rows (M rows/s) | ${rate(perSecond(t.rows, t.scoring[1]))} | ${rate(perSecond(t.rows, t.scoring[2]))} | ${(t.scoring[1] / t.scoring[2]).toFixed(2)}x | ${rate(perSecond(t.rows, tfjsThreaded[1].scoring))} | ${rate(perSecond(t.rows, tfjsThreaded[2].scoring))} |`);
console.log(`| parsing the table (M rows/s) | ${rate(perSecond(t.rows, t.parse[1]))} | ${rate(perSecond(t.rows, t.parse[2]))} | ${(t.parse[1] / t.parse[2]).toFixed(2)}x | – | – |`);
const b = t.baselines;
const baselineScaling = {};
for (const [key, one] of Object.entries(b.times[1])) {
  const two = b.times[2][key];
  baselineScaling[key] = { fit: one.fit_ms / two.fit_ms, score: one.score_ms / two.score_ms };
  console.log(`| ${key}: fit, then score, ${b.rows.toLocaleString('en')} rows × ${b.features} (ms) | ${one.fit_ms.toFixed(1)}, ${one.score_ms.toFixed(1)} | ${two.fit_ms.toFixed(1)}, ${two.score_ms.toFixed(1)} | ${baselineScaling[key].fit.toFixed(2)}x, ${baselineScaling[key].score.toFixed(2)}x | – | – |`);
  if (one.auc !== two.auc) console.log(`warning: ${key}'s AUC changed with the thread count (${one.auc} against ${two.auc})`);
}
console.log(`TensorFlow.js reported ${tfjsThreaded[1].threads} and ${tfjsThreaded[2].threads} threads`);
console.log(`training, 2 threads over 1: ${threadScaling.toFixed(2)}x (target 1.6x); over TensorFlow.js wasm's best threaded step: ${trainingVsTfjsThreaded.toFixed(2)}x (target 5x)`);
console.log(`table scoring, 2 threads, over TensorFlow.js wasm's best threaded pass: ${tableScoringVsTfjsThreaded.toFixed(2)}x (target 2.5x)`);
console.log(`page download apart from the digits, threaded build: ${(threadedPageBytes / 1e6).toFixed(2)} MB gzip (the single-threaded page: ${(gzipBytes / 1e6).toFixed(2)} MB)`);

// The native scorer on the same file with the model the page trained: its time and its peak memory
// (GNU time's maximum resident set size), which should stay flat whatever the file's size.
const modelFile = path.join(dataDir, 'events-model.safetensors');
fs.writeFileSync(modelFile, Buffer.from(o.modelBytes));
execFileSync('cargo', ['build', '--quiet', '--release', '-p', 'anomaly-engine', '--bin', 'anomaly-score'], { cwd: repoRoot, stdio: 'inherit' });
console.log('');
console.log('Cold load of the page from a local server at phone width, nothing cached (median of 5 loads, ms)');
console.log('| machine | first contentful paint | page drawn and usable | first training step can start |');
console.log('| --- | --- | --- | --- |');
for (const [name, t] of loads) console.log(`| ${name} | ${t.paint.toFixed(0)} | ${t.drawn.toFixed(0)} | ${t.trainable.toFixed(0)} |`);
const scorer = path.join(repoRoot, 'target/release/anomaly-score');
const started = Date.now();
const timed = spawnSync('/usr/bin/time', ['-f', '%M', scorer, modelFile, eventsCsv], { stdio: ['ignore', 'ignore', 'pipe'] }).stderr.toString();
const seconds = (Date.now() - started) / 1000;
const peakKb = Number(timed.trim().split('\n').at(-1));
console.log(`native scorer (anomaly-score) on the same file: ${(o.rows / seconds / 1e6).toFixed(2)} M rows/s including both passes over the file, peak resident memory ${(peakKb / 1024).toFixed(0)} MB for a ${(o.bytes / 1e6).toFixed(0)} MB file`);

// The headline figures, with the keys the issues name, for anything that tracks them from run to run.
const headline = {
  date: new Date().toISOString(),
  commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot }).stdout.toString().trim(),
  training_speedup_vs_tfjs: fastest ? fastest / results.ours : null,
  training_ms_per_step: results,
  conv_step_speed_ratio_vs_tfjs: convRatio,
  conv_step_ms_per_step: conv.results,
  conv_step_tfjs_cannot_train: conv.notes,
  clr_step_speed_ratio_vs_tfjs: clrRatio,
  clr_step_ms_per_step: clr.results,
  clr_step_tfjs_cannot_train: clr.notes,
  digit_scoring_speedup_vs_tfjs: digitRatios.fastest,
  table_scoring_speedup_median_pair: tableMedianPair,
  webgpu_speedup_digits: digitRatios.webgpu,
  webgpu_speedup_table: tableRatios.webgpu,
  parse_speedup_vs_papaparse: oursParse / papaParse,
  page_gzip_mb: gzipBytes / 1e6,
  peak_tab_mb: ours.peak,
  download_peak_tab_mb: download.peak,
  download_peak_over_file_size: downloadRatio,
  download_peak_by_step_mb: download.phases,
  thread_scaling_training: threadScaling,
  training_speedup_vs_tfjs_best_threaded: trainingVsTfjsThreaded,
  table_scoring_speedup_vs_tfjs_best_threaded: tableScoringVsTfjsThreaded,
  thread_scaling_parsing: t.parse[1] / t.parse[2],
  thread_scaling_table_scoring: t.scoring[1] / t.scoring[2],
  thread_scaling_baselines: baselineScaling,
  threads_ms: { ours: { training: t.training, parse: t.parse, scoring: t.scoring, rows: t.rows, baselines: b }, tfjs_wasm_threaded: tfjsThreaded },
  page_gzip_mb_threaded_build: threadedPageBytes / 1e6,
};
const artifacts = path.join(repoRoot, 'benches', 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });
fs.writeFileSync(path.join(artifacts, 'bench.json'), `${JSON.stringify(headline, null, 2)}\n`);
console.log(`headline figures written to ${path.relative(repoRoot, path.join(artifacts, 'bench.json'))}`);
