// ANODE and R-ANODE on a table: a column marked "resonant" starts a resonance search with a window to
// move; a window that leaves too few rows is a sentence and the earlier results stay; the search trains
// the background flow then R-ANODE, scores only the window's rows, and the download leaves the sidebands
// empty. The link carries the method and the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openPage, withServedApp, artifacts, loadToyEvents, seriousA11yViolations } from './support.mjs';

const app = withServedApp();

test('R-ANODE on the toy events scores the signal region, says what it learned, and the link keeps it', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await page.waitForFunction(() => /\S/.test(document.querySelector('#status')?.textContent ?? '')
    && !document.querySelector('#status').textContent.startsWith('Loading'), null, { timeout: 60_000 });
  await page.click('#tab-table');
  await page.fill('#table_sim_fraction', '0.03');
  await page.press('#table_sim_fraction', 'Tab');
  await loadToyEvents(page, 20000);
  assert.match(await page.textContent('#file-summary'), /^20,000 rows/);

  await page.selectOption('#role-0', 'resonant');
  assert.equal(await page.isChecked('#method-ranode'), true, 'marking a resonant column chooses R-ANODE');
  assert.equal(await page.inputValue('#table_sr_low'), '3.3', 'an m_jj in TeV gets the R&D window');
  assert.equal(await page.inputValue('#table_sr_high'), '3.7');
  assert.ok(await page.isHidden('#train-all'), 'the sidebands are the training rows: no other choice to make');
  await page.fill('#table_epochs', '4');
  await page.press('#table_epochs', 'Tab');

  // A window with hardly any rows: one sentence, nothing started.
  // Typed key by key: the field keeps the keyboard while the setup changes under it.
  await page.fill('#table_sr_low', '');
  await page.type('#table_sr_low', '3.699');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'table_sr_low');
  await page.press('#table_sr_low', 'Tab');
  await page.click('#table-train');
  await page.waitForSelector('#table-notice');
  assert.match(await page.textContent('#table-notice'), /^Only \d+ rows lie inside the signal region 3\.699–3\.7 \(at least 100 are needed\)\. Widen the window/);

  // Back to the window; the autoencoder cannot take a resonant column.
  await page.fill('#table_sr_low', '3.3');
  await page.press('#table_sr_low', 'Tab');
  await page.check('#method-autoencoder');
  assert.match(await page.textContent('#table-problems'), /The autoencoder does not use a resonant variable/);
  assert.equal(await page.isDisabled('#table-train'), true);
  await page.check('#method-ranode');
  assert.equal(await page.isDisabled('#table-train'), false);

  const link = await page.inputValue('#table-share-link');
  assert.match(link, /&table\.roles=r[fF]{4}l&/);
  assert.match(link, /&table\.method=ranode&table\.sr\.low=3\.3&table\.sr\.high=3\.7/);

  await page.click('#table-train');
  await page.waitForFunction(() => document.querySelector('#table-status')?.textContent.startsWith('Training: epoch'), null, { timeout: 60_000 });
  assert.match(await page.textContent('#table-trained-on'), /^The background flow learns from [\d,]+ sideband rows \(m_jj outside 3\.3–3\.7\), then R-ANODE from [\d,]+ rows in the signal region; 4 features: m_j1, delta_m_j, tau21_j1, tau21_j2, conditioned on m_jj \(through its log/);
  await page.waitForSelector('#learned-w', { timeout: 300_000 });
  const figures = await page.textContent('#resonance-figures');
  const match = figures.match(/^R-ANODE scored the ([\d,]+) rows with m_jj from 3\.3 to 3\.7 \(the signal region\); the ([\d,]+) rows outside it/);
  assert.ok(match, figures);
  const [region, sidebands] = [Number(match[1].replace(/,/g, '')), Number(match[2].replace(/,/g, ''))];
  assert.equal(region + sidebands, 20000);
  assert.match(await page.textContent('#table-status'), new RegExp(`^Done: ${match[1]} rows scored on the CPU, ${match[2]} outside the signal region or missing a value\\.`));
  const learned = await page.textContent('#learned-w');
  assert.match(learned, /^R-ANODE's learned signal share in the window: w = [\d.e-]+; the label says [\d.]+/);
  const auc = Number(await page.textContent('#figure-auc'));
  assert.ok(auc > 0.5, `R-ANODE's AUC in the window is ${auc}`);
  assert.ok(await page.isHidden('#download-model'), 'no model file for a resonance search');
  assert.equal(await page.locator('#table-rescore').count(), 0);

  // The download: every line kept, scores only inside the window.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-scores')]);
  const saved = path.join(artifacts, 'resonance-scored.csv');
  await download.saveAs(saved);
  const lines = fs.readFileSync(saved, 'utf8').trim().split('\n');
  assert.equal(lines.length, 20001);
  let scored = 0;
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const [mjj, score] = [Number(cells[0]), cells[6]];
    const inside = mjj >= 3.3 && mjj < 3.7;
    assert.equal(score !== '', inside, `m_jj ${mjj}: score "${score}"`);
    scored += inside ? 1 : 0;
  }
  assert.equal(scored, region);

  assert.deepEqual(await seriousA11yViolations(page), []);
  await page.screenshot({ path: path.join(artifacts, 'table-resonance-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the phone layout overflows sideways by ${overflow} px`);
  await page.screenshot({ path: path.join(artifacts, 'table-resonance-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});
