import { once } from 'node:events';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, redisUrl, statement, uniquePrefix } from '../support/test-service.js';
import { newStory, useBrowserSuite } from './browser-support.js';

const prefix = uniquePrefix('web-event-source');
const suite = useBrowserSuite(prefix, {});

/** A TCP proxy in front of the service whose connections the test can cut: a real network drop for the browser. */
class CuttableProxy {
  readonly server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(targetPort: number) {
    this.server = createServer((client) => {
      const upstream = netConnect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  cutAll(): number {
    const count = this.#sockets.size;
    for (const socket of this.#sockets) socket.destroy();
    return count;
  }

  close(): void {
    this.cutAll();
    this.server.close();
  }
}

let proxy: CuttableProxy;
let proxyUrl: string;

beforeAll(async () => {
  proxy = new CuttableProxy(suite.service.port);
  proxyUrl = await proxy.listen();
});
afterAll(() => proxy.close());

describe('Server-Sent Events in Chromium', () => {
  it("delivers every update exactly once, in order, to the browser's own EventSource across a connection cut mid-burst", async () => {
    const story = newStory('sse-browser');
    const before = await post(suite.service.url, story, statement('before the page'));
    const page = await suite.context.newPage();
    await page.goto(`${proxyUrl}/stories/${story}`);
    // The browser's own EventSource, from the update the page already has (as a reader's page resumes from its
    // snapshot): "live from now" starts at the stream's `: subscribed`, which EventSource does not show, and its
    // `open` comes before it. On a drop it reconnects by itself with Last-Event-ID.
    await page.evaluate((path) => {
      const state = { ids: [] as string[], opens: 0 };
      (window as unknown as { sse: typeof state }).sse = state;
      const source = new EventSource(path);
      source.addEventListener('open', () => (state.opens += 1));
      source.addEventListener('update', (event) => state.ids.push((event as MessageEvent).lastEventId));
    }, `/v1/stories/${story}/events?lastEventId=${before.body.id as string}`);
    await page.waitForFunction(() => (window as unknown as { sse: { opens: number } }).sse.opens === 1);

    const total = 150;
    let published = 0;
    const writer = async (): Promise<void> => {
      while (published < total) {
        published += 1;
        expect((await post(suite.service.url, story, statement(`burst ${published}`))).status).toBe(201);
      }
    };
    const cutter = async (): Promise<void> => {
      while (published < 60) await new Promise((resolve) => setImmediate(resolve));
      expect(proxy.cutAll()).toBeGreaterThan(0);
    };
    await Promise.all([writer(), writer(), cutter()]);

    const redis = new Redis(redisUrl);
    const all = (await redis.xrange(`${prefix}story:{${story}}:updates`, '-', '+')).map(([id]) => id).slice(1);
    redis.disconnect();
    expect(all).toHaveLength(total);
    await page.waitForFunction((count) => (window as unknown as { sse: { ids: string[] } }).sse.ids.length >= count, total, { timeout: 15_000 });
    const seen = await page.evaluate(() => (window as unknown as { sse: { ids: string[]; opens: number } }).sse);
    expect(seen.opens).toBeGreaterThanOrEqual(2);
    expect(seen.ids).toEqual(all);
    await page.close();
  }, 40_000);
});
