// A whole digits session in one file: trained, fine-tuned with Anomaly Awareness and its control, saved;
// opened in a fresh page, it shows the same AUC and the same fine-tuning table without training. A file
// that is not a session gets one sentence, and the page keeps what it showed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openPage, withServedApp, ready, artifacts } from './support.mjs';

const app = withServedApp();
const link = '#normal=0,1&epochs=1&aa.shown=blobs&aa.labelled=20&aa.epochs=1';

async function finished(page) {
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Finished'), null, { timeout: 120_000 });
}

/** What the page shows of a run: the AUC, the per-digit table and the fine-tuning table. */
async function shown(page) {
  return {
    auc: await page.textContent('#auc-value'),
    digits: await page.$$eval('#auc-table tbody tr', (rows) => rows.map((r) => r.textContent)),
    awareness: await page.$$eval('#aa-table tbody tr', (rows) => rows.map((r) => r.textContent)),
  };
}

test('a saved session opens in a fresh page with the same results, without training', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}${link}`);
  await ready(page);
  assert.equal(await page.isDisabled('#save-session'), true, 'nothing to save before a run');
  await page.click('#train');
  await finished(page);
  await page.click('#fine-tune');
  await page.waitForFunction(() => document.querySelector('#aa-summary')?.textContent.includes('Mean AUC'), null, { timeout: 120_000 });
  await finished(page);
  await page.click('#fine-tune-control');
  await page.waitForFunction(() => /control/i.test(document.querySelector('#aa-table thead')?.textContent ?? ''), null, { timeout: 120_000 });
  await finished(page);
  const before = await shown(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-session')]);
  assert.equal(download.suggestedFilename(), 'digits-normal-01-session.safetensors');
  const file = path.join(artifacts, 'digits-session.safetensors');
  await download.saveAs(file);
  await context.close();

  // A class opens it: default settings in the form until the file says otherwise.
  const fresh = await openPage(app.browser, app.server.url);
  await ready(fresh.page);
  await fresh.page.setInputFiles('#open-session', file);
  await finished(fresh.page);
  await fresh.page.waitForFunction(() => document.querySelector('#aa-table tbody tr'));
  assert.match(await fresh.page.textContent('#session-opened'), /^Opened "digits-session\.safetensors": the trained network, with its Anomaly Awareness fine-tuning, as it was saved; nothing was trained here\./);
  assert.deepEqual(await shown(fresh.page), before, 'the same AUC, per-digit table and fine-tuning table');
  // The form took the session's settings, and the address bar links to them.
  assert.deepEqual(await fresh.page.$$eval('.digit-toggle:checked', (boxes) => boxes.map((b) => b.id)), ['normal-0', 'normal-1']);
  assert.match(await fresh.page.evaluate(() => location.hash), /normal=0,1&/);
  await fresh.page.screenshot({ path: path.join(artifacts, 'session-opened.png'), fullPage: true });

  // Files that are not sessions: one sentence each, and what the page showed stays.
  const notSession = path.join(artifacts, 'not-a-session.safetensors');
  fs.writeFileSync(notSession, 'these bytes are not a safetensors file');
  const truncated = path.join(artifacts, 'truncated-session.safetensors');
  fs.writeFileSync(truncated, fs.readFileSync(file).subarray(0, 5000));
  for (const [bad, why] of [[notSession, /this is not a safetensors file/], [truncated, /not a safetensors file|damaged/]]) {
    await fresh.page.setInputFiles('#open-session', bad);
    await fresh.page.waitForSelector('#notice');
    const notice = await fresh.page.textContent('#notice');
    assert.match(notice, new RegExp(`^"${path.basename(bad).replace('.', '\\.')}" could not be opened, so nothing was changed: `));
    assert.match(notice, why);
    assert.deepEqual(await shown(fresh.page), before);
    assert.match(await fresh.page.textContent('#status'), /^Finished/);
  }
  assert.deepEqual(fresh.problems, []);
  assert.deepEqual(problems, []);
  await fresh.context.close();
});
