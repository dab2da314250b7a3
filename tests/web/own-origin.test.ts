import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { freePort } from '../support/child-service.js';
import { post, statement, uniquePrefix } from '../support/test-service.js';
import { newStory, shownIds, useBrowserSuite, watchPage } from './browser-support.js';

const prefix = uniquePrefix('web-own-origin');
// Production as deployed: publisher keys set, and ALLOWED_ORIGINS listing only a partner, not the service itself.
// The service's own origin is PUBLIC_URL's, so it listens on a port known in advance.
const port = await freePort();
const suite = useBrowserSuite(
  prefix,
  { viewport: { width: 1000, height: 700 } },
  { NODE_ENV: 'production', ALLOWED_ORIGINS: 'https://partner.example', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` },
);

/** The status of a WebSocket upgrade sent with `origin`: 101 when accepted. */
function upgradeStatus(origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${suite.service.url.replace(/^http/, 'ws')}/v1/live`, { origin });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (error) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

describe('in production, with only a partner in ALLOWED_ORIGINS', () => {
  it('lets the live blog page served by the service open its socket and show a new update', async () => {
    const story = newStory('own-origin');
    const first = await post(suite.service.url, story, statement('Before the page opened.'));
    expect(first.status).toBe(201);
    const page = await suite.context.newPage();
    const trouble = watchPage(page);
    await page.goto(`${suite.service.url}/stories/${story}`);
    await page.waitForSelector('#status-badge[data-status="live"]');

    const next = await post(suite.service.url, story, statement('After the page opened.'));
    await page.waitForSelector(`article.update[data-id="${next.body.id}"]`);
    expect(await shownIds(page)).toEqual([next.body.id, first.body.id]);
    expect(trouble.pageErrors).toEqual([]);
    await page.close();
  });

  it("accepts sockets from its own origin (PUBLIC_URL's) and the partner, and refuses other origins with 403", async () => {
    const host = new URL(suite.service.url).host;
    expect(await upgradeStatus(`http://${host}`)).toBe(101);
    // Only PUBLIC_URL's origin is the service's own, whatever the request's Host says.
    expect(await upgradeStatus(`https://${host}`)).toBe(403);
    expect(await upgradeStatus(`http://localhost:${port}`)).toBe(403);
    expect(await upgradeStatus('https://partner.example')).toBe(101);
    expect(await upgradeStatus('https://evil.example')).toBe(403);
    expect(await upgradeStatus(`http://${host}.evil.example`)).toBe(403);
  });
});
