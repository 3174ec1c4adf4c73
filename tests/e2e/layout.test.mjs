// The table view at three screen sizes with a narrow, a wide (220 columns) and a tall (60,000 rows) file:
// each step's primary control is in view once its section is scrolled to, no control is hidden inside a
// box that cannot be scrolled to it, and nothing makes the page scroll sideways. Screenshots are kept in
// tests/artifacts/layout-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { withServedApp, openPage, ready, artifacts } from './support.mjs';

const app = withServedApp();

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
  { width: 375, height: 812 },
];

/** A seeded table: `features` numeric columns with long-ish names, a 0/1 `anomaly` column, `rows` rows. */
function table(features, rows) {
  let seed = 7;
  const uniform = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const names = Array.from({ length: features }, (_, k) => `feature_number_${k + 1}`);
  const lines = [[...names, 'anomaly'].join(',')];
  for (let i = 0; i < rows; i++) {
    const anomalous = i % 50 === 0;
    const cells = names.map((_, k) => ((anomalous ? 3 : 0) + uniform() * (k % 5 + 1)).toFixed(3));
    lines.push([...cells, anomalous ? 1 : 0].join(','));
  }
  return Buffer.from(lines.join('\n') + '\n');
}

const FILES = {
  narrow: () => table(4, 600),
  wide: () => table(220, 300),
  tall: () => table(6, 60_000),
};

/**
 * Scrolls the section to the top of the window (and to its own start), then says whether the control is fully in view and is
 * what the visitor would hit when clicking its middle (not hidden behind anything or clipped by a box).
 */
async function reachableFromSection(page, controlSelector, sectionSelector) {
  return page.evaluate(([controlSelector, sectionSelector]) => {
    const control = document.querySelector(controlSelector);
    const section = control?.closest(sectionSelector) ?? document.querySelector(sectionSelector);
    if (!control || !section) return `${controlSelector} or ${sectionSelector} is missing`;
    section.scrollIntoView({ block: 'start', behavior: 'instant' });
    section.scrollTop = 0; // a section that scrolls on its own (the control column) is read from its start too
    const box = control.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight || box.left < 0 || box.right > window.innerWidth) {
      return `${controlSelector} is at ${Math.round(box.top)}–${Math.round(box.bottom)} px, outside a ${window.innerHeight} px window once ${sectionSelector} is scrolled to`;
    }
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    const label = control.closest('label');
    if (!(hit === control || control.contains(hit) || (label && label.contains(hit)))) {
      return `${controlSelector} is covered by ${hit?.tagName.toLowerCase()}#${hit?.id}.${hit?.className}`;
    }
    return null;
  }, [controlSelector, sectionSelector]);
}

/**
 * Controls of the table view that lie outside a box that clips them, where the box shows no scrollbar in
 * that direction (so a visitor cannot know they are there).
 */
async function hiddenControls(page) {
  return page.evaluate(() => {
    const found = [];
    const view = document.querySelector('#table-view');
    for (const control of view.querySelectorAll('button, select, input, textarea, a[href]')) {
      const own = control.getBoundingClientRect();
      if (own.width === 0 && own.height === 0) continue; // not rendered (a hidden part)
      for (let box = control.parentElement; box && box !== document.body; box = box.parentElement) {
        const style = getComputedStyle(box);
        const clipsX = style.overflowX !== 'visible', clipsY = style.overflowY !== 'visible';
        if (!clipsX && !clipsY) continue;
        const outer = box.getBoundingClientRect();
        const borderX = parseFloat(style.borderLeftWidth) + parseFloat(style.borderRightWidth);
        const borderY = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
        const inner = {
          left: outer.left + parseFloat(style.borderLeftWidth), right: outer.left + parseFloat(style.borderLeftWidth) + box.clientWidth,
          top: outer.top + parseFloat(style.borderTopWidth), bottom: outer.top + parseFloat(style.borderTopWidth) + box.clientHeight,
        };
        const outX = own.left < inner.left - 1 || own.right > inner.right + 1;
        const outY = own.top < inner.top - 1 || own.bottom > inner.bottom + 1;
        const barX = box.offsetHeight - box.clientHeight - borderY > 0 && ['auto', 'scroll'].includes(style.overflowX);
        const barY = box.offsetWidth - box.clientWidth - borderX > 0 && ['auto', 'scroll'].includes(style.overflowY);
        if ((clipsX && outX && !barX) || (clipsY && outY && !barY)) {
          found.push(`${control.tagName.toLowerCase()}#${control.id} in ${box.tagName.toLowerCase()}.${box.className}`);
        }
      }
    }
    return found;
  });
}

async function sidewaysOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

for (const size of SIZES) {
  test(`the table view at ${size.width}×${size.height}: every step reachable, nothing clipped or sideways`, { timeout: 600_000 }, async () => {
    const { page, context, problems } = await openPage(app.browser, app.server.url, size);
    await ready(page);
    await page.click('#tab-table');
    await page.waitForSelector('#table-file');
    const shot = (name) => page.screenshot({ path: path.join(artifacts, `layout-${size.width}x${size.height}-${name}.png`) });
    for (const [name, make] of Object.entries(FILES)) {
      const where = `${size.width}×${size.height}, ${name} file`;
      await page.setInputFiles('#table-file', { name: `${name}.csv`, mimeType: 'text/csv', buffer: make() });
      await page.waitForFunction((name) => document.querySelector('#file-title')?.textContent === `${name}.csv`, name, { timeout: 120_000 });
      assert.equal(await page.inputValue('#role-' + (name === 'wide' ? 220 : name === 'tall' ? 6 : 4)), 'label', `${where}: "anomaly" is the label`);
      assert.equal(await reachableFromSection(page, '#table-file', '.controls'), null, `${where}: loading a file`);
      assert.equal(await reachableFromSection(page, '#role-0', '#file-overview'), null, `${where}: the first role menu`);
      assert.equal(await reachableFromSection(page, '#log-0', '#file-overview'), null, `${where}: the first log box`);

      await page.fill('#table_epochs', '1');
      await page.press('#table_epochs', 'Tab');
      assert.equal(await reachableFromSection(page, '#table-train', '.controls'), null, `${where}: training`);
      await shot(`${name}-loaded`);
      await page.click('#table-train');
      await page.waitForFunction(() => /^Done: /.test(document.querySelector('#table-status')?.textContent ?? ''), null, { timeout: 300_000 });
      assert.equal(await reachableFromSection(page, '#table-train', '.controls'), null, `${where}: training again, after the trained-on sentence`);
      assert.equal(await reachableFromSection(page, '#threshold', '#table-histogram-panel'), null, `${where}: the threshold`);
      assert.equal(await reachableFromSection(page, '#download-scores', 'section'), null, `${where}: the download`);
      await page.evaluate(() => document.querySelector('#table-view .controls').scrollIntoView({ block: 'start', behavior: 'instant' }));
      await shot(`${name}-trained`);

      assert.deepEqual(await hiddenControls(page), [], `${where}: controls clipped without a scrollbar`);
      assert.ok(await sidewaysOverflow(page) <= 0, `${where}: the page scrolls sideways by ${await sidewaysOverflow(page)} px`);
    }
    await page.screenshot({ path: path.join(artifacts, `layout-${size.width}x${size.height}-full.png`), fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });
}
