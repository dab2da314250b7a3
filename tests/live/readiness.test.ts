import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { freePort } from '../support/child-service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { startRedisServer, stopRedisServer } from '../support/redis-server.js';
import { post, startTestService, statement, uniquePrefix } from '../support/test-service.js';
import { waitUntil } from '../support/wait-until.js';

// A private Redis: this test refuses every new connection to it for a while.
let redisServer: ChildProcess | undefined;
let redisUrl: string;
let admin: Redis;
let service: RunningService;

beforeAll(async () => {
  const port = await freePort();
  redisServer = await startRedisServer({ port });
  redisUrl = `redis://127.0.0.1:${port}`;
  admin = new Redis(redisUrl);
  service = await startTestService(uniquePrefix('readiness'), { REDIS_URL: redisUrl, READY_PUBSUB_GRACE_MS: '300' });
});
afterAll(async () => {
  await service?.stop();
  admin?.disconnect();
  await stopRedisServer(redisServer);
});

describe('readiness', () => {
  it('answers /readyz with 503 naming the node while its pub/sub connection stays down, and ready again once it is back', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe('readiness');
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    // Kill the subscriber connection and, in the same step, refuse every new connection (the ones open stay).
    await admin.multi().client('KILL', 'TYPE', 'pubsub').config('SET', 'maxclients', '1').exec();
    try {
      let answer: Response | undefined;
      await waitUntil(async () => (answer = await fetch(`${service.url}/readyz`)).status === 503, 15_000);
      const body = (await answer!.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_delivering');
      expect(body.error.message).toContain(new URL(redisUrl).port);
    } finally {
      await admin.config('SET', 'maxclients', '10000');
    }
    await waitUntil(async () => (await fetch(`${service.url}/readyz`)).status === 200, 15_000);
    // Delivery works again, with whatever was published meanwhile filled in.
    const id = (await post(service.url, 'readiness', statement('after'))).body.id as string;
    await client.waitFor(() => client.updateIds('readiness').includes(id));
    client.close();
  }, 40_000);
});
