import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Socket } from 'node:net';
import type { RunningService } from '../../src/service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { deletePrefix, post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('live-flow');
let service: RunningService;

beforeAll(async () => {
  service = await startTestService(prefix, { WS_MAX_BUFFERED_BYTES: String(64 * 1024) });
});
afterAll(async () => {
  await service.stop();
  await deletePrefix(prefix);
});

describe('slow consumers', () => {
  it('closes a socket that stops reading with 1013 while the others keep receiving everything', async () => {
    const story = 'slow';
    const healthy = await LiveTestClient.connect(liveUrl(service.url));
    const slow = await LiveTestClient.connect(liveUrl(service.url));
    await healthy.subscribe(story);
    await slow.subscribe(story);
    // The slow reader stops reading from its TCP socket: kernel buffers fill, then the server's buffer grows.
    const slowSocket = (slow.ws as unknown as { _socket: Socket })._socket;
    slowSocket.pause();

    const ids: string[] = [];
    const big = 'x'.repeat(9_000);
    for (let round = 0; round < 200 && service.hub.subscriberCount(story) === 2; round++) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, i) => post(service.url, story, statement(`${round}-${i} ${big}`))));
      for (const response of batch) expect(response.status).toBe(201);
      ids.push(...batch.map((r) => r.body.id as string));
    }
    expect(service.hub.subscriberCount(story)).toBe(1);
    expect((await service.metrics.slowConsumerCloses.get()).values[0]?.value).toBe(1);

    slowSocket.resume();
    expect((await slow.closed).code).toBe(1013);
    expect(slow.updateIds(story).length).toBeLessThan(ids.length);

    await healthy.waitFor(() => healthy.updateIds(story).length === ids.length);
    // Concurrent POSTs complete in any order; the stream order is what subscribers must see.
    expect(healthy.updateIds(story)).toEqual([...ids].sort(byStreamOrder));
    healthy.close();
  });
});

describe('heartbeat', () => {
  it('terminates a peer that misses two pongs and keeps one that answers', async () => {
    const fast = await startTestService(uniquePrefix('live-heartbeat'), { WS_HEARTBEAT_MS: '50' });
    const answering = await LiveTestClient.connect(liveUrl(fast.url));
    const silent = new WebSocket(liveUrl(fast.url), { autoPong: false });
    const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
    let pings = 0;
    silent.on('ping', () => (pings += 1));
    expect(await silentClosed).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    answering.close();
    await fast.stop();
  });
});

function byStreamOrder(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
