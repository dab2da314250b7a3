import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, post, publisherKey, redisUrl, startTestService, statement, uniquePrefix } from '../support/test-service.js';
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
function partnerPage(serviceUrl: string, embedStory = story, token?: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Partner</title><style>
    p, span, a, article, section, div, time { color: rgb(255, 0, 0) !important; font-size: 40px !important; }
    article { display: none !important; }
    .update { padding: 0; }
  </style></head><body>
  <h1>Partner news site</h1>
  <div class="update" id="partner-own">The partner's own .update element</div>
  <script src="${serviceUrl}/embed.js" data-story="${embedStory}" data-theme="dark" data-limit="3"${token ? ` data-token="${token}"` : ''} async></script>
  <p>After the embed</p>
  </body></html>`;
}

async function startPartner(): Promise<Partner> {
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    // `?story=` and `?service=` paste the snippet with another story id or another service.
    const query = new URL(request.url ?? '/', 'http://partner').searchParams;
    response.end(
      request.url === '/long'
        ? `<!doctype html><html><body><script src="${service.url}/embed.js" data-story="embed-long-story" data-limit="20" async></script></body></html>`
        : partnerPage(query.get('service') ?? service.url, query.get('story') ?? story, query.get('token') ?? undefined),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * A broken service: it serves the real embed.js (built by tests/support/build-once.ts), then answers the story
 * with 503 (CORS allowed) for `broken-story` and drops the connection for anything else.
 */
let broken: Partner;

async function startBrokenService(): Promise<Partner> {
  const embedJs = readFileSync('dist/public/embed.js');
  const server = createServer((request, response) => {
    if (request.url === '/embed.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(embedJs);
    } else if (request.url?.startsWith('/v1/stories/broken-story')) {
      response.writeHead(503, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
      response.end('{"error":{"code":"redis_unavailable","message":"down"}}');
    } else {
      request.socket.destroy();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** What the embed shows: its state, error, message, status badge and whether the Live pill is visible. */
async function embedShows(page: Page): Promise<{ state: string | null; error: string | null; message: string | null; badge: string | null; pill: boolean }> {
  return {
    state: await page.getAttribute('stoppress-embed', 'data-state'),
    error: await page.getAttribute('stoppress-embed', 'data-error'),
    message: await page.locator('stoppress-embed .sp-state').textContent(),
    badge: await page.locator('stoppress-embed .status-badge').getAttribute('data-status'),
    pill: await page.locator('stoppress-embed .sp-live').isVisible(),
  };
}

beforeAll(async () => {
  [allowed, refused, broken, browser] = await Promise.all([startPartner(), startPartner(), startBrokenService(), launchChromium()]);
  service = await startTestService(prefix, { ALLOWED_ORIGINS: allowed.origin, SUBSCRIBER_TOKEN_SECRET: 'a-subscriber-token-secret-of-32-bytes-or-more' });
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  for (const partner of [allowed, refused, broken]) partner?.server.close();
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
    // It says LIVE now that it is.
    expect(await page.locator('stoppress-embed .sp-live').isVisible()).toBe(true);
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
    expect(await embedShows(page)).toEqual({
      state: 'error',
      error: 'origin_refused',
      message: 'These live updates cannot be shown on this site: the newsroom has not allowed it.',
      badge: 'offline',
      pill: false,
    });
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

  it('says a story is unknown or private when the service answers 404, and never shows LIVE', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(8_000);
    await page.goto(`${allowed.origin}/?story=no-such-story`);
    await page.waitForSelector('stoppress-embed[data-state="error"]');
    expect(await embedShows(page)).toEqual({ state: 'error', error: 'not_found', message: 'This live story does not exist or is not public.', badge: 'offline', pill: false });
    expect(await page.locator('stoppress-embed article.update').count()).toBe(0);
    await page.close();
  });

  it('says the service cannot be reached when the connection fails or the service answers an error', async () => {
    for (const embedStory of ['dropped-story', 'broken-story']) {
      const page = await browser.newPage();
      page.setDefaultTimeout(8_000);
      await page.goto(`${allowed.origin}/?story=${embedStory}&service=${encodeURIComponent(broken.origin)}`);
      await page.waitForSelector('stoppress-embed[data-state="error"]');
      expect(await embedShows(page), embedStory).toEqual({ state: 'error', error: 'unavailable', message: 'The live updates cannot be reached right now.', badge: 'offline', pill: false });
      await page.close();
    }
  });

  it('shows no LIVE pill while connecting, nor for a story whose coverage has ended though its socket is live', async () => {
    const ended = 'embed-ended-story';
    await append(statement('Before the end'));
    expect((await post(service.url, ended, statement('The last update'))).status).toBe(201);
    const put = await fetch(`${service.url}/v1/stories/${ended}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` },
      body: JSON.stringify({ title: 'Coverage over', status: 'ended' }),
    });
    expect(put.status).toBeLessThan(300);
    const page = await browser.newPage();
    page.setDefaultTimeout(8_000);
    // Hold the socket back: the view shows, but the connection is not live yet.
    let releaseSocket!: () => void;
    const socketHeld = new Promise<void>((resolve) => (releaseSocket = resolve));
    await page.routeWebSocket(/\/v1\/live/, async (ws) => {
      await socketHeld;
      ws.connectToServer();
    });
    await page.goto(allowed.origin);
    await page.waitForSelector('stoppress-embed[data-state="ready"]');
    expect((await embedShows(page)).pill).toBe(false);
    expect(await page.locator('stoppress-embed .status-badge').getAttribute('data-status')).not.toBe('live');
    releaseSocket();
    await page.waitForFunction(() => document.querySelector('stoppress-embed')?.shadowRoot?.querySelector('.sp-live')?.checkVisibility());
    await page.close();

    const endedPage = await browser.newPage();
    endedPage.setDefaultTimeout(8_000);
    await endedPage.goto(`${allowed.origin}/?story=${ended}`);
    await endedPage.waitForFunction(() => document.querySelector('stoppress-embed')?.shadowRoot?.querySelector('.status-badge')?.getAttribute('data-status') === 'live');
    expect(await embedShows(endedPage)).toMatchObject({ state: 'ready', error: null, badge: 'live', pill: false });
    await endedPage.close();
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

  it('shows a private story with its data-token and goes live over an auth frame; a bad token gets its own message', async () => {
    const privateStory = 'embed-private';
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${publisherKey}` };
    expect((await fetch(`${service.url}/v1/stories/${privateStory}`, { method: 'PUT', headers, body: JSON.stringify({ title: 'Private', status: 'live', visibility: 'private' }) })).status).toBe(200);
    const first = (await post(service.url, privateStory, statement('Only for token holders.'))).body.id as string;
    const minted = await fetch(`${service.url}/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ sub: 'partner', stories: [privateStory], ttlSeconds: 600 }) });
    const { token } = (await minted.json()) as { token: string };

    const page = await browser.newPage();
    page.setDefaultTimeout(8_000);
    await page.goto(`${allowed.origin}/?story=${privateStory}&token=${encodeURIComponent(token)}`);
    await page.waitForSelector(`stoppress-embed article.update[data-id="${first}"]`);
    await page.waitForSelector('stoppress-embed .status-badge[data-status="live"]');
    const next = (await post(service.url, privateStory, statement('Live, for token holders.'))).body.id as string;
    await page.waitForSelector(`stoppress-embed article.update[data-id="${next}"]`);

    await page.goto(`${allowed.origin}/?story=${privateStory}&token=not-a-token`);
    await page.waitForSelector('stoppress-embed[data-error="token_refused"]');
    expect(await page.locator('stoppress-embed .sp-live').isHidden()).toBe(true);
    await page.close();
  });
});
