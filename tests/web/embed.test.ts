import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, post, redisUrl, startTestService, statement, uniquePrefix } from '../support/test-service.js';
import { launchChromium } from './browser-support.js';

const prefix = uniquePrefix('web-embed');
const story = 'embed-story';
let service: RunningService;
let browser: Browser;
/** A partner site on another origin, listed in ALLOWED_ORIGINS. */
let allowed: Partner;
/** Another site, not listed. */
let refused: Partner;

interface Partner {
  origin: string;
  server: Server;
}

/**
 * A partner's article page that pastes the embed snippet, with hostile CSS: if its rules reached into the embed,
 * updates would be hidden and red; the embed's own `.update` rules must not reach the partner's `.update`.
 */
function partnerPage(serviceUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Partner</title><style>
    p, span, a, article, section, div, time { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
    article { display: none !important; }
    .update { padding: 0; }
  </style></head><body>
  <h1>Partner news site</h1>
  <div class="update" id="partner-own">The partner's own .update element</div>
  <script src="${serviceUrl}/embed.js" data-story="${story}" data-theme="dark" data-limit="3" async></script>
  <p>After the embed</p>
  </body></html>`;
}

async function startPartner(): Promise<Partner> {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      request.url === '/long'
        ? `<!doctype html><html><body><script src="${service.url}/embed.js" data-story="embed-long-story" data-limit="20" async></script></body></html>`
        : partnerPage(service.url),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  [allowed, refused, browser] = await Promise.all([startPartner(), startPartner(), launchChromium()]);
  service = await startTestService(prefix, { ALLOWED_ORIGINS: allowed.origin });
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  for (const partner of [allowed, refused]) partner?.server.close();
  await deletePrefix(prefix);
});

async function append(body: Record<string, unknown>): Promise<string> {
  const answer = await post(service.url, story, body);
  if (answer.status !== 201) throw new Error(`POST answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body.id as string;
}

const embedIds = (page: Page): Promise<string[]> =>
  page.locator('stoppress-embed article.update').evaluateAll((articles) => articles.map((a) => (a as HTMLElement).dataset.id ?? ''));

describe('the partner embed', () => {
  it('renders the story live in a shadow root on an allowed origin, isolated from the partner CSS', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await append(statement(`Embedded update ${i}`)));
    const page = await browser.newPage();
    page.setDefaultTimeout(8_000);
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    const reads: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/v1/stories/')) reads.push(request.url());
    });
    await page.goto(allowed.origin);
    await page.waitForSelector('stoppress-embed[data-state="ready"]');
    // It asks only for what it shows (data-limit="3").
    expect(reads).toEqual([`${service.url}/v1/stories/${story}?limit=3`]);

    // After its own script tag, with a shadow root, dark theme, the newest `data-limit` updates.
    expect(await page.evaluate(() => document.querySelector('script[data-story] + stoppress-embed')?.shadowRoot?.mode)).toBe('open');
    expect(await page.getAttribute('stoppress-embed', 'data-theme')).toBe('dark');
    expect(await embedIds(page)).toEqual(ids.slice(-3).reverse());

    // The partner's CSS does not reach inside; the embed's does not leak out.
    const inside = page.locator('stoppress-embed article.update').first();
    expect(await inside.isVisible()).toBe(true);
    const style = await inside.evaluate((el) => ({ color: getComputedStyle(el).color, fontSize: getComputedStyle(el.querySelector('p')!).fontSize }));
    expect(style.color).not.toBe('rgb(255, 0, 0)');
    expect(style.fontSize).not.toBe('40px');
    expect(await page.locator('#partner-own').evaluate((el) => getComputedStyle(el).paddingTop)).toBe('0px');
    const background = await page.locator('stoppress-embed .sp').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(background).toBe('rgb(21, 23, 26)');

    // Live, over a socket to the service's origin; the limit holds; corrections apply.
    await page.waitForFunction(() => document.querySelector('stoppress-embed')?.shadowRoot?.querySelector('.status-badge')?.getAttribute('data-status') === 'live');
    expect(sockets).toEqual([liveUrl(service.url)]);
    const fresh = await append(statement('Fresh in the embed'));
    await page.locator(`stoppress-embed #u-${fresh}`).waitFor();
    expect(await embedIds(page)).toEqual([fresh, ...ids.slice(-2).reverse()]);
    await append({ kind: 'correction', corrects: fresh, text: 'Fresh in the embed, corrected', note: 'Better wording.' });
    await page.waitForFunction(
      (id) => document.querySelector('stoppress-embed')?.shadowRoot?.querySelector(`#u-${id} .update-text`)?.textContent === 'Fresh in the embed, corrected',
      fresh,
    );
    expect(await page.locator(`stoppress-embed #u-${fresh} .correction-note`).textContent()).toBe('Better wording.');
    // Links go to the service's page, not to the partner's.
    expect(await page.locator(`stoppress-embed #u-${fresh} .permalink`).getAttribute('href')).toBe(`${service.url}/stories/${story}#u-${fresh}`);
    await page.close();
  });

  it('serves embed.js and the story to the allowed origin with CORS, and /embed.js with CORP cross-origin', async () => {
    const script = await fetch(`${service.url}/embed.js`, { headers: { origin: allowed.origin } });
    expect(script.headers.get('access-control-allow-origin')).toBe(allowed.origin);
    expect(script.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const view = await fetch(`${service.url}/v1/stories/${story}`, { headers: { origin: allowed.origin } });
    expect(view.headers.get('access-control-allow-origin')).toBe(allowed.origin);
    const other = await fetch(`${service.url}/v1/stories/${story}`, { headers: { origin: refused.origin } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is refused from an origin that is not allowed: no CORS, WebSocket upgrade 403, an error state', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(8_000);
    await page.goto(refused.origin);
    await page.waitForSelector('stoppress-embed[data-state="error"]');
    expect(await page.locator('stoppress-embed .sp-state').textContent()).toBe('Live updates are not available on this page right now.');
    expect(await page.locator('stoppress-embed article.update').count()).toBe(0);

    // The same refusals, seen from the refused page itself…
    const seen = await page.evaluate(async (serviceUrl) => {
      const read = await fetch(`${serviceUrl}/v1/stories/embed-story`).then(
        () => 'read',
        () => 'blocked',
      );
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`${serviceUrl.replace('http', 'ws')}/v1/live`);
        ws.onopen = () => resolve('open');
        ws.onclose = (event) => resolve(`closed ${event.code}`);
      });
      return { read, socket };
    }, service.url);
    expect(seen).toEqual({ read: 'blocked', socket: 'closed 1006' });
    await page.close();

    // …and on the wire: the upgrade is answered 403 before any handshake.
    await expect(LiveTestClient.connect(liveUrl(service.url), { origin: refused.origin })).rejects.toThrow('upgrade refused: 403');
    const ok = await LiveTestClient.connect(liveUrl(service.url), { origin: allowed.origin });
    ok.close();
  });

  it('downloads only what it shows of a long story', async () => {
    const long = 'embed-long-story';
    const statements = Array.from({ length: 1_000 }, (_, i) => JSON.stringify({ kind: 'statement', occurredAt: '2022-02-15T10:00:00Z', text: `Item ${i} ${'x'.repeat(300)}` }));
    // Written straight into the stream (as the append script would) so that the test stays fast.
    const { Redis } = await import('ioredis');
    const redis = new Redis(redisUrl);
    const key = `${prefix}story:{${long}}`;
    const multi = redis.multi();
    let ms = Date.now() - 10_000;
    for (const data of statements) multi.xadd(`${key}:updates`, `${ms++}-0`, 'k', 'statement', 'd', data);
    multi.hset(`${key}:meta`, 'lastId', `${ms - 1}-0`, 'count', statements.length);
    await multi.exec();
    redis.disconnect();

    const page = await browser.newPage();
    page.setDefaultTimeout(8_000);
    const bodies: number[] = [];
    page.on('response', (response) => {
      if (response.url().includes(`/v1/stories/${long}`)) void response.body().then((b) => bodies.push(b.length));
    });
    await page.goto(`${allowed.origin}/long`);
    await page.waitForSelector('stoppress-embed[data-state="ready"]');
    expect(await page.locator('stoppress-embed article.update').count()).toBe(20);
    await expect.poll(() => bodies.length).toBe(1);
    // Twenty updates of ~330 bytes, not a thousand.
    expect(bodies[0]).toBeLessThan(20_000);
    await page.close();
  });
});
