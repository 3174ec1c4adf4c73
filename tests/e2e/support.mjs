// Shared pieces of the browser tests: a static server for the built app, and Debian's Chromium.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const artifacts = path.join(repoRoot, 'tests/artifacts');
fs.mkdirSync(artifacts, { recursive: true });

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.css': 'text/css', '.bin': 'application/octet-stream',
  '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves `root` on 127.0.0.1 at a free port, under the path `base` (as a host serving the app from a
 * sub-path; anything outside it is not found). Every request is logged in `requests`.
 * `override(urlPath)` may return {status, body} to simulate a broken deployment. `isolated` sends the two
 * headers that make the page cross-origin isolated, as `trunk serve` and a host that can set headers do.
 */
export const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
export async function serve(root, { override, base = '/', isolated = false } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const fullPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push({ method: req.method, path: fullPath, at: Date.now() });
    const urlPath = fullPath.startsWith(base) ? `/${fullPath.slice(base.length)}` : null;
    const special = urlPath && override?.(urlPath);
    if (special) {
      res.writeHead(special.status, { 'content-type': 'application/octet-stream' });
      res.end(special.body ?? '');
      return;
    }
    const file = urlPath && path.join(root, urlPath.endsWith('/') ? urlPath + 'index.html' : urlPath);
    if (!file || !file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', ...(isolated ? ISOLATION_HEADERS : {}) });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const close = () => new Promise((r) => { server.close(r); server.closeAllConnections(); });
  return { url: `http://127.0.0.1:${port}${base}`, requests, close };
}

/**
 * Headless Chromium with the flags that work on these machines (../shared/TOOLCHAIN.md). Without
 * `--enable-unsafe-webgpu` (`webgpu: false`) this Chromium has `navigator.gpu` but offers no adapter,
 * as on most Linux desktops today.
 */
export async function launch({ webgpu = true } = {}) {
  return chromium.launch(launchOptions(webgpu));
}

/**
 * The same Chromium with a profile on disk (`dir`), as a visitor's browser: Chromium never offers to install
 * a page in an incognito-like context, which is what `launch` gives each test.
 */
export async function launchWithProfile(dir, viewport = { width: 1280, height: 900 }) {
  return chromium.launchPersistentContext(dir, { ...launchOptions(true), viewport, deviceScaleFactor: 1 });
}

function launchOptions(webgpu) {
  return {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    // Playwright hides scrollbars in headless mode; a visitor sees them, and the layout test checks them.
    ignoreDefaultArgs: ['--hide-scrollbars'],
    args: [
      '--no-sandbox', ...(webgpu ? ['--enable-unsafe-webgpu'] : []), '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  };
}

/**
 * A page that records console errors and uncaught exceptions, for tests to assert there were none.
 * `contextOptions` go to Playwright's newContext (`serviceWorkers: 'block'` for a test that counts the
 * server's requests for a file the service worker also copies).
 */
export async function openPage(browser, url, viewport = { width: 1280, height: 900 }, contextOptions = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, ...contextOptions });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.goto(url);
  return { page, context, problems };
}

export const distDir = process.env.DIST ?? path.join(repoRoot, 'dist');

/**
 * Registers before/after hooks that serve the built app and launch Chromium once for a test file.
 * Returns an object whose `server` and `browser` are set once the hooks have run.
 */
export function withServedApp(serveOptions = {}) {
  const app = {};
  before(async () => {
    app.server = await serve(distDir, serveOptions);
    app.browser = await launch();
  });
  after(async () => {
    await app.browser?.close();
    await app.server?.close();
  });
  return app;
}

/** Waits until the worker has loaded the digits and the page invites training. */
export async function ready(page) {
  await page.waitForFunction(() => document.querySelector('#status')?.textContent.includes('digits loaded'), null, { timeout: 60_000 });
}

/**
 * Waits until the service worker keeps this build for offline use and answers the page's requests (the
 * footer says so); from then on, what the page fetches is answered from that copy.
 */
export async function offlineCopyKept(page) {
  await page.waitForSelector('#offline-note', { state: 'visible', timeout: 60_000 });
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
}

/** Opens the table view and loads the seeded toy collider events (`rows` of them). */
export async function loadToyEvents(page, rows) {
  // The worker is ready once it has loaded the digits (later the status says other things).
  await page.waitForFunction(() => /\S/.test(document.querySelector('#status')?.textContent ?? '')
    && !document.querySelector('#status').textContent.startsWith('Loading'), null, { timeout: 60_000 });
  await page.click('#tab-table');
  await page.fill('#table_sim_rows', String(rows));
  await page.press('#table_sim_rows', 'Tab');
  await page.click('#simulate');
  await page.waitForSelector('#toy-label');
}

const axeSource = fs.readFileSync(path.join(repoRoot, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Runs the axe-core accessibility audit (WCAG 2.1 A and AA, plus best practice) on the page as it is now
 * and returns its serious and critical violations, each as one readable line.
 */
export async function seriousA11yViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')})`);
}

/**
 * Moves the keyboard focus to the element with this id by pressing Tab (or Shift+Tab when it lies above
 * the focus), as a keyboard-only visitor would. Fails if it cannot be reached.
 */
export async function tabTo(page, id, maxPresses = 300) {
  const backwards = await page.evaluate((id) => {
    const target = document.getElementById(id);
    const active = document.activeElement;
    if (!target) throw new Error(`#${id} is not on the page`);
    return active && active !== document.body && Boolean(target.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING);
  }, id);
  for (let i = 0; i < maxPresses; i++) {
    if (await page.evaluate((id) => document.activeElement?.id === id, id)) return;
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`#${id} was not reached with ${maxPresses} presses of ${backwards ? 'Shift+Tab' : 'Tab'}`);
}

/** Whether the focused element draws a visible focus indicator (an outline or a box shadow). */
export async function focusIsVisible(page) {
  return page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  });
}
