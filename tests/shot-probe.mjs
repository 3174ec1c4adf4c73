import { serve, launch, openPage, distDir, ready } from './e2e/support.mjs';
const server = await serve(distDir);
const browser = await launch();
for (const vp of [{ width: 1280, height: 900 }, { width: 375, height: 740 }]) {
  const { page, problems } = await openPage(browser, server.url, vp);
  await ready(page);
  await page.screenshot({ path: `/tmp/tut-list-${vp.width}.png` });
  await page.click('#tutorial-start-vae');
  await page.waitForSelector('#tutorial-step-title');
  console.log(await page.evaluate(() => [document.activeElement.id, location.hash]));
  await page.screenshot({ path: `/tmp/tut-step-${vp.width}.png` });
  await page.click('#tutorial-show');
  await page.waitForTimeout(800);
  console.log(await page.evaluate(() => document.activeElement.id));
  await page.screenshot({ path: `/tmp/tut-show-${vp.width}.png` });
  console.log(problems);
}
await browser.close(); await server.close();
