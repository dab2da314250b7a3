import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Socket } from 'node:net';
import type { RunningService } from '../../src/service.js';
import { ConditionWaiters } from '../support/condition-waiters.js';
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

  it('sends a due ping with the next live write, and alone to a socket that gets none', async () => {
    // Two slots of one second: a ping is due once per 2 s and may wait one tick for a write to carry it.
    const beating = await startTestService(uniquePrefix('live-ping-rides'), { WS_HEARTBEAT_MS: '2000' });
    const busy = await PingCounter.connect(liveUrl(beating.url));
    const quiet = await PingCounter.connect(liveUrl(beating.url));
    await busy.client.subscribe('beat-busy');
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        expect((await post(beating.url, 'beat-busy', statement('tick'))).status).toBe(201);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await Promise.all([busy.untilPings(2), quiet.untilPings(2)]);
    publishing = false;
    await publisher;
    // Every ping of the busy socket came in the same TCP segment as an update; the quiet one's came alone.
    expect(busy.pingsAlone).toBe(0);
    expect(busy.client.updateIds('beat-busy').length).toBeGreaterThan(0);
    expect(quiet.pingsAlone).toBeGreaterThanOrEqual(2);
    expect(busy.client.ws.readyState).toBe(WebSocket.OPEN);
    expect(quiet.client.ws.readyState).toBe(WebSocket.OPEN);
    busy.client.close();
    quiet.client.close();
    await beating.stop();
  });
});

/** A live client that counts the pings it gets (answered, as ws does) and those that came in a TCP read of their own. */
class PingCounter {
  pings = 0;
  pingsAlone = 0;
  readonly #conditions = new ConditionWaiters(() => `${this.pings} pings`);
  private constructor(readonly client: LiveTestClient) {
    const socket = (client.ws as unknown as { _socket: Socket })._socket;
    socket.prependListener('data', (chunk: Buffer) => {
      if (chunk.length === 2 && chunk[0] === 0x89 && chunk[1] === 0x00) this.pingsAlone += 1;
    });
    client.ws.on('ping', () => {
      this.pings += 1;
      this.#conditions.check();
    });
  }

  untilPings(count: number): Promise<void> {
    return this.#conditions.waitFor(() => this.pings >= count, 8_000);
  }

  static async connect(url: string): Promise<PingCounter> {
    return new PingCounter(await LiveTestClient.connect(url));
  }
}

function byStreamOrder(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
