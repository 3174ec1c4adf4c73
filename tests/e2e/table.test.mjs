// Score your own events: upload a CSV, train, read the figures from the page, download and compare the
// file byte for byte; bad files get a sentence and keep what was loaded; nothing goes over the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { openPage, withServedApp, ready, artifacts, repoRoot, offlineCopyKept } from './support.mjs';

const app = withServedApp();

/** A small seeded generator, so the test file is the same on every run. */
function rng(seed) {
  let s = seed >>> 0;
  const uniform = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/**
 * Events with four features and an `is_signal` label: background is a correlated Gaussian cloud, signal
 * sits off it. CRLF line ends, a byte-order mark, and a quoted text column with delimiters and quotes
 * inside exercise the parser and the byte-for-byte download.
 */
function labelledEvents(rows = 4000) {
  const r = rng(11);
  const lines = ['pt,eta,"mass, GeV",met,comment,is_signal'];
  for (let i = 0; i < rows; i++) {
    const signal = i % 20 === 7;
    const a = r.normal();
    const pt = signal ? 4 + r.normal() * 0.3 : 2 + a;
    const eta = r.normal() * 0.8;
    const mass = signal ? -3 + r.normal() * 0.3 : a + 0.3 * r.normal();
    const met = (signal ? 3 : 0) + r.normal();
    const comment = i % 97 === 0 ? `"run ${i}, lumi ""A"""` : `run ${i}`;
    lines.push([pt.toFixed(5), eta.toExponential(3), mass.toFixed(4), met.toFixed(3), comment, signal ? 1 : 0].join(','));
  }
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n')]);
}

async function openTableView(page) {
  await ready(page);
  await page.click('#tab-table');
  await page.waitForSelector('#table-file');
}

async function upload(page, name, buffer) {
  await page.setInputFiles('#table-file', { name, mimeType: 'text/csv', buffer });
}

test('upload, train, read AUC and max SIC, download the same lines with scores, and no request after load', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await openTableView(page);
  // Loading ends once the offline copy is kept (the service worker fetches the app's own files for it).
  await offlineCopyKept(page);
  const requestsAtLoad = app.server.requests.length;

  const input = labelledEvents();
  await upload(page, 'events.csv', input);
  await page.waitForSelector('#file-overview');
  assert.match(await page.textContent('#file-summary'), /^4,000 rows × 6 columns, .*comma-separated, with a header row\./);
  assert.equal(await page.inputValue('#role-5'), 'label', 'is_signal is recognised as the label');
  assert.equal(await page.inputValue('#role-4'), 'ignored', 'the text column is ignored');
  assert.equal(await page.inputValue('#role-2'), 'feature');
  assert.equal(await page.isChecked('#train-background'), true, 'with labels, training starts from the background rows');

  await page.fill('#table_epochs', '6');
  await page.press('#table_epochs', 'Tab');
  await page.click('#table-train');
  await page.waitForSelector('#figure-auc', { timeout: 120_000 });
  const auc = Number(await page.textContent('#figure-auc'));
  const maxSic = Number((await page.textContent('#figure-max-sic')).split(' ')[0]);
  assert.ok(auc > 0.9, `AUC ${auc}`);
  assert.ok(maxSic > 2, `max SIC ${maxSic}`);
  assert.equal(await page.textContent('#table-auc'), auc.toFixed(3), 'the ROC panel shows the same AUC');
  assert.match(await page.textContent('#table-status'), /^Done: 4,000 rows scored on the CPU\./);
  assert.equal(await page.locator('#top-rows tbody tr').count(), 20);

  // The threshold counts rows; at the lowest score every scored row is selected.
  const low = await page.getAttribute('#threshold', 'min');
  await page.fill('#threshold', low);
  await page.dispatchEvent('#threshold', 'input');
  await page.waitForFunction(() => document.querySelector('#threshold-counts')?.textContent.includes('selected'));
  assert.match(await page.textContent('#threshold-counts'), /Signal kept: \d+ of 200 .*background kept: [\d,]+ of 3,800/);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-scores')]);
  assert.equal(download.suggestedFilename(), 'events-scored.csv');
  const saved = path.join(artifacts, 'events-scored.csv');
  await download.saveAs(saved);
  const output = fs.readFileSync(saved);
  assert.deepEqual([...output.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the byte-order mark is kept');
  const inLines = input.subarray(3).toString('utf8').split('\r\n');
  const outLines = output.subarray(3).toString('utf8').split('\r\n');
  assert.equal(outLines.length, inLines.length, 'one line out per line in, CRLF kept');
  assert.equal(outLines[0], `${inLines[0]},anomaly_score,rank`);
  const ranks = new Set();
  for (let i = 1; i < inLines.length - 1; i++) {
    assert.ok(outLines[i].startsWith(inLines[i] + ','), `line ${i + 1} keeps its original text`);
    const [score, rank] = outLines[i].slice(inLines[i].length + 1).split(',');
    assert.ok(Number.isFinite(Number(score)), `line ${i + 1} has a score`);
    ranks.add(Number(rank));
  }
  assert.equal(ranks.size, 4000, 'every row has its own rank');
  assert.ok(ranks.has(1) && ranks.has(4000));

  // The model, saved and run by the native scorer on the same file, gives the same file byte for byte.
  const [modelDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-model')]);
  assert.equal(modelDownload.suggestedFilename(), 'events-model.safetensors');
  const modelPath = path.join(artifacts, 'events-model.safetensors');
  const inputPath = path.join(artifacts, 'events.csv');
  await modelDownload.saveAs(modelPath);
  fs.writeFileSync(inputPath, input);
  const native = execFileSync(path.join(repoRoot, 'target/release/anomaly-score'), [modelPath, inputPath], { maxBuffer: 64 << 20 });
  assert.ok(native.equals(output), 'anomaly-score writes exactly what the page downloaded');

  // The same model as ONNX: onnx.checker accepts it and ONNX Runtime scores every row as the page did.
  const [onnxDownload] = await Promise.all([page.waitForEvent('download'), page.click('#download-onnx')]);
  assert.equal(onnxDownload.suggestedFilename(), 'events-model.onnx');
  const onnxPath = path.join(artifacts, 'events-model.onnx');
  await onnxDownload.saveAs(onnxPath);
  const checked = execFileSync(path.join(repoRoot, '.cache/venv-onnx/bin/python'), [path.join(repoRoot, 'tests/onnx/check_onnx.py'), onnxPath, inputPath, saved]);
  assert.match(checked.toString(), /4000 rows \(0 unscored\) as the page scores them/);

  // Chromium fetches the page's icon again when the address changes (the link now records the column
  // roles); that GET carries no data, since a fragment is never sent. Anything else would be a leak.
  const after = app.server.requests.slice(requestsAtLoad).filter((r) => !(r.method === 'GET' && r.path === '/favicon.svg'));
  assert.deepEqual(after, [], 'uploading, training, scoring and downloading made no request');
  await page.screenshot({ path: path.join(artifacts, 'table-desktop.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test('bad files get one sentence each and the loaded table stays; markup in a header stays text', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await openTableView(page);
  await upload(page, 'good.csv', Buffer.from('a,b\n1,2\n3,4\n5,6\n'));
  await page.waitForSelector('#file-overview');
  const cases = [
    ['ragged.csv', 'a,b,c\n1,2,3\n4,5\n', /^Line 3 has 2 fields, but the header has 3\./],
    ['empty.csv', '', /^The file is empty\./],
    ['header.csv', 'x,y,z\n', /^The file has a header row but no data rows\./],
    ['photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), /^This is not a text table: byte 9 \(counting from 1\) is a zero byte/],
    ['latin1.csv', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0xe9, 0x74, 0xe9, 0x0a]), /^Line 2, column name: the text is not valid UTF-8\./],
  ];
  for (const [name, content, expected] of cases) {
    await upload(page, name, Buffer.from(content));
    // The previous file's sentence is still shown until this file's arrives: wait for this one.
    await page.waitForFunction((pattern) => new RegExp(pattern).test(document.querySelector('#table-load-problem')?.textContent ?? ''),
      expected.source, { timeout: 10_000 }).catch(() => {});
    assert.match(await page.textContent('#table-load-problem'), expected, name);
    assert.equal(await page.textContent('#file-title'), 'good.csv', `${name}: the table loaded before is kept`);
  }
  await upload(page, 'markup.csv', Buffer.from('<img src=x onerror="window.pwned=1">,b\n1,2\n3,4\n'));
  await page.waitForFunction(() => document.querySelector('#file-title')?.textContent === 'markup.csv');
  assert.equal(await page.locator('#file-overview img').count(), 0, 'the header name is never markup');
  assert.match(await page.textContent('#column-roles'), /<img src=x onerror="window.pwned=1">/);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.deepEqual(problems, []);
  await context.close();
});

test('simulated collider events are labelled as a toy, can be downloaded, and a big file can be cancelled', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await openTableView(page);
  await page.fill('#table_sim_rows', '2000');
  await page.press('#table_sim_rows', 'Tab');
  await page.click('#simulate');
  await page.waitForSelector('#toy-label');
  assert.match(await page.textContent('#toy-label'), /^Toy simulation/);
  assert.match(await page.textContent('#file-summary'), /^2,000 rows × 6 columns/);
  const [sample] = await Promise.all([page.waitForEvent('download'), page.click('#download-sample')]);
  const text = fs.readFileSync(await sample.path(), 'utf8');
  assert.equal(text.split('\n')[0], 'm_jj,m_j1,delta_m_j,tau21_j1,tau21_j2,label');
  assert.equal(text.trim().split('\n').length, 2001);

  // About 60 MB: loading takes long enough to be cancelled; the toy events stay loaded.
  const row = '1.25,2.5,3.75,4.125,5.0625,6.5,7.25,8.125\n';
  const bigPath = path.join(artifacts, 'big.csv');
  fs.writeFileSync(bigPath, 'a,b,c,d,e,f,g,h\n' + row.repeat(1_500_000));
  await page.setInputFiles('#table-file', bigPath);
  await page.waitForSelector('#cancel-load');
  await page.click('#cancel-load');
  await page.waitForSelector('#table-load-problem');
  assert.match(await page.textContent('#table-load-problem'), /^Loading was cancelled; what was loaded before is still here\./);
  assert.match(await page.textContent('#file-title'), /^toy-dijet-2000-events\.csv$/);
  fs.rmSync(bigPath);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a link keeps the column roles of a loaded file: they come back for the same header, not for another', async () => {
  const { page, context, problems } = await openPage(app.browser, app.server.url);
  await openTableView(page);
  const input = labelledEvents(500);
  await upload(page, 'events.csv', input);
  await page.waitForSelector('#file-overview');
  await page.selectOption('#role-1', 'ignored'); // eta is not a feature in this setup
  await page.fill('#table_epochs', '3');
  await page.press('#table_epochs', 'Tab');
  const link = await page.inputValue('#table-share-link');
  assert.match(link, /&table\.header=[0-9a-f]{16}&table\.roles=[fF]if[fF]il&/);
  assert.match(link, /&table\.epochs=3&/);
  assert.doesNotMatch(link, /pt|mass|comment|is_signal/, 'column names and data stay out of the link');
  await context.close();

  const opened = await openPage(app.browser, link);
  await ready(opened.page);
  assert.match(await opened.page.textContent('#link-file-note'), /for a file of 6 columns, but never the file itself: load your file/);
  await upload(opened.page, 'same-header.csv', labelledEvents(300));
  await opened.page.waitForSelector('#file-overview');
  assert.match(await opened.page.textContent('#link-restored'), /restored/);
  assert.equal(await opened.page.inputValue('#role-1'), 'ignored');
  assert.equal(await opened.page.inputValue('#table_epochs'), '3');
  assert.equal(await opened.page.inputValue('#table-share-link'), link.replace(/#.*/, '') + new URL(link).hash, 'the link is unchanged');
  await opened.context.close();

  const other = await openPage(app.browser, link);
  await ready(other.page);
  await upload(other.page, 'other.csv', Buffer.from('a,b,c\n1,2,3\n4,5,6\n7,8,9\n'));
  await other.page.waitForSelector('#file-overview');
  assert.match(await other.page.textContent('#link-restored'), /not the ones the link was made for .* so the column roles are the suggested ones/);
  assert.equal(await other.page.inputValue('#role-1'), 'feature');
  assert.deepEqual([...problems, ...opened.problems, ...other.problems], []);
  await other.context.close();
});
