// A whole digits session in one file: trained, fine-tuned with Anomaly Awareness and its control, saved;
// opened in a fresh page, it shows the same AUC and the same fine-tuning table without training. A file
// that is not a session gets one sentence, and the page keeps what it showed. The network on screen
// downloads as ONNX: the native program writes the same file from the session, and ONNX Runtime scores as
// NumPy does from the session's weights (tests/onnx/check_digits_onnx.py), with and without the KL term.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { openPage, withServedApp, ready, artifacts, repoRoot } from './support.mjs';

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
  // The network on screen (the control's, the last fine-tuning) as ONNX.
  const onnx = await saveDownload(fresh.page, '#download-digits-onnx', 'digits-control.onnx');
  assert.equal(path.basename(onnx), 'digits-control.onnx');
  checkOnnx(onnx, file, 'control');
  assert.deepEqual(fresh.problems, []);
  assert.deepEqual(problems, []);
  await fresh.context.close();
});

async function saveDownload(page, button, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  const saved = path.join(artifacts, name);
  await download.saveAs(saved);
  return saved;
}

/** The native program writes the same ONNX file from the session, and ONNX Runtime agrees with NumPy. */
function checkOnnx(onnx, session, network) {
  const native = execFileSync(path.join(repoRoot, 'target/release/anomaly-score'), ['--onnx', session, network], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  assert.ok(native.equals(fs.readFileSync(onnx)), `anomaly-score --onnx SESSION ${network} writes the page's file`);
  const out = execFileSync(path.join(repoRoot, '.cache/venv-onnx/bin/python'), [path.join(repoRoot, 'tests/onnx/check_digits_onnx.py'), onnx, session, network]).toString();
  assert.match(out, new RegExp(`the ${network} network scores 2000 pictures as NumPy does`), out);
  return out;
}

test('with the KL term in the score, the digit network downloads as ONNX that adds it too', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#normal=3&epochs=1&kl=1`);
  await ready(page);
  await page.click('#train');
  await finished(page);
  const session = await saveDownload(page, '#save-session', 'digits-kl-session.safetensors');
  const onnx = await saveDownload(page, '#download-digits-onnx', 'digits-kl.onnx');
  assert.match(checkOnnx(onnx, session, 'stage1'), /KL term added/);
  assert.deepEqual(problems, []);
  await context.close();
});
