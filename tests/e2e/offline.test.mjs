// Take it anywhere: the page kept for offline use by its service worker (a second visit with the network
// cut trains and scores), installable by Chromium's own criteria, a new build that waits for the visitor's
// reload, and the same folder served from a sub-path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, launchWithProfile, openPage, serve, distDir, ready, offlineCopyKept, repoRoot, artifacts, seriousA11yViolations } from './support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function trainOneEpoch(page) {
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('#status').textContent.startsWith('Finished'), null, { timeout: 120_000 });
  return Number(await page.textContent('#auc-value'));
}

test('a second visit works with the network cut: the page loads, trains and scores, and is installable', async () => {
  const server = await serve(distDir);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'playground-profile-'));
  const context = await launchWithProfile(profile);
  try {
    const page = context.pages()[0] ?? await context.newPage();
    const problems = [];
    page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(`${server.url}#normal=0&epochs=1`);
    await ready(page);
    await offlineCopyKept(page);
    assert.match(await page.textContent('#offline-note'), /works without a network/);

    // Chromium's own verdict on the manifest, its icon and the service worker.
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], 'Chromium finds nothing that stops installing the page');
    const online = await trainOneEpoch(page);

    // No server at all, and the browser offline: everything must come from the kept copy.
    await server.close();
    await context.setOffline(true);
    const before = server.requests.length;
    await page.reload();
    await ready(page);
    const offline = await trainOneEpoch(page);
    assert.equal(offline, online, 'the same build gives the same AUC offline');
    assert.equal(server.requests.length, before);
    await page.screenshot({ path: path.join(artifacts, 'offline-desktop.png') });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
});

test('a new build installs beside the running one and takes over only when the visitor reloads', async () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'playground-build-'));
  fs.cpSync(distDir, folder, { recursive: true });
  const server = await serve(folder);
  const { page, context, problems } = await openPage(browser, server.url);
  await ready(page);
  await offlineCopyKept(page);
  assert.equal(await page.isHidden('#update-notice'), true);

  // A new build: one changed file, and its service worker written as the build writes it.
  const index = path.join(folder, 'index.html');
  fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace('<head>', '<head>\n  <meta name="build-mark" content="second">'));
  execFileSync('node', [path.join(repoRoot, 'tools/service-worker.mjs'), folder]);
  await page.reload();
  await ready(page);
  await page.waitForSelector('#update-notice', { state: 'visible', timeout: 30_000 });
  assert.match(await page.textContent('#update-notice'), /^A new version of the playground is ready\./);
  assert.equal(await page.locator('meta[name="build-mark"]').count(), 0, 'until then the page is the old build, whole');
  assert.deepEqual(await seriousA11yViolations(page), [], 'the notice and its button pass the audit');
  await page.screenshot({ path: path.join(artifacts, 'offline-update-notice.png') });

  await Promise.all([page.waitForEvent('load'), page.click('#update-reload')]);
  await ready(page);
  assert.equal(await page.locator('meta[name="build-mark"]').count(), 1, 'after the reload the page is the new build');
  assert.equal(await page.isHidden('#update-notice'), true);
  // The old build's copy is gone: one cache, the new one's.
  const caches = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('anomaly-playground ')));
  assert.equal(caches.length, 1, caches.join('; '));
  assert.deepEqual(problems, []);
  await context.close();
  await server.close();
  fs.rmSync(folder, { recursive: true, force: true });
});

test('the same folder served from a sub-path works, and its offline copy stays within that path', async () => {
  const base = '/outreach/playground/';
  const server = await serve(distDir, { base });
  const { page, context, problems } = await openPage(browser, `${server.url}#normal=0&epochs=1`);
  await ready(page);
  assert.ok((await trainOneEpoch(page)) > 0.5);
  await offlineCopyKept(page);
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  assert.equal(new URL(scope).pathname, base);
  const outside = server.requests.filter((r) => !r.path.startsWith(base));
  assert.deepEqual(outside, [], 'every request stays under the sub-path');
  assert.deepEqual(problems, []);
  await context.close();
  await server.close();
});
