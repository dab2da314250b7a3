import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { freePort } from '../support/child-service.js';
import { startRedisServer, stopRedisServer } from '../support/redis-server.js';
import { deletePrefix, post, startTestService, statement, uniquePrefix } from '../support/test-service.js';

const prefix = uniquePrefix('http-redis-down');
const story = 'outage';
let port: number;
let redisServer: ChildProcess | undefined;
let service: RunningService;

async function killRedisServer(): Promise<void> {
  const child = redisServer;
  redisServer = undefined;
  await stopRedisServer(child);
}

async function get(path: string): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${service.url}${path}`);
  const body = await response.json();
  return { status: response.status, body, ms: performance.now() - started };
}

async function timedPost(body: unknown, headers: Record<string, string> = {}): Promise<Awaited<ReturnType<typeof post>> & { ms: number }> {
  const started = performance.now();
  const answer = await post(service.url, story, body, headers);
  return { ...answer, ms: performance.now() - started };
}

beforeAll(async () => {
  port = await freePort();
  redisServer = await startRedisServer({ port });
  service = await startTestService(prefix, { REDIS_URL: `redis://127.0.0.1:${port}` });
});

afterAll(async () => {
  await service?.stop();
  await killRedisServer();
  await deletePrefix(prefix);
});

describe('while Redis is unreachable', () => {
  it('stores an update while Redis is up', async () => {
    const answer = await timedPost(statement('before the outage'));
    expect(answer.status).toBe(201);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('answers a POST with 503 redis_unavailable within 2 s once Redis is killed', async () => {
    await killRedisServer();

    const answer = await timedPost(statement('during the outage'), { 'idempotency-key': 'outage-retry-1' });

    expect(answer.status).toBe(503);
    expect(answer.body.error).toMatchObject({ code: 'redis_unavailable', message: expect.stringMatching(/Redis/) });
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.ms).toBeLessThan(2_000);
  });

  it('keeps answering 503 quickly, never hanging, for repeated POSTs and reads', async () => {
    const answers = await Promise.all([
      timedPost(statement('again')),
      timedPost(statement('and again')),
      get(`/v1/stories/${story}`),
      get(`/v1/stories/${story}/updates`),
      get('/v1/stories'),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('redis_unavailable');
      expect(answer.ms).toBeLessThan(2_000);
    }
  });

  it('answers /readyz with 503 and /healthz with 200', async () => {
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('redis_unavailable');
    expect(ready.ms).toBeLessThan(2_000);
    const health = await get('/healthz');
    expect(health.status).toBe(200);
  });

  it('still refuses a bad story id with 400, since that check never needs Redis', async () => {
    const answer = await post(service.url, 'Bad-Story', statement('x'));
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_story_id');
  });
});

describe('when Redis comes back', () => {
  it('becomes ready again and stores updates', async () => {
    redisServer = await startRedisServer({ port });

    let ready = 0;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      ready = (await get('/readyz')).status;
      if (ready === 200) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(ready).toBe(200);

    const answer = await timedPost(statement('after the outage'));
    expect(answer.status).toBe(201);
  });

  it('stores the update of a request that got 503 when it is retried with the same Idempotency-Key', async () => {
    const retry = await timedPost(statement('during the outage'), { 'idempotency-key': 'outage-retry-1' });
    expect(retry.status).toBe(201);
    expect(retry.body.text).toBe('during the outage');
    const again = await timedPost(statement('during the outage'), { 'idempotency-key': 'outage-retry-1' });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(retry.body.id);
  });
});

describe('while Redis hangs', () => {
  it('answers 503 within 2 s instead of waiting, and a retry with the same Idempotency-Key stores the update once', async () => {
    const child = redisServer!;
    child.kill('SIGSTOP');
    let answer: Awaited<ReturnType<typeof timedPost>>;
    let ready: Awaited<ReturnType<typeof get>>;
    try {
      [answer, ready] = await Promise.all([timedPost(statement('while frozen'), { 'idempotency-key': 'frozen-1' }), get('/readyz')]);
    } finally {
      child.kill('SIGCONT');
    }
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('redis_unavailable');
    expect(answer.ms).toBeLessThan(2_000);
    expect(ready.status).toBe(503);
    expect(ready.ms).toBeLessThan(2_000);

    // The frozen Redis may still run the append it had already received; the retry must answer that one, not add a second.
    const retry = await timedPost(statement('while frozen'), { 'idempotency-key': 'frozen-1' });
    expect([200, 201]).toContain(retry.status);
    const retryAgain = await timedPost(statement('while frozen'), { 'idempotency-key': 'frozen-1' });
    expect(retryAgain.status).toBe(200);
    expect(retryAgain.body.id).toBe(retry.body.id);
    const entries = (await get(`/v1/stories/${story}/updates?limit=1000`)).body.updates as { text: string }[];
    expect(entries.filter((e) => e.text === 'while frozen')).toHaveLength(1);
  });

  it('answers every request that uses Redis with 503 within 2.0 s of its arrival, with 16 concurrent publishers', async () => {
    const child = redisServer!;
    child.kill('SIGSTOP');
    let answers: { status: number; body: any; ms: number }[];
    try {
      const publishers = Array.from({ length: 16 }, (_, i) => timedPost(statement(`frozen publisher ${i}`), { 'idempotency-key': `frozen-many-${i}` }));
      // Reads arrive while the publishers' commands are already stuck in the pipeline.
      const reads = ['/readyz', `/v1/stories/${story}`, `/v1/stories/${story}/updates`, '/v1/stories'].map((path) => get(path));
      answers = await Promise.all([...publishers, ...reads]);
    } finally {
      child.kill('SIGCONT');
    }
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('redis_unavailable');
    }
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2_000);
  });
});
