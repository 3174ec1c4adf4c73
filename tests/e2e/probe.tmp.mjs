import { launch, serve, distDir, openPage, ready } from './support.mjs';
const server = await serve(distDir); const browser = await launch();
for (const size of [{ width: 375, height: 812 }, { width: 1280, height: 800 }]) {
  const { page, problems } = await openPage(browser, server.url, size);
  await ready(page); await page.click('#tab-table');
  await page.click('#simulate'); await page.waitForSelector('#toy-label');
  await page.evaluate(() => document.querySelector('#column-roles').scrollIntoView({ block: 'start', behavior: 'instant' }));
  await page.screenshot({ path: `/tmp/roles-${size.width}.png` });
  await page.fill('#table_epochs', '2'); await page.press('#table_epochs', 'Tab');
  await page.click('#table-train');
  await page.waitForFunction(() => /^Done: /.test(document.querySelector('#table-status')?.textContent ?? ''), null, { timeout: 300_000 });
  await page.evaluate(() => document.querySelector('#table-loss-panel').scrollIntoView({ block: 'start', behavior: 'instant' }));
  await page.screenshot({ path: `/tmp/panels-${size.width}.png` });
  await page.fill('#threshold', '990'); await page.dispatchEvent('#threshold', 'input');
  await page.waitForFunction(() => document.querySelector('#threshold-counts')?.textContent.includes('selected'));
  await page.check('#histogram-log');
  await page.waitForTimeout(300);
  await page.evaluate(() => document.querySelector('#table-histogram-panel').scrollIntoView({ block: 'start', behavior: 'instant' }));
  await page.screenshot({ path: `/tmp/histogram-${size.width}.png` });
  console.log(size.width, await page.textContent('#table-histogram-panel figcaption'), '|', await page.textContent('#threshold-counts'), '|', await page.textContent('#table-trained-on'), problems);
}
await browser.close(); await server.close();
