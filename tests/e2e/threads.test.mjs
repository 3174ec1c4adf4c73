// Every core (README, "Every core"): a cross-origin isolated page runs the threaded worker on all the machine's
// threads and trains the same model as the single-threaded build for the same seed, and its classical methods
// give the same scores; a page served without the
// isolation headers runs the single-threaded build and says why; the service worker makes the next load isolated
// on a host that cannot set headers; the thread choice travels in links; a threaded build that cannot start
// falls back to the single-threaded one with a sentence.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { serve, launch, openPage, distDir, loadToyEvents, offlineCopyKept, ready, artifacts } from './support.mjs';

const servers = {};
let browser;
before(async () => {
  servers.isolated = await serve(distDir, { isolated: true });
  servers.plain = await serve(distDir);
  servers.broken = await serve(distDir, { isolated: true, override: (p) => (p.startsWith('/threads/') ? { status: 404 } : null) });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  for (const server of Object.values(servers)) await server.close();
});

const threadsSentence = (page) => page.textContent('#threads-status');

/** Trains the table VAE on the seeded toy events and returns the page's AUC and the download's scores. */
async function trainToy(page, name) {
  await loadToyEvents(page, 6000);
  await page.fill('#table_epochs', '3');
  await page.press('#table_epochs', 'Tab');
  await page.click('#table-train');
  await page.waitForSelector('#figure-auc', { timeout: 180_000 });
  const auc = await page.textContent('#figure-auc');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-scores')]);
  const saved = path.join(artifacts, `threads-${name}.csv`);
  await download.saveAs(saved);
  const lines = fs.readFileSync(saved, 'utf8').trim().split(/\r?\n/);
  const column = lines[0].split(',').indexOf('anomaly_score');
  assert.ok(column >= 0, 'the download has a score column');
  return { auc, scores: lines.slice(1).map((line) => Number(line.split(',')[column])) };
}

/** Runs every classical method beside the trained model; returns the table's AUC cells and each slow
 * method's scores from the comparison's download (the methods whose rows are split over the threads). */
async function compareToy(page, name) {
  await page.click('#to-compare');
  await page.click('#cmp-run');
  await page.waitForSelector('#cmp-verdict', { timeout: 180_000 });
  const aucs = await page.$$eval('#cmp-table tbody tr', (rows) => rows.map((r) => `${r.dataset.method} ${r.querySelector('td').textContent.trim()}`));
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#cmp-download')]);
  const saved = path.join(artifacts, `threads-compared-${name}.csv`);
  await download.saveAs(saved);
  const lines = fs.readFileSync(saved, 'utf8').trimEnd().split(/\r?\n/);
  const header = lines[0].split(',');
  const scores = {};
  for (const key of ['iforest', 'knn', 'lof']) {
    const column = header.indexOf(`${key}_score`);
    assert.ok(column >= 0, `the download has ${key}_score`);
    // The lists of top features are joined with ';', so a plain split by commas finds the columns.
    scores[key] = lines.slice(1).map((line) => line.split(',')[column]);
  }
  return { aucs, scores };
}

