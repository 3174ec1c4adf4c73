// Share links: the setup lives in the URL fragment; opening a link restores it, hostile links are data only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, withServedApp, ready } from './support.mjs';

const app = withServedApp();

test('opening a link restores the setup, and edits update the link without new history entries', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#v=1&normal=3,5&epochs=2&seed=7&aa.shown=blurred`);
  await ready(page);
  const checked = await page.$$eval('.digit-toggle', (boxes) => boxes.filter((b) => b.checked).map((b) => b.id));
  assert.deepEqual(checked, ['normal-3', 'normal-5']);
  assert.equal(await page.inputValue('#epochs'), '2');
  assert.equal(await page.inputValue('#seed'), '7');
  assert.equal(await page.isChecked('#aa-shown-blurred'), true);
  assert.equal(await page.isChecked('#aa-shown-noisy'), false);
  assert.equal(await page.locator('#notice').count(), 0, 'a good link raises no notice');
  const historyBefore = await page.evaluate(() => history.length);
  await page.fill('#hidden_units', '128');
  await page.press('#hidden_units', 'Tab');
  await page.click('label[for=normal-7]');
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /hidden=128/);
  assert.match(hash, /normal=3,5,7/);
  assert.equal(await page.evaluate(() => history.length), historyBefore);
  assert.equal(await page.inputValue('#share-link'), await page.evaluate(() => location.href));
  assert.deepEqual(problems, []);
  await context.close();
});

test('a hostile or hand-edited link is listed in one sentence, defaults are used, nothing is injected', async () => {
  const fragment = '#hidden=99999&colour=blue&epochs=ten&normal=<img src=x onerror="window.pwned=1">&seed=5';
  const { page, context } = await openPage(app.browser, `${app.server.url}${fragment}`);
  await ready(page);
  const notice = await page.textContent('#notice');
  assert.match(notice, /^Parts of this link could not be used, so defaults were taken:/);
  assert.match(notice, /Hidden units must be between 8 and 1024/);
  assert.match(notice, /"colour" is not a setting/);
  assert.match(notice, /epochs="ten"/);
  assert.equal(await page.inputValue('#hidden_units'), '256');
  assert.equal(await page.inputValue('#seed'), '5', 'the good parts of the link are kept');
  assert.equal(await page.locator('img').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.equal(await page.isEnabled('#train'), true, 'the page keeps working');
  await context.close();
});

test('the same link, opened twice, trains to the same AUC', async () => {
  const link = `${app.server.url}#normal=4&epochs=1&seed=3&hidden=64`;
  const aucs = [];
  for (let run = 0; run < 2; run++) {
    const { page, context } = await openPage(app.browser, link);
    await ready(page);
    await page.click('#train');
    await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Finished'), null, { timeout: 60_000 });
    aucs.push(await page.textContent('#auc-value'));
    await context.close();
  }
  assert.match(aucs[0], /^\d\.\d{3}$/);
  assert.equal(aucs[1], aucs[0]);
});

test('a link can open the table view with the simulated events it names', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#view=table&sim.rows=500&sim.signal=0.1&sim.seed=3`);
  await ready(page);
  assert.equal(await page.getAttribute('#tab-table', 'aria-selected'), 'true');
  assert.equal(await page.isVisible('#table-view'), true);
  assert.equal(await page.isVisible('#digits-view'), false);
  assert.equal(await page.inputValue('#table_sim_rows'), '500');
  assert.equal(await page.inputValue('#table_sim_fraction'), '0.1');
  assert.equal(await page.inputValue('#table_sim_seed'), '3');
  await page.click('#simulate');
  await page.waitForSelector('#toy-label');
  assert.match(await page.textContent('#file-summary'), /^500 rows × 6 columns/);
  // Switching views by keyboard updates the link, without a new history entry.
  const historyBefore = await page.evaluate(() => history.length);
  await page.focus('#tab-table');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-digits');
  assert.match(await page.evaluate(() => location.hash), /view=digits/);
  assert.equal(await page.evaluate(() => history.length), historyBefore);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a classroom link hides the parts it names, and the Share panel makes such links', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#v=1&normal=4&view=table&hide=settings,awareness,table,made-up`);
  await ready(page);
  assert.equal(await page.isVisible('.model-settings'), false, 'the network settings are hidden');
  assert.equal(await page.isVisible('#tab-table'), false, 'the table tab is hidden');
  assert.equal(await page.isVisible('#digits-view'), true, 'a hidden tab is not the one shown');
  assert.equal(await page.isVisible('.digit-picker'), true, 'what is not named stays');
  assert.equal(await page.isVisible('#train'), true);
  assert.match(await page.textContent('#notice'), /hide= names "made-up" that the page does not have/);
  assert.match(await page.evaluate(() => location.hash), /&hide=settings,awareness,table$/);

  // The teacher's side: untick one box, tick another; the page and the link follow.
  await page.click('#classroom summary');
  assert.equal(await page.isChecked('#hide-settings'), true);
  await page.uncheck('#hide-settings');
  await page.check('#hide-latent');
  assert.equal(await page.isVisible('.model-settings'), true);
  assert.equal(await page.isVisible('#latent-panel'), false);
  assert.match(await page.inputValue('#share-link'), /&hide=awareness,latent,table$/);
  for (const key of ['awareness', 'latent', 'table']) await page.uncheck(`#hide-${key}`);
  assert.doesNotMatch(await page.inputValue('#share-link'), /hide=/, 'an ordinary link again');
  assert.equal(await page.isVisible('#tab-table'), true);
  assert.deepEqual(problems, []);
  await context.close();
});
