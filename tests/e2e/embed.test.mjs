// Embed mode: a course page shows the playground in a 600×400 iframe (from another origin, as a course site
// would): the chosen view only, no page header or tabs, nothing wider than the frame, and a link out to the
// full playground with the same setup. The Share panel hands out the iframe code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPage, withServedApp, serve, ready, artifacts, seriousA11yViolations } from './support.mjs';

const app = withServedApp();

async function courseSite(appUrl) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'course-'));
  const src = appUrl.replaceAll('&', '&amp;');
  fs.writeFileSync(path.join(folder, 'index.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A course</title><link rel="icon" href="data:,"></head>
<body><h1>Week 3: anomalies</h1><iframe src="${src}" title="Anomaly Playground" width="600" height="400" style="border:1px solid #999"></iframe></body></html>`);
  const site = await serve(folder);
  return { site, close: async () => { await site.close(); fs.rmSync(folder, { recursive: true, force: true }); } };
}

/** What a visitor sees in the frame: which parts show, and whether anything is wider than the frame. */
function frameFacts(frame) {
  return frame.evaluate(() => {
    const shown = (selector) => { const el = document.querySelector(selector); return Boolean(el && el.offsetParent !== null); };
    const root = document.documentElement;
    return {
      header: shown('.site-header'), tabs: shown('.view-tabs'), footer: shown('.site-footer'), tutorials: shown('#tutorials'),
      digits: shown('#digits-view'), table: shown('#table-view'), bar: shown('.embed-bar'),
      width: root.clientWidth, overflow: root.scrollWidth - root.clientWidth,
      full: document.querySelector('#open-full').href,
    };
  });
}

test('an iframe at 600×400 shows the chosen view only, fits, and links out to the same setup', async () => {
  const embedded = `${app.server.url}#view=table&hide=awareness&sim.rows=3000&embed=1`;
  const course = await courseSite(embedded);
  const { page, context, problems } = await openPage(app.browser, course.site.url);
  const frame = page.frames().find((f) => f.url().startsWith(app.server.url)) ?? (await page.waitForEvent('frameattached'));
  await frame.waitForSelector('#table-file', { state: 'attached' });
  await frame.waitForFunction(() => /digits loaded|\S/.test(document.querySelector('#status')?.textContent ?? ''));
  const facts = await frameFacts(frame);
  assert.deepEqual(
    { header: facts.header, tabs: facts.tabs, footer: facts.footer, tutorials: facts.tutorials, digits: facts.digits, table: facts.table, bar: facts.bar },
    { header: false, tabs: false, footer: false, tutorials: false, digits: false, table: true, bar: true });
  assert.ok(facts.width <= 600 && facts.overflow <= 0, `nothing is wider than the frame (${JSON.stringify(facts)})`);
  // The way out: the same setup, classroom hiding included, on the full page.
  const full = new URL(facts.full);
  assert.match(full.hash, /view=table/);
  assert.match(full.hash, /hide=awareness/);
  assert.doesNotMatch(full.hash, /embed/);
  assert.equal(await frame.getAttribute('#open-full', 'target'), '_blank');
  // The frame works: simulate the toy events and train on them.
  await frame.click('#simulate');
  await frame.waitForSelector('#toy-label');
  await page.screenshot({ path: path.join(artifacts, 'embed-table-600x400.png') });
  const after = await frameFacts(frame);
  assert.ok(after.overflow <= 0, `still nothing wider than the frame after loading events (${after.overflow} px)`);
  assert.deepEqual(await seriousA11yViolations(frame), [], 'the embedded page passes the audit');
  assert.deepEqual(problems, []);
  await context.close();
  await course.close();
});

test('the digits embedded: no overflow at 600×400, and the full page offers the iframe code', async () => {
  const course = await courseSite(`${app.server.url}#normal=0&epochs=1&embed=1`);
  const { page, context, problems } = await openPage(app.browser, course.site.url);
  const frame = page.frames().find((f) => f.url().startsWith(app.server.url)) ?? (await page.waitForEvent('frameattached'));
  await frame.waitForSelector('#train', { state: 'attached' });
  await ready(frame);
  const facts = await frameFacts(frame);
  assert.equal(facts.digits, true);
  assert.equal(facts.header || facts.tabs || facts.tutorials, false);
  assert.ok(facts.overflow <= 0, `nothing is wider than the frame (${facts.overflow} px)`);
  await frame.click('#train');
  await frame.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Finished'), null, { timeout: 120_000 });
  await page.screenshot({ path: path.join(artifacts, 'embed-digits-600x400.png') });
  assert.deepEqual(problems, []);
  await context.close();
  await course.close();

  // On the full page, the Share panel's iframe code embeds what is on screen.
  const full = await openPage(app.browser, `${app.server.url}#normal=3&hide=latent`);
  await ready(full.page);
  await full.page.click('#embed summary');
  const code = await full.page.inputValue('#embed-code');
  assert.match(code, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/#v=1&amp;normal=3&amp;.*&amp;hide=latent&amp;embed=1" title="Anomaly Playground"/);
  assert.deepEqual(full.problems, []);
  await full.context.close();
});
