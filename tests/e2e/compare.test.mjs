// "Would a simple method do?": the classical methods beside the autoencoder on the toy dijet events,
// read from the page; a method that cannot run says why while the others run; Cancel keeps what was
// compared before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { openPage, withServedApp, loadToyEvents, artifacts, repoRoot, seriousA11yViolations } from './support.mjs';

const app = withServedApp();

/** The comparison table as {key: [cells…]} from the page. */
async function methodRows(page) {
  return page.$$eval('#cmp-table tbody tr', (rows) => Object.fromEntries(rows.map((r) => [
    r.dataset.method, [...r.querySelectorAll('td')].map((td) => td.textContent.trim()),
  ])));
}

test('every method on the toy dijet events, beside the autoencoder, with a verdict and explanations', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await loadToyEvents(page, 6000);
  await page.fill('#table_epochs', '3');
  await page.press('#table_epochs', 'Tab');
  await page.click('#table-train');
  await page.waitForSelector('#figure-auc', { timeout: 120_000 });

  for (const key of ['pca', 'iforest', 'knn', 'ecod', 'lof']) assert.equal(await page.isChecked(`#cmp-${key}`), true, `${key} is ticked`);
  // The training controls lead to the comparison, far down the page, and hand it the keyboard.
  await page.click('#to-compare');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'cmp-run');
  await page.click('#cmp-run');
  await page.waitForSelector('#cmp-verdict', { timeout: 120_000 });
  const rows = await methodRows(page);
  assert.deepEqual(Object.keys(rows), ['vae', 'pca', 'iforest', 'knn', 'ecod', 'lof']);
  const aucs = Object.fromEntries(Object.entries(rows).map(([k, cells]) => [k, Number(cells[0])]));
  for (const [key, auc] of Object.entries(aucs)) assert.ok(auc > 0.6 && auc <= 1, `${key} AUC ${auc}`);
  // 1/ε_B: a tenth below 100, whole numbers with separators above, "> n" when no background row passes.
  for (const [key, cells] of Object.entries(rows)) assert.match(cells[3], /^(> )?\d{1,3}(,\d{3})*$|^\d{1,2}\.\d$/, `${key} 1/ε_B ${cells[3]}`);
  // The autoencoder's AUC is the one its own panel shows.
  assert.equal(rows.vae[0], await page.textContent('#figure-auc'));
  // Fit and score times are shown for the baselines.
  assert.match(rows.iforest[4], /ms|s$/);
  // The verdict names the best AUC in the table.
  const best = Math.max(...Object.values(aucs)).toFixed(3);
  const verdict = await page.textContent('#cmp-verdict');
  assert.ok(verdict.includes(best), `${verdict} names the best AUC ${best}`);
  assert.match(await page.textContent('#cmp-table'), /Keeps \d of 5 components/);
  assert.match(await page.getAttribute('#cmp-roc-panel canvas', 'aria-label'), /Isolation Forest AUC \d\.\d{3}/);

  // Why the top rows scored high: ECOD's parts are tail scores of named features.
  await page.selectOption('#cmp-explain-method', 'ecod');
  assert.match(await page.textContent('#cmp-explain-meaning'), /tail score/);
  const firstParts = await page.$$eval('#cmp-explanations > ol.explained-rows > li:first-child .parts .part-name', (els) => els.map((e) => e.textContent));
  assert.ok(firstParts.length >= 1 && firstParts.length <= 5, `${firstParts}`);
  for (const name of firstParts) assert.match(name, /^(m_jj|m_j1|delta_m_j|tau21_j1|tau21_j2)$/);
  // The autoencoder's parts are its reconstruction error per feature.
  await page.selectOption('#cmp-explain-method', 'vae');
  assert.match(await page.textContent('#cmp-explain-meaning'), /reconstruction error, ½ \(x − x̂\)²/);
  assert.ok(await page.locator('#cmp-explanations > ol.explained-rows > li:first-child .parts li').count() >= 1);
  await page.selectOption('#cmp-explain-method', 'lof');
  assert.match(await page.textContent('#cmp-explanations'), /no per-feature explanation/);

  assert.deepEqual(await seriousA11yViolations(page), [], 'the comparison passes the accessibility audit');

  // The download: the file's columns, the autoencoder's score and rank, then each method's score and
  // (all but LOF) its top rows' features.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#cmp-download')]);
  fs.mkdirSync(artifacts, { recursive: true });
  const saved = path.join(artifacts, 'compared-scored.csv');
  await download.saveAs(saved);
  const lines = fs.readFileSync(saved, 'utf8').trimEnd().split('\n');
  const header = lines[0].split(',');
  assert.deepEqual(header.slice(-11), ['anomaly_score', 'rank', 'pca_score', 'pca_top_features', 'iforest_score', 'iforest_top_features',
    'knn_score', 'knn_top_features', 'ecod_score', 'ecod_top_features', 'lof_score']);
  assert.equal(lines.length, 6001, 'a header and every row');
  const column = (name) => lines.slice(1).map((l) => l.match(/("[^"]*"|[^,]*)(,|$)/g).map((c) => c.replace(/,$/, ''))[header.indexOf(name)]);
  const ecodTop = column('ecod_top_features').filter((c) => c !== '');
  assert.equal(ecodTop.length, 20, 'ECOD explains its 20 most anomalous rows');
  assert.match(ecodTop[0], /^"?(m_jj|m_j1|delta_m_j|tau21_j1|tau21_j2):\d+\.\d{3}(;(m_jj|m_j1|delta_m_j|tau21_j1|tau21_j2):\d+\.\d{3})*"?$/);
  const lofScores = column('lof_score').map(Number);
  assert.ok(lofScores.every((v) => Number.isFinite(v) && v > 0), 'every row has a LOF score');
  // The row the page names first for ECOD has ECOD's highest score in the file.
  const ecodScores = column('ecod_score').map(Number);
  await page.selectOption('#cmp-explain-method', 'ecod');
  const firstRow = Number((await page.textContent('#cmp-explanations > ol.explained-rows > li:first-child p')).match(/^Row (\d+)/)[1]);
  assert.equal(Math.max(...ecodScores), ecodScores[firstRow - 1]);

  // The model file carries the methods: the native scorer, given it and the same events, writes exactly
  // the file the page downloaded (the wasm worker's scores and explanations, bit for bit natively).
  const [modelDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
  const modelPath = path.join(artifacts, 'compared-model.safetensors');
  await modelDownload.saveAs(modelPath);
  const [sample] = await Promise.all([page.waitForEvent('download'), page.click('#download-sample')]);
  const samplePath = path.join(artifacts, 'compared-events.csv');
  await sample.saveAs(samplePath);
  const native = execFileSync(path.join(repoRoot, 'target/release/anomaly-score'), [modelPath, samplePath], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.ok(native.equals(fs.readFileSync(saved)), 'anomaly-score writes exactly what the page downloaded, every method included');
  // Loaded back on the page, the file says what it holds beside the autoencoder.
  await page.setInputFiles('#model-file', modelPath);
  await page.waitForSelector('#model-baselines');
  assert.match(await page.textContent('#model-baselines'), /\(PCA reconstruction error, Isolation Forest, kNN distance, ECOD, LOF\)\. Scoring with this model scores with them too/);
  // Scoring with it scores with every method it holds, fitted on these very rows and not fitted again:
  // the same figures as the comparison that was saved, and no fit time.
  await page.click('#score-with-model');
  await page.waitForFunction(() => /come from the model file, fitted on [\d,]+ rows of this file/.test(document.querySelector('#cmp-fitted-on')?.textContent ?? ''), null, { timeout: 120_000 });
  const fromFile = await methodRows(page);
  assert.deepEqual(Object.keys(fromFile), Object.keys(rows));
  for (const key of ['pca', 'iforest', 'knn', 'ecod', 'lof']) {
    assert.deepEqual(fromFile[key].slice(0, 4), rows[key].slice(0, 4), `${key}: the same figures of merit`);
    assert.equal(fromFile[key][4], '–', `${key} was not fitted again`);
  }
  // The autoencoder may score on another backend this time: the same to float rounding.
  assert.ok(Math.abs(Number(fromFile.vae[0]) - Number(rows.vae[0])) <= 0.001, `autoencoder AUC ${fromFile.vae[0]} against ${rows.vae[0]}`);

  // Cancel keeps the finished comparison.
  await page.click('#cmp-run');
  await page.click('#cmp-cancel');
  await page.waitForSelector('#cmp-problem');
  assert.match(await page.textContent('#cmp-problem'), /cancelled\. The last finished comparison is still shown\./);
  assert.deepEqual(Object.keys(await methodRows(page)), ['vae', 'pca', 'iforest', 'knn', 'ecod', 'lof']);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a method that cannot run says why in a sentence, and the others still run', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await loadToyEvents(page, 100);
  // With background rows only, about 60 rows train: k = 100 is more neighbours than there are.
  await page.fill('#cmp-knn-k', '100');
  await page.press('#cmp-knn-k', 'Tab');
  await page.uncheck('#cmp-lof');
  await page.click('#cmp-run');
  await page.waitForSelector('#cmp-verdict', { timeout: 60_000 });
  const rows = await methodRows(page);
  assert.deepEqual(Object.keys(rows), ['pca', 'iforest', 'knn', 'ecod'], 'no autoencoder was trained, LOF was not ticked');
  assert.match(rows.knn[0], /^Could not run: kNN needs k between 1 and \d+ \(one less than the training rows\); it was 100\.$/);
  for (const key of ['pca', 'iforest', 'ecod']) assert.match(rows[key][0], /^\d\.\d{3}$/, `${key} ran`);
  assert.match(await page.textContent('#compare-panel'), /Train and score the autoencoder first/);

  // The ticks and settings travel in the share link and come back when it is opened.
  await page.waitForFunction(() => location.hash.includes('table.cmp='));
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /table\.cmp=pca%2Ciforest%2Cknn%2Cecod|table\.cmp=pca,iforest,knn,ecod/);
  assert.match(hash, /table\.cmp\.knn=100/);
  const opened = await openPage(app.browser, `${app.server.url}${hash}`);
  await loadToyEvents(opened.page, 100);
  assert.equal(await opened.page.isChecked('#cmp-lof'), false);
  assert.equal(await opened.page.isChecked('#cmp-ecod'), true);
  assert.equal(await opened.page.inputValue('#cmp-knn-k'), '100');
  assert.deepEqual([...problems, ...opened.problems], []);
  await opened.context.close();
  await context.close();
});
