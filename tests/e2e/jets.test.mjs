// The jet images: a link opens the view with its model, κ, jets and seed; the study trains its four
// autoencoders in the worker (pause, step and resume land between chunks); the images, the AUC table,
// the ROC curves, the reconstructions and the complexity panel read out numbers; a hand-edited link with
// κ = 0 gets a sentence and the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openPage, withServedApp, artifacts, seriousA11yViolations } from './support.mjs';

const app = withServedApp();

const status = (page) => page.textContent('#jets-status');

test('a linked study trains both directions at two κ, pauses and steps, and shows every panel', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#view=jets&jets.model=dense&jets.kappa=0.1&jets.train=2000&jets.seed=2`);
  await page.waitForSelector('#jets-start');
  assert.equal(await page.getAttribute('#tab-jets', 'aria-selected'), 'true', 'the link opens the jet view');
  assert.equal(await page.inputValue('#jets-kappa'), '0.1');
  assert.equal(await page.inputValue('#jets-train'), '2000');
  assert.equal(await page.inputValue('#jets-seed'), '2');
  assert.ok(await page.isChecked('#jets-model-dense'));
  assert.equal(await page.textContent('#jets-plan'), '2,000 training and 2,000 test jets of each class; 4 autoencoders of 10 epochs each, one after the other.');

  await page.click('#jets-start');
  await page.waitForFunction(() => document.querySelector('#jets-status').textContent.startsWith('Model 1 of 4: trained on QCD jets, κ = 1'), null, { timeout: 60_000 });
  assert.match(await page.textContent('#jets-images-caption'), /^A QCD jet lights \d+ pixels on average and a top jet \d+/);
  assert.equal(await page.locator('#jets-images canvas.jet-image').count(), 6, 'one jet of each class and both averages at κ = 1 and 0.1');
  assert.match(await page.getAttribute('#jets-images canvas.jet-image >> nth=0', 'aria-label'), /^One QCD jet \(mass \d+ GeV\): \d+ lit pixels\.$/);
  assert.match(await page.textContent('#jets-steps'), /4\. flipped: heavier half right and on top: \d+ particles of a top jet/);
  await page.click('#jets-pause');
  await page.waitForFunction(() => document.querySelector('#jets-status').textContent.startsWith('Paused.'));
  const pausedAt = await status(page);
  await page.waitForTimeout(1_000);
  assert.equal(await status(page), pausedAt, 'nothing trains while paused');
  await page.click('#jets-step');
  await page.waitForFunction((before) => {
    const now = document.querySelector('#jets-status').textContent;
    return now.startsWith('Paused.') && now !== before;
  }, pausedAt, { timeout: 60_000 });
  await page.click('#jets-resume');
  await page.waitForFunction(() => document.querySelector('#jets-status').textContent.startsWith('The study is done'), null, { timeout: 600_000 });

  const rows = await page.$$eval('#jets-auc-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r[0]), ['1', '0.1']);
  const auc = rows.map((r) => r.slice(1).map(Number));
  for (const row of auc) for (const value of row) assert.ok(value >= 0 && value <= 1, `${rows}`);
  // The paper's headline, on the toy: at κ = 1 the QCD-trained model tags tops, the top-trained one fails.
  assert.ok(auc[0][0] > 0.8 && auc[0][1] < 0.4, `κ = 1: ${auc[0]}`);
  assert.ok(auc[1][2] > auc[0][2], `κ = 0.1 judges better on the weaker direction: ${rows}`);
  const verdict = await page.textContent('#jets-verdict');
  assert.match(verdict, /the inverted task fails\. Judged by the weaker direction, κ = 0\.1 does best/);

  assert.match(await page.textContent('#jets-roc-caption'), /^ROC curves at κ = 0\.1: trained on QCD jets, the other class is found with AUC 0\.\d{3}; trained on top jets/);
  assert.match(await page.textContent('#jets-reconstructions-caption'), /^The model trained on top jets, κ = 0\.1: mean reconstruction error [\d.]+ on its own class's test jets and [\d.]+ on the other class's/);
  assert.equal(await page.locator('#jets-reconstructions canvas.jet-image').count(), 4);
  assert.match(await page.textContent('#jets-complexity-caption'), /^400 test jets of each class, model trained on top jets, κ = 0\.1\. Correlation of the error with lit pixels: [+-]\d\.\d\d within top jets/);
  // The details follow the direction chosen.
  await page.selectOption('#jets-shown', '1');
  assert.match(await page.textContent('#jets-reconstructions-caption'), /^The model trained on top jets, κ = 1:/);
  assert.match(await page.textContent('#jets-roc-caption'), /^ROC curves at κ = 1:/);

  assert.deepEqual(await seriousA11yViolations(page), []);
  await page.screenshot({ path: path.join(artifacts, 'jets-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the phone layout overflows sideways by ${overflow} px`);
  await page.screenshot({ path: path.join(artifacts, 'jets-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('a jet link with κ = 0 gets a sentence, uses the defaults and the page still starts', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#view=jets&jets.kappa=0&jets.model=resnet`);
  await page.waitForSelector('#jets-start');
  const notice = await page.textContent('#jets-notice');
  assert.match(notice, /jets\.kappa must be above 0 and at most 2/);
  assert.match(notice, /jets\.model="resnet" is not a value/);
  assert.equal(await page.inputValue('#jets-kappa'), '0.1');
  assert.ok(await page.isChecked('#jets-model-dense'));
  await page.fill('#jets-seed', '0');
  await page.press('#jets-seed', 'Tab');
  assert.match(await page.textContent('#jets-notice'), /The seed must be a whole number from 1 to 1,000,000/);
  await page.waitForFunction(() => !document.querySelector('#jets-start').disabled, null, { timeout: 60_000 });
  assert.deepEqual(problems, []);
  await context.close();
});
