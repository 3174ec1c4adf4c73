// Cold load of the page from a local server: time to first contentful paint, time until the page is
// drawn and usable (the tutorial list is on screen), and time until the first training step can start
// (the Train button is enabled, which needs the worker and its 10,000 digits). Each run uses a fresh
// browser context, so nothing is cached. Optionally with the CPU slowed down, as on a phone.

const observe = () => {
  // Runs in the page before any of its scripts: record when the milestones happen, without polling.
  window.__milestones = {};
  const mark = (name) => { window.__milestones[name] ??= performance.now(); };
  new MutationObserver(() => {
    if (document.querySelector('#tutorials')) mark('drawn');
    const train = document.querySelector('#train');
    if (train && !train.disabled) mark('trainable');
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['disabled'] });
};

async function once(browser, appUrl, cpuSlowdown) {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  await context.addInitScript(observe);
  const page = await context.newPage();
  if (cpuSlowdown > 1) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuSlowdown });
  }
  await page.goto(appUrl);
  await page.waitForFunction(() => window.__milestones.trainable != null, null, { timeout: 300_000 });
  const times = await page.evaluate(() => ({
    paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    ...window.__milestones,
  }));
  await context.close();
  return times;
}

const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Median milliseconds over `runs` cold loads: { paint, drawn, trainable }. */
export async function coldLoad(browser, appUrl, { runs = 5, cpuSlowdown = 1 } = {}) {
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await once(browser, appUrl, cpuSlowdown));
  return Object.fromEntries(['paint', 'drawn', 'trainable'].map((k) => [k, median(all.map((t) => t[k]))]));
}
