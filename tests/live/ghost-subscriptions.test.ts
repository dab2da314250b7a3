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
  // Resubscribes after a redis_unavailable must not meet the subscribe rate limit, which this test is not about.
  service = await startTestService(uniquePrefix('ghosts'), { REDIS_URL: `redis://127.0.0.1:${port}`, WS_SUBSCRIBE_RATE: '1000' });
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

/**
 * Redis CPU µs per publish to `story`, over `count` sequential publishes, net of what Redis spends meanwhile with
 * nothing published (serverCron, rehashing the channel table after a flood of subscriptions): an idle window of
 * the same length is measured right after. The lower of two rounds (less noise).
 */
async function redisCpuPerPublish(story: string, reader: LiveTestClient, count: number): Promise<number> {
  const rounds: number[] = [];
  for (let round = 0; round < 2; round++) {
    const started = Date.now();
    const before = await redisCpuSeconds();
    const delivered = reader.updateIds(story).length;
    for (let i = 0; i < count; i++) expect((await post(service.url, story, statement(`${round}-${i}`))).status).toBe(201);
    await reader.waitFor(() => reader.updateIds(story).length === delivered + count);
    const busySeconds = (await redisCpuSeconds()) - before;
    const windowMs = Date.now() - started;
    // The idle window: a measurement interval, not a wait for an event.
    const idleBefore = await redisCpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const idleSeconds = (await redisCpuSeconds()) - idleBefore;
    rounds.push((Math.max(0, busySeconds - idleSeconds) * 1e6) / count);
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
        // As the protocol says, a subscribe answered redis_unavailable (a slow confirmation on a busy machine) is sent again.
        const answered = (story: string) => ghost.frames.some((f) => f.story === story && (f.type === 'subscribed' || f.type === 'error'));
        const subscribed = () => ghost.frames.filter((f) => f.type === 'subscribed').length;
        while (subscribed() < 100) {
          await ghost.waitFor(() => Array.from({ length: 100 }, (_, s) => `ghost-${g}-${s}`).every(answered), 60_000);
          const failed = ghost.frames.filter((f) => f.type === 'error');
          expect(failed.every((f) => f.code === 'redis_unavailable'), JSON.stringify(failed[0])).toBe(true);
          ghost.frames.splice(0, ghost.frames.length, ...ghost.frames.filter((f) => f.type === 'subscribed'));
          for (const f of failed) ghost.send({ type: 'subscribe', story: f.story });
        }
      }),
    );
    expect(service.hub.activeStories).toBe(20_001);

    const withGhosts = await redisCpuPerPublish('busy', reader, 200);
    process.stdout.write(`ghost subscriptions: Redis CPU per publish ${without.toFixed(0)} µs without, ${withGhosts.toFixed(0)} µs with 20,000 ghosts\n`);
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
