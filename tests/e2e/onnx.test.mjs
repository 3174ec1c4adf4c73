// The page's ONNX export under each scoring choice: the KL term added or not, a missing value dropped
// (the row stays unscored) or imputed. onnx.checker accepts each file and ONNX Runtime scores every row
// as the page's download does (tests/onnx/check_onnx.py, in the Makefile's own virtual environment); the
// Dask example scores the same rows in 8 partitions as the native scorer does (tests/onnx/check_dask.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { openPage, withServedApp, ready, artifacts, repoRoot } from './support.mjs';

const app = withServedApp();

/** 400 rows of three features and a label; feature c is missing ("NA") in every 37th row, and b holds a
 *  few values a log cannot take, so a log on it would make those rows missing too. */
function events() {
  let text = 'a,b,c,label\n';
  for (let i = 0; i < 400; i++) {
    const signal = i % 20 === 0;
    const a = Math.sin(i * 0.7) * (signal ? 4 : 1);
    const b = 1 + Math.abs(Math.cos(i * 0.3)) * 10 + (signal ? 30 : 0);
    const c = i % 37 === 5 ? 'NA' : (Math.cos(i * 1.3) + (signal ? 3 : 0)).toFixed(4);
    text += `${a.toFixed(4)},${b.toFixed(4)},${c},${signal ? 1 : 0}\n`;
  }
  return Buffer.from(text);
}

test('ONNX Runtime scores every row as the page does, with and without the KL term, dropping or imputing', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await ready(page);
  await page.click('#tab-table');
  const input = events();
  const inputPath = path.join(artifacts, 'onnx-events.csv');
  fs.mkdirSync(artifacts, { recursive: true });
  fs.writeFileSync(inputPath, input);
  await page.setInputFiles('#table-file', { name: 'onnx-events.csv', mimeType: 'text/csv', buffer: input });
  await page.waitForSelector('#file-overview');
  await page.fill('#table_epochs', '2');
  await page.press('#table_epochs', 'Tab');
  for (const [kl, missing, unscored] of [[true, 'drop', 11], [false, 'impute', 0]]) {
    await page.setChecked('#table_score_with_kl', kl);
    await page.check(`#missing-${missing}`);
    await page.click('#table-train');
    await page.waitForFunction(() => /^Done/.test(document.querySelector('#table-status')?.textContent ?? ''), null, { timeout: 120_000 });
    const save = async (button, name) => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
      const file = path.join(artifacts, name);
      await download.saveAs(file);
      return file;
    };
    const scored = await save('#download-scores', `onnx-scored-${missing}.csv`);
    const onnx = await save('#download-onnx', `onnx-model-${missing}.onnx`);
    const out = execFileSync(path.join(repoRoot, '.cache/venv-onnx/bin/python'), [path.join(repoRoot, 'tests/onnx/check_onnx.py'), onnx, inputPath, scored]).toString();
    assert.match(out, new RegExp(`400 rows \\(${unscored} unscored\\) as the page scores them`), `KL ${kl}, ${missing}: ${out}`);
    // The native program writes the same ONNX file from the saved model, byte for byte.
    const model = await save('#download-model', `onnx-model-${missing}.safetensors`);
    const native = execFileSync(path.join(repoRoot, 'target/release/anomaly-score'), ['--onnx', model], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(native.equals(fs.readFileSync(onnx)), 'anomaly-score --onnx writes the page\'s ONNX file');
    // Scoring at scale: the Dask example on 8 partitions gives every row the native scorer's score.
    const dask = execFileSync(path.join(repoRoot, '.cache/venv-onnx/bin/python'), [path.join(repoRoot, 'tests/onnx/check_dask.py'), onnx, model, inputPath,
      path.join(artifacts, `dask-${missing}`), path.join(repoRoot, 'target/release/anomaly-score')]).toString();
    assert.match(dask, new RegExp(`400 rows in 8 partitions on 2 worker processes as anomaly-score scores them \\(${unscored} unscored\\)`), dask);
  }
  assert.deepEqual(problems, []);
  await context.close();
});