test('isolated, the threaded build trains on every thread to the single-threaded build\'s model', async () => {
  const threaded = await openPage(browser, servers.isolated.url);
  assert.equal(await threaded.page.evaluate(() => crossOriginIsolated), true);
  await threaded.page.waitForFunction(() => /use all \d+ threads/.test(document.querySelector('#threads-status')?.textContent ?? ''));
  await ready(threaded.page); // the threaded worker finds the site's files from its own folder
  const cores = await threaded.page.evaluate(() => navigator.hardwareConcurrency);
  assert.match(await threadsSentence(threaded.page), new RegExp(`use all ${cores} threads of this device \\(the threaded build`));
  await threaded.page.locator('.compute-bar').screenshot({ path: path.join(artifacts, 'threads-bar.png') });
  const withThreads = await trainToy(threaded.page, 'threaded');
  const comparedWithThreads = await compareToy(threaded.page, 'threaded');
  assert.deepEqual(threaded.problems, []);

  const single = await openPage(browser, servers.plain.url, undefined, { serviceWorkers: 'block' });
  assert.equal(await single.page.evaluate(() => crossOriginIsolated), false);
  await single.page.waitForSelector('#threads-status');
  assert.match(await threadsSentence(single.page),
    /^Training and scoring use one thread \(the single-threaded build\): this host does not make the page cross-origin isolated/);
  assert.equal(await single.page.isDisabled('#threads-choice'), true, 'no thread choice without threads');
  const withOne = await trainToy(single.page, 'single');
  const comparedWithOne = await compareToy(single.page, 'single');
  assert.deepEqual(single.problems, []);

  // Same seed, same model: the AUC to three decimals, every score to a relative 1e-5.
  assert.equal(withThreads.auc, withOne.auc);
  assert.equal(withThreads.scores.length, withOne.scores.length);
  let worst = 0;
  withThreads.scores.forEach((score, i) => {
    worst = Math.max(worst, Math.abs(score - withOne.scores[i]) / Math.max(Math.abs(withOne.scores[i]), 1e-3));
  });
  assert.ok(worst <= 1e-5, `largest relative score difference ${worst}`);
  console.log(`threaded against single-threaded build: largest relative score difference ${worst.toExponential(2)}, AUC ${withOne.auc}`);
  // The classical methods split rows, never sums: the same scores to the last digit written. (The table's
  // first row is the trained model, whose AUC may differ in the last bits, as above.)
  assert.deepEqual(comparedWithThreads.aucs.slice(1), comparedWithOne.aucs.slice(1));
  assert.deepEqual(comparedWithThreads.scores, comparedWithOne.scores);
  await threaded.context.close();
  await single.context.close();
});

test('the thread choice is used, said and kept in the link; a hand-edited count gets a sentence', async () => {
  const { page, context, problems } = await openPage(browser, `${servers.isolated.url}#v=1&threads=1`);
  await page.waitForFunction(() => /use 1 of \d+ threads, as chosen/.test(document.querySelector('#threads-status')?.textContent ?? ''));
  assert.equal(await page.inputValue('#threads-choice'), '1');
  await page.selectOption('#threads-choice', 'auto');
  await page.waitForFunction(() => /use all \d+ threads/.test(document.querySelector('#threads-status').textContent));
  assert.ok(!(await page.evaluate(() => location.hash)).includes('threads='), 'all threads is the link\'s default');
  await page.selectOption('#threads-choice', '1');
  await page.waitForFunction(() => location.hash.includes('&threads=1'));
  await context.close();
  assert.deepEqual(problems, []);

  const edited = await openPage(browser, `${servers.isolated.url}#v=1&threads=99`);
  await edited.page.waitForFunction(() => /threads="99" is not a thread count/.test(document.body.textContent));
  await edited.page.waitForFunction(() => /use all \d+ threads/.test(document.querySelector('#threads-status')?.textContent ?? ''));
  await edited.context.close();
});

test('on a host that cannot set headers, the service worker makes the next load isolated', async () => {
  const { page, context, problems } = await openPage(browser, servers.plain.url);
  await offlineCopyKept(page);
  // This load was not isolated; the service worker that now answers the page will make the next one so.
  await page.waitForFunction(() => /reload the page to use every core/.test(document.querySelector('#threads-status').textContent));
  await Promise.all([page.waitForNavigation(), page.click('#reload-for-threads')]);
  await page.waitForFunction(() => crossOriginIsolated === true && navigator.serviceWorker.controller !== null);
  await page.waitForFunction(() => /use all \d+ threads/.test(document.querySelector('#threads-status')?.textContent ?? ''), null, { timeout: 60_000 });
  await ready(page);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a threaded build that cannot start gives way to the single-threaded one, with a sentence', async () => {
  const { page, context } = await openPage(browser, servers.broken.url, undefined, { serviceWorkers: 'block' });
  await page.waitForFunction(() => /the threaded build did not start/.test(document.querySelector('#threads-status')?.textContent ?? ''), null, { timeout: 60_000 });
  assert.match(await threadsSentence(page), /^Training and scoring use one thread \(the single-threaded build\): the threaded build did not start/);
  await ready(page);
  await context.close();
});
