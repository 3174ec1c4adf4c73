// Fashion-MNIST in Anomaly Awareness: fetched only on request (a button, or a link that shows one of its
// classes); then its ten classes are families and the fine-tuning table reads them out. Without the file
// (missing or corrupt), one sentence says so and the digits train as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, withServedApp, serve, distDir, ready } from './support.mjs';

const app = withServedApp();

test('a link shows a Fashion-MNIST class to the fine-tuning and the table reads every class out', async () => {
  const link = '#normal=0,1,2,3,4,5,6&epochs=1&aa.shown=fashion1,blobs&aa.labelled=40&aa.epochs=1';
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}${link}`);
  await ready(page);
  // The link shows a fashion class, so the page fetches the file by itself: no button to press.
  await page.waitForSelector('#aa-shown-fashion--trouser');
  assert.ok(app.server.requests.some((r) => r.path.endsWith('/data/fashion.bin')));
  assert.equal(await page.locator('#aa-load-fashion').count(), 0);
  assert.equal(await page.isChecked('#aa-shown-fashion--trouser'), true);
  assert.equal(await page.isChecked('#aa-shown-fashion--T-shirt-top'), false);
  assert.equal(await page.locator('.family-checks input[id^="aa-shown-fashion"]').count(), 10);
  assert.match(await page.textContent('.family-gallery'), /Fashion-MNIST — real pictures of clothing, one of each class: T-shirt\/top, trouser/);
  assert.equal(await page.isHidden('#aa-fashion-note'), true);
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Finished'), null, { timeout: 120_000 });
  await page.click('#fine-tune');
  await page.waitForFunction(() => document.querySelector('#aa-summary').textContent.includes('Mean AUC'), null, { timeout: 120_000 });
  const rows = await page.$$eval('#aa-table tbody tr', (trs) => trs.map((tr) => [tr.querySelector('th').textContent, tr.textContent]));
  const fashion = rows.filter(([name]) => name.startsWith('fashion: '));
  assert.equal(fashion.length, 10, JSON.stringify(rows));
  assert.match(fashion.find(([name]) => name === 'fashion: trouser')[1], /shown/);
  assert.match(fashion.find(([name]) => name === 'fashion: bag')[1], /unseen/);
  assert.deepEqual(problems, []);
  await context.close();
});

for (const [what, answer] of [['missing', { status: 404, body: 'not found' }], ['corrupt', { status: 200, body: 'these bytes are not an image file' }]]) {
  test(`a ${what} Fashion-MNIST file gets a sentence, and the digits still train`, async () => {
    const broken = await serve(distDir, { override: (p) => (p.endsWith('/data/fashion.bin') ? answer : null) });
    const { page, context, problems } = await openPage(app.browser, `${broken.url}#normal=0&epochs=1`);
    await ready(page);
    assert.equal(broken.requests.filter((r) => r.path.endsWith('/data/fashion.bin')).length, 0, 'nothing is fetched until asked for');
    await page.click('#aa-load-fashion');
    await page.waitForFunction(() => !document.querySelector('#aa-fashion-note').hidden, null, { timeout: 30_000 });
    const note = await page.textContent('#aa-fashion-note');
    assert.match(note, /^Fashion-MNIST could not be loaded \(.+\), so its pictures are left out of Anomaly Awareness; everything else works\./);
    assert.equal(await page.locator('input[id^="aa-shown-fashion"]').count(), 0);
    await page.click('#train');
    await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Finished'), null, { timeout: 60_000 });
    // The browser itself logs a failed request as a console error; nothing else may appear.
    assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
    await context.close();
    await broken.close();
  });
}
