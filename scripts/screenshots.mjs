// Saves docs/screenshot-blog.png and docs/screenshot-desk.png: starts the built service in-process with the
// demo on (under a key prefix of its own, deleted afterwards), lets the demo replay its live updates, and
// photographs the live blog page and the desk with Debian's Chromium through playwright-core.
//
//   npm run build && node scripts/screenshots.mjs
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { chromium } from 'playwright-core';
import { loadConfig } from '../dist/config.js';
import { demoEntries, demoStoryId } from '../dist/demo/demo-story.js';
import { createLogger } from '../dist/log.js';
import { startService } from '../dist/service.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `screenshots-${randomBytes(4).toString('hex')}:`;
const publisherKey = 'screenshot-publisher-key';
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The demo picture: a railhead with tanks on flat cars, drawn rather than downloaded. */
const pictureSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1200 560"><rect width="1200" height="560" fill="#c9c2a8"/>
<rect y="330" width="1200" height="60" fill="#8d8672"/><g stroke="#4a4538" stroke-width="6">${Array.from({ length: 25 }, (_, i) => `<line x1="${i * 50}" y1="330" x2="${i * 50}" y2="390"/>`).join('')}</g>
<line x1="0" y1="342" x2="1200" y2="342" stroke="#3a3a3a" stroke-width="5"/><line x1="0" y1="378" x2="1200" y2="378" stroke="#3a3a3a" stroke-width="5"/>
${Array.from({ length: 5 }, (_, i) => `<g transform="translate(${40 + i * 230} 270)"><rect width="210" height="60" fill="#5a5f4a"/><rect x="25" y="8" width="160" height="44" rx="10" fill="#4b5e3c"/><circle cx="105" cy="30" r="20" fill="#3f4f33"/><rect x="105" y="25" width="95" height="10" fill="#3f4f33"/></g>`).join('')}
<rect y="430" width="1200" height="130" fill="#b3ab8f"/><path d="M0 120 Q300 60 600 110 T1200 90 V0 H0Z" fill="#d8d2bd"/></svg>`;

const config = loadConfig({
  NODE_ENV: 'development',
  PORT: '0',
  HOST: '127.0.0.1',
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: prefix,
  PUBLISHER_KEYS: publisherKey,
  DEMO: 'on',
  DEMO_INTERVAL_MS: '250',
  LOG_LEVEL: 'warn',
});
const service = await startService(config, createLogger(config.logLevel));
const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});

try {
  mkdirSync('docs', { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1200, height: 1500 }, deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/London' });

  // The blog page, opened while the demo still replays: the last updates arrive live on the open page.
  const blog = await context.newPage();
  await blog.goto(`${service.url}/stories/${demoStoryId}`);
  await blog.waitForSelector('#status-badge[data-status="live"]');
  const replayed = demoEntries.filter((e) => e.kind !== 'correction').length;
  await blog.waitForFunction((count) => document.querySelectorAll('article.update').length >= count, replayed);
  // The late correction (Belarus exercise dates) is the demo's last entry.
  await blog.waitForFunction(() => document.querySelectorAll('.correction').length >= 2);
  // A picture with an update and a pinned post, both arriving live on the open page. The picture's https URL is
  // answered by the browser context itself (no network here): an SVG drawn below.
  await context.route('https://images.stoppress.example/**', (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: pictureSvg }));
  const send = async (method, path, body) => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}`);
    return response.json();
  };
  const pictured = await send('POST', `/v1/stories/${demoStoryId}/updates`, {
    kind: 'statement',
    occurredAt: new Date().toISOString(),
    text: 'Satellite images show tanks being loaded onto rail cars near the border. Imagery and analysis: https://www.maxar.com/news',
    author: { name: 'Anna Petrova', url: 'https://news.example.com/staff/anna-petrova' },
    image: { url: 'https://images.stoppress.example/railhead.svg', alt: 'Tanks on flat rail cars at a railhead, seen from above', caption: 'A railhead near the border, 15 February.', credit: 'Illustration: Stoppress demo', width: 1200, height: 560 },
  });
  await blog.waitForSelector(`#u-${pictured.id} .update-image img`);
  await blog.waitForFunction((id) => document.querySelector(`#u-${id} .update-image img`)?.complete, pictured.id);
  const firstId = await blog.locator('#feed > article.update').last().getAttribute('data-id');
  await send('POST', `/v1/stories/${demoStoryId}/updates/${firstId}/flags`, { pinned: true });
  await blog.waitForSelector(`#pinned-slot > #u-${firstId}`);
  await blog.evaluate(() => window.scrollTo(0, 0));
  await blog.screenshot({ path: 'docs/screenshot-blog.png', animations: 'disabled' });

  // A second story, so the desk's list shows unread counts: it gets updates while the demo story is on screen.
  const other = 'markets-2022-02-15';
  const api = (method, path, body) =>
    fetch(`${service.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
      body: JSON.stringify(body),
    }).then((response) => {
      if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}`);
    });
  const statement = (text) => ({ kind: 'statement', occurredAt: new Date().toISOString(), text });
  await api('PUT', `/v1/stories/${other}`, { title: 'Markets rally as Moscow signals a partial pullback', status: 'live' });
  await api('POST', `/v1/stories/${other}/updates`, statement('European stocks open higher after the Russian defence ministry announcement.'));

  // The desk, with the key given and the demo story picked, a statement being written.
  const desk = await context.newPage();
  await desk.setViewportSize({ width: 1440, height: 1000 });
  await desk.goto(`${service.url}/desk`);
  await desk.fill('#key-input', publisherKey);
  await desk.click('#key-form button[type="submit"]');
  await desk.click(`button[data-story="${demoStoryId}"]`);
  await desk.waitForSelector('#desk-feed article.update');
  await desk.fill('#f-source-name', 'Volodymyr Zelensky');
  await desk.fill('#f-source-role', 'President');
  await desk.fill('#f-source-org', 'Ukraine');
  await desk.fill('#f-text', 'We will see real withdrawals when we see them, not when we hear about them.');
  await desk.waitForSelector('#status-badge[data-status="live"]');
  await api('POST', `/v1/stories/${other}/updates`, statement('Brent crude falls more than 3%.'));
  await api('POST', `/v1/stories/${other}/updates`, statement('The rouble gains against the dollar and the euro.'));
  await desk.waitForSelector(`button[data-story="${other}"] .unread`);
  await desk.waitForFunction((story) => document.querySelector(`button[data-story="${story}"] .unread`)?.textContent?.startsWith('2'), other);
  await desk.screenshot({ path: 'docs/screenshot-desk.png', animations: 'disabled' });
  console.log(`saved docs/screenshot-blog.png and docs/screenshot-desk.png (service at ${service.url})`);
} finally {
  await browser.close();
  await service.stop();
  const redis = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
