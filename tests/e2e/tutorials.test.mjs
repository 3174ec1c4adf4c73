// The guided tutorials, walked as a keyboard-only visitor would, at phone and desktop width: every step
// applies its setup (the address bar becomes the step's own link), "Show me" brings its part of the page
// into view, and the axe audit finds nothing serious on any step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openPage, withServedApp, ready, artifacts, seriousA11yViolations, tabTo, focusIsVisible } from './support.mjs';

const app = withServedApp();

const WIDTHS = [{ name: 'desktop', width: 1280, height: 900 }, { name: 'phone', width: 375, height: 740 }];

async function press(page, id) {
  await tabTo(page, id);
  assert.ok(await focusIsVisible(page), `#${id} shows no focus indicator`);
  await page.keyboard.press('Enter');
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

for (const size of WIDTHS) {
  test(`every tutorial step by keyboard alone at ${size.name} width: setup, Show me, no serious axe violations`, async () => {
    const { page, context, problems } = await openPage(app.browser, app.server.url, { width: size.width, height: size.height });
    await page.emulateMedia({ reducedMotion: 'reduce' }); // "Show me" then scrolls at once, so the test reads where it landed
    await ready(page);
    const tutorials = await page.$$eval('.tutorial-start', (buttons) => buttons.map((b) => b.id.replace('tutorial-start-', '')));
    assert.deepEqual(tutorials, ['anomaly', 'vae', 'awareness', 'physics', 'resonance', 'jets', 'baselines', 'events']);
    const violations = [];
    violations.push(...(await seriousA11yViolations(page)).map((v) => `list: ${v}`));
    for (const key of tutorials) {
      await press(page, `tutorial-start-${key}`);
      for (let step = 1; ; step++) {
        assert.equal(await page.evaluate(() => document.activeElement.id), 'tutorial-step-title', 'the new step gets the focus');
        const heading = await page.textContent('#tutorial-step-title');
        const [, at, of] = heading.match(/^Step (\d+) of (\d+): /) ?? [];
        assert.equal(Number(at), step, heading);
        // The setup on screen is exactly the step's: the address bar is the step's own link.
        const [hash, stepHash] = await page.evaluate(() => [location.hash, new URL(document.querySelector('#tutorial-link').href).hash]);
        assert.equal(hash, stepHash);
        assert.match(hash, new RegExp(`&tut=${key}\\.${step}$`));
        for (const part of ['.tutorial-try', '.tutorial-expect', '.learn-more']) {
          assert.ok((await page.textContent(part)).length > 20, `${key}.${step} ${part}`);
        }
        assert.match(await page.textContent('.learn-more'), /arXiv:\d{4}\.\d{4,5}/);

        await press(page, 'tutorial-show');
        const shown = await page.evaluate(() => {
          const id = document.querySelector('#tutorial-show').getAttribute('aria-controls');
          const el = document.getElementById(id);
          const box = el?.getBoundingClientRect();
          return {
            id, exists: Boolean(el?.getClientRects().length), outlined: el?.classList.contains('spotlight'), focused: document.activeElement === el,
            note: document.querySelector('#tutorial-show-note').textContent,
            inView: box && box.bottom > 0 && box.top < window.innerHeight && box.width > 0,
          };
        });
        if (shown.exists) {
          assert.ok(shown.outlined && shown.inView, `${key}.${step}: #${shown.id} is not outlined in view after Show me`);
          assert.ok(shown.focused || /cannot be pressed yet/.test(shown.note), `${key}.${step}: #${shown.id} neither focused nor explained`);
        } else {
          // A result that is not computed yet is named, not silently skipped.
          assert.match(shown.note, /is not on the page yet: it appears once the earlier steps are done/, `${key}.${step}`);
        }
        await page.screenshot({ path: path.join(artifacts, `tutorial-${key}-${step}-${size.name}.png`) });
        violations.push(...(await seriousA11yViolations(page)).map((v) => `${key}.${step}: ${v}`));

        const last = Number(at) === Number(of);
        await press(page, 'tutorial-next');
        if (last) break;
      }
      // Finishing closes the tutorial and hands the keyboard back to the button that started it.
      assert.equal(await page.evaluate(() => document.activeElement.id), `tutorial-start-${key}`);
      assert.doesNotMatch(await page.evaluate(() => location.hash), /tut=/);
    }
    assert.deepEqual(violations, []);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the window`);
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test('a tutorial step link opens on that step with its setup; a step that does not exist is named', async () => {
  const { page, context, problems } = await openPage(app.browser, `${app.server.url}#v=1&view=table&sim.rows=50000&sim.signal=0.002&tut=physics.4`);
  await ready(page);
  assert.match(await page.textContent('#tutorial-step-title'), /^Step 4 of 4: A rarer signal/);
  assert.match(await page.textContent('#tutorials-title'), /Tutorial 4 of 8/);
  assert.equal(await page.isVisible('#table-view'), true);
  assert.equal(await page.inputValue('#table_sim_fraction'), '0.002');
  await press(page, 'tutorial-back');
  assert.match(await page.textContent('#tutorial-step-title'), /^Step 3 of 4/);
  assert.equal(await page.inputValue('#table_sim_fraction'), '0.01', 'going back applies the earlier step\'s setup');
  assert.equal(await page.isVisible('#tutorial-return'), false, 'no way back is offered while the card is in view');
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.click('#tutorial-return'); // the way back to the card from far down the page
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tutorial-step-title');
  await context.close();

  const bad = await openPage(app.browser, `${app.server.url}#v=1&tut=vae.9`);
  await ready(bad.page);
  assert.match(await bad.page.textContent('#notice'), /tut="vae\.9" is not a tutorial step/);
  assert.equal(await bad.page.isVisible('#tutorial-start-vae'), true, 'the tutorial list is shown instead');
  assert.deepEqual([...problems, ...bad.problems], []);
  await bad.context.close();
});

test('tutorial 1 by keyboard: Show me, Enter trains; zeros alone give a higher AUC than digits 0-4, as step 5 says', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await ready(page);
  const auc = async () => {
    await page.waitForFunction(() => /^Finished/.test(document.querySelector('#status').textContent), null, { timeout: 180_000 });
    return Number(await page.textContent('#auc-value'));
  };
  await press(page, 'tutorial-start-anomaly');
  await press(page, 'tutorial-show');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'train');
  await page.keyboard.press('Enter');
  const zerosAlone = await auc();
  for (let step = 1; step < 5; step++) await press(page, 'tutorial-next');
  assert.match(await page.textContent('#tutorial-step-title'), /^Step 5 of 5/);
  await press(page, 'tutorial-show');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !/^Finished/.test(document.querySelector('#status').textContent));
  const fiveDigits = await auc();
  assert.ok(zerosAlone > 0.9, `AUC with zeros alone: ${zerosAlone}`);
  assert.ok(fiveDigits < zerosAlone, `AUC with 0-4 normal (${fiveDigits}) is not below zeros alone (${zerosAlone})`);
  assert.deepEqual(problems, []);
  await context.close();
});
