// Scoring on WebGPU or the CPU: the page says which one it uses and on what adapter, both give the same
// scores for the same trained model, and without WebGPU the page says so in a sentence and scores on
// the CPU. This machine's only adapter is SwiftShader, a software one, which "automatic" leaves alone
// (it is slower than the CPU kernel); choosing WebGPU uses it. The kernels' own parity cases run in the
// browser through `make test-gpu-browser`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { openPage, withServedApp, launch, loadToyEvents } from './support.mjs';

const app = withServedApp();

async function trainAndScore(page) {
  await page.fill('#table_epochs', '2');
  await page.press('#table_epochs', 'Tab');
  await page.click('#table-train');
  await page.waitForFunction(() => /^Done/.test(document.querySelector('#table-status')?.textContent), null, { timeout: 120_000 });
}

async function downloadScores(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-scores')]);
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const at = header.indexOf('anomaly_score');
  return { header, rows: lines.slice(1).map((l) => l.split(',')), score: (row) => Number(row[at]), at };
}

test('the same model scores the same on WebGPU and on the CPU, and the page says which it used', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await page.waitForSelector('#backend-note', { timeout: 60_000 });
  assert.equal(await page.inputValue('#backend-choice'), 'auto');
  assert.equal(await page.textContent('#backend-status'), 'Scoring runs on the CPU.');
  assert.match(await page.textContent('#backend-note'), /^This browser's WebGPU adapter \(google swiftshader\) is a software one .* so scoring runs on the CPU\. Choose WebGPU to use it anyway\.$/);

  await page.selectOption('#backend-choice', 'webgpu');
  await page.waitForFunction(() => /runs on WebGPU/.test(document.querySelector('#backend-status')?.textContent));
  assert.match(await page.textContent('#backend-status'), /^Scoring runs on WebGPU \(google swiftshader\)\.$/);
  assert.equal(await page.locator('#backend-note').count(), 0, 'no excuse is shown when WebGPU is used');

  await loadToyEvents(page, 3000);
  await trainAndScore(page);
  assert.match(await page.textContent('#table-status'), /^Done: 3,000 rows scored on WebGPU\./);
  const onGpu = await downloadScores(page);

  // The same trained weights, every row scored again on the CPU.
  await page.selectOption('#backend-choice', 'cpu');
  await page.waitForFunction(() => /on the CPU, as chosen/.test(document.querySelector('#backend-status')?.textContent));
  await page.click('#table-rescore');
  await page.waitForFunction(() => /scored on the CPU/.test(document.querySelector('#table-status')?.textContent), null, { timeout: 60_000 });
  const onCpu = await downloadScores(page);

  assert.equal(onCpu.rows.length, 3000);
  assert.equal(onGpu.rows.length, onCpu.rows.length);
  let worst = 0;
  onGpu.rows.forEach((row, i) => {
    assert.deepEqual(row.slice(0, onGpu.at), onCpu.rows[i].slice(0, onCpu.at), `row ${i}: the original cells are the same`);
    const [g, c] = [onGpu.score(row), onCpu.score(onCpu.rows[i])];
    assert.ok(Number.isFinite(g) && Number.isFinite(c), `row ${i}: ${g} and ${c}`);
    worst = Math.max(worst, Math.abs(g - c) / Math.max(1, Math.abs(c)));
  });
  assert.ok(worst <= 1e-4, `largest relative difference between WebGPU and CPU scores: ${worst}`);
  assert.ok(new Set(onGpu.rows.map(onGpu.score)).size > 100, 'the scores differ from row to row');

  // WebGPU again: the test digits are scored there too.
  await page.selectOption('#backend-choice', 'webgpu');
  await page.waitForFunction(() => /runs on WebGPU/.test(document.querySelector('#backend-status')?.textContent));
  await page.click('#tab-digits');
  await page.fill('#epochs', '1');
  await page.press('#epochs', 'Tab');
  await page.click('#train');
  await page.waitForFunction(() => /^Finished/.test(document.querySelector('#status')?.textContent), null, { timeout: 180_000 });
  assert.match(await page.getAttribute('#roc-panel canvas', 'aria-label'), /\(test digits scored on WebGPU\)/);

  // Stage 2 scores its anomalies through the same seam: fine-tuned on WebGPU, then again (from the same
  // stage-1 weights, with the same seed) on the CPU, the two tables agree.
  await page.fill('#aa_epochs', '1');
  await page.press('#aa_epochs', 'Tab');
  const fineTune = async (on) => {
    await page.click('#fine-tune');
    await page.waitForFunction((on) => /^Finished/.test(document.querySelector('#status')?.textContent)
      && document.querySelector('#aa-summary')?.textContent.includes(`Every score here was computed on ${on}.`), on, { timeout: 180_000 });
    const summary = await page.textContent('#aa-summary');
    const rows = await page.$$eval('#aa-table tbody tr', (trs) => trs.map((tr) => [tr.querySelector('th').textContent,
      Number(tr.querySelector('.before').textContent), Number(tr.querySelector('.after').textContent)]));
    return { summary, rows };
  };
  const stage2OnGpu = await fineTune('WebGPU');
  await page.selectOption('#backend-choice', 'cpu');
  await page.waitForFunction(() => /on the CPU, as chosen/.test(document.querySelector('#backend-status')?.textContent));
  const stage2OnCpu = await fineTune('the CPU');
  assert.equal(stage2OnGpu.rows.length, stage2OnCpu.rows.length);
  stage2OnGpu.rows.forEach(([family, before, after], i) => {
    const [cpuFamily, cpuBefore, cpuAfter] = stage2OnCpu.rows[i];
    assert.equal(family, cpuFamily);
    // Scores equal to a relative 1e-4 can swap a near tie; the AUCs, shown to 3 decimals, agree within 0.002.
    assert.ok(Math.abs(before - cpuBefore) <= 0.002 && Math.abs(after - cpuAfter) <= 0.002,
      `${family}: WebGPU ${before} → ${after}, CPU ${cpuBefore} → ${cpuAfter}`);
  });
  // Its control, run after switching back to WebGPU: the summary names both backends.
  await page.selectOption('#backend-choice', 'webgpu');
  await page.waitForFunction(() => /runs on WebGPU/.test(document.querySelector('#backend-status')?.textContent));
  await page.click('#fine-tune-control');
  await page.waitForFunction(() => /^Finished/.test(document.querySelector('#status')?.textContent)
    && document.querySelector('#aa-summary')?.textContent.includes("own share"), null, { timeout: 180_000 });
  const withControl = await page.textContent('#aa-summary');
  assert.match(withControl, /Every score of the anomaly-aware run was computed on the CPU\. The control's scores after fine-tuning were computed on WebGPU\./);
  assert.deepEqual(problems, []);
  await context.close();
});

test('without a WebGPU adapter the page says so in a sentence and scores everything on the CPU', async () => {
  const browser = await launch({ webgpu: false });
  after(() => browser.close());
  const { page, context, problems } = await openPage(browser, app.server.url);
  await page.waitForSelector('#backend-note', { timeout: 60_000 });
  assert.match(await page.textContent('#backend-note'), /^This browser has WebGPU but offered no GPU adapter .*so scoring runs on the CPU, with the same scores\.$/);
  assert.equal(await page.textContent('#backend-status'), 'Scoring runs on the CPU.');

  await loadToyEvents(page, 2000);
  await trainAndScore(page);
  assert.match(await page.textContent('#table-status'), /^Done: 2,000 rows scored on the CPU\./);
  const scores = await downloadScores(page);
  assert.equal(scores.rows.length, 2000);
  assert.ok(scores.rows.every((row) => Number.isFinite(scores.score(row))), 'every row has a score');

  // Asking for WebGPU explicitly tries again, fails again, and still says why.
  await page.selectOption('#backend-choice', 'webgpu');
  await page.waitForFunction(() => /offered no GPU adapter/.test(document.querySelector('#backend-note')?.textContent ?? ''));
  assert.deepEqual(problems, []);
  await context.close();
});

test('a choice made before the worker listens is kept and reaches it', async () => {
  // Hold the worker's wasm back so the worker cannot listen yet, choose the CPU, then let it load.
  const context = await app.browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await context.route('**/worker_bg.wasm', async (route) => { await held; await route.continue(); });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.goto(app.server.url);
  await page.waitForSelector('#backend-choice');
  await page.selectOption('#backend-choice', 'cpu');
  release();
  await page.waitForFunction(() => document.querySelector('#backend-status')?.textContent === 'Scoring runs on the CPU, as chosen.', null, { timeout: 60_000 });
  assert.equal(await page.inputValue('#backend-choice'), 'cpu');
  assert.deepEqual(problems, []);
  await context.close();
});
