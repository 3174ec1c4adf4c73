// A trained model travels as a file: saved from the page, loaded back in a fresh tab, it scores the same
// events to the same file byte for byte; a file that is not a model, or a table without the model's
// columns, gets a sentence and nothing is lost (a finished run stays finished).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openPage, withServedApp, artifacts, loadToyEvents } from './support.mjs';

const app = withServedApp();

async function done(page) {
  await page.waitForFunction(() => /^Done/.test(document.querySelector('#table-status')?.textContent), null, { timeout: 120_000 });
}

async function save(page, button, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const file = path.join(artifacts, name);
  await download.saveAs(file);
  return file;
}

test('a saved model, loaded in a fresh tab, scores the same events to the same file', async () => {
  const first = await openPage(app.browser, app.server.url);
  await loadToyEvents(first.page, 3000);
  await first.page.fill('#table_epochs', '2');
  await first.page.press('#table_epochs', 'Tab');
  await first.page.click('#table-train');
  await done(first.page);
  const auc = await first.page.textContent('#figure-auc');
  const scored = fs.readFileSync(await save(first.page, '#download-scores', 'trained-scored.csv'));
  const modelPath = await save(first.page, '#download-model', 'toy-model.safetensors');
  assert.deepEqual(first.problems, []);
  await first.context.close();

  const second = await openPage(app.browser, app.server.url);
  const { page } = second;
  await loadToyEvents(page, 3000); // the same seed: the same file
  await page.setInputFiles('#model-file', modelPath);
  await page.waitForSelector('#model-summary');
  assert.match(await page.textContent('#model-summary'), /^toy-model\.safetensors: a VAE 5-\d+-\d+ trained for 2 epochs; 5 features: m_jj, m_j1, delta_m_j, tau21_j1, tau21_j2\.$/);
  await page.click('#score-with-model');
  await done(page);
  assert.match(await page.textContent('#table-trained-on'), /^Scored with the saved model, not trained here/);
  assert.equal(await page.textContent('#figure-auc'), auc, 'the same AUC');
  const again = fs.readFileSync(await save(page, '#download-scores', 'loaded-scored.csv'));
  assert.ok(again.equals(scored), 'the scored file is the same byte for byte');

  // Not a model: a sentence, and the model loaded before stays.
  await page.setInputFiles('#model-file', { name: 'events.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n') });
  await page.waitForSelector('#model-problem');
  assert.match(await page.textContent('#model-problem'), /^"events\.csv" is not a model this page can use: this is not a safetensors file/);
  assert.match(await page.textContent('#model-summary'), /^toy-model\.safetensors/);

  // A table without the model's columns: told which one is missing; its own results stay.
  await page.setInputFiles('#table-file', { name: 'other.csv', mimeType: 'text/csv', buffer: Buffer.from('x,y,label\n' + Array.from({ length: 300 }, (_, i) => `${i},${i % 7},${i % 2}`).join('\n') + '\n') });
  await page.waitForFunction(() => /other\.csv/.test(document.querySelector('#file-title')?.textContent ?? ''));
  await page.click('#score-with-model');
  await page.waitForSelector('#table-notice');
  assert.match(await page.textContent('#table-notice'), /^This file has no column named "m_jj", which the model was trained on/);

  // A finished run stays finished when a model that does not fit is refused: still done, with its
  // results, downloads and "Score again", and Train starts afresh rather than "Resume".
  await page.fill('#table_epochs', '1');
  await page.press('#table_epochs', 'Tab');
  await page.click('#table-train');
  await done(page);
  assert.equal(await page.$('#table-notice'), null, 'training cleared the sentence about the model');
  const ownAuc = await page.textContent('#figure-auc');
  await page.click('#score-with-model');
  await page.waitForFunction(() => /no column named "m_jj"/.test(document.querySelector('#table-notice')?.textContent ?? ''));
  assert.match(await page.textContent('#table-status'), /^Done/);
  assert.doesNotMatch(await page.textContent('#table-train'), /Resume/);
  assert.equal(await page.textContent('#figure-auc'), ownAuc);
  assert.equal(await page.isEnabled('#download-scores'), true);
  assert.equal(await page.isEnabled('#download-model'), true);
  assert.equal(await page.isVisible('#table-rescore'), true);
  assert.deepEqual(second.problems, []);
  await second.context.close();
});
