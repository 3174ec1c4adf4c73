// `make bench`: the side-by-side benchmark. Prints ms per training step for our engine and for each
// TensorFlow.js backend, measured in the same headless Chromium in the same run, the speed-up over the
// fastest TensorFlow.js backend, and the gzip size of everything the page downloads apart from the digits.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import http from 'node:http';
import { launch, distDir, repoRoot } from '../tests/e2e/support.mjs';

const steps = Number(process.env.BENCH_STEPS ?? 100);
const roots = [['/bench/', path.join(repoRoot, 'benches')], ['/node_modules/', path.join(repoRoot, 'node_modules')], ['/', distDir]];
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
