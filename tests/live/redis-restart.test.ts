import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { freePort } from '../support/child-service.js';
import { LiveTestClient, liveUrl } from '../support/live-client.js';
import { startRedisServer, stopRedisServer } from '../support/redis-server.js';
import { post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const dir = mkdtempSync(join(tmpdir(), 'stoppress-redis-restart-'));
let port: number;
let redisServer: ChildProcess | undefined;
let service: RunningService;

beforeAll(async () => {
  port = await freePort();
  redisServer = await startRedisServer({ port, persistentDir: dir });
  service = await startTestService(uniquePrefix('live-redis-restart'), { REDIS_URL: `redis://127.0.0.1:${port}` });
});
afterAll(async () => {
  await service?.stop();
  await stopRedisServer(redisServer);
  rmSync(dir, { recursive: true, force: true });
});

/** Retries a publish until Redis is back (each attempt answers within 2 s: 503 while it is down). */
async function publishWhenReady(text: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await post(service.url, 'restart', statement(text), { 'idempotency-key': `restart-${text.replace(/ /g, '-')}` });
    if (answer.status === 201 || answer.status === 200) return answer.body.id as string;
    if (Date.now() > deadline) throw new Error(`still ${answer.status} after 15 s`);
  }
}

describe('a Redis restart under live subscribers', () => {
  it('keeps the subscription: every update before and after the restart arrives once, in order', async () => {
    const client = await LiveTestClient.connect(liveUrl(service.url));
    await client.subscribe('restart');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await publishWhenReady(`before ${i}`));
    await client.waitFor(() => client.updateIds('restart').length === 3);

    await stopRedisServer(redisServer, 'SIGTERM');
    redisServer = await startRedisServer({ port, persistentDir: dir });

    for (let i = 0; i < 3; i++) ids.push(await publishWhenReady(`after ${i}`));
    await client.waitFor(() => client.updateIds('restart').length === 6);
    expect(client.updateIds('restart')).toEqual(ids);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    client.close();
  });
});
