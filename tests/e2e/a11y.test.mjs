// The axe-core audit of every view of the page in the states a visitor reaches, at phone and desktop
// width: before training, after training and fine-tuning (tables, plots with text alternatives, the
// close-up), the table view with scores, and the Share panel's classroom options. The tutorial steps
// are audited as they are walked (tutorials.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, withServedApp, ready, seriousA11yViolations, loadToyEvents } from './support.mjs';

const app = withServedApp();

for (const viewport of [{ width: 1280, height: 900 }, { width: 375, height: 740 }]) {
  test(`no serious or critical axe violations in any state at ${viewport.width} px`, async () => {
    const setup = '#v=1&normal=0,1&epochs=1&aa.shown=noisy,digit7&aa.labelled=10&aa.epochs=1';
    const { page, context, problems } = await openPage(app.browser, `${app.server.url}${setup}`, viewport);
    const violations = [];
    const audit = async (state) => violations.push(...(await seriousA11yViolations(page)).map((v) => `${state}: ${v}`));
    await ready(page);
    await audit('before training');
    await page.click('#train');
    await page.waitForFunction(() => /^Finished/.test(document.querySelector('#status').textContent), null, { timeout: 120_000 });
    await page.click('#fine-tune');
    await page.waitForSelector('#aa-close-up', { timeout: 120_000 });
    await page.click('#classroom summary');
    await audit('trained and fine-tuned, classroom options open');
    // Every plot says in words what it shows.
    const unlabelled = await page.$$eval('canvas', (canvases) => canvases.filter((c) => c.getRootNode() === document && c.getClientRects().length
      && !(c.getAttribute('role') === 'img' && c.getAttribute('aria-label')?.length > 10)).length);
    assert.equal(unlabelled, 0, 'every visible plot has role="img" and a text alternative');
    await loadToyEvents(page, 2000);
    await page.click('#table-train');
    await page.waitForSelector('#table-figures', { timeout: 120_000 });
    await audit('table scored');
    assert.deepEqual(violations, []);
    assert.deepEqual(problems, []);
    await context.close();
  });
}
