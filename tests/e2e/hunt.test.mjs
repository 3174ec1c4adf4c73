// The resonance hunt: a link opens the view with its signal count and seed, the hunt trains its four
// fits in the worker (pause, step and resume land between chunks), and every panel reads out numbers; a
// hand-edited link out of range gets a sentence and the defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openPage, withServedApp, artifacts, seriousA11yViolations } from './support.mjs';

const app = withServedApp();

const number = (text, pattern) => {
  const match = text.match(pattern);
  assert.ok(match, `${pattern} not in: ${text}`);
  return Number(match[1].replace(/,/g, ''));
};

test('a linked hunt trains every fit, pauses and steps, and shows closure, w, SIC, samples and the cut', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#view=hunt&hunt.signal=1000&hunt.seed=3`);
  await page.waitForSelector('#hunt-start');
  assert.equal(await page.getAttribute('#tab-hunt', 'aria-selected'), 'true', 'the link opens the hunt view');
  assert.equal(await page.inputValue('#hunt-signal'), '1000');
  assert.equal(await page.inputValue('#hunt-seed'), '3');
  assert.equal(await page.textContent('#hunt-signal-share'), '1,000 signal events in 200,000 background events (0.50% of all events)');

  await page.click('#hunt-start');
  await page.waitForFunction(() => document.querySelector('#hunt-status').textContent.startsWith('Fit 1 of 4: the background flow'), null, { timeout: 60_000 });
  assert.match(await page.textContent('#hunt-spectrum figcaption'), /^200,\d{3} events; [\d,]+ of them in the signal region/);
  await page.click('#hunt-pause');
  await page.waitForFunction(() => document.querySelector('#hunt-status').textContent.startsWith('Paused.'));
  const pausedAt = await page.textContent('#hunt-status');
  await page.waitForTimeout(1500);
  assert.equal(await page.textContent('#hunt-status'), pausedAt, 'nothing trains while paused');
  await page.click('#hunt-step');
  await page.waitForFunction((before) => {
    const now = document.querySelector('#hunt-status').textContent;
    return now.startsWith('Paused.') && now !== before;
  }, pausedAt, { timeout: 120_000 });
  await page.click('#hunt-resume');
  await page.waitForFunction(() => document.querySelector('#hunt-status').textContent.startsWith('The hunt is done'), null, { timeout: 600_000 });

  const closure = await page.textContent('#hunt-closure-caption');
  const gap = number(closure, /by (-?[\d.]+) ± [\d.]+ nats/);
  assert.ok(Math.abs(gap) < 0.5, `closure gap ${gap} nats`);
  const fraction = await page.textContent('#hunt-fraction-caption');
  const w = number(fraction, /w = ([\d.]+)%/);
  assert.ok(w > 0 && w < 100, fraction);
  const rows = await page.$$eval('#hunt-taggers tbody tr', (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
  assert.deepEqual(rows.map((r) => r[0]), ['optimal (true densities)', 'ANODE', 'R-ANODE, w learned', 'idealized']);
  for (const [name, sic, , auc] of rows) {
    assert.ok(Number(sic) >= 1 && Number(auc) > 0.4, `${name}: SIC ${sic}, AUC ${auc}`);
  }
  assert.ok(Number(rows[0][1]) > 5, `the optimal tagger's max SIC is ${rows[0][1]}`);
  assert.match(await page.textContent('#hunt-samples-caption'), /^2,000 events drawn from R-ANODE's signal model; \d+% of them lie near/);
  const cut = await page.textContent('#hunt-after-cut-caption');
  const [passing, expected] = [number(cut, /leaves ([\d,]+) of the signal region/), number(cut, /would leave about ([\d,]+)/)];
  assert.ok(passing > expected, `the cut keeps ${passing} events where background alone gives ${expected}: ${cut}`);

  assert.doesNotMatch(await page.textContent('#hunt-spectrum figcaption'), /The truth/);
  await page.check('#hunt-reveal');
  assert.match(await page.textContent('#hunt-spectrum figcaption'), /The truth: [\d,]+ injected signal events are in the signal region, a share w = [\d.]+%/);

  assert.deepEqual(await seriousA11yViolations(page), []);
  await page.screenshot({ path: path.join(artifacts, 'hunt-desktop.png'), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the phone layout overflows sideways by ${overflow} px`);
  await page.screenshot({ path: path.join(artifacts, 'hunt-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('a hunt link out of range gets a sentence, uses the defaults and the page still starts', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#view=hunt&hunt.signal=99999&hunt.seed=abc`);
  await page.waitForSelector('#hunt-start');
  const notice = await page.textContent('#hunt-notice');
  assert.match(notice, /hunt\.signal must be between 0 and 3000/);
  assert.match(notice, /hunt\.seed="abc" is not a value/);
  assert.equal(await page.inputValue('#hunt-signal'), '500');
  assert.equal(await page.inputValue('#hunt-seed'), '1');
  await page.fill('#hunt-seed', '0');
  await page.press('#hunt-seed', 'Tab');
  assert.match(await page.textContent('#hunt-notice'), /The seed must be a whole number from 1 to 1,000,000/);
  assert.deepEqual(problems, []);
  await context.close();
});
