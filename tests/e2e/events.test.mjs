// Events as objects (AnomalyCLR): a link opens the view with its loss, augmentations, encoder, events and
// seed; the study trains the encoder and both scoring autoencoders in the worker (pause, step and resume
// land between chunks); the event displays, the similarity histograms, the AUC table, the ROC curves and
// the representation map read out numbers; a hand-edited link gets a sentence and the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openPage, withServedApp, artifacts, seriousA11yViolations } from './support.mjs';

const app = withServedApp();

const status = (page) => page.textContent('#events-status');

test('a linked study trains the encoder and both autoencoders, pauses and steps, and shows every panel', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#view=events&events.loss=clr&events.train=2000&events.seed=3`);
  await page.waitForSelector('#events-start');
  assert.equal(await page.getAttribute('#tab-events', 'aria-selected'), 'true', 'the link opens the Events view');
  assert.equal(await page.inputValue('#events-train'), '2000');
  assert.equal(await page.inputValue('#events-seed'), '3');
  assert.ok(await page.isChecked('#events-loss-clr'));
  assert.ok(await page.isChecked('#events-add') && await page.isChecked('#events-split'));
  assert.match(await page.textContent('#events-plan'), /^2,000 background events to learn from, 4 epochs \(32 steps of 256 events/);

  await page.click('#events-start');
  await page.waitForFunction(() => document.querySelector('#events-status').textContent.startsWith('Step 1 of 3: training the encoder'), null, { timeout: 60_000 });
  assert.equal(await page.locator('#events-displays canvas').count(), 8, 'an event, its three copies and an event of each signal');
  assert.match(await page.getAttribute('#events-displays canvas >> nth=0', 'aria-label'), /^An event \([^)]+\): .*GeV at η -?\d\.\d, φ -?\d\.\d/);
  assert.match(await page.textContent('#events-displays-caption'), /The encoder has [\d,]+ trainable numbers and learns from 2,000 events/);
  assert.match(await page.textContent('#events-similarity-caption'), /^Before training, 256 background events are about as similar/);
  await page.click('#events-pause');
  await page.waitForFunction(() => document.querySelector('#events-status').textContent.startsWith('Paused.'));
  const pausedAt = await status(page);
  await page.waitForTimeout(1_000);
  assert.equal(await status(page), pausedAt, 'nothing trains while paused');
  await page.click('#events-step');
  await page.waitForFunction(() => /after epoch \d/.test(document.querySelector('#events-similarity-caption').textContent), null, { timeout: 120_000 });
  await page.waitForFunction(() => document.querySelector('#events-status').textContent.startsWith('Paused.'), null, { timeout: 60_000 });
  await page.click('#events-resume');
  await page.waitForFunction(() => document.querySelector('#events-status').textContent.startsWith('The study is done'), null, { timeout: 600_000 });

  const similarity = await page.textContent('#events-similarity-caption');
  const means = similarity.match(/physical copy: (-?\d\.\d+) before training, (-?\d\.\d+) after epoch 4; to their anomalous copy: (-?\d\.\d+), then (-?\d\.\d+)\./);
  assert.ok(means, similarity);
  const [physicalAfter, anomalousAfter] = [means[2], means[4]].map(Number);
  assert.ok(physicalAfter > anomalousAfter + 0.2, `training pulls physical copies closer than anomalous ones: ${similarity}`);

  const rows = await page.$$eval('#events-auc-table tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r[0]), ['A → 4ℓ', 'LQ → bτ', 'h⁰ → ττ', 'h± → τν']);
  for (const row of rows) {
    const [aucRaw, aucClr, rejRaw, rejClr] = row.slice(1).map(Number);
    for (const auc of [aucRaw, aucClr]) assert.ok(auc >= 0 && auc <= 1, `${row}`);
    for (const rejection of [rejRaw, rejClr]) assert.ok(rejection >= 1, `${row}`);
  }
  assert.ok(Number(rows[0][1]) > 0.7, `the raw autoencoder finds A → 4ℓ: ${rows[0]}`);
  assert.match(await page.textContent('#events-verdict'), /^The autoencoder on the representations has the higher AUC on \d of 4 signals/);
  assert.match(await page.textContent('#events-roc-caption'), /^ROC curves for A → 4ℓ: the autoencoder on raw objects \(solid blue, AUC 0\.\d{3}\)/);
  await page.click('label[for="events-roc-hpm_taunu"]');
  assert.match(await page.textContent('#events-roc-caption'), /^ROC curves for h± → τν/);
  assert.match(await page.textContent('#events-map-caption'), /^150 test events of the background \(grey dots\)/);

  assert.deepEqual(await seriousA11yViolations(page), []);
  await page.screenshot({ path: path.join(artifacts, 'events-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the phone layout overflows sideways by ${overflow} px`);
  await page.screenshot({ path: path.join(artifacts, 'events-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('an Events link with every anomalous copy off, too few events and a wild temperature gets a sentence, uses the defaults and still starts', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#view=events&events.add=off&events.split=off&events.train=10&events.loss=simclr&events.temp=5`);
  await page.waitForSelector('#events-start');
  const notice = await page.textContent('#events-notice');
  assert.match(notice, /events\.train must be between 2000 and 20000/);
  assert.match(notice, /events\.loss="simclr" is not a value/);
  assert.match(notice, /events\.add, events\.split and events\.scale are all off/);
  assert.match(notice, /events\.temp must be between 0\.02 and 1/);
  assert.equal(await page.inputValue('#events-train'), '6000');
  assert.equal(await page.inputValue('#events-temp'), '0.1');
  // A temperature typed out of range is refused with a sentence; the box shows the one kept.
  await page.fill('#events-temp', '7');
  await page.press('#events-temp', 'Tab');
  await page.waitForFunction(() => document.querySelector('#events-notice').textContent.includes('The temperature must be a number from 0.02 to 1'));
  assert.equal(await page.inputValue('#events-temp'), '0.1');
  assert.ok(!(await page.isChecked('#events-scale')), 'scaling momenta is off by default');
  assert.ok(await page.isChecked('#events-add'), 'adding objects is back on');
  assert.ok(!(await page.isChecked('#events-split')));
  // Unticking the last anomalous copy by hand is refused with a sentence, and nothing is lost.
  await page.click('#events-add');
  await page.click('#events-start');
  await page.waitForFunction(() => document.querySelector('#events-notice').textContent.includes('are all off'));
  assert.match(await status(page), /^Press the button/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the toy's events download as a CSV that opens again as the visitor's own file; a table of plain features and a file of too few events each get a sentence and the file read before stays", async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#view=events&events.train=2000&events.seed=5`);
  await page.waitForSelector('#events-start');
  assert.match(await page.textContent('#events-file-text'), /^Your own file: a CSV with one row an event/);
  assert.ok(await page.isDisabled('#events-source-file'), 'no file yet');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#events-download-toy')]);
  assert.equal(download.suggestedFilename(), 'toy-object-events-seed5-7000.csv');
  const toyPath = path.join(artifacts, 'events-toy.csv');
  await download.saveAs(toyPath);
  const csv = fs.readFileSync(toyPath, 'utf8');
  const header = csv.slice(0, csv.indexOf('\n')).split(',');
  for (const column of ['met_pt', 'met_phi', 'e1_pt', 'mu4_phi', 'j10_eta', 'is_signal', 'process']) assert.ok(header.includes(column), `${column} in ${header}`);
  assert.equal(csv.trim().split('\n').length, 7001, 'a header and 2,000 + 1,000 background and 4 × 1,000 signal events');

  await page.setInputFiles('#events-file', toyPath);
  await page.waitForFunction(() => document.querySelector('#events-file-text').textContent.startsWith('"events-toy.csv"'), null, { timeout: 60_000 });
  assert.match(await page.textContent('#events-file-text'), /^"events-toy\.csv": 3,000 background and 4,000 signal events \(/);
  assert.ok(await page.isChecked('#events-source-file'), 'the file is chosen once read');
  assert.match(await page.textContent('#events-plan'), /half your file's background/);

  // Plain features, then too few events: each refused with its sentence, and the toy's file stays chosen.
  await page.setInputFiles('#events-file', { name: 'features.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b,is_signal\n1,2,0\n3,4,1\n') });
  await page.waitForFunction(() => !document.querySelector('#events-notice').hidden, null, { timeout: 30_000 });
  assert.match(await page.textContent('#events-notice'), /none of the object columns the Events view reads/);
  const few = header.join(',') + '\n' + csv.trim().split('\n').slice(1, 101).join('\n') + '\n';
  await page.setInputFiles('#events-file', { name: 'few.csv', mimeType: 'text/csv', buffer: Buffer.from(few) });
  await page.waitForFunction(() => /at least \d+ background events/.test(document.querySelector('#events-notice').textContent), null, { timeout: 30_000 });
  assert.match(await page.textContent('#events-file-text'), /^"events-toy\.csv"/, 'the good file read before stays');

  await page.click('#events-start');
  await page.waitForFunction(() => document.querySelector('#events-status').textContent.startsWith('The study is done'), null, { timeout: 600_000 });
  const rows = await page.$$eval('#events-auc-table tbody tr', (trs) => trs.map((tr) => tr.children[0].textContent));
  assert.equal(rows.length, 4, `one row per signal kind the process column names: ${rows}`);
  const verdict = await page.textContent('#events-verdict');
  assert.match(verdict, /^The autoencoder on the representations has the higher AUC on \d of 4 signals/);
  assert.doesNotMatch(verdict, /paper/, 'a visitor\'s file is not compared with the paper\'s toy');
  assert.deepEqual(problems, []);
  await context.close();
});
