import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { freePort } from '../support/child-service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { startRedisServer, stopRedisServer } from '../support/redis-server.js';
import { post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

// A private Redis, so that its CPU time is this test's alone.
let redisServer: ChildProcess | undefined;
let admin: Redis;
let service: RunningService;

beforeAll(async () => {
  const port = await freePort();
  redisServer = await startRedisServer({ port });
  admin = new Redis(`redis://127.0.0.1:${port}`);
  service = await startTestService(uniquePrefix('ghosts'), { REDIS_URL: `redis://127.0.0.1:${port}` });
});
afterAll(async () => {
  await service?.stop();
  admin?.disconnect();
  await stopRedisServer(redisServer);
});

async function redisCpuSeconds(): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)![1]);
  return field('used_cpu_sys') + field('used_cpu_user');
}

/** Redis CPU µs per publish to `story`, over `count` sequential publishes; the lower of two rounds (less noise). */
async function redisCpuPerPublish(story: string, reader: LiveTestClient, count: number): Promise<number> {
  const rounds: number[] = [];
  for (let round = 0; round < 2; round++) {
    const before = await redisCpuSeconds();
    const delivered = reader.updateIds(story).length;
    for (let i = 0; i < count; i++) expect((await post(service.url, story, statement(`${round}-${i}`))).status).toBe(201);
    await reader.waitFor(() => reader.updateIds(story).length === delivered + count);
    rounds.push(((await redisCpuSeconds()) - before) * 1e6 / count);
  }
  return Math.min(...rounds);
}

describe('subscriptions to stories nobody publishes to', () => {
  it('leave the Redis cost of a publish to another story flat, and a new subscriber is served at once', async () => {
    const reader = await LiveTestClient.connect(liveUrl(service.url));
    await reader.subscribe('busy');
    await redisCpuPerPublish('busy', reader, 50); // warm up scripts and connections
    const without = await redisCpuPerPublish('busy', reader, 200);

    // 200 unauthenticated sockets × 100 subscriptions to stories that do not exist.
    const ghosts = await Promise.all(Array.from({ length: 200 }, () => LiveTestClient.connect(liveUrl(service.url))));
    await Promise.all(
      ghosts.map(async (ghost, g) => {
        for (let s = 0; s < 100; s++) ghost.send({ type: 'subscribe', story: `ghost-${g}-${s}` });
        await ghost.waitFor(() => ghost.frames.filter((f) => f.type === 'subscribed' || f.type === 'error').length === 100, 60_000);
        expect(ghost.frames.filter((f) => f.type === 'error').map((f) => f.code + ' ' + f.message).slice(0, 3)).toEqual([]);
      }),
    );
    expect(service.hub.activeStories).toBe(20_001);

    const withGhosts = await redisCpuPerPublish('busy', reader, 200);
    expect(withGhosts, `Redis CPU per publish: ${without.toFixed(0)} µs without, ${withGhosts.toFixed(0)} µs with 20,000 ghosts`).toBeLessThanOrEqual(without * 1.5);

    const newcomer = await LiveTestClient.connect(liveUrl(service.url));
    await newcomer.subscribe('fresh');
    const published = Date.now();
    await post(service.url, 'fresh', statement('first'));
    await newcomer.waitFor(() => newcomer.updateIds('fresh').length === 1, 1_000);
    expect(Date.now() - published).toBeLessThan(1_000);

    for (const client of [reader, newcomer, ...ghosts]) client.close();
  }, 90_000);
});
