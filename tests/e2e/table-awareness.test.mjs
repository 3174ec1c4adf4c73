// Anomaly Awareness on a table: the toy with four kinds of signal, a kind shown, the others judged unseen,
// the control beside it; bad choices get a sentence and leave the model as it was; the model file records
// the fine-tuning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openPage, withServedApp, artifacts, seriousA11yViolations } from './support.mjs';

const app = withServedApp();

test('show kind A of the several-signals toy, judge B–D unseen, beside the control', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await page.waitForFunction(() => /\S/.test(document.querySelector('#status')?.textContent ?? '')
    && !document.querySelector('#status').textContent.startsWith('Loading'), null, { timeout: 60_000 });
  await page.click('#tab-table');
  await page.fill('#table_sim_rows', '12000');
  await page.press('#table_sim_rows', 'Tab');
  await page.fill('#table_sim_fraction', '0.05');
  await page.press('#table_sim_fraction', 'Tab');
  await page.check('#table_sim_signals');
  await page.click('#simulate');
  await page.waitForSelector('#toy-label');
  assert.match(page.url(), /sim\.toy=signals/, 'the link remembers the toy');
  await page.fill('#table_epochs', '4');
  await page.press('#table_epochs', 'Tab');
  assert.equal(await page.isVisible('#aa-table-panel'), false, 'nothing to fine-tune before training');
  await page.click('#table-train');
  await page.waitForSelector('#figure-auc', { timeout: 180_000 });

  // The kind column is found by its name; the first kind is shown, the others stay unseen.
  await page.waitForSelector('#aa-kind-D');
  assert.equal(await page.$eval('#aa-kind-column', (s) => s.selectedOptions[0].textContent), 'signal_type');
  assert.deepEqual(await page.$$eval('.aa-kinds input', (inputs) => inputs.map((i) => [i.id, i.checked])),
    [['aa-kind-A', true], ['aa-kind-B', false], ['aa-kind-C', false], ['aa-kind-D', false]]);

  // Bad choices: every kind shown, then fewer labelled rows than shown kinds. The model stays as it was.
  const aucBefore = await page.textContent('#figure-auc');
  for (const kind of ['B', 'C', 'D']) await page.check(`#aa-kind-${kind}`);
  await page.click('#aa-table-run');
  await page.waitForSelector('#aa-table-problem');
  assert.match(await page.textContent('#aa-table-problem'), /^The shown kinds cover every anomaly, so no kind is left unseen/);
  for (const kind of ['C', 'D']) await page.uncheck(`#aa-kind-${kind}`);
  await page.fill('#aa-labelled', '1');
  await page.press('#aa-labelled', 'Tab');
  await page.click('#aa-table-run');
  await page.waitForFunction(() => /cannot show 2 kinds/.test(document.querySelector('#aa-table-problem')?.textContent ?? ''));
  assert.equal(await page.textContent('#figure-auc'), aucBefore, 'the results are untouched');
  for (const kind of ['A', 'B']) await page.uncheck(`#aa-kind-${kind}`);
  assert.equal(await page.isDisabled('#aa-table-run'), true, 'with no kind ticked there is nothing to show');

  await page.check('#aa-kind-A');
  await page.fill('#aa-labelled', '40');
  await page.press('#aa-labelled', 'Tab');
  await page.click('#aa-table-run');
  await page.waitForSelector('#aa-table-sentence', { timeout: 180_000 });
  assert.match(await page.textContent('#aa-table-sentence'),
    /^On the unseen kinds the AUC changed by [+-]\d\.\d{3} on average with 40 labelled rows and by [+-]\d\.\d{3} in the control run without them: their own share is [+-]\d\.\d{3}/);
  const rows = await page.$$eval('#aa-table-kinds tbody tr', (trs) => trs.map((tr) => [tr.dataset.kind, ...[...tr.querySelectorAll('th, td')].map((c) => c.textContent)]));
  assert.deepEqual(rows.map((r) => r[1]), ['A (shown)', 'B (unseen)', 'C (unseen)', 'D (unseen)']);
  // A's 40 labelled rows are not judged: 150 of each kind in 12,000 rows at 5 %.
  assert.deepEqual(rows.map((r) => r[2]), ['110', '150', '150', '150']);
  for (const r of rows) for (const auc of r.slice(3, 6)) assert.ok(Number(auc) > 0.4 && Number(auc) <= 1, `${r[0]} AUC ${auc}`);
  // The fine-tuned model is kept and every row is scored again with it.
  await page.waitForFunction(() => /^Done: 12,000 rows scored/.test(document.querySelector('#table-status')?.textContent ?? ''), null, { timeout: 60_000 });
  assert.deepEqual(await seriousA11yViolations(page), [], 'the panel passes the accessibility audit');

  // The model file says it was fine-tuned, and with what.
  const [modelDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
  fs.mkdirSync(artifacts, { recursive: true });
  const modelPath = path.join(artifacts, 'fine-tuned-model.safetensors');
  await modelDownload.saveAs(modelPath);
  const bytes = fs.readFileSync(modelPath);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8'));
  const fineTuned = JSON.parse(header.__metadata__.fine_tuned);
  assert.equal(fineTuned.length, 1);
  assert.deepEqual([fineTuned[0].shown, fineTuned[0].labelled_rows, fineTuned[0].epochs], [['A'], 40, 4]);

  await page.locator('#aa-table-panel').screenshot({ path: path.join(artifacts, 'table-awareness.png') });

  // The link carries stage 2's choices, the kinds as positions (a kind's name is the visitor's data),
  // and a fresh tab that loads the same events gets them back.
  await page.uncheck('#aa-kind-A');
  await page.check('#aa-kind-B');
  await page.fill('#aa-labelled', '30');
  await page.press('#aa-labelled', 'Tab');
  await page.waitForFunction(() => location.hash.includes('table.aa.shown=1'));
  const link = page.url();
  assert.match(link, /table\.aa\.col=7&table\.aa\.shown=1&table\.aa\.labelled=30&/);
  assert.doesNotMatch(link, /table\.aa\.shown=B/);
  assert.deepEqual(problems, []);
  await context.close();

  const fresh = await openPage(app.browser, link);
  await fresh.page.waitForFunction(() => /\S/.test(document.querySelector('#status')?.textContent ?? '')
    && !document.querySelector('#status').textContent.startsWith('Loading'), null, { timeout: 60_000 });
  assert.equal(await fresh.page.isChecked('#table_sim_signals'), true, 'the toy is the one the link names');
  await fresh.page.click('#simulate');
  await fresh.page.waitForSelector('#link-restored');
  await fresh.page.click('#table-train');
  await fresh.page.waitForSelector('#aa-kind-D', { timeout: 180_000 });
  assert.deepEqual(await fresh.page.$$eval('.aa-kinds input', (inputs) => inputs.filter((i) => i.checked).map((i) => i.id)), ['aa-kind-B']);
  assert.equal(await fresh.page.inputValue('#aa-labelled'), '30');
  assert.deepEqual(fresh.problems, []);
  await fresh.context.close();
});
